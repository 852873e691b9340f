/**
 * Where deployments come from. Every provider's deployments look the same on the wire; a
 * provider only knows how to start and stop its own kind of game server.
 */
import type { DeploymentRecord, PlaceRecord, PortRecord, VersionRecord } from '../domain/records.js';
import type { GameServerAccess } from './game-server-env.js';

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

/** What a game server wrote, for the container-logs route. */
export interface DeploymentLogs {
  logs: string;
  /** Output of the previous run when it crashed and was restarted; absent when none. */
  crashLogs?: string;
  exitCode?: number | null;
  restartCount?: number;
  message?: string;
}

/** One reading of a running game server's resource use; counters are totals since it started. */
export interface DeploymentMetricsSample {
  at: Date;
  cpuPercent: number;
  memoryBytes: number;
  networkReceiveBytes: number;
  networkTransmitBytes: number;
  diskReadBytes: number;
  diskWriteBytes: number;
}

export interface Provider {
  readonly name: string;
  /**
   * True for providers that start game servers on the fleet's hosts. The fleet schedules their
   * deployments: it picks a host, reserves cpu, memory and ports, and writes the deployment
   * with `hostId`, the host's place and public address, and `ports` whose `external` is the
   * reserved host port and `internal` the version's port. `start` then runs the game server on
   * that host with exactly those bindings, and `locations()` is not asked.
   */
  readonly runsOnHosts?: boolean;
  /** Places this provider can start deployments at; empty for providers that cannot start any. */
  locations(): ProviderLocation[];
  /** Whether it can start this version at all (absent: any version). */
  accepts?(version: VersionRecord): boolean;
  /**
   * Starts the game server of a deployment row already written with status DEPLOYING.
   * Readiness or failure is reported later through the reporter. `env` is the deploy's env_vars
   * (selector env); `access` holds the credentials behind the game server's context and
   * self-stop URLs, whose hashes the caller has already stored.
   */
  start(
    deployment: DeploymentRecord,
    version: VersionRecord,
    env: Array<{ key: string; value: string }>,
    access: GameServerAccess,
  ): Promise<StartedDeployment>;
  /** Stops it; resolves once it is gone (or was already gone). */
  stop(deployment: DeploymentRecord): Promise<void>;
  /** After a restart: look at the deployments the database says are live and make them true. */
  reconcile?(live: DeploymentRecord[]): Promise<void>;
  /** The game server's output (absent: the provider cannot tell). */
  logs?(deployment: DeploymentRecord): Promise<DeploymentLogs>;
  /** Recent readings of its resource use, oldest first (absent: the provider cannot tell). */
  metrics?(deployment: DeploymentRecord): Promise<DeploymentMetricsSample[]>;
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

  /**
   * Every fixed place a provider can deploy to; with a version, only providers that can start it.
   * Providers that run on hosts have no fixed places: the fleet's hosts are theirs.
   */
  locations(version?: VersionRecord): ProviderLocation[] {
    return this.all()
      .filter((provider) => !provider.runsOnHosts && (version === undefined || (provider.accepts?.(version) ?? true)))
      .flatMap((provider) => provider.locations());
  }

  /** Providers that run on hosts and can start this version, in registration order. */
  onHosts(version: VersionRecord): Provider[] {
    return this.all().filter((provider) => provider.runsOnHosts && (provider.accepts?.(version) ?? true));
  }
}
