import type { Queryable } from '../db.js';

export interface IdempotencyRecord {
  requestHash: string;
  status: number | null;
  responseBody: string | null;
  createdAt: Date;
  expiresAt: Date;
}

/** Claims the key for a first call; false when a row for it already exists. */
export async function insertIdempotencyKey(
  db: Queryable,
  row: { orgId: number; key: string; method: string; path: string; requestHash: string; now: Date; expiresAt: Date },
): Promise<boolean> {
  const { rowCount } = await db.query(
    `INSERT INTO idempotency_keys (org_id, key, method, path, request_hash, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (org_id, key) DO NOTHING`,
    [row.orgId, row.key, row.method, row.path, row.requestHash, row.now, row.expiresAt],
  );
  return rowCount === 1;
}

export async function selectIdempotencyKey(
  db: Queryable,
  orgId: number,
  key: string,
): Promise<IdempotencyRecord | undefined> {
  const { rows } = await db.query<{
    request_hash: string;
    status: number | null;
    response_body: string | null;
    created_at: Date;
    expires_at: Date;
  }>(
    'SELECT request_hash, status, response_body, created_at, expires_at FROM idempotency_keys WHERE org_id = $1 AND key = $2',
    [orgId, key],
  );
  const row = rows[0];
  return (
    row && {
      requestHash: row.request_hash,
      status: row.status,
      responseBody: row.response_body,
      createdAt: row.created_at,
      expiresAt: row.expires_at,
    }
  );
}

export async function updateIdempotencyResponse(
  db: Queryable,
  orgId: number,
  key: string,
  status: number,
  body: string,
): Promise<void> {
  await db.query('UPDATE idempotency_keys SET status = $3, response_body = $4 WHERE org_id = $1 AND key = $2', [
    orgId,
    key,
    status,
    body,
  ]);
}

/** Forgets a key whose first call failed with a server error, so a retry can run it again. */
export async function deleteIdempotencyKey(db: Queryable, orgId: number, key: string): Promise<void> {
  await db.query('DELETE FROM idempotency_keys WHERE org_id = $1 AND key = $2', [orgId, key]);
}

/** Removes an expired or abandoned key only if it is still the row we looked at. */
export async function deleteStaleIdempotencyKey(
  db: Queryable,
  orgId: number,
  key: string,
  createdAt: Date,
): Promise<void> {
  await db.query('DELETE FROM idempotency_keys WHERE org_id = $1 AND key = $2 AND created_at = $3', [
    orgId,
    key,
    createdAt,
  ]);
}

export async function deleteExpiredIdempotencyKeys(db: Queryable, now: Date): Promise<number> {
  const { rowCount } = await db.query('DELETE FROM idempotency_keys WHERE expires_at <= $1', [now]);
  return rowCount;
}
