/**
 * A provider that runs on the fleet's hosts and starts nothing: it records what the scheduler
 * asked it to start and stop, so scheduling tests see the host, place and port bindings chosen.
 * The real container engine is exercised by the docker provider's own end-to-end tests.
 */
import type { DeploymentRecord } from '../../src/domain/records.js';
import type { Provider } from '../../src/providers/provider.js';

export interface RecordingHostProvider extends Provider {
  started: DeploymentRecord[];
  stopped: DeploymentRecord[];
}

export function createRecordingHostProvider(name = 'hosted'): RecordingHostProvider {
  const started: DeploymentRecord[] = [];
  const stopped: DeploymentRecord[] = [];
  return {
    name,
    runsOnHosts: true,
    started,
    stopped,
    locations: () => [],
    accepts: (version) => typeof version.spec['docker_image'] === 'string' && version.spec['docker_image'] !== '',
    async start(deployment) {
      started.push(deployment);
      return { publicIp: deployment.publicIp, fqdn: deployment.fqdn, ports: deployment.ports, providerData: {} };
    },
    async stop(deployment) {
      stopped.push(deployment);
    },
  };
}
