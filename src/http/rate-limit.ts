/**
 * Per-key request rate limits through @fastify/rate-limit, with its standard headers
 * (`x-ratelimit-limit`, `x-ratelimit-remaining`, `x-ratelimit-reset`, and `retry-after` on a
 * 429). Counters live in each process, so with N processes a key may reach N times the rate.
 * Off unless RATE_LIMIT_PER_SECOND is set.
 */
import { createHash } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import { keyFromAuthorization } from '../app/keys.js';

export interface RateLimitOptions {
  perSecond: number;
  /** Requests a key may send at once; the window is sized so the average stays `perSecond`. */
  burst: number;
}

/** Registered inside the authenticated scope, after auth: only known keys are counted. */
export async function registerRateLimit(app: FastifyInstance, options: RateLimitOptions): Promise<void> {
  if (options.perSecond <= 0) return;
  const max = Math.max(1, options.burst);
  await app.register(rateLimit, {
    global: true,
    max,
    timeWindow: Math.ceil((max / options.perSecond) * 1000),
    // The key's hash, never the key itself: the limiter's store must not hold credentials.
    keyGenerator: (request) =>
      createHash('sha256')
        .update(keyFromAuthorization(request.headers.authorization) ?? request.ip)
        .digest('base64url'),
    errorResponseBuilder: (_request, context) =>
      Object.assign(new Error(`Too many requests for this API key; retry in ${context.after}.`), {
        statusCode: 429,
        code: 'RATE_LIMITED',
      }),
  });
}
