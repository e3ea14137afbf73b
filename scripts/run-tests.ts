/**
 * `npm test`: every test/**\/*.test.ts through node's test runner (tsx), its
 * spec output on the terminal and a count of what ran in each file
 * (test/suite/count-reporter.mjs). It passes only when no test failed, was
 * cancelled or skipped, and every file passed at least the tests it declares
 * (test/suite/declared-tests.ts) — so a green run always means the whole
 * suite ran. Every suite, test and hook declares a timeout (a test checks);
 * the runner's --test-timeout caps each file, and a budget the whole run.
 * Test files given as arguments run alone, held to the same rules. One
 * embedded PostgreSQL serves the whole run (test/helpers/database.ts).
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { committedCount, declaredByFile, testFiles } from "../test/suite/declared-tests.js";
import { runProblems, type FileCounts } from "../test/suite/summary.js";
import { CLUSTER_URL_VARIABLE, startTestCluster } from "../test/helpers/test-cluster.js";

const root = fileURLToPath(new URL("..", import.meta.url));
/** No file may take longer; a suite, test or hook that hangs fails at its own, shorter timeout. */
const FILE_TIMEOUT_MS = 15 * 60_000;
/**
 * Test files run two at a time: most of a file's time is spent waiting for
 * PostgreSQL, spawned mk processes and servers, so on two cores the suite
 * takes three quarters of the time it takes one file at a time.
 */
const CONCURRENCY = Number(process.env["MK_TEST_CONCURRENCY"] ?? 2);
/** The whole run; CI allows 90 minutes, the suite takes about 10. */
const BUDGET_MS = Number(process.env["MK_TEST_BUDGET_MINUTES"] ?? 40) * 60_000;

const given = process.argv.slice(2).map((file) => path.resolve(file));
const files = given.length > 0 ? given : testFiles(path.join(root, "test"));
const scratch = await mkdtemp(path.join(tmpdir(), "mk-test-run-"));
const countsFile = path.join(scratch, "counts.json");
// One PostgreSQL cluster for the run, with a migrated template: each test file makes its databases there (test/helpers/database.ts).
// A run inside a run (the suite's own tests of this runner) uses the outer one's.
const inherited = process.env[CLUSTER_URL_VARIABLE];
const cluster = inherited
  ? { url: inherited, stop: async () => {} }
  : await startTestCluster().catch((error: unknown) => {
      process.stdout.write(`the tests' PostgreSQL could not start: ${(error as Error).message}\n`);
      process.exit(1);
    });
const child = spawn(
  process.execPath,
  [
    "--import",
    "tsx",
    "--test",
    `--test-timeout=${FILE_TIMEOUT_MS}`,
    "--test-force-exit",
    `--test-concurrency=${CONCURRENCY}`,
    "--test-reporter=spec",
    "--test-reporter-destination=stdout",
    `--test-reporter=${path.join(root, "test", "suite", "count-reporter.mjs")}`,
    "--test-reporter-destination=stderr",
    ...files.map((file) => path.relative(root, file)),
  ],
  { cwd: root, env: { ...process.env, MK_TEST_COUNTS_FILE: countsFile, [CLUSTER_URL_VARIABLE]: cluster.url }, stdio: ["ignore", "inherit", "inherit"], detached: true },
);
// The runner has its own process group (so the budget can stop all of it): pass Ctrl-C and the like on.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => process.kill(-child.pid!, signal));
const budget = setTimeout(() => {
  process.stdout.write(`\nthe test run went over its budget of ${BUDGET_MS / 60_000} minutes (MK_TEST_BUDGET_MINUTES): stopped\n`);
  process.kill(-child.pid!, "SIGKILL");
}, BUDGET_MS);
const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on("exit", (c, s) => resolve([c, s])));
clearTimeout(budget);
await cluster.stop();

const ran = await readFile(countsFile, "utf8").then((text) => (text.trim() ? (JSON.parse(text) as Record<string, FileCounts>) : undefined), () => undefined);
await rm(scratch, { recursive: true, force: true });
const declared = declaredByFile(files);
const problems = runProblems(ran, declared);
if (given.length === 0) {
  const committed = committedCount(path.join(root, "test", "declared-tests.json"));
  const total = [...declared.values()].reduce((sum, n) => sum + n, 0);
  if (total < committed) problems.push(`the test files declare ${total} tests, fewer than the ${committed} test/declared-tests.json holds: were tests or files removed?`);
}
const passed = Object.values(ran ?? {}).reduce((sum, counts) => sum + counts.pass, 0);
const failed = Object.values(ran ?? {}).reduce((sum, counts) => sum + counts.fail, 0);
process.stdout.write(`\nsuite: ${passed} passed, ${failed} failed\n`);
for (const problem of problems) process.stdout.write(`suite check failed: ${problem}\n`);
process.exitCode = code !== 0 || signal ? (code ?? 1) : problems.length > 0 ? 1 : 0;
