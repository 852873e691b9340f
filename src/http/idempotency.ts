/**
 * Idempotency-Key on mutating calls: a retry with the same key and request gets the first
 * answer and has no second effect, even when it races the first call; the same key with another
 * request is refused (422). Keys live 24 hours.
 *
 * Hazard: the answer is recorded right after the use case commits, not in its transaction. If the
 * process dies in between, the key stays "in progress"; after ABANDONED_MS a retry runs again.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from '../app/deps.js';
import {
  deleteExpiredIdempotencyKeys,
  deleteIdempotencyKey,
  deleteStaleIdempotencyKey,
  insertIdempotencyKey,
  selectIdempotencyKey,
  updateIdempotencyResponse,
} from '../db/queries/idempotency.js';
import { sendFailure } from './errors.js';

export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
const ABANDONED_MS = 60_000;
const WAIT_FOR_FIRST_CALL_MS = 10_000;
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/** Route templates whose effects a key protects. */
export const IDEMPOTENT_ROUTES = new Set([
  'POST /v1/session',
  'DELETE /v1/session/:session_id',
  'PUT /v1/session/:session_id/users',
  'DELETE /v1/session/:session_id/users',
  'POST /v1/sessions/bulk-stop',
  'POST /v1/deploy',
  'DELETE /v1/stop/:request_id',
  'POST /v1/deployments/bulk-stop',
]);

declare module 'fastify' {
  interface FastifyRequest {
    idempotencyKey: string | undefined;
  }
}

/** JSON with object keys sorted, so the same body always hashes the same. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * The request as the handler sees it: `//v1/session`, `/v1/session/` and `/v1/session` reach the
 * same handler, so they are one request. The route template and the decoded parameters say which
 * resource was meant; the raw URL would not.
 */
function normalisedPath(request: FastifyRequest): string {
  return `${request.routeOptions.url ?? ''} ${canonicalJson(request.params ?? {})}`;
}

function requestHash(request: FastifyRequest): string {
  return createHash('sha256')
    .update(`${request.method} ${normalisedPath(request)}\n${canonicalJson(request.body)}`)
    .digest('hex');
}

async function claimOrReplay(
  deps: AppDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  key: string,
): Promise<FastifyReply | undefined> {
  const hash = requestHash(request);
  const deadline = Date.now() + WAIT_FOR_FIRST_CALL_MS;
  for (;;) {
    const now = deps.clock.now();
    const claimed = await insertIdempotencyKey(deps.db, {
      orgId: request.orgId,
      key,
      method: request.method,
      path: normalisedPath(request),
      requestHash: hash,
      now,
      expiresAt: new Date(now.getTime() + IDEMPOTENCY_TTL_MS),
    });
    if (claimed) {
      request.idempotencyKey = key;
      if (Math.random() < 0.01) await deleteExpiredIdempotencyKeys(deps.db, now);
      return undefined;
    }
    const existing = await selectIdempotencyKey(deps.db, request.orgId, key);
    if (!existing) continue;
    const isAbandoned = existing.status === null && now.getTime() - existing.createdAt.getTime() > ABANDONED_MS;
    if (existing.expiresAt <= now || isAbandoned) {
      await deleteStaleIdempotencyKey(deps.db, request.orgId, key, existing.createdAt);
      continue;
    }
    if (existing.requestHash !== hash) {
      return sendFailure(reply, {
        code: 'IDEMPOTENCY_KEY_REUSED',
        message: 'This Idempotency-Key was already used with a different request; use a new key.',
      });
    }
    if (existing.status !== null) {
      return reply
        .code(existing.status)
        .header('idempotent-replayed', 'true')
        .type('application/json; charset=utf-8')
        .send(existing.responseBody ?? '');
    }
    if (Date.now() > deadline) {
      return sendFailure(reply, {
        code: 'IDEMPOTENCY_IN_PROGRESS',
        message: 'A request with this Idempotency-Key is still being processed; retry shortly.',
      });
    }
    await sleep(25);
  }
}

/**
 * Hooks only the routes in IDEMPOTENT_ROUTES (registered after this call, in the same plugin):
 * every other route, every GET among them, runs no idempotency code at all.
 */
export function registerIdempotency(app: FastifyInstance, deps: AppDeps): void {
  app.decorateRequest('idempotencyKey', undefined);
  const claim = async (request: FastifyRequest, reply: FastifyReply) => {
    const header = request.headers['idempotency-key'];
    if (header === undefined) return;
    if (typeof header !== 'string' || !KEY_PATTERN.test(header)) {
      return sendFailure(reply, {
        code: 'VALIDATION_FAILED',
        message: 'Idempotency-Key must be 1 to 255 visible ASCII characters, sent once.',
      });
    }
    return claimOrReplay(deps, request, reply, header);
  };
  const record = async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const key = request.idempotencyKey;
    if (key === undefined) return payload;
    request.idempotencyKey = undefined;
    if (reply.statusCode >= 500) await deleteIdempotencyKey(deps.db, request.orgId, key);
    else
      await updateIdempotencyResponse(
        deps.db,
        request.orgId,
        key,
        reply.statusCode,
        typeof payload === 'string' ? payload : JSON.stringify(payload),
      );
    return payload;
  };
  const hooked = new Set<string>();
  app.addHook('onRoute', (route) => {
    const methods = [route.method].flat();
    if (!methods.some((method) => IDEMPOTENT_ROUTES.has(`${method} ${route.url}`))) return;
    if (methods.length > 1) throw new Error(`idempotent route ${route.url} must have one method`);
    hooked.add(`${methods[0]} ${route.url}`);
    route.preHandler = [claim, ...[route.preHandler ?? []].flat()];
    route.onSend = [record, ...[route.onSend ?? []].flat()];
  });
  // A protected route renamed or registered elsewhere would otherwise lose its protection silently.
  app.addHook('onReady', async () => {
    const missing = [...IDEMPOTENT_ROUTES].filter((route) => !hooked.has(route));
    if (missing.length > 0) throw new Error(`idempotency: no such routes here: ${missing.join(', ')}`);
  });
}
