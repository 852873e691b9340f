/**
 * Many clients replaying the event log at once against a server process, while another client
 * measures how long ordinary requests take and the server's resident memory is sampled. Used by
 * test/events/many-streams.test.ts (with bounds) and bench/streams.ts (figures only).
 */
import { Worker } from 'node:worker_threads';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createKeyForOrganisation } from '../../src/app/organisations.js';
import { createOrganisation } from '../../src/app/keys.js';
import type { Db } from '../../src/db/db.js';
import { insertEvents, selectLatestEventId } from '../../src/db/queries/events.js';
import type { ReplayStreamsInput, ReplayStreamsOutput } from './replay-streams-worker.js';

export interface ReplayOrg {
  orgId: number;
  keys: string[];
  /** The organisation's last event id once every seeded event is numbered. */
  latest: number;
}

/**
 * Organisations of `keysPerOrg.length`, each with that many keys and `events` events of a
 * session's usual size, written straight to the log (the server's sequencer numbers them).
 */
export async function seedReplayOrgs(
  db: Db,
  keysPerOrg: number[],
  events: number,
): Promise<Array<Omit<ReplayOrg, 'latest'>>> {
  const orgs: Array<Omit<ReplayOrg, 'latest'>> = [];
  for (const keyCount of keysPerOrg) {
    const name = `replay-${randomBytes(4).toString('hex')}`;
    const org = await createOrganisation({ db }, name);
    const keys = [org.key];
    for (let i = 1; i < keyCount; i++) {
      const made = await createKeyForOrganisation({ db }, name, `stream-${i}`);
      if (!made.ok) throw new Error(made.error.message);
      keys.push(made.value.key);
    }
    for (let written = 0; written < events; written += 500) {
      const batch = Array.from({ length: Math.min(500, events - written) }, (_, i) => {
        const sessionId = `${randomBytes(6).toString('hex')}-S`;
        return {
          orgId: org.orgId,
          type: 'session.users_changed',
          sessionId,
          requestId: 'a1b2c3d4e5f6',
          data: {
            session_id: sessionId,
            status: 'Ready',
            ready: true,
            linked: true,
            kind: 'Seat',
            user_count: (written + i) % 8,
            deployment_request_id: 'a1b2c3d4e5f6',
          },
          createdAt: new Date(),
        };
      });
      await db.transaction((tx) => insertEvents(tx, batch));
    }
    orgs.push({ orgId: org.orgId, keys });
  }
  return orgs;
}

/** Waits until the server numbered every seeded event (its fallback poll finds them). */
export async function waitNumbered(
  db: Db,
  orgs: Array<Omit<ReplayOrg, 'latest'>>,
  events: number,
  timeoutMs = 60_000,
): Promise<ReplayOrg[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const latest = await Promise.all(orgs.map((o) => selectLatestEventId(db, o.orgId)));
    if (latest.every((l) => l >= events)) return orgs.map((o, i) => ({ ...o, latest: latest[i]! }));
    if (Date.now() > deadline) throw new Error(`events not numbered in ${timeoutMs} ms: ${latest.join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export interface ReplayLoadResult extends ReplayStreamsOutput {
  requests: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  peakRssMb: number;
}

function rssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : 0;
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;

/**
 * Opens `perKey` streams from Last-Event-ID 0 on every key of every organisation, all at once,
 * in a worker thread (so reading them does not delay this thread's probes), until each has its
 * organisation's last event; meanwhile sends `probePath` one request after another and samples
 * the server's RSS.
 */
export async function runReplayLoad(options: {
  url: string;
  pid: number;
  orgs: ReplayOrg[];
  perKey: number;
  probePath: string;
  probeKey: string;
  timeoutMs?: number;
}): Promise<ReplayLoadResult> {
  let peakRssMb = rssMb(options.pid);
  const sampler = setInterval(() => (peakRssMb = Math.max(peakRssMb, rssMb(options.pid))), 50);
  const input: ReplayStreamsInput = {
    url: options.url,
    orgs: options.orgs,
    perKey: options.perKey,
    timeoutMs: options.timeoutMs ?? 120_000,
  };
  const worker = new Worker(new URL('./replay-streams-worker.js', import.meta.url), { workerData: input });
  let replaying = true;
  const outcome = new Promise<ReplayStreamsOutput>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  }).finally(() => (replaying = false));
  const latencies: number[] = [];
  // Probes run during the replays, and at least 50 of them.
  while (replaying || latencies.length < 50) {
    const t0 = performance.now();
    const response = await fetch(`${options.url}${options.probePath}`, {
      headers: { authorization: `token ${options.probeKey}` },
    });
    const body = await response.text();
    if (response.status !== 200) throw new Error(`probe ${options.probePath}: ${response.status} ${body}`);
    latencies.push(performance.now() - t0);
  }
  const streams = await outcome;
  await worker.terminate();
  clearInterval(sampler);
  latencies.sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 10) / 10;
  return {
    ...streams,
    seconds: round(streams.seconds),
    requests: latencies.length,
    p50Ms: round(percentile(latencies, 50)),
    p99Ms: round(percentile(latencies, 99)),
    maxMs: round(latencies.at(-1) ?? 0),
    peakRssMb: Math.round(peakRssMb),
  };
}
