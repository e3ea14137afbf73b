import path from "node:path";
import type { SubscriberImportResponse, ImportedSubscriber } from "../../schemas/api.js";
import type { RuntimeClient } from "../runtime-client.js";
import type { FormatName, Target } from "./formats.js";
import { importRowOf } from "../../schemas/subscriber-import.js";
import { hygieneProblem } from "./hygiene.js";
import { readSubscribersCsvChunks } from "./read-csv.js";

/** Rows per request: large enough to amortise the round trip, small enough to stay well under the body limit. */
export const BATCH_SIZE = 5000;
/** Characters of JSON per request at most, however large the rows: under the runtime's 32 MiB body limit for the import even at three bytes a character. */
export const BATCH_CHARACTERS = 8 * 1024 * 1024;

export interface ImportSummary extends SubscriberImportResponse {
  /** The layout of the file: mk's own, an export recognised by its header, or "mapped" (--map). */
  format: { name: FormatName; title: string };
  rows: number;
  rejected: { line: number; reason: string }[];
  /** Valid rows left out on purpose: role addresses and disposable domains, unless allowed. */
  skipped: { role: number; disposable: number; rows: { line: number; field: string; reason: string }[] };
}

export interface ImportOptions {
  map?: Record<string, Target>;
  allowRole?: boolean;
  allowDisposable?: boolean;
  onProgress?: (p: ImportProgress) => void;
}

export interface ImportProgress {
  bytes: number;
  rows: number;
}

/**
 * Batches on the wire at once: the runtime merges each in one statement of
 * its own, so PostgreSQL works on several while the next is read.
 */
export const IN_FLIGHT = 3;

interface SentBatch {
  emails: ReadonlySet<string>;
  /** Settles when the runtime answered (never rejects: a refusal is kept as the import's failure). */
  done: Promise<void>;
}

/**
 * `mk subscribers import`: read the CSV, send valid rows in batches (up to
 * IN_FLIGHT on the wire while the next is read), collect the rejected ones
 * with their line numbers and the skipped ones (role, disposable) with the
 * column and why. A batch that shares an email with one still on the wire
 * waits for it, so the last row of an email wins as it does within a batch.
 * Each subscriber carries its line and each request the file's name, the
 * source of the consent the runtime records. A batch the runtime refuses
 * stops the import once the batches on the wire have answered; those and the
 * ones before stay imported, and importing the file again is safe.
 */
export async function importSubscribersCsv(file: string, client: RuntimeClient, options: ImportOptions = {}): Promise<ImportSummary> {
  const onProgress = options.onProgress ?? (() => {});
  const summary: ImportSummary = {
    format: { name: "mk", title: "mk subscribers CSV" },
    rows: 0, inserted: 0, updated: 0, unchanged: 0, rejected: [],
    skipped: { role: 0, disposable: 0, rows: [] },
  };
  const source = sourceName(file);
  const allow = { role: options.allowRole, disposable: options.allowDisposable };
  let emailColumn = "email";
  let bytes = 0;
  let batch: ImportedSubscriber[] = [];
  // Each row of the batch as the JSON it is sent as, written once: its length is what BATCH_CHARACTERS bounds.
  let json: string[] = [];
  let characters = 0;
  let onWire: SentBatch[] = [];
  let failure: { error: unknown } | undefined;
  const send = async (subscribers: ImportedSubscriber[], rows: string[]) => {
    const result = await client.importSubscribers(rows, source);
    summary.inserted += result.inserted;
    summary.updated += result.updated;
    summary.unchanged += result.unchanged;
    for (const r of result.refused ?? []) summary.rejected.push({ line: r.line ?? subscribers[r.index]?.line ?? 0, reason: r.reason });
    onProgress({ bytes, rows: summary.rows });
  };
  const settled = async () => {
    await Promise.all(onWire.map((b) => b.done));
    if (failure) throw failure.error;
  };
  const flush = async () => {
    const [subscribers, rows] = [batch, json];
    batch = [];
    json = [];
    characters = 0;
    await Promise.all(onWire.filter((b) => subscribers.some((s) => b.emails.has(s.email))).map((b) => b.done));
    while (onWire.length >= IN_FLIGHT) await Promise.race(onWire.map((b) => b.done));
    if (failure) return settled();
    const sent: SentBatch = {
      emails: new Set(subscribers.map((s) => s.email)),
      done: send(subscribers, rows)
        .catch((error: unknown) => void (failure ??= { error }))
        .finally(() => (onWire = onWire.filter((b) => b !== sent))),
    };
    onWire.push(sent);
  };

  const chunks = readSubscribersCsvChunks(file, {
    map: options.map,
    onBytes: (n) => (bytes += n),
    onFormat: (format) => {
      summary.format = { name: format.name, title: format.title };
      emailColumn = format.columnOf("email");
    },
  });
  try {
    for await (const rows of chunks) {
      for (const row of rows) {
        summary.rows++;
        if ("rejected" in row) {
          summary.rejected.push({ line: row.line, reason: row.rejected });
          continue;
        }
        const problem = hygieneProblem(row.subscriber.email, allow);
        if (problem) {
          summary.skipped[problem.kind]++;
          summary.skipped.rows.push({ line: row.line, field: emailColumn, reason: problem.reason });
          continue;
        }
        const text = JSON.stringify(importRowOf(row.subscriber));
        if (batch.length > 0 && characters + text.length + 1 > BATCH_CHARACTERS) await flush();
        batch.push(row.subscriber);
        json.push(text);
        characters += text.length + 1;
        if (batch.length === BATCH_SIZE) await flush();
      }
    }
    if (batch.length > 0) await flush();
  } finally {
    // A file that stops being readable midway still waits for the batches on the wire.
    await Promise.all(onWire.map((b) => b.done));
  }
  await settled();
  // Rows the runtime refused come back after the ones read as bad: one list in file order.
  summary.rejected.sort((a, b) => a.line - b.line);
  onProgress({ bytes, rows: summary.rows });
  return summary;
}

/** The file as the consent history names it: relative to the working directory when inside it, else its base name. */
function sourceName(file: string): string {
  const relative = path.relative(process.cwd(), path.resolve(file));
  return relative.startsWith("..") || path.isAbsolute(relative) ? path.basename(file) : relative.split(path.sep).join("/");
}
