/**
 * The HTTP ceiling: a Fastify server with one route answering a constant JSON body, nothing
 * else (no auth, no database, logging off). Run as its own process by bench/run.ts; prints the
 * port it listens on as its first line.
 *
 * Given a PostgreSQL URL (`node bare-http.js URL [poolSize]`), it also answers `/row/:id` with
 * one named statement through node-postgres: the least a request that reads the database costs
 * the server and PostgreSQL on this machine, with none of Rallypoint's own work.
 *
 * Given Rallypoint's database, it also answers `GET /v1/session/:session_id` as Rallypoint does
 * (the same statement through the same driver adapter, the same view and response schema) for
 * the first organisation's sessions, but with none of Rallypoint's HTTP path: no key check,
 * request id, log line, metrics or load shedding. Between it and Rallypoint's GET is that path.
 */
import Fastify from 'fastify';
import pg from 'pg';
import { SessionGet } from '../src/contract/sessions.js';
import { sessionGetView } from '../src/contract/views.js';
import { createPgDb } from '../src/db/pg-adapter.js';
import { selectSessionShown } from '../src/db/queries/sessions.js';

const app = Fastify({ logger: false });
const body = { message: 'pong', session_id: '950dd2eaff09-S', status: 'Status.READY', ready: true, linked: true };
app.get(
  '/ping',
  {
    schema: {
      response: {
        200: {
          type: 'object',
          properties: {
            message: { type: 'string' },
            session_id: { type: 'string' },
            status: { type: 'string' },
            ready: { type: 'boolean' },
            linked: { type: 'boolean' },
          },
        },
      },
    },
  },
  async () => body,
);
const databaseUrl = process.argv[2];
const pool = databaseUrl
  ? new pg.Pool({ connectionString: databaseUrl, max: Number(process.argv[3] ?? 10) })
  : undefined;
if (pool) {
  app.get<{ Params: { id: string } }>(
    '/row/:id',
    {
      schema: {
        response: {
          200: { type: 'object', properties: { session_id: { type: 'string' }, at: { type: 'string' } } },
        },
      },
    },
    async (request) => {
      const { rows } = await pool.query<{ session_id: string; at: Date }>({
        name: 'row',
        text: 'SELECT $1::text AS session_id, now() AS at',
        values: [request.params.id],
      });
      return { session_id: rows[0]!.session_id, at: rows[0]!.at.toISOString() };
    },
  );
  const db = createPgDb({ connectionString: databaseUrl!, poolSize: Number(process.argv[3] ?? 10) });
  const firstOrg = await db.query<{ id: number }>('SELECT id FROM organisations ORDER BY id LIMIT 1');
  const orgId = firstOrg.rows[0]?.id ?? 0;
  app.get<{ Params: { session_id: string } }>(
    '/v1/session/:session_id',
    { schema: { response: { 200: SessionGet } } },
    async (request, reply) => {
      const found = await selectSessionShown(db, orgId, request.params.session_id);
      if (!found || found.session.deletedAt) return reply.code(404).send({ message: 'not found' });
      return sessionGetView(found.session, found.deployment, new Date());
    },
  );
  app.addHook('onClose', () => db.close());
}
await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
process.stdout.write(`${typeof address === 'object' && address ? address.port : 0}\n`);
process.on(
  'SIGTERM',
  () =>
    void app.close().then(async () => {
      await pool?.end();
      process.exit(0);
    }),
);
