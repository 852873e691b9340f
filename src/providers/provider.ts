/**
 * Where deployments come from. Every provider's deployments look the same on the wire; a
 * provider only knows how to start and stop its own kind of game server.
 */
import type { DeploymentRecord, PlaceRecord, PortRecord, VersionRecord } from '../domain/records.js';

export interface ProviderLocation extends PlaceRecord {
  /** Which provider can deploy here. */
  provider: string;
}

export interface StartedDeployment {
  publicIp: string;
  fqdn: string;
  ports: Record<string, PortRecord>;
  providerData: Record<string, unknown>;
}

/** What a provider reports back while a deployment runs. */
export interface DeploymentReporter {
  ready(requestId: string): Promise<void>;
  failed(requestId: string, detail: string): Promise<void>;
}

export interface Provider {
  readonly name: string;
  /** Places this provider can start deployments at; empty for providers that cannot start any. */
  locations(): ProviderLocation[];
  /** Whether it can start this version at all (absent: any version). */
  accepts?(version: VersionRecord): boolean;
  /**
   * Starts the game server of a deployment row already written with status DEPLOYING.
   * Readiness or failure is reported later through the reporter.
   */
  start(deployment: DeploymentRecord, version: VersionRecord, env: Array<{ key: string; value: string }>): Promise<StartedDeployment>;
  /** Stops it; resolves once it is gone (or was already gone). */
  stop(deployment: DeploymentRecord): Promise<void>;
  /** After a restart: look at the deployments the database says are live and make them true. */
  reconcile?(live: DeploymentRecord[]): Promise<void>;
  close?(): Promise<void>;
}

export class ProviderRegistry {
  private readonly byName = new Map<string, Provider>();

  constructor(providers: Provider[] = []) {
    for (const provider of providers) this.add(provider);
  }

  add(provider: Provider): void {
    this.byName.set(provider.name, provider);
  }

  get(name: string): Provider | undefined {
    return this.byName.get(name);
  }

  all(): Provider[] {
    return [...this.byName.values()];
  }

  /** Every place any provider can deploy to; with a version, only providers that can start it. */
  locations(version?: VersionRecord): ProviderLocation[] {
    return this.all()
      .filter((provider) => version === undefined || (provider.accepts?.(version) ?? true))
      .flatMap((provider) => provider.locations());
  }
}
