/**
 * Player addresses in one spelling, so that one player is one user: `2001:DB8::1`,
 * `2001:0db8:0:0:0:0:0:1` and `2001:db8::1` are the same address, and so are `::ffff:1.2.3.4`
 * and `1.2.3.4`. IPv6 is written compressed and lower-case (the longest run of two or more zero
 * groups becomes `::`, the first one on a tie); an IPv4-mapped IPv6 address is written as IPv4.
 *
 * Addresses that cannot be a player are refused: zone ids (`fe80::1%eth0`, local to one host),
 * unspecified (`0.0.0.0`, `::`), broadcast (`255.255.255.255`) and multicast (224.0.0.0/4,
 * ff00::/8).
 */
import { fail, ok, type Result } from './errors.js';

const IPV4_PART = /^(0|[1-9]\d{0,2})$/;
const IPV6_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** The four octets of a dotted-quad IPv4 address; leading zeros are refused (octal is ambiguous). */
function parseIpv4(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => IPV4_PART.test(p))) return undefined;
  const octets = parts.map(Number);
  return octets.every((o) => o <= 255) ? octets : undefined;
}

/** The eight 16-bit groups of an IPv6 address, a trailing dotted quad included; undefined when not one. */
export function parseIpv6(text: string): number[] | undefined {
  const lastColon = text.lastIndexOf(':');
  const last = text.slice(lastColon + 1);
  if (last.includes('.')) {
    // A trailing dotted quad is the last two groups written another way.
    const v4 = parseIpv4(last);
    if (!v4) return undefined;
    const high = ((v4[0]! << 8) | v4[1]!).toString(16);
    const low = ((v4[2]! << 8) | v4[3]!).toString(16);
    return parseIpv6(`${text.slice(0, lastColon + 1)}${high}:${low}`);
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (half: string): number[] | undefined => {
    if (half === '') return [];
    const groups = half.split(':');
    return groups.every((g) => IPV6_GROUP.test(g)) ? groups.map((g) => parseInt(g, 16)) : undefined;
  };
  const head = groupsOf(halves[0]!);
  const tail = halves.length === 2 ? groupsOf(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const given = head.length + tail.length;
  if (halves.length === 1) return given === 8 ? head : undefined;
  return given <= 7 ? [...head, ...Array<number>(8 - given).fill(0), ...tail] : undefined;
}

/** RFC 5952 text: lower-case, no leading zeros, the first longest run (>= 2) of zeros as `::`. */
function formatIpv6(groups: readonly number[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

function refusedIpv4(octets: readonly number[]): string | undefined {
  if (octets.every((o) => o === 0)) return 'the unspecified address';
  if (octets.every((o) => o === 255)) return 'the broadcast address';
  if (octets[0]! >= 224 && octets[0]! <= 239) return 'a multicast address';
  return undefined;
}

function refusedIpv6(groups: readonly number[]): string | undefined {
  if (groups.every((g) => g === 0)) return 'the unspecified address';
  if (groups[0]! >> 8 === 0xff) return 'a multicast address';
  return undefined;
}

/**
 * The canonical spelling of a player's address, or a failure naming the address and why.
 * @example canonicalPlayerAddress('2001:DB8:0:0::1') // ok('2001:db8::1')
 */
export function canonicalPlayerAddress(text: string): Result<string> {
  const shown = JSON.stringify(text.slice(0, 64));
  const refuse = (why: string) => fail<string>('VALIDATION_FAILED', `${shown} is ${why}, not a player's address.`);
  if (text.includes('%')) return refuse('an address with a zone id');
  const v4 = parseIpv4(text);
  if (v4) {
    const why = refusedIpv4(v4);
    return why ? refuse(why) : ok(v4.join('.'));
  }
  const v6 = text.includes(':') ? parseIpv6(text) : undefined;
  if (!v6) return fail('VALIDATION_FAILED', `Not an IP address: ${shown}.`);
  const isMapped = v6.slice(0, 5).every((g) => g === 0) && v6[5] === 0xffff;
  if (isMapped) {
    const octets = [v6[6]! >> 8, v6[6]! & 255, v6[7]! >> 8, v6[7]! & 255];
    const why = refusedIpv4(octets);
    return why ? refuse(why) : ok(octets.join('.'));
  }
  const why = refusedIpv6(v6);
  return why ? refuse(why) : ok(formatIpv6(v6));
}

/**
 * Every address in canonical spelling, or the failure of the first that cannot be a player's.
 * @example canonicalPlayerAddresses(['::ffff:1.2.3.4']) // ok(['1.2.3.4'])
 */
export function canonicalPlayerAddresses(texts: readonly string[]): Result<string[]> {
  const out: string[] = [];
  for (const text of texts) {
    const canonical = canonicalPlayerAddress(text);
    if (!canonical.ok) return canonical;
    out.push(canonical.value);
  }
  return ok(out);
}
