import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { pipeline } from "node:stream";
import { parse, type CsvError } from "csv-parse";
import { importedSubscriber, type ImportedSubscriber } from "../../schemas/api.js";
import { MkError } from "../errors.js";
import { fieldPath } from "../../runtime/http/field-path.js";
import { mappedFormat, recognizeFormat, type ImportFormat, type Target } from "./formats.js";

/** A data row of the file: a subscriber to import, or why it cannot be (`column: why`). */
export type CsvRow = { line: number; subscriber: ImportedSubscriber } | { line: number; rejected: string };

export interface ReadOptions {
  /** `--map`: the file's columns named for mk's fields; without it the header row's format is recognised. */
  map?: Record<string, Target>;
  onBytes?: (bytes: number) => void;
  /** Called once, with the format of the header row, before the first row. */
  onFormat?: (format: ImportFormat) => void;
}

/**
 * Characters of one row (README, "Limits"): room for a subscriber with every
 * field at its limit. A longer row is a quote left open or the wrong
 * delimiter, and reading on would hold the rest of the file in memory.
 */
export const MAX_ROW_CHARACTERS = 256 * 1024;

/**
 * Stream a subscribers CSV row by row, in mk's layout (FORMAT.md, "Subscribers
 * CSV"), an export format recognised by its header (./formats.ts) or the
 * columns `--map` names: emails trimmed and lower-cased, every column no field
 * takes an attribute (JSON numbers as numbers, true/false as booleans), each
 * subscriber with its `line`. Commas, semicolons or tabs, whichever the header
 * row uses. A bad row is yielded as rejected with its line number and the rest
 * go on; a file that is not CSV at all stops with MK080.
 */
export async function* readSubscribersCsv(file: string, options: ReadOptions = {}): AsyncGenerator<CsvRow> {
  for await (const rows of readSubscribersCsvChunks(file, options)) yield* rows;
}

/**
 * readSubscribersCsv's rows, as many at a time as the parser holds (a chunk
 * of the file's worth): one wait per chunk instead of one per row, which
 * for a file of short rows costs more than parsing them.
 */
export async function* readSubscribersCsvChunks(file: string, options: ReadOptions = {}): AsyncGenerator<CsvRow[]> {
  const onBytes = options.onBytes ?? (() => {});
  let format: ImportFormat | undefined;
  const header = (names: string[]): string[] => {
    const twice = names.find((name, i) => names.indexOf(name) !== i);
    if (twice) throw new MkError("MK080", `the header row names the column "${twice}" twice`);
    format = options.map ? mappedFormat(names, options.map) : recognizeFormat(names);
    options.onFormat?.(format);
    return names;
  };
  const delimiter = await headerDelimiter(file);
  const input = createReadStream(file);
  input.on("data", (chunk) => onBytes(chunk.length));
  const skipped: CsvRow[] = [];
  // Where the row being read began: after the last row read and the empty lines since.
  let lastRow = { lines: 1, empty: 0 };
  const parser = parse({
    bom: true,
    columns: header,
    delimiter,
    skip_empty_lines: true,
    skip_records_with_error: true,
    trim: true,
    max_record_size: MAX_ROW_CHARACTERS,
    // The record with the line it ends on (cheaper than `info`, which copies the whole context for each record).
    on_record: (record: Record<string, string>, context) => {
      lastRow = { lines: context.lines, empty: context.empty_lines };
      return { record, line: context.lines };
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
    for await (const first of parser as AsyncIterable<ParsedRecord>) {
      const rows: CsvRow[] = [];
      // The records parsed already, without waiting for each; rows skipped as bad come in their place among them.
      for (let next: ParsedRecord | null = first; next !== null; next = parser.read() as ParsedRecord | null) {
        rows.push(...skipped.splice(0), toSubscriber(format!, next.record, next.line));
      }
      yield rows;
    }
    if (skipped.length > 0) yield skipped.splice(0);
  } catch (error) {
    if (error instanceof MkError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "EACCES" || code === "EISDIR") throw new MkError("MK080", `${file}: cannot read the file (${code})`);
    const line = Number((error as CsvError).lines) || undefined;
    throw new MkError("MK080", `${file}${line ? `:${line}` : ""}: ${(error as Error).message}`);
  }
}

/** A record as on_record hands it on: its cells by column, and the line it ends on. */
interface ParsedRecord {
  record: Record<string, string>;
  line: number;
}

/** The delimiter of the header row: the one of `,` `;` and tab it uses most (Brevo exports with semicolons). */
async function headerDelimiter(file: string): Promise<string> {
  let text = "";
  try {
    const handle = await open(file);
    try {
      const { buffer, bytesRead } = await handle.read(Buffer.alloc(64 * 1024), 0, 64 * 1024, 0);
      text = buffer.subarray(0, bytesRead).toString("utf8");
    } finally {
      await handle.close();
    }
  } catch {
    return ","; // the stream below reports what is wrong with the file
  }
  const line = (text.split(/\r?\n/)[0] ?? "").replace(/"[^"]*"/g, "");
  const count = (d: string) => line.split(d).length - 1;
  return [";", "\t"].reduce((best, d) => (count(d) > count(best) ? d : best), ",");
}

function toSubscriber(format: ImportFormat, record: Record<string, string>, line: number): CsvRow {
  const { fields, problems } = format.convert(record);
  const result = importedSubscriber.safeParse({ ...fields, line });
  const issues = result.success ? [] : result.error.issues.map((i) => `${columnName(format, i.path)}: ${i.message}`);
  if (problems.length > 0 || !result.success) return { line, rejected: [...problems, ...issues].join("; ") };
  return { line, subscriber: result.data };
}

function columnName(format: ImportFormat, path: readonly PropertyKey[]): string {
  if (path[0] === "attributes" && path[1] !== undefined) return String(path[1]);
  return format.columnOf(fieldPath(path));
}
