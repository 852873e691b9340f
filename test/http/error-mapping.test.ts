import { describe, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import type { FastifyRequest } from 'fastify';
import { toFailure } from '../../src/http/errors.js';

/** A driver error as pg and PGlite raise it, with the request's data in its detail. */
function databaseError(code: string): Error {
  return Object.assign(new Error('duplicate key value violates unique constraint "versions_app_id_name_key"'), {
    code,
    severity: 'ERROR',
    constraint: 'versions_app_id_name_key',
    table: 'versions',
    detail: 'Key (app_id, name)=(1, secret) already exists.',
  });
}

describe('error mapping', () => {
  it('answers a lost race 409 CONFLICT and logs it without the detail', () => {
    for (const code of ['23505', '23503', '40001', '40P01']) {
      const logged: unknown[] = [];
      const request = {
        log: { warn: (entry: unknown) => logged.push(entry), error: (entry: unknown) => logged.push(entry) },
      } as unknown as FastifyRequest;
      const failure = toFailure(databaseError(code), request);
      assert.equal(failure.code, 'CONFLICT', code);
      assert.equal(failure.message.includes('secret'), false);
      assert.equal(logged.length, 1);
    }
  });

  it('answers any other database error 500 with a fixed sentence', () => {
    const request = { log: { warn: () => {}, error: () => {} } } as unknown as FastifyRequest;
    const failure = toFailure(databaseError('22P02'), request);
    assert.deepEqual(failure, { code: 'INTERNAL', message: 'Internal error; it has been logged.' });
  });
});
