/**
 * Talking to one host's container engine through the Docker Engine API (Docker, or Podman's
 * Docker-compatible service): the client for an endpoint, and the few calls whose answers need
 * interpreting (pull progress, multiplexed logs, stats).
 */
import Docker from 'dockerode';
import type { HostEndpoint } from '../../domain/records.js';
import type { DeploymentMetricsSample } from '../provider.js';

/** A client for the endpoint. ssh is refused: the modem's ssh transport needs the docker CLI on the host. */
export function engineClient(endpoint: HostEndpoint): Docker {
  switch (endpoint.kind) {
    case 'socket':
      return new Docker({ socketPath: endpoint.path });
    case 'tcp': {
      const tls = endpoint.tls;
      return new Docker({
        host: endpoint.host,
        port: endpoint.port,
        protocol: tls ? 'https' : 'http',
        ...(tls?.ca ? { ca: tls.ca } : {}),
        ...(tls?.cert ? { cert: tls.cert } : {}),
        ...(tls?.key ? { key: tls.key } : {}),
      });
    }
    case 'ssh':
      throw new Error(
        'ssh engine endpoints are not supported; forward the engine socket (ssh -L) and register it as a socket or tcp endpoint',
      );
  }
}

/** Rejects after `ms` with a message naming what timed out; the underlying call is left to finish. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The engine's HTTP status on an error it answered, if any. Podman answers some lookups of a
 * container removed a moment ago with 500 "no such container": that is a 404 too.
 */
export function engineStatus(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown }).statusCode;
  if (typeof status !== 'number') return undefined;
  const message = (error as { json?: { message?: unknown } }).json?.message;
  return status === 500 && typeof message === 'string' && /no such container/i.test(message) ? 404 : status;
}

/** A short reason from an engine error, with any secret removed. */
export function engineReason(error: unknown, secrets: readonly string[] = []): string {
  const raw = (error as { json?: { message?: unknown } }).json?.message;
  let message = typeof raw === 'string' ? raw : error instanceof Error ? error.message : String(error);
  for (const secret of secrets) if (secret) message = message.split(secret).join('***');
  return message.replace(/\s+/g, ' ').trim().slice(0, 500);
}

/**
 * Makes sure the image is on the host: pulls it (with the credentials when given) only when it
 * is missing. Throws with the engine's reason, never with the credentials.
 */
export async function ensureImage(
  docker: Docker,
  image: string,
  auth: { username: string; password: string; serveraddress: string } | undefined,
  timeoutMs: number,
): Promise<void> {
  try {
    await docker.getImage(image).inspect();
    return;
  } catch (error) {
    if (engineStatus(error) !== 404) throw new Error(`could not look up image ${image}: ${engineReason(error)}`);
  }
  const secrets = auth ? [auth.password] : [];
  try {
    // The deadline covers the pull request itself too: an engine that never answers it must not hold the start job.
    await withTimeout(
      (async () => {
        const stream = await docker.pull(image, auth ? { authconfig: auth } : {});
        await new Promise<void>((resolve, reject) => {
          docker.modem.followProgress(stream, (error: Error | null, events: Array<{ error?: string }>) => {
            const failed = error ?? events.find((e) => e.error);
            if (failed)
              reject(
                new Error(failed instanceof Error ? failed.message : String((failed as { error?: string }).error)),
              );
            else resolve();
          });
        });
      })(),
      timeoutMs,
      `pulling ${image}`,
    );
  } catch (error) {
    throw new Error(`image ${image} could not be pulled: ${engineReason(error, secrets)}`);
  }
}

/**
 * Splits the engine's multiplexed log stream (8-byte frame headers, used when the container has
 * no TTY) into text; a buffer without frames is returned as it is.
 */
export function demuxLogs(buffer: Buffer): string {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= buffer.length) {
    const kind = buffer[offset]!;
    const length = buffer.readUInt32BE(offset + 4);
    if (
      kind > 2 ||
      buffer[offset + 1] !== 0 ||
      buffer[offset + 2] !== 0 ||
      buffer[offset + 3] !== 0 ||
      offset + 8 + length > buffer.length
    ) {
      return offset === 0
        ? buffer.toString('utf8')
        : Buffer.concat([...parts, buffer.subarray(offset)]).toString('utf8');
    }
    parts.push(buffer.subarray(offset + 8, offset + 8 + length));
    offset += 8 + length;
  }
  return Buffer.concat(parts).toString('utf8');
}

interface EngineStats {
  cpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number; online_cpus?: number };
  precpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number };
  memory_stats?: { usage?: number };
  networks?: Record<string, { rx_bytes?: number; tx_bytes?: number }>;
  blkio_stats?: { io_service_bytes_recursive?: Array<{ op?: string; value?: number }> | null };
}

const sum = (values: Array<number | undefined>) => values.reduce<number>((total, v) => total + (v ?? 0), 0);

/** CPU in percent of one vCPU between two readings of the same container. */
function cpuPercent(now: EngineStats, before: EngineStats['precpu_stats']): number {
  const used = (now.cpu_stats?.cpu_usage?.total_usage ?? 0) - (before?.cpu_usage?.total_usage ?? 0);
  const elapsed = (now.cpu_stats?.system_cpu_usage ?? 0) - (before?.system_cpu_usage ?? 0);
  if (used <= 0 || elapsed <= 0) return 0;
  return (used / elapsed) * (now.cpu_stats?.online_cpus ?? 1) * 100;
}

/**
 * One reading of a container's resource use. Engines that answer a one-shot read without the
 * previous CPU figures (Podman) get a second read shortly after, so CPU is a real rate.
 */
export async function readStats(container: Docker.Container, at: () => Date): Promise<DeploymentMetricsSample> {
  let stats = (await container.stats({ stream: false })) as unknown as EngineStats;
  let before = stats.precpu_stats;
  if (!before?.cpu_usage?.total_usage) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    before = stats.cpu_stats;
    stats = (await container.stats({ stream: false })) as unknown as EngineStats;
  }
  const networks = Object.values(stats.networks ?? {});
  const io = stats.blkio_stats?.io_service_bytes_recursive ?? [];
  return {
    at: at(),
    cpuPercent: cpuPercent(stats, before),
    memoryBytes: stats.memory_stats?.usage ?? 0,
    networkReceiveBytes: sum(networks.map((n) => n.rx_bytes)),
    networkTransmitBytes: sum(networks.map((n) => n.tx_bytes)),
    diskReadBytes: sum(io.filter((e) => e.op?.toLowerCase() === 'read').map((e) => e.value)),
    diskWriteBytes: sum(io.filter((e) => e.op?.toLowerCase() === 'write').map((e) => e.value)),
  };
}
