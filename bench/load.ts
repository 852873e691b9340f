/**
 * Load generation, from this process (never the server's): saturation with autocannon (many
 * connections, as fast as the server answers) and a fixed offered rate with evenly spaced
 * arrivals (open-loop.ts), whose latencies count from when each request was due.
 */
import autocannon, { type AutocannonRequest, type AutocannonResult } from 'autocannon';
import { runOpenLoop } from './open-loop.js';

export interface Figures {
  /** Completed requests per second (2xx and others; errors are counted apart). */
  rps: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  non2xx: number;
  errors: number;
  /** Requests completed over the whole run. */
  total: number;
}

export interface LoadOptions {
  url: string;
  requests: AutocannonRequest[];
  durationS: number;
  connections: number;
}

function figuresOf(result: AutocannonResult): Figures {
  return {
    rps: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    total: result.requests.total,
  };
}

export async function runLoad(options: LoadOptions): Promise<Figures> {
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.durationS,
    timeout: 30,
    requests: options.requests,
  });
  return figuresOf(result);
}

export interface ScenarioFigures {
  saturated: Figures;
  atFixedRate: Figures;
  /**
   * CPU per request at saturation (ms) for each process the probe reads, net of what the process
   * uses when idle (its background loops, measured apart).
   */
  cpuPerRequestMs?: Record<string, number>;
}

/** CPU used so far (ms) by the processes under test, by name (server, postgres). */
export type CpuProbe = () => Record<string, number | null>;

export interface LoadPlan {
  url: string;
  durationS: number;
  saturationConnections: number;
  fixedRate: number;
  /**
   * Seconds of saturation before the measured run, not counted: the server's JIT compiles the
   * scenario's path meanwhile. Without it a short run measures mostly cold code (a create's first
   * five seconds ran at 376/s where the next ones ran at 520-620/s, bench/ab.ts; after 3 s the
   * server's CPU per create was 1.32 ms, after 10 s 0.85 ms).
   */
  warmUpS: number;
}

/** What a CPU probe reads, and each process's idle CPU in % of a core to take off. */
export interface CpuWatch {
  probe: CpuProbe;
  idlePercent: Record<string, number>;
}

/** A warm-up, then saturation, then the fixed rate; a short pause between lets the server settle. */
export async function measureScenario(
  plan: LoadPlan,
  requests: () => AutocannonRequest[],
  cpu?: CpuWatch,
): Promise<ScenarioFigures> {
  if (plan.warmUpS > 0)
    await runLoad({
      url: plan.url,
      requests: requests(),
      durationS: plan.warmUpS,
      connections: plan.saturationConnections,
    });
  const before = cpu?.probe();
  const startedMs = performance.now();
  const saturated = await runLoad({
    url: plan.url,
    requests: requests(),
    durationS: plan.durationS,
    connections: plan.saturationConnections,
  });
  const after = cpu?.probe();
  const elapsedMs = performance.now() - startedMs;
  const cpuPerRequestMs: Record<string, number> = {};
  for (const [name, ms] of Object.entries(after ?? {})) {
    const was = before?.[name];
    if (ms === null || was === null || was === undefined || saturated.total === 0) continue;
    const background = ((cpu?.idlePercent[name] ?? 0) / 100) * elapsedMs;
    cpuPerRequestMs[name] = Number((Math.max(0, ms - was - background) / saturated.total).toFixed(3));
  }
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const atFixedRate = await runOpenLoop({
    url: plan.url,
    requests: requests(),
    durationS: plan.durationS,
    rate: plan.fixedRate,
  });
  await new Promise((resolve) => setTimeout(resolve, 1000));
  return { saturated, atFixedRate, ...(cpu ? { cpuPerRequestMs } : {}) };
}
