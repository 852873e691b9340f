import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authenticate, keyFromAuthorization, recentlyVerifiedOrganisation } from '../app/keys.js';
import type { Queryable } from '../db/db.js';
import { clientBucket, createFailedAuthGate } from './auth-failures.js';
import { sendFailure } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The organisation of the request's API key; set on every authenticated route. */
    orgId: number;
  }
}

/** After a few unknown keys, a client address may look up one key per this long. */
const FAILED_AUTH_PENALTY_MS = 1_000;

/**
 * Rejects requests without a valid key with 401, before any route runs. An address that spent
 * its budget of unknown keys is answered 401 with Retry-After, without a query (auth-failures.ts).
 */
export function registerAuth(app: FastifyInstance, db: Queryable): void {
  app.decorateRequest('orgId', 0);
  const gate = createFailedAuthGate(FAILED_AUTH_PENALTY_MS);
  const unknownKey = { code: 'UNAUTHORIZED', message: 'Unknown or revoked API key.' } as const;
  app.addHook('onRequest', async (request: FastifyRequest, reply) => {
    const key = keyFromAuthorization(request.headers.authorization);
    if (key === undefined) {
      return sendFailure(reply, {
        code: 'UNAUTHORIZED',
        message: 'Missing or malformed Authorization header; send "Authorization: token <key>".',
      });
    }
    let orgId = recentlyVerifiedOrganisation(db, key);
    if (orgId === undefined) {
      const address = clientBucket(request.ip);
      const looked = await gate.lookup(
        address,
        key,
        () => performance.now(),
        () => authenticate(db, key),
      );
      if (looked.held) {
        const seconds = Math.max(1, Math.ceil(gate.waitMs(address, performance.now()) / 1000));
        reply.header('retry-after', String(seconds));
        // Not verified is not authenticated: 401, with when this address may try a key again.
        return sendFailure(reply, {
          code: 'UNAUTHORIZED',
          message: `Unknown or revoked API key; this address sent one recently and may try another in ${seconds} s.`,
        });
      }
      orgId = looked.value;
    }
    if (orgId === undefined) return sendFailure(reply, unknownKey);
    request.orgId = orgId;
  });
}
