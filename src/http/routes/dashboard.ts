import { readFile } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../app/deps.js';
import { loadFleetSnapshot } from '../../events/fleet-snapshot.js';
import { sendFailure } from '../errors.js';
import { errors } from './common.js';

/** Shipped beside the compiled code by scripts/copy-assets.mjs; nothing is fetched from a CDN. */
const ASSET_DIR = new URL('../../dashboard/', import.meta.url);
/** A Map, not an object: a name like "toString" must not find an inherited property. */
const ASSETS = new Map<string, string>([
  ['index.html', 'text/html; charset=utf-8'],
  ['dashboard.css', 'text/css; charset=utf-8'],
  ['dashboard.js', 'text/javascript; charset=utf-8'],
  ['world-map.js', 'text/javascript; charset=utf-8'],
  ['hosts-panel.js', 'text/javascript; charset=utf-8'],
]);
// The page only talks to this origin; the key lives in sessionStorage, so no inline script may run.
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** Unauthenticated: the static page, which asks for an API key and calls /v1 with it. */
export async function registerDashboardPage(app: FastifyInstance): Promise<void> {
  const cache = new Map<string, Buffer>();
  async function serve(file: string, reply: import('fastify').FastifyReply) {
    const type = ASSETS.get(file);
    if (!type) return sendFailure(reply, { code: 'ROUTE_NOT_FOUND', message: `No dashboard file ${file}.` });
    let body = cache.get(file);
    if (!body) {
      body = await readFile(new URL(file, ASSET_DIR));
      cache.set(file, body);
    }
    return reply
      .header('content-type', type)
      .header('content-security-policy', CSP)
      .header('cache-control', 'no-cache')
      .send(body);
  }
  app.get('/dashboard', { schema: { hide: true } }, (_request, reply) => serve('index.html', reply));
  app.get<{ Params: { file: string } }>('/dashboard/:file', { schema: { hide: true } }, (request, reply) =>
    serve(request.params.file, reply),
  );
}

/** (ext) GET /v1/dashboard/state: what the dashboard shows before following /v1/events. */
export function registerDashboardState(app: FastifyInstance, deps: AppDeps): void {
  app.get(
    '/v1/dashboard/state',
    {
      schema: {
        tags: ['Events (ext)'],
        operationId: 'dashboard-state',
        response: errors(),
        description:
          '(ext) Live deployments and sessions (up to 500 each) with positions, and the latest event id to follow /v1/events from.',
      },
    },
    async (request) => loadFleetSnapshot(deps, request.orgId),
  );
}
