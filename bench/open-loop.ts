/**
 * A fixed offered rate with evenly spaced arrivals (an open loop): flow i starts at
 * start + i × (requests per flow / rate), whether or not earlier ones were answered, on
 * keep-alive connections, as many as requests in flight. A request's latency runs from when
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
import { connect, type Socket } from 'node:net';
import type { AutocannonRequest } from 'autocannon';
import type { Figures } from './load.js';
import { percentile } from './stats.js';

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

const HEAD_END = Buffer.from('\r\n\r\n');

/**
 * A keep-alive connection sending one request at a time, with the least HTTP/1.1 a JSON API
 * needs: answers framed by content-length (Fastify always sends it). Node's http client cost the
 * generator 0.5-0.7 ms of CPU per request at 500/s, a quarter of a core taken from the server
 * under test; autocannon's raw client costs about 0.05 ms.
 */
class Connection {
  private readonly socket: Socket;
  private buffer: Buffer = Buffer.alloc(0);
  private pending: { resolve(answer: Answer): void; reject(error: Error): void } | undefined;
  closed = false;

  constructor(port: number, host: string) {
    this.socket = connect({ port, host, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => this.receive(chunk));
    const fail = (error: Error) => {
      this.closed = true;
      this.pending?.reject(error);
      this.pending = undefined;
    };
    this.socket.on('error', fail);
    this.socket.on('close', () => fail(new Error('connection closed')));
  }

  send(head: string, body: string | undefined): Promise<Answer> {
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.socket.write(body === undefined ? head : head + body);
    });
  }

  private receive(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const headEnd = this.buffer.indexOf(HEAD_END);
    if (headEnd < 0 || !this.pending) return;
    const head = this.buffer.toString('latin1', 0, headEnd);
    const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
    const bodyStart = headEnd + HEAD_END.length;
    if (this.buffer.length < bodyStart + length) return;
    const answer = {
      status: Number(head.slice(9, 12)),
      body: this.buffer.toString('utf8', bodyStart, bodyStart + length),
    };
    this.buffer = this.buffer.subarray(bodyStart + length);
    const { resolve } = this.pending;
    this.pending = undefined;
    resolve(answer);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Idle connections are reused; a request that finds none opens one. */
class Connections {
  private readonly idle: Connection[] = [];
  private readonly all: Connection[] = [];
  private readonly port: number;

  constructor(private readonly base: URL) {
    this.port = Number(base.port || 80);
  }

  async send(r: AutocannonRequest): Promise<Answer> {
    let connection = this.idle.pop();
    while (connection?.closed) connection = this.idle.pop();
    if (!connection) {
      connection = new Connection(this.port, this.base.hostname);
      this.all.push(connection);
    }
    const headers = Object.entries({ host: this.base.host, ...r.headers })
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    const length = r.body === undefined ? '' : `content-length: ${Buffer.byteLength(r.body)}\r\n`;
    const answer = await connection.send(
      `${r.method ?? 'GET'} ${r.path ?? '/'} HTTP/1.1\r\n${headers}${length}\r\n`,
      r.body,
    );
    this.idle.push(connection);
    return answer;
  }

  close(): void {
    for (const connection of this.all) connection.close();
  }
}

export async function runOpenLoop(options: OpenLoopOptions): Promise<Figures> {
  const base = new URL(options.url);
  const connections = new Connections(base);
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
        const answer = await connections.send(r);
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
      // Whole milliseconds: a shorter delay has libuv poll without sleeping until the millisecond ends.
      setTimeout(tick, Math.max(1, Math.ceil(began + next * intervalMs - performance.now())));
    };
    tick();
  });
  await Promise.all(running);
  const elapsedS = (performance.now() - began) / 1000;
  connections.close();
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
