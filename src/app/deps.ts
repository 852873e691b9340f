import type { Db, Tx } from '../db/db.js';
import type { TransactionBatcher } from '../db/transaction-batcher.js';
import type { Position } from '../domain/placement.js';
import type { DeploymentRecord, SessionRecord } from '../domain/records.js';
import type { ProviderRegistry } from '../providers/provider.js';
import type { WebhookDenyList } from './webhook-url.js';

export interface Clock {
  now(): Date;
}
export const systemClock: Clock = { now: () => new Date() };

/** What an IP database says about a public address (GET /v1/ip/{ip}/lookup). */
export interface IpPlace {
  family: 'ipv4' | 'ipv6';
  /** ISO 3166-1 alpha-2, upper case; '' when the database has none. */
  countryCode: string;
  /** AF, AN, AS, EU, NA, OC, SA; '' when unknown. */
  continentCode: string;
  city: string;
  administrativeDivision: string;
  latitude: number;
  longitude: number;
}

/** IP to position; unknown, private and loopback addresses have none. */
export interface GeoLocator {
  positionOf(ip: string): Position | null;
  /** The full place when the locator knows it (the IP lookup routes); absent: position only. */
  placeOf?(ip: string): IpPlace | null;
}
export const noGeo: GeoLocator = { positionOf: () => null };

export type SessionEvent = 'created' | 'linked' | 'ready' | 'unprocessable' | 'error' | 'users_changed' | 'deleted';
export type DeploymentEvent = 'created' | 'ready' | 'stopped' | 'error' | 'usage_changed';

/**
 * Called inside the transaction that made the change, so whatever a listener writes (webhook
 * outbox rows, event log rows) commits or rolls back with it.
 */
export interface ChangeListeners {
  session: Array<
    (tx: Tx, event: SessionEvent, session: SessionRecord, deployment: DeploymentRecord | null) => Promise<void>
  >;
  deployment: Array<(tx: Tx, event: DeploymentEvent, deployment: DeploymentRecord) => Promise<void>>;
}

/** Measurements use cases report; optional so tests and tools can run without metrics. */
export interface AppObserver {
  observePlacement(outcome: 'linked' | 'autodeployed' | 'unprocessable', seconds: number, orgId: number): void;
}

export interface AppDeps {
  db: Db;
  clock: Clock;
  geo: GeoLocator;
  providers: ProviderRegistry;
  listeners: ChangeListeners;
  observer?: AppObserver;
  /** Addresses a webhook_url may not point at (WEBHOOK_DENY_CIDRS); absent: the default list. */
  webhookDenyList?: WebhookDenyList;
  /** Group commit for session creates (CREATE_BATCH_MAX); absent: one transaction each. */
  createBatcher?: TransactionBatcher;
}

export function emptyListeners(): ChangeListeners {
  return { session: [], deployment: [] };
}

export async function emitSession(
  deps: AppDeps,
  tx: Tx,
  event: SessionEvent,
  session: SessionRecord,
  deployment: DeploymentRecord | null,
): Promise<void> {
  for (const listener of deps.listeners.session) await listener(tx, event, session, deployment);
}

export async function emitDeployment(
  deps: AppDeps,
  tx: Tx,
  event: DeploymentEvent,
  deployment: DeploymentRecord,
): Promise<void> {
  for (const listener of deps.listeners.deployment) await listener(tx, event, deployment);
}
