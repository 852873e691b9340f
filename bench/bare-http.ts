/**
 * The HTTP ceiling: a Fastify server with one route answering a constant JSON body, nothing
 * else (no auth, no database, logging off). Run as its own process by bench/run.ts; prints the
 * port it listens on as its first line.
 */
import Fastify from 'fastify';

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
await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
process.stdout.write(`${typeof address === 'object' && address ? address.port : 0}\n`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
