/**
 * A valid request for each route template, built from resources seeded in one organisation, so
 * tenancy and fuzz tests can call every route in the server's route table.
 */
import type { RouteEntry } from '../../src/http/server.js';
import { client, registerServer, seedVersion } from '../support/harness.js';

export interface Seeded {
  app: string;
  version: string;
  requestId: string;
  sessionId: string;
  keyId: string;
}

export async function seedOrganisation(call: ReturnType<typeof client>): Promise<Seeded> {
  const { app, version } = await seedVersion(call, { sockets: 50 });
  const requestId = await registerServer(call, { app, version, sockets: 50, tags: ['blue'] });
  const session = await call('POST', '/v1/session', { app_name: app, ip_list: ['198.51.100.7'] });
  const key = await call('POST', '/v1/keys', { name: 'spare' });
  return { app, version, requestId, sessionId: session.body.session_id, keyId: key.body.key_id };
}

/** Fills a route template's parameters with the seeded organisation's resources. */
export function pathFor(url: string, seeded: Seeded): string {
  return url
    .replace(':session_id', seeded.sessionId)
    .replace(':request_id', seeded.requestId)
    .replace(':app_name', seeded.app)
    .replace(':version_name', seeded.version)
    .replace(':key_id', seeded.keyId)
    .replace(':ip', '8.8.8.8')
    .replace(/:[a-z_]+/g, '1');
}

/** A body the route would accept (undefined for routes that take none). */
export function bodyFor(route: RouteEntry, seeded: Seeded): unknown {
  const samples: Record<string, unknown> = {
    'POST /v1/session': { app_name: seeded.app, ip_list: ['198.51.100.8'] },
    'PUT /v1/session/:session_id/users': { ip_list: ['198.51.100.9'] },
    'DELETE /v1/session/:session_id/users': { ip_list: ['198.51.100.7'] },
    'POST /v1/sessions/bulk-stop': {
      filters: [{ field: 'session_id', filter_type: 'any', values: [seeded.sessionId] }],
    },
    'POST /v1/app': { name: `${seeded.app}-2`, is_active: true, image: '' },
    'PATCH /v1/app/:app_name': { is_active: false },
    'POST /v1/app/:app_name/version': {
      name: 'v2',
      docker_repository: 'r',
      docker_image: 'i',
      docker_tag: 't',
      req_cpu: 256,
      req_memory: 256,
      session_config: { kind: 'Seat', sockets: 4 },
    },
    'PATCH /v1/app/:app_name/version/:version_name': { is_active: false },
    'POST /v1/deploy': { app_name: seeded.app },
    'POST /v1/deployments/bulk-stop': {
      filters: [{ field: 'request_id', filter_type: 'any', values: [seeded.requestId] }],
    },
    'PATCH /v1/deployments/:request_id': { is_joinable_by_session: false },
    'POST /v1/deployments/register': {
      app_name: seeded.app,
      version_name: seeded.version,
      public_ip: '203.0.113.99',
      ports: [{ name: 'game', external: 7000, protocol: 'UDP' }],
      location: { city: 'Lyon', country: 'France', continent: 'Europe', latitude: 45.76, longitude: 4.83 },
    },
    'POST /v1/keys': { name: 'another' },
    'POST /v1/ips/lookup': { addresses: ['8.8.8.8'] },
  };
  const sample = samples[`${route.method} ${route.url}`];
  if (sample !== undefined) return sample;
  return route.method === 'GET' || route.method === 'DELETE' ? undefined : {};
}

/** Routes that stream (server-sent events) are read for their status only. */
export async function request(
  url: string,
  init: RequestInit,
): Promise<{ status: number; contentType: string; text: string }> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(15_000) });
  const contentType = response.headers.get('content-type') ?? '';
  if (contentType.startsWith('text/event-stream')) {
    await response.body?.cancel();
    return { status: response.status, contentType, text: '' };
  }
  return { status: response.status, contentType, text: await response.text() };
}
