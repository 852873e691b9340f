/**
 * Test harness: a real service on a real socket, on a fresh database per call, created on the
 * PostgreSQL server at TEST_DATABASE_URL (scripts/test.mjs provides one).
 */
import { randomBytes } from 'node:crypto';
import { after, before } from './node-test.js';
import pg from 'pg';
import { loadConfig } from '../../src/config.js';
import { startService, type Service, type ServiceOptions } from '../../src/service.js';
import type { Clock } from '../../src/app/deps.js';

/** Creates an empty PostgreSQL database and returns its URL. */
export async function createTestDatabase(): Promise<string> {
  const base = process.env['TEST_DATABASE_URL'];
  if (!base) throw new Error('TEST_DATABASE_URL is not set; run the suite through `npm test`');
  const name = `rp_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

export interface TestService {
  url: string;
  key: string;
  service: Service;
  /** The PostgreSQL URL of this service's database. */
  databaseUrl: string;
  close(): Promise<void>;
}

export interface TestServiceOptions extends Omit<ServiceOptions, 'config'> {
  env?: Record<string, string>;
  /** Reuse this PostgreSQL database instead of a fresh one (several processes on one database). */
  databaseUrl?: string;
  /** Address to listen on (default 127.0.0.1); containers reach the service only on another. */
  listenHost?: string;
}

export async function startTestService(options: TestServiceOptions = {}): Promise<TestService> {
  const key = `rp_test_${randomBytes(16).toString('hex')}`;
  const databaseUrl = options.databaseUrl ?? (await createTestDatabase());
  const config = loadConfig({
    // Tests drive background jobs through service.jobs.runDue(): no poll, no wake on insert.
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'silent',
    RALLYPOINT_API_KEY: key,
    JOB_POLL_MS: '60000',
    JOB_WAKE_ON_INSERT: 'false',
    // Off unless a test turns it on: a CPU-heavy test beside the service must not see 503s.
    LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS: '0',
    DATABASE_URL: databaseUrl,
    ...options.env,
  });
  const { env: _env, databaseUrl: _url, listenHost, ...serviceOptions } = options;
  const service = await startService({ config, ...serviceOptions });
  const listening = await service.app.listen({ host: listenHost ?? '127.0.0.1', port: 0 });
  const address = listenHost ? `http://127.0.0.1:${new URL(listening).port}` : listening;
  return { url: address, key, service, databaseUrl, close: () => service.close() };
}

/**
 * One service for the enclosing suite: started before its tests, closed after them. `t` reads
 * through to the running service and `call` is a client with its key, so a suite needs only
 * `const { t, call } = useTestService();`.
 */
export function useTestService(options: TestServiceOptions = {}): { t: TestService; call: ReturnType<typeof client> } {
  let running: TestService | undefined;
  before(async () => {
    running = await startTestService(options);
  });
  after(() => running?.close());
  const current = (): TestService => {
    if (!running) throw new Error("useTestService: the service starts in the suite's before hook");
    return running;
  };
  const t: TestService = {
    get url() {
      return current().url;
    },
    get key() {
      return current().key;
    },
    get service() {
      return current().service;
    },
    get databaseUrl() {
      return current().databaseUrl;
    },
    close: () => current().close(),
  };
  const call = ((method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
    client(current().url, current().key)(method, path, body, headers)) as ReturnType<typeof client>;
  return { t, call };
}

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** A tiny HTTP client for tests: JSON in, JSON out, the key sent as `Authorization: token`. */
export function client(url: string, key: string | undefined) {
  return async function call<T = any>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiResponse<T>> {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: {
        ...(key ? { authorization: `token ${key}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      /* leave as text: tests assert it was JSON */
    }
    return { status: response.status, body: parsed as T, headers: response.headers };
  };
}

/** A clock tests move by hand. */
export class FakeClock implements Clock {
  constructor(private current = new Date('2026-01-01T00:00:00.000Z')) {}
  now(): Date {
    return new Date(this.current);
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

export const MONTREAL = {
  city: 'Montreal',
  country: 'Canada',
  continent: 'North America',
  administrative_division: 'Quebec',
  timezone: 'America/Toronto',
  latitude: 45.5017,
  longitude: -73.5673,
};
export const FRANKFURT = {
  city: 'Frankfurt',
  country: 'Germany',
  continent: 'Europe',
  administrative_division: 'Hesse',
  timezone: 'Europe/Berlin',
  latitude: 50.1109,
  longitude: 8.6821,
};
export const TOKYO = {
  city: 'Tokyo',
  country: 'Japan',
  continent: 'Asia',
  administrative_division: 'Tokyo',
  timezone: 'Asia/Tokyo',
  latitude: 35.6762,
  longitude: 139.6503,
};

/** Creates an app and a session-based version; returns their names. */
export async function seedVersion(
  call: ReturnType<typeof client>,
  config: {
    app?: string;
    version?: string;
    kind?: 'Seat' | 'Match';
    sockets?: number;
    autodeploy?: boolean;
    extra?: Record<string, unknown>;
  } = {},
): Promise<{ app: string; version: string }> {
  const app = config.app ?? `app-${randomBytes(3).toString('hex')}`;
  const version = config.version ?? 'v1';
  const created = await call('POST', '/v1/app', { name: app, is_active: true, image: '' });
  if (created.status !== 200 && created.status !== 409)
    throw new Error(`app create: ${created.status} ${JSON.stringify(created.body)}`);
  const v = await call('POST', `/v1/app/${app}/version`, {
    name: version,
    docker_repository: 'registry.local',
    docker_image: 'game',
    docker_tag: '1',
    req_cpu: 256,
    req_memory: 256,
    session_config: {
      kind: config.kind ?? 'Seat',
      sockets: config.sockets ?? 10,
      autodeploy: config.autodeploy ?? false,
    },
    ...config.extra,
  });
  if (v.status !== 200) throw new Error(`version create: ${v.status} ${JSON.stringify(v.body)}`);
  return { app, version };
}

/** Registers a running server for the version; returns its request_id. */
export async function registerServer(
  call: ReturnType<typeof client>,
  config: { app: string; version: string; location?: typeof MONTREAL; sockets?: number; tags?: string[]; ip?: string },
): Promise<string> {
  const r = await call('POST', '/v1/deployments/register', {
    app_name: config.app,
    version_name: config.version,
    public_ip: config.ip ?? '203.0.113.10',
    ports: [{ name: 'game', external: 7777, internal: 7777, protocol: 'UDP' }],
    location: config.location ?? MONTREAL,
    ...(config.sockets !== undefined ? { sockets: config.sockets } : {}),
    tags: config.tags ?? [],
  });
  if (r.status !== 200) throw new Error(`register: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.request_id as string;
}
