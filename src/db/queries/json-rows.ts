/**
 * Rows read as one JSON column (`to_json(row)`) instead of one column each. The driver builds a
 * parser and a property per column for every result, which for the 50-60 columns of a session
 * and its deployment cost more than the query itself (a GET's profile: 10% of the server's CPU
 * in `Result.addFields`); one JSON column is one JSON.parse.
 */

/** A row as to_json writes it: timestamps are ISO 8601 text. */
export type Json<Row> = { [K in keyof Row]: Row[K] extends Date | null ? string | null : Row[K] };

/** The row with its timestamp columns read as Dates (to millisecond precision, as the driver reads them). */
export function withDates<Row>(json: Json<Row>, columns: ReadonlyArray<keyof Row>): Row {
  const row = { ...json } as Record<keyof Row, unknown>;
  for (const column of columns) {
    const text = json[column];
    row[column] = text === null ? null : new Date(text as string);
  }
  return row as Row;
}
