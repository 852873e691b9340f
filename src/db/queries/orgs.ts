import type { Queryable } from '../db.js';
import type { ApiKeyRecord, OrgRecord } from '../../domain/records.js';

interface OrgRow {
  id: number;
  name: string;
  webhook_secret: string;
}
interface KeyRow {
  id: number;
  key_id: string;
  org_id: number;
  name: string;
  created_at: Date;
  revoked_at: Date | null;
}

const toOrg = (row: OrgRow): OrgRecord => ({ id: row.id, name: row.name, webhookSecret: row.webhook_secret });
const toKey = (row: KeyRow): ApiKeyRecord => ({
  id: row.id,
  keyId: row.key_id,
  orgId: row.org_id,
  name: row.name,
  createdAt: row.created_at,
  revokedAt: row.revoked_at,
});

export async function countOrganisations(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*) AS n FROM organisations');
  return rows[0]?.n ?? 0;
}

export async function insertOrganisation(db: Queryable, name: string, webhookSecret: string): Promise<OrgRecord> {
  const { rows } = await db.query<OrgRow>(
    'INSERT INTO organisations (name, webhook_secret) VALUES ($1, $2) RETURNING id, name, webhook_secret',
    [name, webhookSecret],
  );
  return toOrg(rows[0]!);
}

export async function selectOrganisation(db: Queryable, orgId: number): Promise<OrgRecord | undefined> {
  const { rows } = await db.query<OrgRow>('SELECT id, name, webhook_secret FROM organisations WHERE id = $1', [orgId]);
  return rows[0] ? toOrg(rows[0]) : undefined;
}

export async function updateWebhookSecret(db: Queryable, orgId: number, secret: string): Promise<void> {
  await db.query('UPDATE organisations SET webhook_secret = $2 WHERE id = $1', [orgId, secret]);
}

export async function insertApiKey(
  db: Queryable,
  key: { keyId: string; orgId: number; keyHash: string; name: string },
): Promise<ApiKeyRecord> {
  const { rows } = await db.query<KeyRow>(
    `INSERT INTO api_keys (key_id, org_id, key_hash, name) VALUES ($1, $2, $3, $4)
     RETURNING id, key_id, org_id, name, created_at, revoked_at`,
    [key.keyId, key.orgId, key.keyHash, key.name],
  );
  return toKey(rows[0]!);
}

/** The key with this hash, if it exists and is not revoked, with the stored hash to compare. */
export async function selectActiveKeyByHash(
  db: Queryable,
  keyHash: string,
): Promise<{ orgId: number; keyHash: string } | undefined> {
  const { rows } = await db.query<{ org_id: number; key_hash: string }>(
    'SELECT org_id, key_hash FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL',
    [keyHash],
  );
  return rows[0] ? { orgId: rows[0].org_id, keyHash: rows[0].key_hash } : undefined;
}

export async function selectApiKeys(db: Queryable, orgId: number): Promise<ApiKeyRecord[]> {
  const { rows } = await db.query<KeyRow>(
    'SELECT id, key_id, org_id, name, created_at, revoked_at FROM api_keys WHERE org_id = $1 ORDER BY id',
    [orgId],
  );
  return rows.map(toKey);
}

export async function revokeApiKey(
  db: Queryable,
  orgId: number,
  keyId: string,
  now: Date,
): Promise<ApiKeyRecord | undefined> {
  const { rows } = await db.query<KeyRow>(
    `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $3) WHERE org_id = $1 AND key_id = $2
     RETURNING id, key_id, org_id, name, created_at, revoked_at`,
    [orgId, keyId, now],
  );
  return rows[0] ? toKey(rows[0]) : undefined;
}
