import type { SubscriberImportResponse, ImportedSubscriber } from "../../schemas/api.js";
import type { RuntimeClient } from "../runtime-client.js";
import { readSubscribersCsv } from "./read-csv.js";

/** Rows per request: large enough to amortise the round trip, small enough to stay well under the body limit. */
export const BATCH_SIZE = 5000;

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
  let inFlight: Promise<void> = Promise.resolve();
  const send = async (subscribers: ImportedSubscriber[]) => {
    const result = await client.importSubscribers(subscribers);
    summary.inserted += result.inserted;
    summary.updated += result.updated;
    summary.unchanged += result.unchanged;
    onProgress({ bytes, rows: summary.rows });
  };

  for await (const row of readSubscribersCsv(file, (n) => (bytes += n))) {
    summary.rows++;
    if ("rejected" in row) {
      summary.rejected.push({ line: row.line, reason: row.rejected });
      continue;
    }
    batch.push(row.subscriber);
    if (batch.length === BATCH_SIZE) {
      // One batch on the wire while the next is read; never more in memory.
      await inFlight;
      inFlight = send(batch);
      inFlight.catch(() => undefined);
      batch = [];
    }
  }
  await inFlight;
  if (batch.length > 0) await send(batch);
  onProgress({ bytes, rows: summary.rows });
  return summary;
}
