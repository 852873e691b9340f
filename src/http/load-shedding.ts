/**
 * Load shedding through @fastify/under-pressure: when the event loop falls behind by more than
 * `maxEventLoopDelayMs`, new requests answer 503 `SERVICE_UNAVAILABLE` with `Retry-After` at
 * once instead of queueing behind the work already late, so latency degrades into refusals a
 * client retries rather than into timeouts for everyone. The error handler writes the body.
 */
import underPressure from '@fastify/under-pressure';
import type { FastifyInstance } from 'fastify';

export interface LoadSheddingOptions {
  /** 0 turns shedding off. */
  maxEventLoopDelayMs: number;
  retryAfterSeconds: number;
}

/**
 * How often the measured event-loop delay is refreshed: sustained lag is seen within this long.
 * At 250 ms an idle server spent about 0.15% of a core more than at 1 s (bench/idle.ts), and a
 * lag worth shedding for lasts longer than a second anyway.
 */
const SAMPLE_INTERVAL_MS = 1_000;

export async function registerUnderPressure(app: FastifyInstance, options: LoadSheddingOptions): Promise<void> {
  if (options.maxEventLoopDelayMs <= 0) return;
  await app.register(underPressure, {
    maxEventLoopDelay: options.maxEventLoopDelayMs,
    retryAfter: options.retryAfterSeconds,
    sampleInterval: SAMPLE_INTERVAL_MS,
  });
}
