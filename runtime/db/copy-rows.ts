import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";

/** A value as COPY's text format reads it through the column's own input function (as a parameter would be). */
export type CopyValue = string | number | null;

const SPECIAL = /[\\\n\r\t]/;
const ESCAPES: Record<string, string> = { "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** One field: \N for null; the characters that end a field or a row, and the backslash, escaped (most values have none). */
function field(value: CopyValue): string {
  if (value === null) return "\\N";
  const text = String(value);
  return SPECIAL.test(text) ? text.replace(/[\\\n\r\t]/g, (c) => ESCAPES[c]!) : text;
}

/** Rows in COPY's text format: fields separated by tabs, one line per row. */
export function copyText(rows: readonly (readonly CopyValue[])[]): string {
  return rows.map((row) => `${row.map(field).join("\t")}\n`).join("");
}

/**
 * Write rows with `COPY … FROM STDIN` (text format) on the caller's client,
 * inside its transaction: PostgreSQL's bulk path (rows buffered into the
 * table a page at a time), with the table's constraints, indexes and
 * statement triggers as for an INSERT. `rows` may be copyText's text
 * already (made once for a transaction that may be retried).
 */
export async function copyRows(client: pg.PoolClient, statement: string, rows: string | readonly (readonly CopyValue[])[]): Promise<void> {
  const text = typeof rows === "string" ? rows : copyText(rows);
  if (text === "") return;
  await pipeline(Readable.from([text]), client.query(copyFrom(statement)));
}
