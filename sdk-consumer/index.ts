// Written the way a studio would use the SDK: a matchmaker that depends on @rallypoint/sdk alone.
// test/sdk/consumer-typecheck.test.ts type-checks it against the built declarations, and
// test/sdk/consumer-install.test.ts installs the packed SDK into a copy of this directory and runs
// main.ts against a real server. No Node types are loaded: the SDK must type-check for browser code too.
import {
  Rallypoint,
  RallypointError,
  RallypointNetworkError,
  RallypointTimeoutError,
  SessionsApi,
  type SessionGet,
  type SessionModel,
  type DeploymentStatus,
  type RallypointConfig,
} from '@rallypoint/sdk';

const config: RallypointConfig = {
  baseUrl: 'http://localhost:8080',
  apiKey: 'rp_key',
  timeoutMs: 5_000,
  retries: 3,
  fetch: globalThis.fetch,
};
let rp = new Rallypoint(config);
let baseUrl = config.baseUrl;

/** Points the functions below at another server. */
export function connect(url: string, apiKey: string): Rallypoint {
  baseUrl = url;
  rp = new Rallypoint({ ...config, baseUrl: url, apiKey });
  return rp;
}

export async function matchmake(players: string[]): Promise<string> {
  const request: SessionModel = { app_name: 'my-game', ip_list: players, selectors: [{ tag: 'eu' }] };
  const { session_id } = await rp.sessions.sessionPost(request);
  const ready: SessionGet = await rp.sessions.waitForReady(session_id, {
    timeoutMs: 30_000,
    signal: AbortSignal.timeout(60_000),
  });
  const port: number | undefined = ready.deployment?.ports?.['game']?.external;
  const users: string[] = (
    await rp.sessions.putUsersSession(session_id, { ip_list: ['198.51.100.4'] })
  ).session_users.map((u) => u.ip);
  await rp.sessions.sessionDelete(session_id);
  return `${ready.deployment?.public_ip ?? ''}:${port ?? 0} ${users.join(',')}`;
}

export async function operate(): Promise<number> {
  let count = 0;
  for await (const session of rp.sessions.iterateSessions({ limit: 50 })) if (session.status === 'Ready') count++;
  for await (const deployment of rp.deployments.iterateDeployments()) if (deployment.ready) count++;
  const status: DeploymentStatus = await rp.deployments.deploymentStatusGet('0a1b2c3d4e5f');
  const { versions } = await rp.apps.appVersionsGet('my-game');
  const { keys } = await rp.keys.listKeys();
  return count + (status.sockets ?? 0) + versions.length + keys.length;
}

export async function handle(): Promise<string> {
  const sessions = new SessionsApi({ baseUrl });
  try {
    return (await sessions.getSession('950dd2eaff09-S')).status;
  } catch (error) {
    if (error instanceof RallypointError) return `${error.status} ${error.code} ${error.message}`;
    if (error instanceof RallypointTimeoutError) return `timeout after ${error.timeoutMs} ms`;
    if (error instanceof RallypointNetworkError) return 'unreachable';
    throw error;
  }
}

// The types are real, not `any`: each line below must be a type error (never called: types only).
export function typeErrors(): string {
  // @ts-expect-error app_name is required
  void rp.sessions.sessionPost({ ip_list: [] });
  const version = {
    name: 'v',
    docker_repository: 'r',
    docker_image: 'i',
    docker_tag: 't',
    req_cpu: 256,
    req_memory: 256,
    session_config: { kind: 'Solo' as const, sockets: 1 },
  };
  // @ts-expect-error session_config.kind is a closed union
  void rp.apps.appVersionPost('a', version);
  // @ts-expect-error user_count is a number
  const wrong: string = ({} as SessionGet).user_count;
  return wrong;
}
