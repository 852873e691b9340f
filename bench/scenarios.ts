/**
 * The request sequences each scenario sends, as autocannon request lists. Each autocannon
 * connection walks its list in order and keeps a `context` between the steps, which is how the
 * matchmaker flow carries the session it created to its later steps.
 */
import type { AutocannonRequest } from 'autocannon';

export interface Target {
  key: string;
  app: string;
  version: string;
  /** Live session ids (filled by the create scenario) for the read and users scenarios. */
  sessionIds: string[];
}

const MAX_POOL = 50_000;

function headers(key: string): Record<string, string> {
  return { authorization: `token ${key}`, 'content-type': 'application/json' };
}

/** A public-looking IPv4 address (first octet 11–199, so never private or reserved ranges we skip). */
export function randomIp(): string {
  const octet = () => Math.floor(Math.random() * 254) + 1;
  return `${11 + Math.floor(Math.random() * 189)}.${octet()}.${octet()}.${octet()}`;
}

export function createBody(target: Pick<Target, 'app' | 'version'>): string {
  const players = 1 + Math.floor(Math.random() * 4);
  return JSON.stringify({
    app_name: target.app,
    version_name: target.version,
    ip_list: Array.from({ length: players }, randomIp),
  });
}

function pick(ids: readonly string[]): string {
  return ids[Math.floor(Math.random() * ids.length)]!;
}

function sessionIdOf(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { session_id?: unknown };
    return typeof parsed.session_id === 'string' ? parsed.session_id : undefined;
  } catch {
    return undefined;
  }
}

/** POST /v1/session, Seat, 1–4 players; remembers created ids for the later scenarios. */
export function createRequests(target: Target, keep = true): AutocannonRequest[] {
  return [
    {
      method: 'POST',
      path: '/v1/session',
      headers: headers(target.key),
      setupRequest: (request) => ({ ...request, body: createBody(target) }),
      onResponse: (status, body) => {
        if (!keep || status !== 200 || target.sessionIds.length >= MAX_POOL) return;
        const id = sessionIdOf(body);
        if (id) target.sessionIds.push(id);
      },
    },
  ];
}

export function getRequests(target: Target): AutocannonRequest[] {
  return [
    {
      method: 'GET',
      headers: headers(target.key),
      setupRequest: (request) => ({ ...request, path: `/v1/session/${pick(target.sessionIds)}` }),
    },
  ];
}

/** PUT one user into a live session, then DELETE the same user: the session ends as it began. */
export function usersRequests(target: Target): AutocannonRequest[] {
  return [
    {
      method: 'PUT',
      headers: headers(target.key),
      setupRequest: (request, context) => {
        context['sessionId'] = pick(target.sessionIds);
        context['ip'] = randomIp();
        return {
          ...request,
          path: `/v1/session/${context['sessionId']}/users`,
          body: JSON.stringify({ ip_list: [context['ip']] }),
        };
      },
    },
    {
      method: 'DELETE',
      headers: headers(target.key),
      setupRequest: (request, context) => ({
        ...request,
        path: `/v1/session/${context['sessionId']}/users`,
        body: JSON.stringify({ ip_list: [context['ip']] }),
      }),
    },
  ];
}

export function listRequests(target: Target): AutocannonRequest[] {
  return [{ method: 'GET', path: '/v1/sessions?page=1&limit=100', headers: headers(target.key) }];
}

/**
 * Matchmaker: create, poll until ready, add a user, delete. Registered deployments are ready at
 * once, so one poll finds the session ready (an autocannon request list cannot loop on a step).
 */
export function mixedRequests(target: Target): AutocannonRequest[] {
  const h = headers(target.key);
  return [
    {
      method: 'POST',
      path: '/v1/session',
      headers: h,
      setupRequest: (request, context) => {
        delete context['sessionId'];
        return { ...request, body: createBody(target) };
      },
      onResponse: (status, body, context) => {
        if (status === 200) context['sessionId'] = sessionIdOf(body);
      },
    },
    {
      method: 'GET',
      headers: h,
      // No session (the create failed): start the flow over.
      setupRequest: (request, context) =>
        context['sessionId'] ? { ...request, path: `/v1/session/${context['sessionId']}` } : undefined,
    },
    {
      method: 'PUT',
      headers: h,
      setupRequest: (request, context) =>
        context['sessionId']
          ? {
              ...request,
              path: `/v1/session/${context['sessionId']}/users`,
              body: JSON.stringify({ ip_list: [randomIp()] }),
            }
          : undefined,
    },
    {
      method: 'DELETE',
      headers: h,
      setupRequest: (request, context) =>
        context['sessionId'] ? { ...request, path: `/v1/session/${context['sessionId']}` } : undefined,
    },
  ];
}

export function bareRequests(): AutocannonRequest[] {
  return [{ method: 'GET', path: '/ping' }];
}

/** One statement per request on the bare server (bare-http.ts `/row/:id`, the id sent back). */
export function statementFloorRequests(): AutocannonRequest[] {
  return [{ method: 'GET', path: '/row/950dd2eaff09-S' }];
}
