import { lockDeployment, releaseSeats, reserveSeatsOnDeployment } from '../db/queries/deployments.js';
import { lockSession, selectSession, updateSessionUsers } from '../db/queries/sessions.js';
import { fail, ok, type Result } from '../domain/errors.js';
import type { SessionRecord } from '../domain/records.js';
import { acceptsUsers, addUsers, removeUsers, seatsFor, type SessionUser } from '../domain/session-rules.js';
import { emitDeployment, emitSession, type AppDeps } from './deps.js';
import { canonicalPlayerAddresses } from '../domain/player-address.js';

async function visibleSession(deps: AppDeps, orgId: number, sessionId: string): Promise<Result<SessionRecord>> {
  const session = await selectSession(deps.db, orgId, sessionId);
  return session && !session.deletedAt
    ? ok(session)
    : fail('SESSION_NOT_FOUND', `Session ${sessionId} does not exist.`);
}

export async function getSessionUsers(deps: AppDeps, orgId: number, sessionId: string): Promise<Result<SessionUser[]>> {
  const session = await visibleSession(deps, orgId, sessionId);
  return session.ok ? ok(session.value.users) : session;
}

type Change = { kind: 'add'; users: SessionUser[] } | { kind: 'remove'; ips: string[] };

/**
 * Adds or removes users. Users are a set, so a no-op change succeeds without touching seats.
 * Extra seats are taken on the linked deployment in the same atomic UPDATE placement uses;
 * if they are not there, nothing changes and the answer is 422.
 */
async function changeUsers(
  deps: AppDeps,
  orgId: number,
  sessionId: string,
  change: Change,
): Promise<Result<SessionUser[]>> {
  const given = change.kind === 'add' ? change.users.map((u) => u.ip) : change.ips;
  const canonical = canonicalPlayerAddresses(given);
  if (!canonical.ok) return fail('VALIDATION_FAILED', `ip_list: ${canonical.error.message}`);
  // Two spellings of one address are one user, for additions and removals alike.
  const ips = canonical.value;
  const found = await visibleSession(deps, orgId, sessionId);
  if (!found.ok) return found;

  return deps.db.transaction(async (tx): Promise<Result<SessionUser[]>> => {
    // Deployment before session: the lock order every writer follows.
    const deployment = found.value.deploymentId === null ? null : await lockDeployment(tx, found.value.deploymentId);
    const session = await lockSession(tx, found.value.id);
    if (!session || session.deletedAt) return fail('SESSION_NOT_FOUND', `Session ${sessionId} does not exist.`);
    const users =
      change.kind === 'add'
        ? addUsers(
            session.users,
            ips.map((ip) => ({ ip })),
          )
        : removeUsers(session.users, ips);
    if (users.length === session.users.length) return ok(session.users);
    if (change.kind === 'add' && !acceptsUsers(session.status)) {
      return fail('SESSION_NOT_ACCEPTING_USERS', `Session ${sessionId} is ${session.status} and cannot take users.`);
    }
    // docs/wire-contract.md#placement-joinable: a deployment that is not joinable takes no new
    // players, even when a Match session would need no extra seat for them.
    if (change.kind === 'add' && deployment && !deployment.isJoinable) {
      return fail('DEPLOYMENT_NOT_ACCEPTING_USERS', `Deployment ${deployment.requestId} is not joinable by sessions.`);
    }
    const seats =
      session.deploymentId === null || !acceptsUsers(session.status)
        ? session.seats
        : seatsFor(session.kind, users.length);
    const delta = seats - session.seats;
    const now = deps.clock.now();
    // The deployment as this change leaves it; it stays locked until commit.
    let current = session.deploymentId === null ? null : (deployment ?? null);
    if (delta > 0 && deployment) {
      const reserved = await reserveSeatsOnDeployment(tx, deployment.id, delta);
      if (!reserved) {
        const free = deployment.sockets - deployment.socketsUsage;
        return fail(
          'NOT_ENOUGH_SEATS',
          `Deployment ${deployment.requestId} has ${free} free socket(s); ${delta} more are needed.`,
        );
      }
      current = reserved;
    } else if (delta < 0 && session.deploymentId !== null) {
      current = (await releaseSeats(tx, session.deploymentId, -delta, now)) ?? current;
    }
    await updateSessionUsers(tx, session.id, users, seats);
    const updated = { ...session, users, seats };
    await emitSession(deps, tx, 'users_changed', updated, current);
    if (current && delta !== 0) await emitDeployment(deps, tx, 'usage_changed', current);
    return ok(users);
  });
}

export function addSessionUsers(
  deps: AppDeps,
  orgId: number,
  sessionId: string,
  ips: string[],
): Promise<Result<SessionUser[]>> {
  return changeUsers(deps, orgId, sessionId, { kind: 'add', users: ips.map((ip) => ({ ip })) });
}

export function removeSessionUsers(
  deps: AppDeps,
  orgId: number,
  sessionId: string,
  ips: string[],
): Promise<Result<SessionUser[]>> {
  return changeUsers(deps, orgId, sessionId, { kind: 'remove', ips });
}
