/**
 * Failed authentication is cheap: a client address (an IPv6 /64 counts as one) makes one key
 * lookup at a time, and lookups that find no key spend its budget: FAILED_LOOKUP_BURST at once,
 * then one per `penaltyMs`. A key just found unknown is remembered for a while, so repeating it
 * costs nothing. Requests an address sends while its budget is spent are refused without
 * touching the database: an invalid-key flood costs at most one query per address per
 * `penaltyMs` after the first few. Keys verified recently (app/keys.ts caches them) are never
 * held back. What a held request is answered is the caller's choice (auth.ts: 401 + Retry-After).
 */
import { createHash } from 'node:crypto';
import { parseIpv6 } from '../domain/player-address.js';

const MAX_ENTRIES = 100_000;
/** Failed lookups an address may make at once, so a client that mistyped a key is not held back. */
export const FAILED_LOOKUP_BURST = 3;
const UNKNOWN_KEY_MEMORY_MS = 5_000;

/** The address a limit applies to: IPv4 as is, IPv4-mapped as IPv4, other IPv6 by its /64. */
export function clientBucket(ip: string): string {
  if (!ip.includes(':')) return ip;
  const g = parseIpv6(ip);
  if (!g) return ip;
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff)
    return [g[6]! >> 8, g[6]! & 255, g[7]! >> 8, g[7]! & 255].join('.');
  return `${g
    .slice(0, 4)
    .map((x) => x.toString(16))
    .join(':')}::/64`;
}

export interface FailedAuthGate {
  /** Milliseconds until `address` may look a key up again; 0 when it may now. */
  waitMs(address: string, nowMs: number): number;
  /**
   * Runs `lookup` of `key` in the address's turn; `held` (no lookup made) when the address's
   * budget is spent by then; undefined at once for a key found unknown moments ago.
   */
  lookup<T>(
    address: string,
    key: string,
    nowMs: () => number,
    lookup: () => Promise<T | undefined>,
  ): Promise<{ held: true } | { held: false; value: T | undefined }>;
}

interface Budget {
  tokens: number;
  updatedMs: number;
}

/** Deletes expired entries when a map grows past MAX_ENTRIES, and everything if that is not enough. */
function bound<V>(map: Map<string, V>, isExpired: (value: V) => boolean): void {
  if (map.size < MAX_ENTRIES) return;
  for (const [k, v] of map) if (isExpired(v)) map.delete(k);
  if (map.size >= MAX_ENTRIES) map.clear();
}

export function createFailedAuthGate(penaltyMs: number): FailedAuthGate {
  const budgets = new Map<string, Budget>();
  const unknownKeys = new Map<string, number>();
  const turns = new Map<string, Promise<void>>();
  const budgetOf = (address: string, nowMs: number): Budget => {
    const b = budgets.get(address) ?? { tokens: FAILED_LOOKUP_BURST, updatedMs: nowMs };
    b.tokens = Math.min(FAILED_LOOKUP_BURST, b.tokens + (nowMs - b.updatedMs) / penaltyMs);
    b.updatedMs = nowMs;
    return b;
  };
  const waitMs = (address: string, nowMs: number) => {
    const b = budgets.get(address);
    return b ? Math.max(0, Math.ceil((1 - budgetOf(address, nowMs).tokens) * penaltyMs)) : 0;
  };
  return {
    waitMs,
    async lookup(address, key, nowMs, lookup) {
      const keyId = createHash('sha256').update(key).digest('base64url');
      if ((unknownKeys.get(keyId) ?? 0) > nowMs()) return { held: false, value: undefined };
      const previous = turns.get(address) ?? Promise.resolve();
      let release!: () => void;
      const mine = previous.then(
        () =>
          new Promise<void>((resolve) => {
            release = resolve;
          }),
      );
      turns.set(address, mine);
      await previous;
      try {
        if (waitMs(address, nowMs()) > 0) return { held: true };
        const value = await lookup();
        if (value === undefined) {
          const now = nowMs();
          bound(budgets, (b) => now - b.updatedMs > penaltyMs * FAILED_LOOKUP_BURST);
          const b = budgetOf(address, now);
          b.tokens -= 1;
          budgets.set(address, b);
          bound(unknownKeys, (until) => until <= now);
          unknownKeys.set(keyId, now + UNKNOWN_KEY_MEMORY_MS);
        }
        return { held: false, value };
      } finally {
        release();
        if (turns.get(address) === mine) turns.delete(address);
      }
    },
  };
}
