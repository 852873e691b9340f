/**
 * A fixed offered rate with evenly spaced arrivals (an open loop): flow i starts at
 * start + i × (requests per flow / rate), whether or not earlier ones were answered, on a
 * keep-alive agent with as many sockets as flows in flight. A request's latency runs from when
 * its flow was due, not from when it could be sent, so a stalled server or a late load generator
 * shows in the figures instead of lowering the rate (no coordinated omission).
 *
 * autocannon's `overallRate` is not this: each connection sends its whole quota for a second
 * back to back when the second begins and then waits, so at 500/s over 50 connections every
 * second opens with a burst of 50 concurrent requests. Its latencies measure how fast a burst
 * drains (creates at 100/s showed a 44 ms median that way, 4 ms one at a time).
 *
 * Flows are the scenario's autocannon request lists, run in order with one context each, so
 * scenarios are written once for both generators.
 */
import { Agent, request as httpRequest } from 'node:http';
import type { AutocannonRequest } from 'autocannon';
import type { Figures } from './load.js';

export interface OpenLoopOptions {
  url: string;
  requests: AutocannonRequest[];
  /** Requests per second offered (each flow counts as its number of requests). */
  rate: number;
  durationS: number;
}

interface Answer {
  status: number;
  body: string;
}

function send(agent: Agent, base: URL, r: AutocannonRequest): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const call = httpRequest(
      {
        agent,
        host: base.hostname,
        port: base.port,
        method: r.method ?? 'GET',
        path: r.path ?? '/',
        headers: { ...r.headers, ...(r.body !== undefined ? { 'content-length': Buffer.byteLength(r.body) } : {}) },
        timeout: 30_000,
      },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
        response.on('error', reject);
      },
    );
    call.on('timeout', () => call.destroy(new Error('timeout')));
    call.on('error', reject);
    call.end(r.body);
  });
}

function percentile(sorted: readonly number[], q: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export async function runOpenLoop(options: OpenLoopOptions): Promise<Figures> {
  const base = new URL(options.url);
  const agent = new Agent({ keepAlive: true, maxSockets: 1024 });
  const perFlow = options.requests.length;
  const intervalMs = (1000 * perFlow) / options.rate;
  const flows = Math.max(1, Math.floor((options.durationS * 1000) / intervalMs));
  const latencies: number[] = [];
  let non2xx = 0;
  let errors = 0;

  async function flow(dueMs: number): Promise<void> {
    const context: Record<string, unknown> = {};
    let startMs = dueMs;
    for (const template of options.requests) {
      const r = template.setupRequest ? template.setupRequest({ ...template }, context) : template;
      // A step with nothing to send (the flow's create failed) ends the flow, as in autocannon.
      if (!r) return;
      try {
        const answer = await send(agent, base, r);
        latencies.push(performance.now() - startMs);
        if (answer.status < 200 || answer.status >= 300) non2xx += 1;
        template.onResponse?.(answer.status, answer.body, context);
      } catch {
        errors += 1;
        return;
      }
      startMs = performance.now();
    }
  }

  const began = performance.now();
  const running: Array<Promise<void>> = [];
  let next = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (next < flows && began + next * intervalMs <= now) running.push(flow(began + next++ * intervalMs));
      if (next >= flows) return resolve();
      setTimeout(tick, Math.max(0, began + next * intervalMs - performance.now()));
    };
    tick();
  });
  await Promise.all(running);
  const elapsedS = (performance.now() - began) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const round = (ms: number) => Math.round(ms * 10) / 10;
  return {
    rps: Math.round(latencies.length / elapsedS),
    p50Ms: round(percentile(latencies, 0.5)),
    p99Ms: round(percentile(latencies, 0.99)),
    maxMs: round(latencies.at(-1) ?? 0),
    non2xx,
    errors,
    total: latencies.length,
  };
}
