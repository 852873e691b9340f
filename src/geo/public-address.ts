/**
 * Which addresses can have a geographic position: private, loopback, link-local, unspecified,
 * shared (CGNAT), documentation, benchmarking, multicast and reserved ranges cannot, whatever a
 * database file might say about them.
 */
import { BlockList, isIP, isIPv4 } from 'node:net';

const NON_PUBLIC = new BlockList();
/**
 * IPv4 ranges that are not public, as [first address, mask] pairs of unsigned 32-bit numbers:
 * checked with arithmetic, because BlockList.check builds a SocketAddress for every string (a
 * visible share of a session create's CPU when it geolocates its players).
 */
const NON_PUBLIC_V4: Array<readonly [number, number]> = [];
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  const mask = (0xffffffff << (32 - prefix)) >>> 0;
  NON_PUBLIC_V4.push([(ipv4Number(network) & mask) >>> 0, mask]);
}

/** A dotted-quad IPv4 address (already checked by isIPv4) as an unsigned 32-bit number. */
function ipv4Number(ip: string): number {
  let n = 0;
  for (const octet of ip.split('.')) n = n * 256 + Number(octet);
  return n;
}

function isPublicIpv4(ip: string): boolean {
  const n = ipv4Number(ip);
  return NON_PUBLIC_V4.every(([network, mask]) => (n & mask) >>> 0 !== network);
}

for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  NON_PUBLIC.addSubnet(network, prefix, 'ipv6');

const MAPPED_V4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/** The IPv4 address itself for "1.2.3.4" and "::ffff:1.2.3.4", else undefined. */
export function unmappedIpv4(ip: string): string | undefined {
  if (isIPv4(ip)) return ip;
  const mapped = MAPPED_V4.exec(ip)?.[1];
  return mapped !== undefined && isIPv4(mapped) ? mapped : undefined;
}

export function ipFamilyOf(ip: string): 'ipv4' | 'ipv6' {
  return isIP(ip) === 4 ? 'ipv4' : 'ipv6';
}

export function isPublicAddress(ip: string): boolean {
  if (isIP(ip) === 0) return false;
  const v4 = unmappedIpv4(ip);
  return v4 !== undefined ? isPublicIpv4(v4) : !NON_PUBLIC.check(ip, 'ipv6');
}
