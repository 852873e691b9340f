import { BlockList, isIP } from 'node:net';
import { fail, ok, type Result } from '../domain/errors.js';
import { parseIpv6 } from '../domain/player-address.js';

/** Cloud metadata endpoints and link-local ranges are refused by default: a webhook must never reach them. */
const DENIED_HOSTS = new Set([
  'metadata.google.internal',
  'metadata',
  'metadata.azure.internal',
  'instance-data',
  'instance-data.ec2.internal',
]);

/**
 * The default WEBHOOK_DENY_CIDRS: IPv4 and IPv6 link-local (where every cloud's metadata service
 * lives), Alibaba's metadata address, AWS's IPv6 metadata address and the unspecified addresses.
 * Loopback and private ranges stay allowed by default: self-hosted studios run receivers there.
 */
export const DEFAULT_WEBHOOK_DENY_CIDRS: readonly string[] = Object.freeze([
  '169.254.0.0/16',
  '100.100.100.200/32',
  '0.0.0.0/32',
  'fe80::/10',
  'fd00:ec2::254/128',
  '::/128',
]);

/** Addresses webhooks must never reach; checked at session create and again, after DNS, at delivery. */
export interface WebhookDenyList {
  isDeniedAddress(ip: string): boolean;
  /** The CIDRs, for error messages and docs. */
  readonly cidrs: readonly string[];
}

/** Parses `a.b.c.d/n` or `v6::/n`; undefined when the text is not a CIDR. */
export function parseCidr(text: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const [address, prefixText, ...rest] = text.trim().split('/');
  if (!address || rest.length > 0) return undefined;
  const version = isIP(address);
  if (version === 0) return undefined;
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (
    !Number.isInteger(prefix) ||
    prefix < 0 ||
    prefix > max ||
    (prefixText !== undefined && !/^\d+$/.test(prefixText))
  )
    return undefined;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/**
 * A host as the deny-list compares it: no brackets, lower case, no trailing dots
 * (`METADATA.google.internal.` resolves like `metadata.google.internal`).
 */
export function canonicalHost(hostname: string): string {
  return hostname
    .replace(/^\[|\]$/g, '')
    .toLowerCase()
    .replace(/\.+$/, '');
}

/**
 * The IPv4 address an IPv6 address carries and that the network may deliver to: IPv4-compatible
 * (`::a9fe:a9fe`), NAT64 (`64:ff9b::a9fe:a9fe`, and the local-use 64:ff9b:1::/48) and 6to4
 * (`2002:a9fe:a9fe::`). IPv4-mapped addresses are matched by BlockList itself.
 */
function embeddedIpv4(ipv6: string): string | undefined {
  const g = parseIpv6(ipv6);
  if (!g) return undefined;
  const v4 = (high: number, low: number) => [high >> 8, high & 255, low >> 8, low & 255].join('.');
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  if (zeros(0, 6) && (g[6] !== 0 || g[7]! > 1)) return v4(g[6]!, g[7]!);
  if (g[0] === 0x64 && g[1] === 0xff9b && (zeros(2, 6) || g[2] === 1)) return v4(g[6]!, g[7]!);
  if (g[0] === 0x2002) return v4(g[1]!, g[2]!);
  return undefined;
}

/** A deny-list from CIDRs (config.ts has already validated them; an invalid one throws). */
export function createWebhookDenyList(cidrs: readonly string[] = DEFAULT_WEBHOOK_DENY_CIDRS): WebhookDenyList {
  const blocks = new BlockList();
  for (const cidr of cidrs) {
    const parsed = parseCidr(cidr);
    if (!parsed) throw new Error(`not a CIDR: ${cidr}`);
    blocks.addSubnet(parsed.address, parsed.prefix, parsed.family);
  }
  return {
    cidrs: Object.freeze([...cidrs]),
    isDeniedAddress(ip: string): boolean {
      const bare = canonicalHost(ip);
      const version = isIP(bare);
      if (version === 0) return false;
      // BlockList matches IPv4-mapped IPv6 (::ffff:169.254.0.1) against the IPv4 rules too.
      if (blocks.check(bare, version === 4 ? 'ipv4' : 'ipv6')) return true;
      const carried = version === 6 ? embeddedIpv4(bare) : undefined;
      return carried !== undefined && blocks.check(carried, 'ipv4');
    },
  };
}

const defaultDenyList = createWebhookDenyList();

/**
 * A webhook URL must be absolute http(s) and must not point at a denied address or a cloud
 * metadata host name. Host names are not resolved here (a create must not wait on DNS); the
 * delivery worker checks the resolved addresses before every attempt.
 */
export function checkWebhookUrl(raw: string, denyList: WebhookDenyList = defaultDenyList): Result<URL> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return fail('VALIDATION_FAILED', `webhook_url is not a valid URL: ${JSON.stringify(raw.slice(0, 200))}.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return fail('VALIDATION_FAILED', 'webhook_url must use http or https.');
  if (url.username || url.password) return fail('VALIDATION_FAILED', 'webhook_url must not carry credentials.');
  const host = canonicalHost(url.hostname);
  if (DENIED_HOSTS.has(host) || denyList.isDeniedAddress(host)) {
    return fail(
      'VALIDATION_FAILED',
      `webhook_url host ${url.hostname} is not allowed (link-local, cloud metadata or denied address).`,
    );
  }
  return ok(url);
}

/** True for the metadata host names refused whatever the CIDR list says. */
export function isDeniedHostName(hostname: string): boolean {
  return DENIED_HOSTS.has(canonicalHost(hostname));
}
