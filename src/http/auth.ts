import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authenticate, keyFromAuthorization } from '../app/keys.js';
import type { Queryable } from '../db/db.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The organisation of the request's API key; set on every authenticated route. */
    orgId: number;
  }
}

/** Rejects requests without a valid key with 401, before any route runs. */
export function registerAuth(app: FastifyInstance, db: Queryable): void {
  app.decorateRequest('orgId', 0);
  app.addHook('onRequest', async (request: FastifyRequest, reply) => {
    const key = keyFromAuthorization(request.headers.authorization);
    const orgId = key === undefined ? undefined : await authenticate(db, key);
    if (orgId === undefined) {
      return reply.code(401).send({
        message: key === undefined ? 'Missing or malformed Authorization header; send "Authorization: token <key>".' : 'Unknown or revoked API key.',
        code: 'UNAUTHORIZED',
      });
    }
    request.orgId = orgId;
  });
}
