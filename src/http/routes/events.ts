import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { AppDeps } from '../../app/deps.js';
import type { EventBus } from '../../events/event-bus.js';
import { openEventStream, type OpenStream } from '../../events/event-stream.js';
import { createReplayPages } from '../../events/replay-pages.js';
import { keyFromAuthorization } from '../../app/keys.js';
import { sendFailure } from '../errors.js';
import { errors } from './common.js';

export interface EventRoutesOptions {
  bus: EventBus;
  /** Comment line sent this often so proxies and clients see the stream is alive. Default 15 s. */
  heartbeatMs?: number;
  /** Open streams allowed per API key and per organisation, in this process. */
  perKey: number;
  perOrg: number;
  /** See EventStreamOptions. */
  replayMaxEvents: number;
  queueMax: number;
  /** Replay page reads running at once, leaving the rest of the pool to requests. */
  replayReadsAtOnce: number;
}

/** Open streams per key hash and per organisation. */
function createStreamCounts(limits: { perKey: number; perOrg: number }) {
  const byKey = new Map<string, number>();
  const byOrg = new Map<number, number>();
  const add = <K>(map: Map<K, number>, key: K, by: number) => {
    const n = (map.get(key) ?? 0) + by;
    if (n > 0) map.set(key, n);
    else map.delete(key);
  };
  return {
    /** Takes a slot, or says which limit is reached. */
    take(keyHash: string, orgId: number): 'key' | 'organisation' | (() => void) {
      if ((byKey.get(keyHash) ?? 0) >= limits.perKey) return 'key';
      if ((byOrg.get(orgId) ?? 0) >= limits.perOrg) return 'organisation';
      add(byKey, keyHash, 1);
      add(byOrg, orgId, 1);
      return () => {
        add(byKey, keyHash, -1);
        add(byOrg, orgId, -1);
      };
    },
  };
}

const EVENT_ID = /^\d{1,15}$/;

const EventsQuery = Type.Object({
  session_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: "Only this session's events." })),
  last_event_id: Type.Optional(
    Type.String({ pattern: EVENT_ID.source, description: 'Same as the Last-Event-ID header.' }),
  ),
});

/**
 * (ext) GET /v1/events: the organisation's session and deployment changes as Server-Sent Events.
 * The /v1 plugin's onRequest hook has authenticated the request before the handler runs.
 */
export function eventRoutes(options: EventRoutesOptions) {
  return (parent: FastifyInstance, deps: AppDeps): void => {
    const app = parent.withTypeProvider<TypeBoxTypeProvider>();
    const open = new Set<OpenStream>();
    const counts = createStreamCounts(options);
    const pages = createReplayPages(deps.db, options.replayReadsAtOnce);
    // preClose, not onClose: server.close() waits for open connections, and a stream never
    // ends by itself, so it must be ended before the server stops listening.
    app.addHook('preClose', async () => {
      for (const stream of open) stream.end();
    });

    app.get(
      '/v1/events',
      {
        schema: {
          tags: ['Events (ext)'],
          operationId: 'events-stream',
          querystring: EventsQuery,
          response: errors(429),
          description:
            '(ext) text/event-stream of session.* and deployment.* events. Send Last-Event-ID (or ?last_event_id=) to replay what was missed (kept one hour); a `resync` event says it cannot be. 429 TOO_MANY_STREAMS past the open-stream limits.',
        },
      },
      async (request, reply) => {
        const header = request.headers['last-event-id'];
        const given = request.query.last_event_id ?? (typeof header === 'string' && header !== '' ? header : undefined);
        if (given !== undefined && !EVENT_ID.test(given)) {
          return sendFailure(reply, {
            code: 'VALIDATION_FAILED',
            message: 'Last-Event-ID must be an event id (a non-negative integer).',
          });
        }
        // The key's hash, never the key itself, like the rate limiter.
        const keyHash = createHash('sha256')
          .update(keyFromAuthorization(request.headers.authorization) ?? '')
          .digest('base64url');
        const slot = counts.take(keyHash, request.orgId);
        if (typeof slot === 'string') {
          const limit = slot === 'key' ? `${options.perKey} per API key` : `${options.perOrg} per organisation`;
          return sendFailure(reply, {
            code: 'TOO_MANY_STREAMS',
            message: `Too many open event streams (at most ${limit}); close one before opening another.`,
          });
        }
        reply.hijack();
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(reply.getHeaders()))
          if (typeof value === 'string') headers[name] = value;
        const stream = openEventStream(reply.raw, {
          bus: options.bus,
          pages,
          heartbeatMs: options.heartbeatMs ?? 15_000,
          headers,
          filter: { orgId: request.orgId, sessionId: request.query.session_id },
          lastEventId: given === undefined ? undefined : Number(given),
          replayMaxEvents: options.replayMaxEvents,
          queueMax: options.queueMax,
        });
        open.add(stream);
        void stream.closed.then(() => {
          open.delete(stream);
          slot();
        });
      },
    );
  };
}
