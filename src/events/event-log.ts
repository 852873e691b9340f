/**
 * Writes every session and deployment change to the event log inside the change's own
 * transaction: a rolled-back change leaves no event. A change's events are gathered and written
 * in one statement just before its COMMIT. Once committed, the sequencer (woken by the commit)
 * gives them their commit-ordered positions, per organisation, and announces them (migrations
 * 007 and 010, event-sequencer.ts).
 */
import type { AppDeps, DeploymentEvent, SessionEvent } from '../app/deps.js';
import { sessionContextView } from '../contract/views.js';
import type { Tx } from '../db/db.js';
import { deleteEventsBefore, insertEvents, type EventRecord, type NewEvent } from '../db/queries/events.js';
import type { DeploymentRecord, SessionRecord } from '../domain/records.js';

/** The channel migration 005's trigger notifies on. */
export const EVENTS_CHANNEL = 'rallypoint_events';
/**
 * Pruning runs in the change's transaction but not on every insert (it was 4 of the ~15 round
 * trips of a session create; README, "Benchmarks"): at most once per PRUNE_EVERY inserts or PRUNE_INTERVAL_MS
 * of clock time, removing up to twice the rows inserted since, so the log never outgrows its
 * window, and at least PRUNE_BATCH, so one change is never slow.
 */
const PRUNE_BATCH = 50;
const PRUNE_EVERY = 100;
const PRUNE_INTERVAL_MS = 1000;

export interface EventLogOptions {
  /** How long events stay available for replay. Default one hour. */
  retentionMs?: number;
  /** Called once a transaction that wrote events has committed (wakes the sequencer). */
  onCommitted?: () => void;
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
    id: event.id,
    type: event.type,
    time: event.createdAt.toISOString(),
    ...(event.sessionId ? { session_id: event.sessionId } : {}),
    ...(event.requestId ? { request_id: event.requestId } : {}),
    data: event.data,
  };
}

/** What the trigger sends: the event plus its organisation, or only the position when too big. */
export type NotifyPayload = { org_id: number; event: WireEvent } | { org_id: number; id: number };

export function deploymentEventData(d: DeploymentRecord): Record<string, unknown> {
  return {
    request_id: d.requestId,
    status: d.status,
    sockets: d.sockets,
    sockets_usage: d.socketsUsage,
    is_joinable_by_session: d.isJoinable,
  };
}

interface PruneState {
  insertsSince: number;
  lastAtMs: number;
}

/** Events of each open transaction, written together just before it commits. */
const pendingEvents = new WeakMap<Tx, NewEvent[]>();

function record(
  deps: AppDeps,
  tx: Tx,
  event: Omit<NewEvent, 'createdAt'>,
  retentionMs: number,
  prune: PruneState,
  onCommitted?: () => void,
): void {
  const pending = pendingEvents.get(tx);
  if (pending) {
    pending.push({ ...event, createdAt: deps.clock.now() });
    return;
  }
  const events = [{ ...event, createdAt: deps.clock.now() }];
  pendingEvents.set(tx, events);
  tx.beforeCommit(() => writeEvents(deps, tx, events, retentionMs, prune));
  if (onCommitted) tx.afterCommit(onCommitted);
}

async function writeEvents(
  deps: AppDeps,
  tx: Tx,
  events: NewEvent[],
  retentionMs: number,
  prune: PruneState,
): Promise<void> {
  pendingEvents.delete(tx);
  await insertEvents(tx, events);
  const now = deps.clock.now();
  prune.insertsSince += events.length;
  if (prune.insertsSince < PRUNE_EVERY && now.getTime() - prune.lastAtMs < PRUNE_INTERVAL_MS) return;
  const limit = Math.max(PRUNE_BATCH, 2 * prune.insertsSince);
  prune.insertsSince = 0;
  prune.lastAtMs = now.getTime();
  await deleteEventsBefore(tx, new Date(now.getTime() - retentionMs), limit);
}

/** Adds the event-log listeners to the app's change listeners. */
export function registerEventLog(deps: AppDeps, options: EventLogOptions = {}): void {
  const retentionMs = options.retentionMs ?? 60 * 60 * 1000;
  const prune: PruneState = { insertsSince: 0, lastAtMs: Number.NEGATIVE_INFINITY };
  deps.listeners.session.push(
    async (tx, event: SessionEvent, session: SessionRecord, deployment: DeploymentRecord | null) =>
      record(
        deps,
        tx,
        {
          orgId: session.orgId,
          type: `session.${event}`,
          sessionId: session.sessionId,
          requestId: deployment?.requestId ?? null,
          data: sessionContextView(session, deployment?.requestId ?? null) as unknown as Record<string, unknown>,
        },
        retentionMs,
        prune,
        options.onCommitted,
      ),
  );
  deps.listeners.deployment.push(async (tx, event: DeploymentEvent, deployment: DeploymentRecord) =>
    record(
      deps,
      tx,
      {
        orgId: deployment.orgId,
        type: `deployment.${event}`,
        sessionId: null,
        requestId: deployment.requestId,
        data: deploymentEventData(deployment),
      },
      retentionMs,
      prune,
      options.onCommitted,
    ),
  );
}
