/**
 * Writes every session and deployment change to the event log inside the change's own
 * transaction: a rolled-back change leaves no event. The database publishes it (NOTIFY, with its
 * commit-ordered position) when the transaction commits; see migration 005.
 */
import type { AppDeps, DeploymentEvent, SessionEvent } from '../app/deps.js';
import { sessionContextView } from '../contract/views.js';
import type { Queryable } from '../db/db.js';
import { deleteEventsBefore, insertEvent, type EventRecord, type NewEvent } from '../db/queries/events.js';
import type { DeploymentRecord, SessionRecord } from '../domain/records.js';

/** The channel migration 005's trigger notifies on. */
export const EVENTS_CHANNEL = 'rallypoint_events';
/** Old rows each insert removes at most, so pruning never makes one change slow. */
const PRUNE_BATCH = 50;

export interface EventLogOptions {
  /** How long events stay available for replay. Default one hour. */
  retentionMs?: number;
}

/** The event as it travels on the stream and in NOTIFY payloads (snake_case, wire-style). */
export interface WireEvent {
  id: number;
  type: string;
  time: string;
  session_id?: string;
  request_id?: string;
  data: Record<string, unknown>;
}

export function wireEvent(event: EventRecord): WireEvent {
  return {
    id: event.id, type: event.type, time: event.createdAt.toISOString(),
    ...(event.sessionId ? { session_id: event.sessionId } : {}),
    ...(event.requestId ? { request_id: event.requestId } : {}),
    data: event.data,
  };
}

/** What the trigger sends: the event plus its organisation, or only the position when too big. */
export type NotifyPayload = { org_id: number; event: WireEvent } | { org_id: number; id: number };

export function deploymentEventData(d: DeploymentRecord): Record<string, unknown> {
  return {
    request_id: d.requestId, status: d.status, sockets: d.sockets, sockets_usage: d.socketsUsage, is_joinable_by_session: d.isJoinable,
  };
}

async function record(deps: AppDeps, tx: Queryable, event: Omit<NewEvent, 'createdAt'>, retentionMs: number): Promise<void> {
  const now = deps.clock.now();
  await insertEvent(tx, { ...event, createdAt: now });
  await deleteEventsBefore(tx, new Date(now.getTime() - retentionMs), PRUNE_BATCH);
}

/** Adds the event-log listeners to the app's change listeners. */
export function registerEventLog(deps: AppDeps, options: EventLogOptions = {}): void {
  const retentionMs = options.retentionMs ?? 60 * 60 * 1000;
  deps.listeners.session.push((tx, event: SessionEvent, session: SessionRecord, deployment: DeploymentRecord | null) =>
    record(deps, tx, {
      orgId: session.orgId, type: `session.${event}`, sessionId: session.sessionId, requestId: deployment?.requestId ?? null,
      data: sessionContextView(session, deployment?.requestId ?? null) as unknown as Record<string, unknown>,
    }, retentionMs));
  deps.listeners.deployment.push((tx, event: DeploymentEvent, deployment: DeploymentRecord) =>
    record(deps, tx, {
      orgId: deployment.orgId, type: `deployment.${event}`, sessionId: null, requestId: deployment.requestId,
      data: deploymentEventData(deployment),
    }, retentionMs));
}
