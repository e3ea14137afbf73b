import type { SubscriberImportResponse, ImportedSubscriber } from "../../schemas/api.js";
import type { RuntimeClient } from "../runtime-client.js";
import { readSubscribersCsv } from "./read-csv.js";

/** Rows per request: large enough to amortise the round trip, small enough to stay well under the body limit. */
export const BATCH_SIZE = 5000;
/** Characters of JSON per request at most, however large the rows: under the runtime's 32 MiB body limit for the import even at three bytes a character. */
export const BATCH_CHARACTERS = 8 * 1024 * 1024;

export interface ImportSummary extends SubscriberImportResponse {
  rows: number;
  rejected: { line: number; reason: string }[];
}

export interface ImportProgress {
  bytes: number;
  rows: number;
}

/**
 * `mk subscribers import`: read the CSV, send valid rows in batches (the next
 * batch is read while the last one is sent), collect the rejected ones with
 * their line numbers. A batch the runtime refuses stops the import; the
 * batches before it stay imported, and importing the file again is safe.
 */
export async function importSubscribersCsv(file: string, client: RuntimeClient, onProgress: (p: ImportProgress) => void = () => {}): Promise<ImportSummary> {
  const summary: ImportSummary = { rows: 0, inserted: 0, updated: 0, unchanged: 0, rejected: [] };
  let bytes = 0;
  let batch: ImportedSubscriber[] = [];
  let characters = 0;
  let inFlight: Promise<void> = Promise.resolve();
  const send = async (subscribers: ImportedSubscriber[]) => {
    const result = await client.importSubscribers(subscribers);
    summary.inserted += result.inserted;
    summary.updated += result.updated;
    summary.unchanged += result.unchanged;
    onProgress({ bytes, rows: summary.rows });
  };
  const flush = async () => {
    // One batch on the wire while the next is read; never more in memory.
    await inFlight;
    inFlight = send(batch);
    inFlight.catch(() => undefined);
    batch = [];
    characters = 0;
  };

  for await (const row of readSubscribersCsv(file, (n) => (bytes += n))) {
    summary.rows++;
    if ("rejected" in row) {
      summary.rejected.push({ line: row.line, reason: row.rejected });
      continue;
    }
    const size = JSON.stringify(row.subscriber).length + 1;
    if (batch.length > 0 && characters + size > BATCH_CHARACTERS) await flush();
    batch.push(row.subscriber);
    characters += size;
    if (batch.length === BATCH_SIZE) await flush();
  }
  await inFlight;
  if (batch.length > 0) await send(batch);
  onProgress({ bytes, rows: summary.rows });
  return summary;
}
