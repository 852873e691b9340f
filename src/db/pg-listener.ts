import pg from 'pg';
import type { ListenOptions } from './db.js';
import { backoffDelayMs, type Backoff } from '@rallypoint/sdk';

/** Reconnect after 250 ms, 500 ms … at most 10 s apart while the database is away. */
const RECONNECT_BACKOFF: Backoff = { firstMs: 250, maxMs: 10_000 };

/** PostgreSQL identifiers for LISTEN cannot be parameters; only plain names are accepted. */
const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * LISTEN on a dedicated connection, never one from the pool: a pooled connection would be
 * handed to other queries and its LISTEN lost on release. If the connection drops (server
 * restart, network), it reconnects with exponential backoff and re-issues LISTEN.
 */
export async function listenWithClient(
  connectionString: string,
  channel: string,
  onPayload: (payload: string) => void,
  options: ListenOptions = {},
): Promise<() => Promise<void>> {
  if (!CHANNEL.test(channel)) throw new TypeError(`invalid channel name ${channel}`);
  let client: pg.Client | undefined;
  let stopped = false;
  let retryTimer: NodeJS.Timeout | undefined;
  let failures = 0;

  async function connect(): Promise<void> {
    const next = new pg.Client({ connectionString, connectionTimeoutMillis: 5_000 });
    next.on('notification', (message) => {
      if (message.channel === channel) onPayload(message.payload ?? '');
    });
    next.on('error', (error) => {
      options.onError?.(error);
      scheduleReconnect(next);
    });
    next.on('end', () => scheduleReconnect(next));
    try {
      await next.connect();
      await next.query(`LISTEN ${channel}`);
    } catch (error) {
      next.removeAllListeners('end');
      await next.end().catch(() => undefined);
      throw error;
    }
    if (stopped) {
      await next.end().catch(() => undefined);
      return;
    }
    client = next;
    failures = 0;
  }

  function scheduleReconnect(dead: pg.Client): void {
    if (stopped || client !== dead || retryTimer) return;
    client = undefined;
    dead.removeAllListeners('end');
    void dead.end().catch(() => undefined);
    const attempt = () => {
      retryTimer = setTimeout(() => void reconnectOnce(), backoffDelayMs(failures + 1, RECONNECT_BACKOFF));
    };
    const reconnectOnce = async () => {
      retryTimer = undefined;
      if (stopped) return;
      try {
        await connect();
        if (!stopped) options.onReconnect?.();
      } catch (error) {
        options.onError?.(error as Error);
        failures++;
        attempt();
      }
    };
    attempt();
  }

  await connect();
  return async () => {
    stopped = true;
    if (retryTimer) clearTimeout(retryTimer);
    const current = client;
    client = undefined;
    if (current) {
      current.removeAllListeners('end');
      await current.end().catch(() => undefined);
    }
  };
}
