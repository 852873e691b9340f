/**
 * Load shedding: when the event loop falls behind by more than `maxEventLoopDelayMs`, new
 * requests answer 503 `SERVICE_UNAVAILABLE` with `Retry-After` at once instead of queueing behind
 * the work already late, so latency degrades into refusals a client retries rather than into
 * timeouts for everyone. The error handler (errors.ts) writes the body.
 *
 * The delay is Node's event-loop delay histogram (10 ms resolution), its mean over each second,
 * as @fastify/under-pressure measured it, but only while requests arrive: the histogram's timer
 * wakes the process a hundred times a second, which on an idle server was 1.1% of a core
 * (`node dist/bench/idle.js`, README "Benchmarks"), more than everything else an idle server
 * does. A second without requests turns it off; the next request turns it on again.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';

export interface LoadSheddingOptions {
  /** 0 turns shedding off. */
  maxEventLoopDelayMs: number;
  retryAfterSeconds: number;
}

/** Thrown by the hook below; errors.ts answers it 503 SERVICE_UNAVAILABLE. */
export class OverloadedError extends Error {
  constructor() {
    super('The event loop is lagging; request shed.');
  }
}

const RESOLUTION_MS = 10;
/**
 * How often the delay is refreshed: sustained lag is seen within this long, and a lag worth
 * shedding for lasts longer than a second anyway.
 */
const SAMPLE_INTERVAL_MS = 1_000;

export interface LagMonitor {
  /** The event loop's mean delay over the last sampled second, in ms; 0 while idle. */
  lagMs(): number;
  /** A request arrived: keep measuring (or start again). */
  noteRequest(): void;
  /** Whether the histogram runs (and wakes the process); false once a whole interval had no request. */
  measuring(): boolean;
  stop(): void;
}

export function createLagMonitor(sampleIntervalMs = SAMPLE_INTERVAL_MS): LagMonitor {
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  let lag = 0;
  let requestsSinceSample = 0;
  let timer: NodeJS.Timeout | undefined;
  let sampleDueAt = 0;
  const schedule = () => {
    sampleDueAt = performance.now() + sampleIntervalMs;
    timer = setTimeout(sample, sampleIntervalMs).unref();
  };
  const sample = () => {
    if (requestsSinceSample === 0) {
      // Idle: nothing to shed, and nothing to wake up for.
      histogram.disable();
      histogram.reset();
      timer = undefined;
      lag = 0;
      return;
    }
    // The histogram records nothing on its first tick after being turned on, so a loop held from
    // then until now has no delay in it: this sample's own lateness is then the delay seen.
    const mean = histogram.mean / 1e6;
    lag = Number.isNaN(mean) ? Math.max(0, performance.now() - sampleDueAt) : Math.max(0, mean - RESOLUTION_MS);
    histogram.reset();
    requestsSinceSample = 0;
    schedule();
  };
  return {
    lagMs: () => lag,
    measuring: () => timer !== undefined,
    noteRequest() {
      requestsSinceSample += 1;
      if (timer !== undefined) return;
      histogram.enable();
      schedule();
    },
    stop() {
      clearTimeout(timer);
      timer = undefined;
      histogram.disable();
    },
  };
}

export function registerLoadShedding(app: FastifyInstance, options: LoadSheddingOptions): void {
  if (options.maxEventLoopDelayMs <= 0) return;
  const monitor = createLagMonitor();
  const retryAfter = String(options.retryAfterSeconds);
  // Callback hooks, here and on every request elsewhere: an async hook costs a promise per request.
  app.addHook('onRequest', (_request, reply, done) => {
    monitor.noteRequest();
    if (monitor.lagMs() <= options.maxEventLoopDelayMs) return done();
    reply.header('retry-after', retryAfter);
    done(new OverloadedError());
  });
  app.addHook('onClose', async () => monitor.stop());
}
