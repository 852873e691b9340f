/**
 * Session kinds, statuses and seat accounting.
 *
 * Seat: every user (IP) takes one socket. Match: the session takes one socket whatever its user
 * count. Default versions are not session based.
 */
export const SESSION_KINDS = ['Default', 'Seat', 'Match'] as const;
export type SessionKind = (typeof SESSION_KINDS)[number];

/** Session statuses are bare words on the wire (docs/wire-contract.md#session-status), unlike deployment statuses. */
export const SessionStatus = {
  seeking: 'Seeking',
  waiting: 'Waiting',
  ready: 'Ready',
  unprocessable: 'Unprocessable',
  error: 'Error',
  terminating: 'Terminating',
} as const;
export type SessionStatus = (typeof SessionStatus)[keyof typeof SessionStatus];

export const DeploymentStatus = {
  initializing: 'Status.INITIALIZING',
  deploying: 'Status.DEPLOYING',
  ready: 'Status.READY',
  error: 'Status.ERROR',
  terminating: 'Status.TERMINATING',
  terminated: 'Status.TERMINATED',
} as const;
export type DeploymentStatus = (typeof DeploymentStatus)[keyof typeof DeploymentStatus];

/** Deployments in these states can still take sessions (if joinable and with room). */
export const LIVE_DEPLOYMENT_STATUSES: readonly DeploymentStatus[] = [
  DeploymentStatus.initializing,
  DeploymentStatus.deploying,
  DeploymentStatus.ready,
];

export function isLiveDeployment(status: string): boolean {
  return (LIVE_DEPLOYMENT_STATUSES as readonly string[]).includes(status);
}

/** Sockets a session of `kind` with `userCount` users holds. */
export function seatsFor(kind: SessionKind, userCount: number): number {
  if (kind === 'Seat') return userCount;
  if (kind === 'Match') return 1;
  return 0;
}

/** Session states in which users can still be added or removed. */
export function acceptsUsers(status: string): boolean {
  return status === SessionStatus.seeking || status === SessionStatus.waiting || status === SessionStatus.ready;
}

/** The session status that follows from its deployment's status. */
export function sessionStatusForDeployment(deploymentStatus: string): SessionStatus {
  if (deploymentStatus === DeploymentStatus.ready) return SessionStatus.ready;
  if (isLiveDeployment(deploymentStatus)) return SessionStatus.waiting;
  return SessionStatus.error;
}

export interface SessionUser {
  ip: string;
  latitude?: number;
  longitude?: number;
}

/** Users are a set keyed by IP: adding a present IP changes nothing. Order of first arrival is kept. */
export function addUsers(current: readonly SessionUser[], added: readonly SessionUser[]): SessionUser[] {
  const seen = new Set(current.map((user) => user.ip));
  const next = [...current];
  for (const user of added) {
    if (seen.has(user.ip)) continue;
    seen.add(user.ip);
    next.push(user);
  }
  return next;
}

export function removeUsers(current: readonly SessionUser[], removedIps: readonly string[]): SessionUser[] {
  const removed = new Set(removedIps);
  return current.filter((user) => !removed.has(user.ip));
}
