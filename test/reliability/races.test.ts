/**
 * Requests that race on the same rows: the database settles it by failing one of them (unique
 * or foreign-key violation, serialization failure, deadlock). The loser gets a 409 with a code,
 * never a 500.
 */
import { describe, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { MONTREAL, seedVersion, useTestService, type ApiResponse } from '../support/harness.js';

const ROUNDS = 30;

function assertClean(answers: ApiResponse[], allowed: Record<number, string[]>, label: string): void {
  for (const answer of answers) {
    assert.ok(answer.status in allowed, `${label}: ${answer.status} ${JSON.stringify(answer.body)}`);
    const codes = allowed[answer.status]!;
    if (codes.length > 0)
      assert.ok(codes.includes(answer.body.code), `${label}: ${answer.status} ${JSON.stringify(answer.body)}`);
  }
}

describe('racing requests', { timeout: 180_000 }, () => {
  const { call } = useTestService({ env: { DATABASE_POOL_SIZE: '8' } });

  it('two PATCHes renaming two versions to one name: one wins, the other is a 409', async () => {
    const { app } = await seedVersion(call, { version: 'base' });
    let conflicts = 0;
    for (let round = 0; round < ROUNDS; round++) {
      await seedVersion(call, { app, version: `a${round}` });
      await seedVersion(call, { app, version: `b${round}` });
      const answers = await Promise.all(
        [`a${round}`, `b${round}`].map((name) =>
          call('PATCH', `/v1/app/${app}/version/${name}`, { name: `taken${round}` }),
        ),
      );
      assertClean(answers, { 200: [], 409: ['VERSION_EXISTS', 'CONFLICT'] }, `round ${round}`);
      assert.equal(answers.filter((a) => a.status === 200).length, 1, `round ${round}: exactly one rename wins`);
      conflicts += answers.filter((a) => a.body.code === 'CONFLICT').length;
    }
    const names = (await call('GET', `/v1/app/${app}/versions`)).body.versions.map((v: { name: string }) => v.name);
    assert.equal(new Set(names).size, names.length, 'version names stay unique');
    console.log(`rename races: ${conflicts} of ${ROUNDS} settled by the database (409 CONFLICT)`);
  });

  it('DELETE /v1/app racing a register and a session create never answers 5xx', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const { app, version } = await seedVersion(call, { app: `race-${round}-${Date.now()}` });
      const answers = await Promise.all([
        call('DELETE', `/v1/app/${app}`),
        call('POST', '/v1/deployments/register', {
          app_name: app,
          version_name: version,
          public_ip: '203.0.113.77',
          location: MONTREAL,
          ports: [{ name: 'game', external: 7777, internal: 7777, protocol: 'UDP' }],
        }),
        call('POST', '/v1/session', { app_name: app, ip_list: ['198.51.100.1'] }),
      ]);
      assertClean(
        answers,
        { 200: [], 400: ['UNKNOWN_APP', 'UNKNOWN_VERSION'], 404: ['APP_NOT_FOUND'], 409: ['APP_IN_USE', 'CONFLICT'] },
        `round ${round}`,
      );
    }
  });
});
