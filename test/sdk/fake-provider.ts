/** A provider for SDK/CLI tests: starts nothing, remembers what it was asked to start. */
import type { Provider } from '../../src/providers/provider.js';
import type { DeploymentRecord } from '../../src/domain/records.js';
import { MONTREAL } from '../support/harness.js';

export interface FakeProvider extends Provider {
  started: DeploymentRecord[];
}

export function createFakeProvider(): FakeProvider {
  const started: DeploymentRecord[] = [];
  return {
    name: 'fake',
    started,
    locations: () => [
      {
        provider: 'fake',
        city: MONTREAL.city,
        country: MONTREAL.country,
        continent: MONTREAL.continent,
        administrativeDivision: MONTREAL.administrative_division,
        region: '',
        timezone: MONTREAL.timezone,
        latitude: MONTREAL.latitude,
        longitude: MONTREAL.longitude,
      },
    ],
    async start(deployment) {
      started.push(deployment);
      return {
        publicIp: '198.51.100.20',
        fqdn: `${deployment.requestId}.fake.test`,
        providerData: {},
        ports: {
          game: { name: 'game', internal: 7777, external: 31000, protocol: 'UDP', tlsUpgrade: false, link: '' },
        },
      };
    },
    async stop() {},
  };
}
