/**
 * Statements behind the operators' organisation commands (`rallypoint admin`): find by name,
 * list with counts, rename, and delete everything an organisation owns.
 */
import type { Queryable } from '../db.js';
import type { OrgRecord } from '../../domain/records.js';

export interface OrgSummaryRow {
  id: number;
  name: string;
  createdAt: Date;
  activeKeys: number;
  apps: number;
  liveDeployments: number;
}

/** Serialises organisation creation and renaming, so two names cannot race into duplicates. */
const ORG_NAMES_LOCK = 72_616_003;

export async function lockOrganisationNames(tx: Queryable): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1)', [ORG_NAMES_LOCK]);
}

/** The oldest organisation with this name (names are unique for those made through `admin`). */
export async function selectOrganisationByName(db: Queryable, name: string): Promise<OrgRecord | undefined> {
  const { rows } = await db.query<{ id: number; name: string; webhook_secret: string }>(
    'SELECT id, name, webhook_secret FROM organisations WHERE name = $1 ORDER BY id LIMIT 1',
    [name],
  );
  return rows[0] ? { id: rows[0].id, name: rows[0].name, webhookSecret: rows[0].webhook_secret } : undefined;
}

export async function selectOrganisationSummaries(
  db: Queryable,
  liveStatuses: readonly string[],
): Promise<OrgSummaryRow[]> {
  const { rows } = await db.query<{
    id: number;
    name: string;
    created_at: Date;
    active_keys: number;
    apps: number;
    live_deployments: number;
  }>(
    `SELECT o.id, o.name, o.created_at,
       (SELECT count(*) FROM api_keys k WHERE k.org_id = o.id AND k.revoked_at IS NULL) AS active_keys,
       (SELECT count(*) FROM apps a WHERE a.org_id = o.id) AS apps,
       (SELECT count(*) FROM deployments d WHERE d.org_id = o.id AND d.status = ANY($1::text[])) AS live_deployments
     FROM organisations o ORDER BY o.id`,
    [liveStatuses],
  );
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    createdAt: r.created_at,
    activeKeys: r.active_keys,
    apps: r.apps,
    liveDeployments: r.live_deployments,
  }));
}

export async function updateOrganisationName(db: Queryable, orgId: number, name: string): Promise<void> {
  await db.query('UPDATE organisations SET name = $2 WHERE id = $1', [orgId, name]);
}

export async function countLiveDeploymentsOfOrganisation(
  db: Queryable,
  orgId: number,
  liveStatuses: readonly string[],
): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    'SELECT count(*) AS n FROM deployments WHERE org_id = $1 AND status = ANY($2::text[])',
    [orgId, liveStatuses],
  );
  return rows[0]?.n ?? 0;
}

/** Deployments of the organisation still holding capacity or ports on a host. */
export async function selectHostHoldingDeploymentsOfOrganisation(db: Queryable, orgId: number): Promise<number[]> {
  const { rows } = await db.query<{ id: number }>(
    `SELECT d.id FROM deployments d WHERE d.org_id = $1
       AND (EXISTS (SELECT 1 FROM host_allocations a WHERE a.deployment_id = d.id) OR EXISTS (SELECT 1 FROM host_ports p WHERE p.deployment_id = d.id))`,
    [orgId],
  );
  return rows.map((r) => r.id);
}

/**
 * Tables whose rows belong to one organisation, children before parents. Tables added later
 * that reference organisations are found by deleteOrganisationRowsElsewhere.
 */
const OWNED_TABLES = [
  'sessions',
  'webhook_deliveries',
  'events',
  'idempotency_keys',
  'deployments',
  'versions',
  'apps',
  'api_keys',
] as const;

export async function deleteOrganisationRowsIn(
  tx: Queryable,
  table: (typeof OWNED_TABLES)[number],
  orgId: number,
): Promise<void> {
  await tx.query(`DELETE FROM ${table} WHERE org_id = $1`, [orgId]);
}
export const ORGANISATION_OWNED_TABLES = OWNED_TABLES;

/** Other tables with a foreign key to organisations (added by later migrations). */
export async function selectOtherTablesReferencingOrganisations(
  db: Queryable,
): Promise<Array<{ table: string; column: string }>> {
  const { rows } = await db.query<{ table_name: string; column_name: string }>(
    `SELECT c.conrelid::regclass::text AS table_name, a.attname AS column_name
     FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
     WHERE c.contype = 'f' AND c.confrelid = 'organisations'::regclass AND NOT (c.conrelid::regclass::text = ANY($1::text[]))`,
    [OWNED_TABLES],
  );
  return rows.map((r) => ({ table: r.table_name, column: r.column_name }));
}

/** `table` and `column` come from the catalogue (selectOtherTablesReferencingOrganisations), quoted here. */
export async function deleteOrganisationRowsElsewhere(
  tx: Queryable,
  target: { table: string; column: string },
  orgId: number,
): Promise<void> {
  const quote = (name: string) =>
    name
      .split('.')
      .map((part) => `"${part.replace(/^"|"$/g, '').replace(/"/g, '""')}"`)
      .join('.');
  await tx.query(`DELETE FROM ${quote(target.table)} WHERE ${quote(target.column)} = $1`, [orgId]);
}

export async function deleteOrganisationRow(tx: Queryable, orgId: number): Promise<void> {
  await tx.query('DELETE FROM organisations WHERE id = $1', [orgId]);
}

/** The organisation's active keys, locked, so two revokes cannot both leave it with none. */
export async function selectActiveKeyIdsForUpdate(tx: Queryable, orgId: number): Promise<string[]> {
  const { rows } = await tx.query<{ key_id: string }>(
    'SELECT key_id FROM api_keys WHERE org_id = $1 AND revoked_at IS NULL ORDER BY id FOR UPDATE',
    [orgId],
  );
  return rows.map((r) => r.key_id);
}
