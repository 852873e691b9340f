import { describe, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import type { AppDeps } from '../../src/app/deps.js';
import { IDEMPOTENT_ROUTES, registerIdempotency } from '../../src/http/idempotency.js';

// The hooks never run here: these tests only register routes and start the app.
const deps = {} as AppDeps;

describe('idempotency hooks at start', () => {
  it('refuses to start when a protected route was never registered', async () => {
    const app = Fastify();
    registerIdempotency(app, deps);
    for (const route of [...IDEMPOTENT_ROUTES].slice(1)) {
      const [method, url] = route.split(' ') as [string, string];
      app.route({ method, url, handler: async () => ({}) });
    }
    await assert.rejects(async () => app.ready(), /idempotency: no such routes here: POST \/v1\/session$/);
  });

  it('starts when every protected route is registered', async () => {
    const app = Fastify();
    registerIdempotency(app, deps);
    for (const route of IDEMPOTENT_ROUTES) {
      const [method, url] = route.split(' ') as [string, string];
      app.route({ method, url, handler: async () => ({}) });
    }
    await app.ready();
    await app.close();
  });

  it('refuses a protected route that answers several methods', () => {
    const app = Fastify();
    registerIdempotency(app, deps);
    assert.throws(
      () => app.route({ method: ['POST', 'PUT'], url: '/v1/session', handler: async () => ({}) }),
      /idempotent route \/v1\/session must have one method/,
    );
  });
});
