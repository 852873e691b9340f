/**
 * `rallypoint jobs list`, `retry` and `delete`, run as the built command against the database
 * of a running service: a job that died is listed with its error, a retry puts it back where the
 * service's worker, woken by the NOTIFY of the retry, runs it, and only a dead or failed job can
 * be deleted.
 */
import { describe, eventually, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { insertJob, selectJob } from '../../src/db/queries/jobs.js';
import { useTestService } from '../support/harness.js';
import { mainScript } from '../support/processes.js';

const cliScript = mainScript.replace(/main\.js$/, 'cli/main.js');

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

function rallypoint(args: string[], databaseUrl: string): Promise<Exit> {
  return new Promise((resolve) => {
    const env = { PATH: process.env['PATH'] ?? '', DATABASE_URL: databaseUrl };
    execFile(process.execPath, [cliScript, ...args], { env, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
  });
}

async function json(args: string[], databaseUrl: string): Promise<any> {
  const result = await rallypoint([...args, '--json'], databaseUrl);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout);
}

describe('rallypoint jobs', { timeout: 300_000 }, () => {
  let failing = true;
  const done: number[] = [];
  const { t } = useTestService({
    // This service runs jobs on its own, woken by NOTIFY, as in production.
    env: { JOB_WAKE_ON_INSERT: 'true' },
    jobHandlers: () => ({
      flaky: async (job) => {
        if (failing) throw new Error('upstream is down');
        done.push(job.id);
      },
    }),
  });

  it('lists a dead job with its error, and a retry puts it back to work', async () => {
    const db = t.service.deps.db;
    await insertJob(db, {
      kind: 'flaky',
      payload: { deployment: 7 },
      runAt: new Date(),
      maxAttempts: 1,
      dedupeKey: 'flaky:7',
    });
    const dead = await eventually('the job is dead', async () => {
      const { jobs } = await json(['jobs', 'list', '--state', 'dead'], t.databaseUrl);
      return jobs.find((j: { kind: string }) => j.kind === 'flaky');
    });
    assert.equal(dead.state, 'dead');
    assert.deepEqual(dead.payload, { deployment: 7 });
    assert.equal(dead.dedupe_key, 'flaky:7');
    assert.equal(dead.attempts, 1);
    assert.equal(dead.max_attempts, 1);
    assert.equal(dead.locked_by, null);
    assert.match(dead.last_error, /^Error: upstream is down/);

    const pendingOnly = await json(['jobs', 'list', '--state', 'pending'], t.databaseUrl);
    assert.ok(!pendingOnly.jobs.some((j: { id: number }) => j.id === dead.id), '--state filters');
    const human = await rallypoint(['jobs', 'list'], t.databaseUrl);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^ID +KIND +STATE +ATTEMPTS +RUN_AT +LOCKED_BY +LAST_ERROR$/m);
    assert.match(human.stdout, new RegExp(`^${dead.id} +flaky +dead +1/1 +\\S+ +- +Error: upstream is down$`, 'm'));

    failing = false;
    const retried = await rallypoint(['jobs', 'retry', String(dead.id)], t.databaseUrl);
    assert.equal(retried.code, 0, retried.stderr);
    assert.match(retried.stdout, new RegExp(`^Job ${dead.id} \\(flaky\\) is pending again\\.$`, 'm'));
    // The service polls once a minute here: the retry's NOTIFY is what wakes its worker.
    await eventually('the service ran the retried job', () => done.includes(dead.id));
    await eventually('the job is gone once it succeeded', async () => (await selectJob(db, dead.id)) === undefined);

    const again = await rallypoint(['jobs', 'retry', String(dead.id)], t.databaseUrl);
    assert.equal(again.code, 1);
    assert.equal(again.stderr, `error: No job has id ${dead.id}. (JOB_NOT_FOUND)\n`);
  });

  it('retries only dead jobs, and refuses bad input as usage errors', async () => {
    const db = t.service.deps.db;
    await insertJob(db, { kind: 'flaky', payload: {}, runAt: new Date(Date.now() + 3_600_000) });
    const { jobs } = await json(['jobs', 'list', '--state', 'pending'], t.databaseUrl);
    const pending = jobs.find((j: { kind: string }) => j.kind === 'flaky');
    const refused = await rallypoint(['jobs', 'retry', String(pending.id)], t.databaseUrl);
    assert.equal(refused.code, 1);
    assert.equal(
      refused.stderr,
      `error: Job ${pending.id} is pending; only a dead job can be retried. (JOB_NOT_DEAD)\n`,
    );

    const badId = await rallypoint(['jobs', 'retry', 'abc'], t.databaseUrl);
    assert.equal(badId.code, 2);
    assert.match(badId.stderr, /ID must be a job id/);
    const badState = await rallypoint(['jobs', 'list', '--state', 'finished'], t.databaseUrl);
    assert.equal(badState.code, 2);
    assert.match(badState.stderr, /--state must be one of pending, running, failed, dead/);

    const help = await rallypoint(['--help'], t.databaseUrl);
    assert.match(help.stdout, /^ {2}rallypoint jobs list /m);
    assert.match(help.stdout, /^ {2}rallypoint jobs retry <id> /m);
    assert.match(help.stdout, /^ {2}rallypoint jobs delete <id> /m);
  });

  it('deletes a dead or a failed job, and refuses a pending one', async () => {
    const db = t.service.deps.db;
    const later = new Date(Date.now() + 3_600_000);
    const { rows } = await db.query<{ id: number; state: string }>(
      `INSERT INTO jobs (kind, payload, run_at, state, attempts, last_error) VALUES
         ('given-up', '{}', $1, 'dead', 25, 'Error: gone for good'), ('given-up', '{}', $1, 'failed', 3, 'Error: still failing'),
         ('given-up', '{}', $1, 'pending', 0, NULL)
       RETURNING id, state`,
      [later],
    );
    const [dead, failed, pending] = rows.map((r) => r.id);

    const deleted = await rallypoint(['jobs', 'delete', String(dead)], t.databaseUrl);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.match(deleted.stdout, new RegExp(`^Job ${dead} \\(given-up, dead\\) is deleted\\.$`, 'm'));
    assert.equal(await selectJob(db, dead!), undefined);
    const asJson = await json(['jobs', 'delete', String(failed)], t.databaseUrl);
    assert.deepEqual([asJson.id, asJson.state, asJson.last_error], [failed, 'failed', 'Error: still failing']);
    assert.equal(await selectJob(db, failed!), undefined);

    const refused = await rallypoint(['jobs', 'delete', String(pending)], t.databaseUrl);
    assert.equal(refused.code, 1);
    assert.equal(
      refused.stderr,
      `error: Job ${pending} is pending; only a dead or failed job can be deleted. (JOB_NOT_GIVEN_UP)\n`,
    );
    assert.equal((await selectJob(db, pending!))?.state, 'pending', 'a refused delete leaves the job');
    const missing = await rallypoint(['jobs', 'delete', String(dead)], t.databaseUrl);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, `error: No job has id ${dead}. (JOB_NOT_FOUND)\n`);
    const badId = await rallypoint(['jobs', 'delete', '0'], t.databaseUrl);
    assert.equal(badId.code, 2);
    assert.match(badId.stderr, /ID must be a job id/);
  });
});
