/**
 * Watching a game server until it is ready: every TCP-like port accepts a connection at its
 * address, or (no TCP port) it stayed up for a grace period. Shared by the providers that start
 * game servers (process, docker). The watch lives in the process that started or adopted the
 * game server; after a restart, reconciliation starts a new one for every deployment not yet
 * ready, so losing it loses nothing.
 */
import type { PortRecord } from '../domain/records.js';
import { acceptsTcp, usesTcp } from './process/ports.js';

const PROBE_EVERY_MS = 150;

export interface ReadinessWatch {
  /** Stops the watch; nothing is reported afterwards. */
  cancel(): void;
}

export interface ReadinessOptions {
  address: string;
  ports: Record<string, PortRecord>;
  udpReadyMs: number;
  readyTimeoutMs: number;
  /** Whether the game server still runs (for UDP-only servers, checked once the grace is over). */
  isRunning: () => Promise<boolean>;
  ready: () => void;
  failed: (detail: string) => void;
}

export function watchReadiness(options: ReadinessOptions): ReadinessWatch {
  let isCancelled = false;
  let timer: NodeJS.Timeout | undefined;
  const later = (ms: number, fn: () => Promise<void>) => {
    timer = setTimeout(() => {
      if (!isCancelled) void fn();
    }, ms);
    timer.unref();
  };
  const tcpPorts = Object.values(options.ports)
    .filter((p) => usesTcp(p.protocol))
    .map((p) => p.external);
  const since = Date.now();
  if (tcpPorts.length === 0) {
    later(options.udpReadyMs, async () => {
      const running = await options.isRunning().catch(() => false);
      if (isCancelled) return;
      if (running) options.ready();
      else options.failed(`The game server stopped within ${options.udpReadyMs} ms of starting.`);
    });
  } else {
    const probe = async () => {
      const results = await Promise.all(tcpPorts.map((port) => acceptsTcp(port, 500, options.address)));
      if (isCancelled) return;
      if (results.every(Boolean)) return options.ready();
      if (Date.now() - since > options.readyTimeoutMs) {
        return options.failed(
          `The game server did not accept TCP connections on ${options.address} port(s) ${tcpPorts.join(', ')} within ${options.readyTimeoutMs} ms.`,
        );
      }
      later(PROBE_EVERY_MS, probe);
    };
    later(0, probe);
  }
  return {
    cancel() {
      isCancelled = true;
      if (timer) clearTimeout(timer);
    },
  };
}
