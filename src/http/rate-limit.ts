/**
 * Per-key request rate limits: a token bucket per API key in each process, so with N processes
 * a key may reach N times the rate. Off unless RATE_LIMIT_PER_SECOND is set.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { keyFromAuthorization } from '../app/keys.js';
import { sendFailure } from './errors.js';

export interface RateLimitOptions {
  perSecond: number;
  burst: number;
}

interface Bucket {
  tokens: number;
  updatedMs: number;
}

/** Must be registered after auth: only authenticated requests reach it. */
export function registerRateLimit(app: FastifyInstance, options: RateLimitOptions): void {
  if (options.perSecond <= 0) return;
  const buckets = new Map<string, Bucket>();
  app.addHook('onRequest', async (request, reply) => {
    const key = keyFromAuthorization(request.headers.authorization);
    if (key === undefined) return;
    const id = createHash('sha256').update(key).digest('base64url');
    const nowMs = performance.now();
    const bucket = buckets.get(id) ?? { tokens: options.burst, updatedMs: nowMs };
    bucket.tokens = Math.min(options.burst, bucket.tokens + ((nowMs - bucket.updatedMs) / 1000) * options.perSecond);
    bucket.updatedMs = nowMs;
    buckets.set(id, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return;
    }
    const retryAfterSeconds = Math.max(1, Math.ceil((1 - bucket.tokens) / options.perSecond));
    reply.header('retry-after', String(retryAfterSeconds));
    return sendFailure(reply, { code: 'RATE_LIMITED', message: `Too many requests for this API key; retry in ${retryAfterSeconds} s.` });
  });
}
