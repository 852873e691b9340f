// The matchmaker's start-up, run against a real server by test/sdk/consumer-install.test.ts
// (through run.mjs): it declares its game, registers a game server it runs itself, then matches
// two players onto it with the functions of index.ts.
import { connect, handle, matchmake } from './index.js';

export interface RunResult {
  /** `ip:port players` of the matched session. */
  matched: string;
  /** What an unauthenticated read answers, as handle() reports it. */
  unauthenticated: string;
}

export async function run(url: string, apiKey: string): Promise<RunResult> {
  const rp = connect(url, apiKey);
  await rp.apps.applicationPost({ name: 'my-game', is_active: true, image: '' });
  await rp.apps.appVersionPost('my-game', {
    name: 'v1',
    docker_repository: 'registry.local',
    docker_image: 'game',
    docker_tag: '1',
    req_cpu: 256,
    req_memory: 256,
    session_config: { kind: 'Seat', sockets: 4, autodeploy: false },
  });
  await rp.deployments.registerServer({
    app_name: 'my-game',
    version_name: 'v1',
    public_ip: '203.0.113.10',
    ports: [{ name: 'game', external: 7777, protocol: 'UDP' }],
    location: { city: 'Frankfurt', country: 'Germany', continent: 'Europe', latitude: 50.1109, longitude: 8.6821 },
    tags: ['eu'],
  });
  return { matched: await matchmake(['203.0.113.7']), unauthenticated: await handle() };
}
