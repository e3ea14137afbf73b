import { writeFileSync } from "node:fs";

/**
 * A node:test reporter that writes, as one JSON object, what ran in each
 * test file: passed, failed (cancelled included) and skipped tests (suites
 * not counted), with the skip reasons, and whether the file ended without
 * reporting any test (node's runner then counts the file itself as a pass).
 * `npm test` holds it to the tests each file declares (scripts/run-tests.ts).
 * The counts go to the file MK_TEST_COUNTS_FILE names, rewritten after each
 * test: with --test-force-exit the runner may exit before a reporter's last
 * words reach its destination. Plain JavaScript: node loads reporters before
 * tsx's loader is in place.
 *
 * @param {AsyncIterable<{ type: string, data: { file?: string, skip?: string | boolean, name: string, details?: { type?: string } } }>} source
 * @returns {AsyncGenerator<string>}
 */
export default async function* countReporter(source) {
  const out = process.env["MK_TEST_COUNTS_FILE"];
  if (!out) throw new Error("count-reporter: set MK_TEST_COUNTS_FILE to the file for the counts");
  /** @type {Record<string, import("./summary.js").FileCounts>} */
  const files = {};
  for await (const event of source) {
    if (event.type !== "test:pass" && event.type !== "test:fail") continue;
    const { data } = event;
    if (data.details?.type === "suite" || !data.file) continue;
    const counts = (files[data.file] ??= { pass: 0, fail: 0, skipped: [], exitedEarly: false });
    // The runner's own entry for a file that reported no test: it ran none (a pass if it exited 0).
    if (data.name === data.file && event.type === "test:pass") counts.exitedEarly = true;
    else if (data.skip !== undefined && data.skip !== false) counts.skipped.push(`${data.name}: ${data.skip === true ? "skipped" : data.skip}`);
    else if (event.type === "test:pass") counts.pass++;
    else counts.fail++;
    writeFileSync(out, `${JSON.stringify(files, null, 2)}\n`);
  }
  yield* [];
}
