/**
 * Host ports for local game servers, and the probe that tells when a TCP port accepts
 * connections. There is no NAT between a local process and its players, so the port the server
 * listens on (internal) is the port players use (external).
 */
import dgram from 'node:dgram';
import net from 'node:net';
import type { PortRecord } from '../../domain/records.js';

export interface VersionPort {
  port: number;
  protocol: string;
  name?: string;
  tls_upgrade?: boolean;
}

/** Protocols carried over TCP (Edgegap's HTTP/HTTPS/WS/WSS are TCP underneath). */
export function usesTcp(protocol: string): boolean {
  return /TCP|HTTP|WS/i.test(protocol);
}

export function usesUdp(protocol: string): boolean {
  return /UDP/i.test(protocol);
}

type Holder = { close(): void };

async function holdTcp(port: number): Promise<{ port: number; holder: Holder }> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host: '0.0.0.0', exclusive: true }, () => resolve());
  });
  return { port: (server.address() as net.AddressInfo).port, holder: { close: () => server.close() } };
}

async function holdUdp(port: number): Promise<{ port: number; holder: Holder }> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ port, address: '0.0.0.0', exclusive: true }, () => resolve());
  });
  return { port: socket.address().port, holder: { close: () => socket.close() } };
}

/** One free port for a protocol; TCP/UDP ports need the same number free on both. */
async function holdFreePort(protocol: string): Promise<{ port: number; holders: Holder[] }> {
  const tcp = usesTcp(protocol);
  const udp = usesUdp(protocol);
  for (let attempt = 0; attempt < 20; attempt++) {
    const first = tcp ? await holdTcp(0) : await holdUdp(0);
    if (!(tcp && udp)) return { port: first.port, holders: [first.holder] };
    try {
      const second = await holdUdp(first.port);
      return { port: first.port, holders: [first.holder, second.holder] };
    } catch {
      first.holder.close();
    }
  }
  throw new Error(`no free host port for protocol ${protocol}`);
}

/**
 * Picks a free host port for each of the version's ports. All are held until every one is
 * chosen, so one deployment never gets the same port twice; the small window between release
 * and the game server binding is the price of not passing sockets to a child.
 */
export async function allocatePorts(ports: readonly VersionPort[], host: string): Promise<Record<string, PortRecord>> {
  const holders: Holder[] = [];
  const records: Record<string, PortRecord> = {};
  try {
    for (const port of ports) {
      const name = port.name && port.name !== '' ? port.name : String(port.port);
      const held = await holdFreePort(port.protocol);
      holders.push(...held.holders);
      records[name] = {
        name,
        internal: held.port,
        external: held.port,
        protocol: port.protocol,
        tlsUpgrade: port.tls_upgrade ?? false,
        link: `${host}:${held.port}`,
      };
    }
    return records;
  } finally {
    for (const holder of holders) holder.close();
  }
}

/** Whether something accepts TCP connections on this port (of this machine, unless `host` says) right now. */
export function acceptsTcp(port: number, timeoutMs = 1000, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (value: boolean) => {
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
