/**
 * Seeding through the API (apps, versions, registered deployments, sessions) and, for the scale
 * runs, a direct SQL bulk insert of live sessions that keeps the seat invariant: each
 * deployment's sockets_usage is set to the sum of the seats its sessions hold.
 */
import pg from 'pg';

export interface Api {
  url: string;
  key: string;
}

async function call(api: Api, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(`${api.url}${path}`, {
    method,
    headers: {
      authorization: `token ${api.key}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

async function expectOk(api: Api, method: string, path: string, body?: unknown): Promise<any> {
  const r = await call(api, method, path, body);
  if (r.status !== 200) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Runs `task(i)` for i in [0, count) with at most `concurrency` in flight. */
export async function inParallel(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

const MONTREAL = {
  city: 'Montreal',
  country: 'Canada',
  continent: 'North America',
  administrative_division: 'Quebec',
  timezone: 'America/Toronto',
  latitude: 45.5017,
  longitude: -73.5673,
};

export interface SeededVersion {
  app: string;
  version: string;
  requestIds: string[];
}

/**
 * Place `i` of `count`: Montreal when there is one, else points spread evenly over the inhabited
 * latitudes (a Fibonacci spiral), so players from anywhere have a different nearest place.
 */
export function benchPlace(i: number, count: number): typeof MONTREAL {
  if (count <= 1) return MONTREAL;
  const latitude = Math.asin(-0.8 + (1.6 * (i + 0.5)) / count) * (180 / Math.PI);
  const longitude = ((i * 137.50776) % 360) - 180;
  return {
    ...MONTREAL,
    city: `Place ${i}`,
    latitude: Number(latitude.toFixed(4)),
    longitude: Number(longitude.toFixed(4)),
  };
}

/**
 * An app with a Seat version and `deployments` registered (ready) servers of `sockets` each,
 * spread round-robin over `places` places (default 1).
 */
export async function seedFleet(
  api: Api,
  options: { app: string; deployments: number; sockets: number; places?: number; tags?: string[] },
): Promise<SeededVersion> {
  await expectOk(api, 'POST', '/v1/app', { name: options.app, is_active: true, image: '' });
  await expectOk(api, 'POST', `/v1/app/${options.app}/version`, {
    name: 'v1',
    docker_repository: 'registry.local',
    docker_image: 'game',
    docker_tag: '1',
    req_cpu: 256,
    req_memory: 256,
    session_config: { kind: 'Seat', sockets: options.sockets, autodeploy: false },
  });
  const requestIds: string[] = [];
  await inParallel(options.deployments, 16, async (i) => {
    const body = await expectOk(api, 'POST', '/v1/deployments/register', {
      app_name: options.app,
      version_name: 'v1',
      public_ip: `198.51.${Math.floor(i / 250) % 250}.${(i % 250) + 1}`,
      ports: [{ name: 'game', external: 7777, internal: 7777, protocol: 'UDP' }],
      location: benchPlace(i % (options.places ?? 1), options.places ?? 1),
      sockets: options.sockets,
      tags: options.tags ?? [],
    });
    requestIds.push(body.request_id as string);
  });
  return { app: options.app, version: 'v1', requestIds };
}

/** Creates `count` sessions through the API (on a named deployment when given); returns their ids. */
export async function createSessions(
  api: Api,
  options: { app: string; count: number; deploymentRequestId?: string },
): Promise<string[]> {
  const ids: string[] = [];
  await inParallel(options.count, 32, async () => {
    const body = await expectOk(api, 'POST', '/v1/session', {
      app_name: options.app,
      version_name: 'v1',
      ip_list: ['203.0.113.7'],
      ...(options.deploymentRequestId ? { deployment_request_id: options.deploymentRequestId } : {}),
    });
    ids.push(body.session_id as string);
  });
  return ids;
}

/**
 * Inserts `count` live Seat sessions (1–4 seats) spread over the version's deployments, then sets
 * every deployment's sockets_usage to the seats its sessions hold, in one transaction.
 */
export async function bulkInsertSessions(databaseUrl: string, appName: string, count: number): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query(
      `WITH v AS (SELECT a.org_id, a.id AS app_id, ver.id AS version_id FROM apps a JOIN versions ver ON ver.app_id = a.id WHERE a.name = $1 AND ver.name = 'v1'),
            d AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n, count(*) OVER () AS total FROM deployments WHERE version_id = (SELECT version_id FROM v)),
            g AS (SELECT i, 1 + (i % 4) AS seats FROM generate_series(0, $2::int - 1) i)
       INSERT INTO sessions (session_id, org_id, app_id, version_id, kind, status, deployment_id, seats, users, user_count, created_at)
       SELECT substr(md5(random()::text || g.i), 1, 12) || '-S', v.org_id, v.app_id, v.version_id, 'Seat', 'Ready', d.id, g.seats,
              (SELECT jsonb_agg(jsonb_build_object('ip', '10.' || (g.i % 250) || '.' || u || '.1')) FROM generate_series(1, g.seats) u),
              g.seats, now() - interval '1 minute'
       FROM g CROSS JOIN v JOIN d ON d.n = g.i % d.total`,
      [appName, count],
    );
    await client.query(
      `UPDATE deployments dep SET sockets_usage = used.seats, emptied_at = NULL
       FROM (SELECT deployment_id, sum(seats)::int AS seats FROM sessions WHERE deleted_at IS NULL AND deployment_id IN
               (SELECT d.id FROM deployments d JOIN apps a ON a.id = d.app_id WHERE a.name = $1) GROUP BY deployment_id) used
       WHERE dep.id = used.deployment_id`,
      [appName],
    );
    await client.query('COMMIT');
    await client.query('ANALYZE sessions; ANALYZE deployments');
  } finally {
    await client.end();
  }
}
