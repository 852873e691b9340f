/**
 * Durable jobs with visible states (migration 009, src/jobs/worker.ts): retries with growing
 * waits up to max_attempts, then dead; success deletes; a job whose process died is reclaimed
 * as a failed attempt; dedupe keys; a wake on insert, and a sleep until the next job is due;
 * dead jobs deleted after their retention; old rows migrate.
 */
import { after, afterEach, before, describe, eventually, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { systemClock } from '../../src/app/deps.js';
import type { Db } from '../../src/db/db.js';
import { loadMigrations, migrate } from '../../src/db/migrate.js';
import { openDb } from '../../src/db/open-db.js';
import { insertJob, selectJob, selectJobs, type JobRecord } from '../../src/db/queries/jobs.js';
import { createJobWorker, JOB_BACKOFF, type JobHandler, type JobWorker } from '../../src/jobs/worker.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { createTestDatabase, FakeClock } from '../support/harness.js';

const SECOND = 1_000;
const LEASE_MS = 60 * SECOND;

async function openMigratedDb(): Promise<Db> {
  const db = await openDb({ databaseUrl: await createTestDatabase(), dataDir: '', poolSize: 4 });
  await migrate(db);
  return db;
}

describe('job worker', () => {
  let db: Db;
  const clock = new FakeClock();
  const workers: JobWorker[] = [];
  before(async () => {
    db = await openMigratedDb();
  });
  after(async () => {
    for (const worker of workers) await worker.stop();
    await db.close();
  });
  // Every worker claims every due job, as in a service; each test starts with none.
  afterEach(async () => {
    await db.query('DELETE FROM jobs');
  });

  /** A worker on the fake clock that only runs when told (runDue). */
  function worker(
    handlers: Record<string, JobHandler>,
    options: { leaseMs?: number; workerId?: string } = {},
  ): JobWorker {
    const created = createJobWorker({
      db,
      clock,
      handlers,
      pollMs: 0,
      wakeOnInsert: false,
      leaseMs: options.leaseMs ?? LEASE_MS,
      ...(options.workerId ? { workerId: options.workerId } : {}),
    });
    workers.push(created);
    return created;
  }

  const jobsOfKind = async (kind: string) => (await selectJobs(db, { limit: 1000 })).filter((j) => j.kind === kind);
  const onlyJobOfKind = async (kind: string) => {
    const jobs = await jobsOfKind(kind);
    assert.equal(jobs.length, 1, `one ${kind} job: ${JSON.stringify(jobs)}`);
    return jobs[0]!;
  };

  it('retries a job that always fails with growing waits, then marks it dead after max_attempts with its last error', async () => {
    const kind = 'always-fails';
    let calls = 0;
    const w = worker({
      [kind]: async () => {
        calls += 1;
        throw new Error(`boom ${calls}`);
      },
    });
    await insertJob(db, { kind, payload: { n: 1 }, runAt: clock.now(), maxAttempts: 6 });
    const waits: number[] = [];
    for (let attempt = 1; attempt <= 5; attempt++) {
      assert.equal(await w.runDue(), 1, `attempt ${attempt} runs`);
      const job = await onlyJobOfKind(kind);
      assert.equal(job.state, 'failed', 'a failed job is kept, waiting for its next attempt');
      assert.equal(job.attempts, attempt);
      assert.equal(job.lockedBy, null);
      assert.match(job.lastError ?? '', new RegExp(`boom ${attempt}`));
      const wait = job.runAt.getTime() - clock.now().getTime();
      // Equal jitter: between half and all of firstMs * 2^(attempt-1).
      const full = Math.min(JOB_BACKOFF.maxMs, JOB_BACKOFF.firstMs * 2 ** (attempt - 1));
      assert.ok(
        wait >= full / 2 && wait <= full,
        `wait ${wait} ms after failure ${attempt} is within [${full / 2}, ${full}]`,
      );
      if (waits.length > 0) assert.ok(wait >= waits.at(-1)!, `waits grow: ${[...waits, wait].join(', ')} ms`);
      waits.push(wait);
      clock.advance(wait - 1);
      assert.equal(await w.runDue(), 0, 'not tried again before its wait is over');
      clock.advance(1);
    }
    assert.equal(await w.runDue(), 1, 'the last attempt runs');
    const dead = await onlyJobOfKind(kind);
    assert.equal(dead.state, 'dead');
    assert.equal(dead.attempts, 6);
    assert.equal(dead.maxAttempts, 6);
    assert.match(dead.lastError ?? '', /boom 6/);
    clock.advance(24 * 3600 * SECOND);
    assert.equal(await w.runDue(), 0, 'a dead job is never tried again');
    assert.equal(calls, 6);
    assert.equal((await onlyJobOfKind(kind)).state, 'dead', 'and is kept for inspection');
  });

  it('deletes a job that fails twice and then succeeds', async () => {
    const kind = 'fails-twice';
    const seen: number[] = [];
    const w = worker({
      [kind]: async (job) => {
        seen.push(job.attempts);
        if (job.attempts <= 2) throw new Error('not yet');
      },
    });
    await insertJob(db, { kind, payload: {}, runAt: clock.now() });
    for (let i = 0; i < 3; i++) {
      assert.equal(await w.runDue(), 1);
      const job = (await jobsOfKind(kind))[0];
      if (i < 2) {
        assert.equal(job?.state, 'failed');
        clock.advance(job!.runAt.getTime() - clock.now().getTime());
      }
    }
    assert.deepEqual(seen, [1, 2, 3]);
    assert.deepEqual(await jobsOfKind(kind), [], 'a job that succeeded is deleted');
  });

  it('records which worker runs a job and when, while it runs', async () => {
    const kind = 'observed';
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started!: (job: JobRecord) => void;
    const running = new Promise<JobRecord>((resolve) => (started = resolve));
    const w = worker(
      {
        [kind]: async (job) => {
          started(job);
          await gate;
        },
      },
      { workerId: 'test-host:1234:abcd' },
    );
    await insertJob(db, { kind, payload: {}, runAt: clock.now() });
    const run = w.runDue();
    const claimed = await running;
    const row = await selectJob(db, claimed.id);
    assert.equal(row?.state, 'running');
    assert.equal(row?.lockedBy, 'test-host:1234:abcd');
    assert.equal(row?.lockedAt?.getTime(), clock.now().getTime());
    assert.equal(row?.attempts, 1);
    release();
    assert.equal(await run, 1);
    assert.equal(await selectJob(db, claimed.id), undefined);
  });

  it('reclaims a job whose process died mid-run, counting that attempt as failed, and leaves a live lock alone', async () => {
    const kind = 'orphaned';
    const ran: number[] = [];
    const w = worker({ [kind]: async (job) => void ran.push(job.id) });
    const orphan = async (lockedAgoMs: number, attempts: number, maxAttempts = 25) => {
      const { rows } = await db.query<{ id: number }>(
        `INSERT INTO jobs (kind, payload, run_at, state, locked_by, locked_at, attempts, max_attempts)
         VALUES ($1, '{}', $2, 'running', 'gone-host:999:dead', $2, $3, $4) RETURNING id`,
        [kind, new Date(clock.now().getTime() - lockedAgoMs), attempts, maxAttempts],
      );
      return rows[0]!.id;
    };
    const died = await orphan(LEASE_MS + 1, 1);
    const alive = await orphan(LEASE_MS - SECOND, 1);
    const lastChance = await orphan(LEASE_MS + 1, 3, 3);

    assert.equal(await w.runDue(), 0, 'an expired lock is a failed attempt first: the retry waits for its backoff');
    const failed = await selectJob(db, died);
    assert.equal(failed?.state, 'failed');
    assert.equal(failed?.lockedBy, null);
    assert.match(failed?.lastError ?? '', /lease expired: gone-host:999:dead .*process died or stalled/);
    assert.ok(failed!.runAt.getTime() > clock.now().getTime());
    const stillRunning = await selectJob(db, alive);
    assert.equal(stillRunning?.state, 'running', 'a lock younger than the lease is left alone');
    assert.equal(stillRunning?.lockedBy, 'gone-host:999:dead');
    const dead = await selectJob(db, lastChance);
    assert.equal(dead?.state, 'dead', 'an expired lock on its last attempt makes the job dead');
    assert.match(dead?.lastError ?? '', /lease expired/);

    clock.advance(failed!.runAt.getTime() - clock.now().getTime());
    assert.equal(await w.runDue(), 1, 'the reclaimed job runs once its wait is over');
    assert.deepEqual(ran, [died]);
    assert.equal(await selectJob(db, died), undefined);
    // The live one's process "dies" too: once its lock is older than the lease, it is reclaimed.
    clock.advance(LEASE_MS);
    await w.runDue();
    const expired = await selectJob(db, alive);
    assert.equal(expired?.state, 'failed');
    assert.equal(expired?.attempts, 1);
  });

  it('renews the lock of a slow job so another worker does not take it for dead', async () => {
    const kind = 'slow';
    // Renewed every ~670 ms: only a 2 s stall of this process could let the other worker expire it.
    const leaseMs = 2_000;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started!: (job: JobRecord) => void;
    const running = new Promise<JobRecord>((resolve) => (started = resolve));
    const handlers = {
      [kind]: async (job: JobRecord) => {
        started(job);
        await gate;
      },
    };
    const make = (workerId: string) => {
      const created = createJobWorker({
        db,
        clock: systemClock,
        handlers,
        pollMs: 0,
        wakeOnInsert: false,
        leaseMs,
        workerId,
      });
      workers.push(created);
      return created;
    };
    const slow = make('slow-worker');
    const other = make('other-worker');
    await insertJob(db, { kind, payload: {}, runAt: new Date(0) });
    const run = slow.runDue();
    try {
      const job = await running;
      const claimedAt = (await selectJob(db, job.id))!.lockedAt!.getTime();
      // Past the lease since the claim, yet renewed meanwhile: the other worker leaves it.
      await eventually(
        'the lock was renewed past the lease',
        async () => {
          const row = await selectJob(db, job.id);
          return Date.now() - claimedAt > leaseMs * 1.5 && row!.lockedAt!.getTime() > claimedAt;
        },
        { withinMs: 20_000, everyMs: 50 },
      );
      await other.runDue();
      const row = await selectJob(db, job.id);
      assert.equal(row?.state, 'running');
      assert.equal(row?.lockedBy, 'slow-worker');
      assert.equal(row?.attempts, 1);
      release();
      await run;
      assert.equal(await selectJob(db, job.id), undefined);
    } finally {
      release();
    }
  });

  describe('dedupe keys', () => {
    it('moves a waiting (pending or failed) job of the key instead of adding one', async () => {
      const kind = 'deduped';
      let fail = true;
      const w = worker({
        [kind]: async () => {
          if (fail) throw new Error('no');
        },
      });
      await insertJob(db, { kind, payload: { v: 1 }, runAt: clock.now(), dedupeKey: 'dedupe:a' });
      await insertJob(db, { kind, payload: { v: 2 }, runAt: clock.now(), dedupeKey: 'dedupe:a' });
      assert.deepEqual(
        (await jobsOfKind(kind)).map((j) => [j.state, j.payload]),
        [['pending', { v: 2 }]],
      );
      await w.runDue();
      assert.equal((await onlyJobOfKind(kind)).state, 'failed');
      const later = new Date(clock.now().getTime() + 3600 * SECOND);
      await insertJob(db, { kind, payload: { v: 3 }, runAt: later, dedupeKey: 'dedupe:a' });
      const moved = await onlyJobOfKind(kind);
      assert.deepEqual(
        [moved.state, moved.payload, moved.runAt.getTime(), moved.attempts],
        ['failed', { v: 3 }, later.getTime(), 1],
      );
      fail = false;
      clock.advance(3600 * SECOND);
      assert.equal(await w.runDue(), 1);
      assert.deepEqual(await jobsOfKind(kind), []);
    });

    it('schedules a new job beside a dead one of the same key: a dead job never blocks new work', async () => {
      const kind = 'dead-key';
      const ran: Array<Record<string, unknown>> = [];
      const w = worker({
        [kind]: async (job) => {
          if (job.payload['v'] === 1) throw new Error('always');
          ran.push(job.payload);
        },
      });
      await insertJob(db, { kind, payload: { v: 1 }, runAt: clock.now(), dedupeKey: 'dedupe:dead', maxAttempts: 1 });
      await w.runDue();
      assert.equal((await onlyJobOfKind(kind)).state, 'dead');
      await insertJob(db, { kind, payload: { v: 2 }, runAt: clock.now(), dedupeKey: 'dedupe:dead' });
      assert.deepEqual(
        (await jobsOfKind(kind)).map((j) => [j.state, j.payload]),
        [
          ['dead', { v: 1 }],
          ['pending', { v: 2 }],
        ],
      );
      assert.equal(await w.runDue(), 1);
      assert.deepEqual(ran, [{ v: 2 }]);
      assert.deepEqual(
        (await jobsOfKind(kind)).map((j) => [j.state, j.payload]),
        [['dead', { v: 1 }]],
        'the dead one is still there to read',
      );
    });

    it('a job added while one of its key runs waits for that run, and does the work if the run fails', async () => {
      const kind = 'key-running';
      const ran: Array<Record<string, unknown>> = [];
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let started!: () => void;
      const running = new Promise<void>((resolve) => (started = resolve));
      const w = worker({
        [kind]: async (job) => {
          ran.push(job.payload);
          if (job.payload['v'] === 1) {
            started();
            await gate;
            throw new Error('first run fails');
          }
        },
      });
      const other = worker({ [kind]: async (job) => void ran.push({ ...job.payload, by: 'other' }) });
      await insertJob(db, { kind, payload: { v: 1 }, runAt: clock.now(), dedupeKey: 'dedupe:run' });
      const run = w.runDue();
      await running;
      await insertJob(db, { kind, payload: { v: 2 }, runAt: clock.now(), dedupeKey: 'dedupe:run' });
      assert.deepEqual(
        (await jobsOfKind(kind)).map((j) => j.state),
        ['running', 'pending'],
      );
      assert.equal(await other.runDue(), 0, 'two jobs of one key never run at once');
      release();
      await run;
      assert.deepEqual(
        (await jobsOfKind(kind)).map((j) => [j.state, j.payload]),
        [['pending', { v: 2 }]],
        'the failed run gave way to the newer job',
      );
      assert.equal(await other.runDue(), 1);
      assert.deepEqual(ran, [{ v: 1 }, { v: 2, by: 'other' }]);
      assert.deepEqual(await jobsOfKind(kind), []);
    });
  });

  it('deletes jobs dead for longer than the retention, a bounded batch at a time, and keeps the rest', async () => {
    const retentionMs = 7 * 24 * 3600 * SECOND;
    const w = createJobWorker({
      db,
      clock,
      handlers: {},
      pollMs: 0,
      wakeOnInsert: false,
      deadRetentionMs: retentionMs,
    });
    workers.push(w);
    const insert = (state: string, count: number, updatedAgoMs: number) =>
      db.query(
        `INSERT INTO jobs (kind, run_at, state, updated_at) SELECT 'retained', $1, $2, $3 FROM generate_series(1, $4)`,
        [clock.now(), state, new Date(clock.now().getTime() - updatedAgoMs), count],
      );
    await insert('dead', 150, retentionMs + SECOND);
    await insert('dead', 2, retentionMs - 120 * SECOND);
    // A failed job waiting for its retry since long ago is still work to do.
    await db.query(`INSERT INTO jobs (kind, run_at, state, updated_at) VALUES ('retained', $1, 'failed', $2)`, [
      new Date(clock.now().getTime() + 3600 * SECOND),
      new Date(clock.now().getTime() - 2 * retentionMs),
    ]);
    const count = async () => {
      const { rows } = await db.query<{ state: string; old: boolean; n: number }>(
        `SELECT state, updated_at < $1 AS old, count(*)::int AS n FROM jobs GROUP BY 1, 2 ORDER BY 1, 2`,
        [new Date(clock.now().getTime() - retentionMs)],
      );
      return rows.map((r) => `${r.state}${r.old ? ' past retention' : ''}: ${r.n}`);
    };
    assert.equal(await w.runDue(), 0);
    assert.deepEqual(
      await count(),
      ['dead: 2', 'dead past retention: 50', 'failed past retention: 1'],
      'one run deletes at most 100',
    );
    await w.runDue();
    assert.deepEqual(
      await count(),
      ['dead: 2', 'dead past retention: 50', 'failed past retention: 1'],
      'and looks at most once a minute',
    );
    clock.advance(60 * SECOND);
    await w.runDue();
    assert.deepEqual(await count(), ['dead: 2', 'failed past retention: 1'], 'the next minute deletes the rest');
    clock.advance(61 * SECOND);
    await w.runDue();
    assert.deepEqual(await count(), ['failed past retention: 1'], 'a dead job goes once its retention is over');

    const keeper = createJobWorker({ db, clock, handlers: {}, pollMs: 0, wakeOnInsert: false, deadRetentionMs: 0 });
    workers.push(keeper);
    await insert('dead', 1, 10 * retentionMs);
    await keeper.runDue();
    assert.deepEqual(
      await count(),
      ['dead past retention: 1', 'failed past retention: 1'],
      'retention 0 keeps dead jobs',
    );
  });

  it('counts jobs by state for the rallypoint_jobs gauge', async () => {
    await db.query(
      `INSERT INTO jobs (kind, run_at, state) VALUES ('a', now(), 'dead'), ('b', now(), 'dead'), ('c', now(), 'pending')`,
    );
    const metrics = createMetrics({ db, clock });
    const text = await metrics.registry.getSingleMetricAsString('rallypoint_jobs');
    assert.match(text, /^rallypoint_jobs\{state="dead"\} 2$/m);
    assert.match(text, /^rallypoint_jobs\{state="pending"\} 1$/m);
    assert.match(text, /^rallypoint_jobs\{state="running"\} 0$/m, 'states without jobs show 0');
  });
});

describe('job worker woken by NOTIFY', () => {
  let db: Db;
  before(async () => {
    db = await openMigratedDb();
  });
  after(() => db.close());

  it('runs a job added while it idles without waiting for its poll', async () => {
    const ran: number[] = [];
    const worker = createJobWorker({
      db,
      clock: systemClock,
      pollMs: 60_000,
      handlers: { woken: async (job) => void ran.push(job.id) },
    });
    try {
      await worker.ready;
      // Idle first: the wake on LISTEN found nothing, and the next poll is a minute away.
      await worker.runDue();
      // Added inside a transaction: the notification goes out when it commits.
      await db.transaction((tx) => insertJob(tx, { kind: 'woken', payload: {}, runAt: new Date() }));
      await eventually('the woken worker ran the job', () => ran.length === 1, { withinMs: 20_000, everyMs: 20 });
      // The handler returned; the row goes once the worker deletes it.
      await eventually('the job is deleted', async () => (await selectJobs(db, { limit: 10 })).length === 0);
    } finally {
      await worker.stop();
    }
  });

  it('sleeps until the next job is due instead of polling: a job added to run later runs at its time', async () => {
    const ran: Array<{ id: number; at: number }> = [];
    const errors: unknown[] = [];
    // Neither the poll nor the fallback comes within this test: only the worker's own timer can run the job.
    const worker = createJobWorker({
      db,
      clock: systemClock,
      pollMs: 60_000,
      fallbackPollMs: 60_000,
      onError: (error) => errors.push(error),
      handlers: { later: async (job) => void ran.push({ id: job.id, at: Date.now() }) },
    });
    try {
      await worker.ready;
      await worker.runDue();
      const delayMs = 1_500;
      const runAt = Date.now() + delayMs;
      // The NOTIFY of the insert wakes the worker, which finds nothing due yet and sets its timer for runAt.
      await insertJob(db, { kind: 'later', payload: {}, runAt: new Date(runAt) });
      const [run] = await eventually('the job ran', () => (ran.length > 0 ? ran : undefined), {
        withinMs: 20_000,
        everyMs: 20,
      });
      assert.ok(run!.at >= runAt, `not before its run_at (ran ${run!.at - runAt} ms after it)`);
      // Generous for a loaded machine, yet far below the 60 s poll the job would otherwise wait for.
      assert.ok(run!.at <= runAt + 10_000, `at about its run_at (ran ${run!.at - runAt} ms after it)`);
      assert.equal(ran.length, 1);
      assert.deepEqual(errors, []);
    } finally {
      await worker.stop();
    }
  });
});

describe('migration 009 on existing jobs', () => {
  let db: Db;
  before(async () => {
    db = await openDb({ databaseUrl: await createTestDatabase(), dataDir: '', poolSize: 2 });
  });
  after(() => db.close());

  it('turns old rows into pending or failed jobs that still run and keep their dedupe keys', async () => {
    const all = await loadMigrations();
    await migrate(
      db,
      all.filter((m) => m.id < 9),
    );
    await db.query(
      `INSERT INTO jobs (kind, payload, run_at, dedupe_key, attempts, last_error) VALUES
         ('old', '{"n":1}', '2026-01-01T00:00:00Z', 'old:1', 0, NULL),
         ('old', '{"n":2}', '2026-01-01T00:00:00Z', NULL, 3, 'Error: went wrong'),
         ('old', '{"n":3}', '2026-01-01T00:01:00Z', 'old:3', 1, NULL)`,
    );
    assert.deepEqual(
      await migrate(
        db,
        all.filter((m) => m.id <= 9),
      ),
      ['009-job-states'],
    );
    const rows = await selectJobs(db, { limit: 10 });
    assert.deepEqual(
      rows.map((r) => [r.payload['n'], r.state, r.attempts, r.maxAttempts, r.lockedBy, r.lastError]),
      [
        [1, 'pending', 0, 25, null, null],
        [2, 'failed', 3, 25, null, 'Error: went wrong'],
        [3, 'pending', 1, 25, null, null],
      ],
    );
    await insertJob(db, {
      kind: 'old',
      payload: { n: 4 },
      runAt: new Date('2026-01-01T00:00:00Z'),
      dedupeKey: 'old:1',
    });
    assert.equal((await selectJobs(db, { limit: 10 })).length, 3, 'the dedupe key of an old row still holds');
    const ran: unknown[] = [];
    const worker = createJobWorker({
      db,
      clock: new FakeClock(new Date('2026-01-01T00:05:00Z')),
      pollMs: 0,
      wakeOnInsert: false,
      handlers: { old: async (job) => void ran.push(job.payload['n']) },
    });
    assert.equal(await worker.runDue(), 3);
    await worker.stop();
    assert.deepEqual(ran.sort(), [2, 3, 4]);
    await assert.rejects(
      db.query(`INSERT INTO jobs (kind, run_at, state) VALUES ('old', now(), 'finished')`),
      /jobs_state/,
    );
    await assert.rejects(
      db.query(`INSERT INTO jobs (kind, run_at, state) VALUES ('old', now(), 'running')`),
      /jobs_running_is_locked/,
    );
  });
});
