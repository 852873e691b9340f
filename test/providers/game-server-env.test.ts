import { describe, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  accessFromEnv,
  gameServerEnv,
  hashGameServerToken,
  isEnvName,
  issueGameServerAccess,
  storedAccess,
  tokenMatches,
  type GameServerEnvInput,
} from '../../src/providers/game-server-env.js';

const { access } = issueGameServerAccess();
const input = (userEnv: GameServerEnvInput['userEnv']): GameServerEnvInput => ({
  deployment: {
    requestId: 'a1b2c3d4e5f6',
    tags: ['blue', 'eu'],
    place: {
      city: 'Montreal',
      country: 'Canada',
      continent: 'North America',
      administrativeDivision: 'Quebec',
      region: '',
      timezone: 'America/Toronto',
      latitude: 45.5,
      longitude: -73.6,
    },
  },
  publicIp: '203.0.113.5',
  ports: {
    gameport: {
      name: 'gameport',
      internal: 7777,
      external: 31504,
      protocol: 'UDP',
      tlsUpgrade: false,
      link: '203.0.113.5:31504',
    },
  },
  access,
  callbackUrl: 'https://rp.example.com/',
  vcpuUnits: 256,
  memoryMb: 512,
  userEnv,
});

describe('game server environment', () => {
  it('carries the names and formats Edgegap game servers parse', () => {
    const env = gameServerEnv(input([]));
    assert.equal(env['ARBITRIUM_REQUEST_ID'], 'a1b2c3d4e5f6');
    assert.equal(env['ARBITRIUM_PUBLIC_IP'], '203.0.113.5');
    assert.deepEqual(JSON.parse(env['ARBITRIUM_PORTS_MAPPING']!), {
      ports: {
        gameport: { name: 'gameport', internal: 7777, external: 31504, protocol: 'UDP', link: '203.0.113.5:31504' },
      },
    });
    assert.deepEqual(JSON.parse(env['ARBITRIUM_DEPLOYMENT_LOCATION']!), {
      city: 'Montreal',
      country: 'Canada',
      continent: 'North America',
      administrative_division: 'Quebec',
      timezone: 'America/Toronto',
      latitude: 45.5,
      longitude: -73.6,
    });
    assert.equal(env['ARBITRIUM_DEPLOYMENT_TAGS'], 'blue,eu');
    assert.equal(
      env['ARBITRIUM_CONTEXT_URL'],
      `https://rp.example.com/v1/context/a1b2c3d4e5f6/${access.securityNumber}`,
    );
    assert.equal(
      env['ARBITRIUM_DELETE_URL'],
      `https://rp.example.com/v1/self/stop/a1b2c3d4e5f6/${access.accessPointId}`,
    );
    assert.equal(env['ARBITRIUM_CONTEXT_TOKEN'], access.contextToken);
    assert.equal(env['ARBITRIUM_DELETE_TOKEN'], access.deleteToken);
    assert.equal(env['ARBITRIUM_DEPLOYMENT_VCPU_UNITS'], '256');
    assert.equal(env['ARBITRIUM_DEPLOYMENT_MEMORY_MB'], '512');
  });

  it('lets later user values win, never over an ARBITRIUM_* name, and drops names an environment cannot hold', () => {
    const env = gameServerEnv(
      input([
        { key: 'MODE', value: 'version' },
        { key: 'MODE', value: 'deploy' },
        { key: 'ARBITRIUM_REQUEST_ID', value: 'forged' },
        { key: 'arbitrium_delete_token', value: 'forged' },
        { key: 'ARBITRIUM_EXTRA', value: 'x' },
        { key: 'A=B', value: 'x' },
        { key: 'NUL\0NAME', value: 'x' },
        { key: '', value: 'x' },
        { key: 'NULVALUE', value: 'a\0b' },
      ]),
    );
    assert.equal(env['MODE'], 'deploy');
    assert.equal(env['ARBITRIUM_REQUEST_ID'], 'a1b2c3d4e5f6');
    assert.equal(env['arbitrium_delete_token'], undefined);
    assert.equal(env['ARBITRIUM_EXTRA'], undefined);
    assert.deepEqual(
      Object.keys(env).filter((k) => !k.startsWith('ARBITRIUM_')),
      ['MODE'],
    );
  });

  it('never lets any user variable set an ARBITRIUM_* value or an invalid name (property)', () => {
    const baseline = gameServerEnv(input([]));
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            key: fc.oneof(fc.string(), fc.constantFrom('ARBITRIUM_PUBLIC_IP', 'Arbitrium_X')),
            value: fc.string(),
          }),
        ),
        (userEnv) => {
          const env = gameServerEnv(input(userEnv));
          for (const [key, value] of Object.entries(env)) {
            assert.ok(isEnvName(key), JSON.stringify(key));
            assert.ok(!value.includes('\0'));
            if (key.toUpperCase().startsWith('ARBITRIUM_')) assert.equal(value, baseline[key], key);
          }
          for (const key of Object.keys(baseline)) assert.equal(env[key], baseline[key]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('stores only hashes, and checks tokens against them', () => {
    const issued = issueGameServerAccess();
    assert.equal(issued.stored['deleteTokenHash'], hashGameServerToken(issued.access.deleteToken));
    assert.ok(!JSON.stringify(issued.stored).includes(issued.access.deleteToken));
    assert.ok(!JSON.stringify(issued.stored).includes(issued.access.contextToken));
    assert.equal(tokenMatches(issued.access.contextToken, issued.stored['contextTokenHash']), true);
    assert.equal(tokenMatches(issued.access.deleteToken, issued.stored['contextTokenHash']), false);
    assert.equal(tokenMatches(undefined, issued.stored['contextTokenHash']), false);
    assert.equal(tokenMatches('x', undefined), false);
  });

  it("reads back from a game server's environment the credentials it was started with", () => {
    const env = gameServerEnv(input([]));
    assert.deepEqual(accessFromEnv(env), access);
    assert.deepEqual(storedAccess(accessFromEnv(env)!), storedAccess(access));
    assert.equal(accessFromEnv({ ...env, ARBITRIUM_CONTEXT_TOKEN: '' }), undefined);
    assert.equal(
      accessFromEnv({ ...env, ARBITRIUM_DELETE_URL: 'https://rp.example.com/v1/self/stop/a1b2c3d4e5f6' }),
      undefined,
    );
  });
});
