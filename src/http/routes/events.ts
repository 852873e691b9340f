import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { AppDeps } from '../../app/deps.js';
import type { EventBus } from '../../events/event-bus.js';
import { openEventStream, type OpenStream } from '../../events/event-stream.js';
import { sendFailure } from '../errors.js';
import { errors } from './common.js';

export interface EventRoutesOptions {
  bus: EventBus;
  /** Comment line sent this often so proxies and clients see the stream is alive. Default 15 s. */
  heartbeatMs?: number;
}

const EVENT_ID = /^\d{1,15}$/;

const EventsQuery = Type.Object({
  session_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Only this session\'s events.' })),
  last_event_id: Type.Optional(Type.String({ pattern: EVENT_ID.source, description: 'Same as the Last-Event-ID header.' })),
});

/**
 * (ext) GET /v1/events: the organisation's session and deployment changes as Server-Sent Events.
 * The /v1 plugin's onRequest hook has authenticated the request before the handler runs.
 */
export function eventRoutes(options: EventRoutesOptions) {
  return (parent: FastifyInstance, deps: AppDeps): void => {
    const app = parent.withTypeProvider<TypeBoxTypeProvider>();
    const open = new Set<OpenStream>();
    // preClose, not onClose: server.close() waits for open connections, and a stream never
    // ends by itself, so it must be ended before the server stops listening.
    app.addHook('preClose', async () => {
      for (const stream of open) stream.end();
    });

    app.get('/v1/events', {
      schema: {
        tags: ['Events (ext)'], operationId: 'events-stream', querystring: EventsQuery, response: errors(),
        description: '(ext) text/event-stream of session.* and deployment.* events. Send Last-Event-ID (or ?last_event_id=) to replay what was missed (kept one hour).',
      },
    }, async (request, reply) => {
      const header = request.headers['last-event-id'];
      const given = request.query.last_event_id ?? (typeof header === 'string' && header !== '' ? header : undefined);
      if (given !== undefined && !EVENT_ID.test(given)) {
        return sendFailure(reply, { code: 'VALIDATION_FAILED', message: 'Last-Event-ID must be an event id (a non-negative integer).' });
      }
      reply.hijack();
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(reply.getHeaders())) if (typeof value === 'string') headers[name] = value;
      const stream = openEventStream(reply.raw, {
        db: deps.db, bus: options.bus, heartbeatMs: options.heartbeatMs ?? 15_000, headers,
        filter: { orgId: request.orgId, sessionId: request.query.session_id },
        lastEventId: given === undefined ? undefined : Number(given),
      });
      open.add(stream);
      void stream.closed.then(() => open.delete(stream));
    });
  };
}
