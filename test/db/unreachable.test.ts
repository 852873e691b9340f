import { describe, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseUnavailableError } from '../../src/db/db.js';
import { createPgDb } from '../../src/db/pg-adapter.js';

/** A database that cannot be reached is an outage (the HTTP layer answers 503), never a bug (500). */
describe('an unreachable database', () => {
  async function failureOf(connectionString: string): Promise<unknown> {
    const db = createPgDb({ connectionString, poolSize: 1 });
    try {
      await db.query('SELECT 1');
      return undefined;
    } catch (error) {
      return error;
    } finally {
      await db.close();
    }
  }

  it('is unavailable when its unix socket is gone (a stopped embedded server)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rp-nosocket-'));
    try {
      const error = await failureOf(`postgres://postgres@/postgres?host=${encodeURIComponent(dir)}`);
      assert.ok(error instanceof DatabaseUnavailableError, `got ${String(error)}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is unavailable when nothing listens on its TCP port', async () => {
    const error = await failureOf('postgres://postgres@127.0.0.1:1/postgres');
    assert.ok(error instanceof DatabaseUnavailableError, `got ${String(error)}`);
  });
});
