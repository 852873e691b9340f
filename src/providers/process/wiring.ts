/**
 * Connects the process provider to the use cases: what it observes about its processes becomes
 * deployment state changes through deployment-lifecycle, like any other provider's reports.
 */
import type { AppDeps } from '../../app/deps.js';
import { markDeploymentFailed, markDeploymentReady, recordDeploymentStarted } from '../../app/deployment-lifecycle.js';
import type { Config } from '../../config.js';
import { selectLiveDeploymentsOfProvider } from '../../db/queries/deployments.js';
import { createProcessProvider } from '../process.js';

/** The public URL with the real port once the server listens, when it was configured with port 0. */
export function listeningPublicUrl(publicUrl: string, port: number | undefined): string {
  return publicUrl.endsWith(':0') && port ? `${publicUrl.slice(0, -2)}:${port}` : publicUrl;
}

/**
 * PORT=0 lets the system choose the port at listen time, so a public URL derived from it ends in
 * ":0"; `listeningPort` gives the real one once the server listens.
 */
export function addProcessProvider(
  deps: AppDeps,
  config: Config,
  hooks: { log: (message: string, error?: unknown) => void; listeningPort: () => number | undefined },
): void {
  const log = hooks.log;
  const publicUrl = () => listeningPublicUrl(config.publicUrl, hooks.listeningPort());
  deps.providers.add(
    createProcessProvider({
      config: config.process,
      publicUrl,
      reporter: {
        async ready(deploymentId, started) {
          await recordDeploymentStarted(deps, deploymentId, started);
          await markDeploymentReady(deps, deploymentId);
        },
        failed: (deploymentId, detail) => markDeploymentFailed(deps, deploymentId, detail),
        log,
      },
    }),
  );
}

/** After a start: every provider that can look at its live deployments makes them true. */
export async function reconcileProviders(deps: AppDeps): Promise<void> {
  for (const provider of deps.providers.all()) {
    if (provider.reconcile) await provider.reconcile(await selectLiveDeploymentsOfProvider(deps.db, provider.name));
  }
}
