/**
 * The HTTP ceiling: a Fastify server with one route answering a constant JSON body, nothing
 * else (no auth, no database, logging off). Run as its own process by bench/run.ts; prints the
 * port it listens on as its first line.
 *
 * Given a PostgreSQL URL (`node bare-http.js URL [poolSize]`), it also answers `/row/:id` with
 * one named statement through node-postgres: the least a request that reads the database costs
 * the server and PostgreSQL on this machine, with none of Rallypoint's own work.
 */
import Fastify from 'fastify';
import pg from 'pg';

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
