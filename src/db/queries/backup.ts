/**
 * Catalogue reads and generic row copies for logical backups. Table and column names come from
 * the database's own catalogue (never from input) and are quoted by quoteIdent.
 */
import type { Queryable } from '../db.js';

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Ordinary tables of the current schema, and which table each one's foreign keys point at. */
export async function selectTablesWithReferences(
  db: Queryable,
): Promise<Array<{ table: string; references: string[] }>> {
  const { rows } = await db.query<{ table_name: string; refs: string[] | null }>(
    `SELECT c.relname AS table_name,
       (SELECT array_agg(DISTINCT r.relname::text) FROM pg_constraint k JOIN pg_class r ON r.oid = k.confrelid
        WHERE k.conrelid = c.oid AND k.contype = 'f' AND k.confrelid <> c.oid) AS refs
     FROM pg_class c WHERE c.relkind = 'r' AND c.relnamespace = current_schema()::regnamespace ORDER BY c.relname`,
  );
  return rows.map((r) => ({ table: r.table_name, references: r.refs ?? [] }));
}

/** Columns a restore writes: every stored column that is not computed by the database. */
export async function selectWritableColumns(db: Queryable, table: string): Promise<string[]> {
  const { rows } = await db.query<{ attname: string }>(
    `SELECT a.attname FROM pg_attribute a WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
     ORDER BY a.attnum`,
    [quoteIdent(table)],
  );
  return rows.map((r) => r.attname);
}

/** Up to `limit` rows as JSON text, after the row at `afterCtid` (physical order inside one snapshot). */
export async function selectRowsAsJson(
  db: Queryable,
  table: string,
  afterCtid: string,
  limit: number,
): Promise<Array<{ ctid: string; json: string }>> {
  const { rows } = await db.query<{ ctid: string; json: string }>(
    `SELECT t.ctid::text AS ctid, row_to_json(t)::text AS json FROM ${quoteIdent(table)} t WHERE t.ctid > $1::tid ORDER BY t.ctid LIMIT $2`,
    [afterCtid, limit],
  );
  return rows;
}

export async function selectSequences(
  db: Queryable,
): Promise<Array<{ name: string; lastValue: number | null; isCalled: boolean }>> {
  const { rows } = await db.query<{ name: string; last_value: number | null }>(
    'SELECT sequencename AS name, last_value FROM pg_sequences WHERE schemaname = current_schema() ORDER BY sequencename',
  );
  return rows.map((r) => ({ name: r.name, lastValue: r.last_value, isCalled: r.last_value !== null }));
}

export async function setSequenceValue(tx: Queryable, name: string, value: number, isCalled: boolean): Promise<void> {
  await tx.query('SELECT setval($1::regclass, $2, $3)', [quoteIdent(name), value, isCalled]);
}

export async function selectTableHasRows(db: Queryable, table: string): Promise<boolean> {
  const { rows } = await db.query<{ present: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM ${quoteIdent(table)}) AS present`,
  );
  return rows[0]?.present === true;
}

/** Triggers would rewrite restored rows (or announce them); they are off while a restore writes. */
export async function setUserTriggers(tx: Queryable, table: string, isEnabled: boolean): Promise<void> {
  await tx.exec(`ALTER TABLE ${quoteIdent(table)} ${isEnabled ? 'ENABLE' : 'DISABLE'} TRIGGER USER`);
}

/** Inserts rows given as a JSON array of objects, identities included, typed by the table's own columns. */
export async function insertRowsFromJson(
  tx: Queryable,
  table: string,
  columns: readonly string[],
  rowsJson: string,
): Promise<void> {
  const list = columns.map(quoteIdent).join(', ');
  await tx.query(
    `INSERT INTO ${quoteIdent(table)} (${list}) OVERRIDING SYSTEM VALUE SELECT ${list} FROM json_populate_recordset(NULL::${quoteIdent(table)}, $1::json)`,
    [rowsJson],
  );
}
