import { createReadStream } from "node:fs";
import { pipeline } from "node:stream";
import { parse, type CsvError } from "csv-parse";
import { importedSubscriber, type ImportedSubscriber } from "../../schemas/api.js";
import { MkError } from "../errors.js";
import { fieldPath } from "../../runtime/http/errors.js";

/** A data row of the file: a subscriber to import, or why it cannot be. */
export type CsvRow = { line: number; subscriber: ImportedSubscriber } | { line: number; rejected: string };

const KNOWN = new Set(["email", "firstName", "lastName", "country", "timezone", "locale", "tags", "consent"]);

/**
 * Characters of one row (README, "Limits"): room for a subscriber with every
 * field at its limit. A longer row is a quote left open or the wrong
 * delimiter, and reading on would hold the rest of the file in memory.
 */
export const MAX_ROW_CHARACTERS = 256 * 1024;

/**
 * Stream a subscribers CSV (FORMAT.md, "Subscribers CSV") row by row: emails
 * trimmed and lower-cased, `tags` split on `|`, every unknown column an
 * attribute (JSON numbers as numbers, true/false as booleans). A bad row is
 * yielded as rejected with its line number and the rest go on; a file that is
 * not CSV at all stops with MK080.
 */
export async function* readSubscribersCsv(file: string, onBytes: (bytes: number) => void = () => {}): AsyncGenerator<CsvRow> {
  const input = createReadStream(file);
  input.on("data", (chunk) => onBytes(chunk.length));
  const skipped: CsvRow[] = [];
  // Where the row being read began: after the last row read and the empty lines since.
  let lastRow = { lines: 1, empty: 0 };
  const parser = parse({
    bom: true,
    columns: header,
    info: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    trim: true,
    max_record_size: MAX_ROW_CHARACTERS,
    on_record: (record, context) => {
      lastRow = { lines: context.lines, empty: context.empty_lines };
      return record;
    },
    // A row too long stops the import (thrown here, it ends the parse); any other bad row is skipped and reported.
    on_skip: (error) => {
      if (error?.code === "CSV_MAX_RECORD_SIZE") {
        const start = lastRow.lines + 1 + (Number(error["empty_lines"]) || 0) - lastRow.empty;
        throw new MkError(
          "MK080",
          `${file}:${start}: the row that starts on line ${start} is longer than ${MAX_ROW_CHARACTERS.toLocaleString("en-US")} characters (still going on line ${error.lines}); look for a quote that is never closed, or a delimiter other than commas`,
        );
      }
      if (error) skipped.push({ line: Number(error.lines), rejected: `not valid CSV: ${error.message}` });
    },
  });
  // pipeline, not pipe: a read error (missing file) reaches the loop below.
  pipeline(input, parser, () => undefined);
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
      yield* skipped.splice(0);
      yield toSubscriber(record, info.lines);
    }
    yield* skipped.splice(0);
  } catch (error) {
    if (error instanceof MkError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "EACCES" || code === "EISDIR") throw new MkError("MK080", `${file}: cannot read the file (${code})`);
    const line = Number((error as CsvError).lines) || undefined;
    throw new MkError("MK080", `${file}${line ? `:${line}` : ""}: ${(error as Error).message}`);
  }
}

function header(names: string[]): string[] {
  if (!names.includes("email")) throw new MkError("MK080", `the header row has no email column (it has ${names.join(", ") || "nothing"}); email is required`);
  const twice = names.find((name, i) => names.indexOf(name) !== i);
  if (twice) throw new MkError("MK080", `the header row names the column "${twice}" twice`);
  return names;
}

function toSubscriber(record: Record<string, string>, line: number): CsvRow {
  const candidate: Record<string, unknown> = { email: (record["email"] ?? "").toLowerCase() };
  const attributes: Record<string, string | number | boolean> = {};
  for (const [column, value] of Object.entries(record)) {
    if (column === "email") continue;
    if (column === "tags") candidate["tags"] = value.split("|").map((t) => t.trim()).filter(Boolean);
    else if (column === "consent") candidate["consent"] = value === "" ? null : value;
    else if (value === "") continue;
    else if (KNOWN.has(column)) candidate[column] = column === "country" ? value.toUpperCase() : value;
    else attributes[column] = attributeValue(value);
  }
  if (Object.keys(attributes).length > 0) candidate["attributes"] = attributes;
  const result = importedSubscriber.safeParse(candidate);
  if (result.success) return { line, subscriber: result.data };
  return { line, rejected: result.error.issues.map((i) => `${columnName(i.path)}: ${i.message}`).join("; ") };
}

function columnName(path: readonly PropertyKey[]): string {
  return path[0] === "attributes" && path[1] !== undefined ? String(path[1]) : fieldPath(path);
}

function attributeValue(value: string): string | number | boolean {
  if (value === "true") return true;
  if (value === "false") return false;
  if (/^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(value)) {
    const n = Number(value);
    if (Number.isFinite(n)) return n;
  }
  return value;
}
