/**
 * Load generation with autocannon, from this process (never the server's): saturation (many
 * connections, as fast as the server answers) and a fixed offered rate (overallRate, with
 * autocannon's coordinated-omission correction, so a stalled server shows in the latencies).
 */
import autocannon, { type AutocannonRequest, type AutocannonResult } from 'autocannon';

export interface Figures {
  /** Completed requests per second (2xx and others; errors are counted apart). */
  rps: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  non2xx: number;
  errors: number;
}

export interface LoadOptions {
  url: string;
  requests: AutocannonRequest[];
  durationS: number;
  connections: number;
  /** Offered requests per second over all connections; omit to saturate. */
  overallRate?: number;
}

function figuresOf(result: AutocannonResult): Figures {
  return {
    rps: Math.round(result.requests.average),
    p50Ms: result.latency.p50, p99Ms: result.latency.p99, maxMs: result.latency.max,
    non2xx: result.non2xx, errors: result.errors + result.timeouts,
  };
}

export async function runLoad(options: LoadOptions): Promise<Figures> {
  const result = await autocannon({
    url: options.url, connections: options.connections, duration: options.durationS, timeout: 30,
    requests: options.requests,
    ...(options.overallRate !== undefined ? { overallRate: options.overallRate } : {}),
  });
  return figuresOf(result);
}

export interface ScenarioFigures {
  saturated: Figures;
  atFixedRate: Figures;
}

export interface LoadPlan {
  url: string;
  durationS: number;
  saturationConnections: number;
  fixedRate: number;
  fixedRateConnections: number;
}

/** Saturation first, then the fixed rate; a short pause between lets the server settle. */
export async function measureScenario(plan: LoadPlan, requests: () => AutocannonRequest[]): Promise<ScenarioFigures> {
  const saturated = await runLoad({ url: plan.url, requests: requests(), durationS: plan.durationS, connections: plan.saturationConnections });
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const atFixedRate = await runLoad({
    url: plan.url, requests: requests(), durationS: plan.durationS, connections: plan.fixedRateConnections, overallRate: plan.fixedRate,
  });
  await new Promise((resolve) => setTimeout(resolve, 1000));
  return { saturated, atFixedRate };
}
