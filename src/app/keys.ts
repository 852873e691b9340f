import { timingSafeEqual } from 'node:crypto';
import type { Queryable } from '../db/db.js';
import {
  countOrganisations,
  insertApiKey,
  insertOrganisation,
  revokeApiKey,
  selectActiveKeyByHash,
  selectApiKeys,
  selectOrganisation,
  updateWebhookSecret,
} from '../db/queries/orgs.js';
import { fail, ok, type Result } from '../domain/errors.js';
import { selectActiveKeyIdsForUpdate } from '../db/queries/org-admin.js';
import type { ApiKeyRecord } from '../domain/records.js';
import type { AppDeps } from './deps.js';
import { hashApiKey, newApiKey, newKeyId, newWebhookSecret } from './ids.js';

const BOOTSTRAP_LOCK = 72_616_002;

export interface Bootstrap {
  /** The key to print once: set only when this call created it at random. */
  printedKey: string | undefined;
  orgId: number;
}

/**
 * First start: an empty database gets an organisation and a key (random, or the configured one).
 * A configured key the database does not know yet is added to the first organisation, so a
 * server restarted with the same RALLYPOINT_API_KEY keeps working.
 */
export async function bootstrapOrganisation(
  deps: Pick<AppDeps, 'db'>,
  configuredKey: string | undefined,
): Promise<Bootstrap> {
  return deps.db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [BOOTSTRAP_LOCK]);
    if ((await countOrganisations(tx)) === 0) {
      const org = await insertOrganisation(tx, 'default', newWebhookSecret());
      const key = configuredKey ?? newApiKey();
      await insertApiKey(tx, { keyId: newKeyId(), orgId: org.id, keyHash: hashApiKey(key), name: 'bootstrap' });
      return { printedKey: configuredKey ? undefined : key, orgId: org.id };
    }
    const { rows } = await tx.query<{ id: number }>('SELECT id FROM organisations ORDER BY id LIMIT 1');
    const orgId = rows[0]!.id;
    if (configuredKey) {
      // A revoked configured key stays revoked: only a key never seen is added.
      const known = await tx.query('SELECT 1 FROM api_keys WHERE key_hash = $1', [hashApiKey(configuredKey)]);
      if (known.rowCount === 0)
        await insertApiKey(tx, { keyId: newKeyId(), orgId, keyHash: hashApiKey(configuredKey), name: 'configured' });
    }
    return { printedKey: undefined, orgId };
  });
}

/** A new organisation with its first key (operators and tests; not reachable over HTTP). */
export async function createOrganisation(
  deps: Pick<AppDeps, 'db'>,
  name: string,
): Promise<{ orgId: number; key: string }> {
  return deps.db.transaction(async (tx) => {
    const org = await insertOrganisation(tx, name, newWebhookSecret());
    const key = newApiKey();
    await insertApiKey(tx, { keyId: newKeyId(), orgId: org.id, keyHash: hashApiKey(key), name: 'first' });
    return { orgId: org.id, key };
  });
}

/**
 * `Authorization: token <key>` (scheme word case-insensitive) or a bare key. Returns the key,
 * or undefined when the header is missing or malformed.
 */
export function keyFromAuthorization(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const parts = header.trim().split(/\s+/);
  if (parts.length === 1 && parts[0]) return parts[0];
  if (parts.length === 2 && /^(token|bearer)$/i.test(parts[0]!) && parts[1]) return parts[1];
  return undefined;
}

/**
 * How long this process trusts a key it verified without asking the database again: the lookup
 * was one of only two or three queries behind a GET (README, "Benchmarks"). A revoke through this process's
 * API takes effect at once (it clears the cache); a revoke through another process sharing the
 * database takes effect here within this long. Only valid keys are cached.
 */
export const KEY_CACHE_TTL_MS = 5_000;
const KEY_CACHE_MAX_ENTRIES = 10_000;
/** Per database (each service, and each test's service, has its own): key hash -> org and expiry. */
const verifiedKeys = new WeakMap<Queryable, Map<string, { orgId: number; expiresAtMs: number }>>();

function keyCacheOf(db: Queryable): Map<string, { orgId: number; expiresAtMs: number }> {
  let cache = verifiedKeys.get(db);
  if (!cache) verifiedKeys.set(db, (cache = new Map()));
  return cache;
}

/** The organisation of a key this process verified within KEY_CACHE_TTL_MS, without a query. */
export function recentlyVerifiedOrganisation(db: Queryable, key: string): number | undefined {
  if (key.length > 512) return undefined;
  const cached = keyCacheOf(db).get(hashApiKey(key));
  return cached && cached.expiresAtMs > performance.now() ? cached.orgId : undefined;
}

/** The organisation of an active key. The stored hash is compared in constant time. */
export async function authenticate(db: Queryable, key: string): Promise<number | undefined> {
  if (key.length > 512) return undefined;
  const hash = hashApiKey(key);
  const cache = keyCacheOf(db);
  // Monotonic time: a cache freshness bound, not business time (which comes from deps.clock).
  const nowMs = performance.now();
  const cached = cache.get(hash);
  if (cached && cached.expiresAtMs > nowMs) return cached.orgId;
  const found = await selectActiveKeyByHash(db, hash);
  if (!found) {
    cache.delete(hash);
    return undefined;
  }
  const a = Buffer.from(found.keyHash, 'hex');
  const b = Buffer.from(hash, 'hex');
  if (a.length !== b.length || !timingSafeEqual(a, b)) return undefined;
  if (cache.size >= KEY_CACHE_MAX_ENTRIES) cache.clear();
  cache.set(hash, { orgId: found.orgId, expiresAtMs: nowMs + KEY_CACHE_TTL_MS });
  return found.orgId;
}

export async function createApiKey(
  deps: Pick<AppDeps, 'db'>,
  orgId: number,
  name: string,
): Promise<{ key: string; record: ApiKeyRecord }> {
  const key = newApiKey();
  const record = await insertApiKey(deps.db, { keyId: newKeyId(), orgId, keyHash: hashApiKey(key), name });
  return { key, record };
}

export function listApiKeys(deps: Pick<AppDeps, 'db'>, orgId: number): Promise<ApiKeyRecord[]> {
  return selectApiKeys(deps.db, orgId);
}

/**
 * Revokes a key, but never the organisation's last active one: that would lock it out for good
 * over the API (an operator can still add a key with `rallypoint admin keys create`).
 */
export async function revokeKey(
  deps: Pick<AppDeps, 'db' | 'clock'>,
  orgId: number,
  keyId: string,
): Promise<Result<ApiKeyRecord>> {
  const result = await deps.db.transaction(async (tx): Promise<Result<ApiKeyRecord | undefined>> => {
    const active = await selectActiveKeyIdsForUpdate(tx, orgId);
    if (active.length === 1 && active[0] === keyId) {
      return fail(
        'LAST_ACTIVE_KEY',
        `API key ${keyId} is the organisation's last active key; create another one before revoking it.`,
      );
    }
    return ok(await revokeApiKey(tx, orgId, keyId, deps.clock.now()));
  });
  if (!result.ok) return result;
  const record = result.value;
  // Only the hash identifies a cached key, so a revoke forgets every verified key of this process.
  keyCacheOf(deps.db).clear();
  return record ? ok(record) : fail('KEY_NOT_FOUND', `API key ${keyId} does not exist.`);
}

export async function readWebhookSecret(deps: Pick<AppDeps, 'db'>, orgId: number): Promise<string> {
  const org = await selectOrganisation(deps.db, orgId);
  return org!.webhookSecret;
}

export async function rotateWebhookSecret(deps: Pick<AppDeps, 'db'>, orgId: number): Promise<string> {
  const secret = newWebhookSecret();
  await updateWebhookSecret(deps.db, orgId, secret);
  return secret;
}
