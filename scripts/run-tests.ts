/**
 * `npm test`: every test/**\/*.test.ts through node's test runner (tsx),
 * each test and hook under a default timeout, the whole run under a budget;
 * then the runner's summary must show no failure, nothing cancelled, and at
 * least as many passes as test/declared-tests.json declares — so a green
 * run always means the whole suite ran. Extra arguments go to the runner
 * (`npm test -- --test-name-pattern=…`), and then the count is not checked.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { committedCount, testFiles } from "../test/suite/declared-tests.js";
import { parseSummary, summaryProblems } from "../test/suite/summary.js";

const root = fileURLToPath(new URL("..", import.meta.url));
/** A test or hook that takes longer fails (one may set its own, longer timeout). */
const TEST_TIMEOUT_MS = 120_000;
/** The whole run; CI allows 90 minutes, the suite takes about 10. */
const BUDGET_MS = Number(process.env["MK_TEST_BUDGET_MINUTES"] ?? 40) * 60_000;

const extra = process.argv.slice(2);
const files = extra.some((arg) => arg.endsWith(".test.ts")) ? [] : testFiles(path.join(root, "test"));
const child = spawn(
  process.execPath,
  ["--import", "tsx", "--test", "--test-reporter=spec", `--test-timeout=${TEST_TIMEOUT_MS}`, "--test-force-exit", ...extra, ...files.map((f) => path.relative(root, f))],
  { cwd: root, stdio: ["ignore", "pipe", "inherit"], detached: true },
);
let output = "";
child.stdout.on("data", (chunk: Buffer) => {
  output += chunk.toString();
  process.stdout.write(chunk);
});
const budget = setTimeout(() => {
  process.stdout.write(`\nthe test run went over its budget of ${BUDGET_MS / 60_000} minutes (MK_TEST_BUDGET_MINUTES): stopped\n`);
  process.kill(-child.pid!, "SIGKILL");
}, BUDGET_MS);
const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on("exit", (c, s) => resolve([c, s])));
clearTimeout(budget);

const summary = parseSummary(output);
const problems = extra.length > 0 && summary ? summaryProblems(summary, 0) : summaryProblems(summary, committedCount(path.join(root, "test", "declared-tests.json")), output);
if (summary) process.stdout.write(`\nsuite: ${summary.pass} passed, ${summary.fail} failed\n`);
for (const problem of problems) process.stdout.write(`suite check failed: ${problem}\n`);
process.exitCode = code !== 0 || signal ? (code ?? 1) : problems.length > 0 ? 1 : 0;
