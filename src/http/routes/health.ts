import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../app/deps.js';

export function registerHealthRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    try {
      await deps.db.query('SELECT 1');
      return { status: 'ready' };
    } catch {
      return reply.code(503).send({ message: 'The database is unavailable.', code: 'SERVICE_UNAVAILABLE' });
    }
  });
}
