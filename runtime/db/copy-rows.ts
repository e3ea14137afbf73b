import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";

/** A value as COPY's text format reads it through the column's own input function (as a parameter would be). */
export type CopyValue = string | number | null;

const ESCAPES: Record<string, string> = { "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** One field: \N for null; the characters that end a field or a row, and the backslash, escaped. */
function field(value: CopyValue): string {
  return value === null ? "\\N" : String(value).replace(/[\\\n\r\t]/g, (c) => ESCAPES[c]!);
}

/**
 * Write rows with `COPY … FROM STDIN` (text format) on the caller's client,
 * inside its transaction: PostgreSQL's bulk path (rows buffered into the
 * table a page at a time), with the table's constraints, indexes and
 * statement triggers as for an INSERT.
 */
export async function copyRows(client: pg.PoolClient, statement: string, rows: readonly (readonly CopyValue[])[]): Promise<void> {
  if (rows.length === 0) return;
  const text = rows.map((row) => `${row.map(field).join("\t")}\n`).join("");
  await pipeline(Readable.from([text]), client.query(copyFrom(statement)));
}
