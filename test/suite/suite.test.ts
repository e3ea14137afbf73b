import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { REPO_ROOT } from "../helpers/run-mk.js";
import { committedCount, countDeclaredTests, testFiles } from "./declared-tests.js";
import { parseSummary, summaryProblems } from "./summary.js";

/** node's test runner on `files`, as npm test runs it; its output and exit code. */
function runTests(files: string[], options: { env?: NodeJS.ProcessEnv; testTimeoutMs?: number } = {}): Promise<{ code: number; output: string }> {
  // Without this variable the inner runner would take itself for a file of ours and run nothing.
  const { NODE_TEST_CONTEXT: _, ...outer } = process.env;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "--test", "--test-reporter=spec", `--test-timeout=${options.testTimeoutMs ?? 60_000}`, "--test-force-exit", ...files],
      { cwd: REPO_ROOT, env: { ...outer, ...options.env }, timeout: 90_000 },
      (error, stdout, stderr) => resolve({ code: typeof error?.code === "number" ? error.code : error ? 1 : 0, output: stdout + stderr }),
    );
  });
}

describe("the suite cannot pass without running", { timeout: 180_000 }, () => {
  let dir: string;
  const write = async (name: string, text: string) => {
    const file = path.join(dir, name);
    await writeFile(file, text);
    return file;
  };
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "mk-suite-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("the committed count is the number of tests the files declare", () => {
    const declared = countDeclaredTests(testFiles(path.join(REPO_ROOT, "test")));
    assert.equal(committedCount(path.join(REPO_ROOT, "test", "declared-tests.json")), declared, `set declaredTests in test/declared-tests.json to ${declared}`);
  });

  it("counts node:test calls from the syntax, not from text that looks like one", async () => {
    const file = await write("count.test.ts", 'import { it, test } from "node:test";\n// it("a comment")\nconst s = "test(1)";\nit("a", () => {});\nfor (const n of [1, 2]) test(`b${n}`, () => {});\n');
    assert.equal(countDeclaredTests([file]), 2);
  });

  it("a file that exits before its tests run passes in node's own count, and fails the check", async () => {
    const silent = await write("silent.test.ts", 'import { before, it } from "node:test";\nbefore(() => process.exit(0));\nit("never runs", () => {});\nit("nor this", () => {});\n');
    const run = await runTests([silent]);
    assert.equal(run.code, 0, "node's runner alone calls this a success");
    const summary = parseSummary(run.output);
    assert.deepEqual(summary && { pass: summary.pass, fail: summary.fail }, { pass: 1, fail: 0 });
    assert.deepEqual(summaryProblems(summary, 2, run.output), [
      "1 passed, fewer than the 2 tests the repository declares (test/declared-tests.json); a test file ended without running its tests",
    ]);
  });

  it("a hook that hangs times out and cancels its tests, which fails the check", async () => {
    const hangs = await write("hangs.test.ts", 'import { before, describe, it } from "node:test";\ndescribe("s", () => {\n  before(() => new Promise(() => setInterval(() => {}, 1000)));\n  it("waits", () => {});\n});\n');
    const run = await runTests([hangs], { testTimeoutMs: 3000 });
    assert.match(run.output, /timed out after 3000ms/);
    const problems = summaryProblems(parseSummary(run.output), 1, run.output);
    assert.ok(problems.some((p) => p.startsWith("1 cancelled")), problems.join("\n"));
  });

  it("a PostgreSQL that cannot start fails the files that need it, with PostgreSQL's reason", async () => {
    const busy = createServer().listen(0, "127.0.0.1");
    await once(busy, "listening");
    try {
      const port = (busy.address() as { port: number }).port;
      const helpers = path.join(REPO_ROOT, "test", "helpers", "database.ts");
      const needsDatabase = await write(
        "needs-db.test.ts",
        `import { after, before, describe, it } from "node:test";\nimport { freshDatabase, stopDatabase } from ${JSON.stringify(helpers)};\n` +
          `describe("with a database", () => {\n  before(() => freshDatabase());\n  after(() => stopDatabase());\n  it("uses it", () => {});\n  it("and again", () => {});\n});\n`,
      );
      const run = await runTests([needsDatabase], { env: { MK_TEST_POSTGRES_PORT: String(port) } });
      assert.notEqual(run.code, 0);
      assert.match(run.output, /PostgreSQL could not start: could not bind IPv4 address "127\.0\.0\.1": Address already in use/);
      const problems = summaryProblems(parseSummary(run.output), 2, run.output);
      assert.ok(problems.length > 0 && problems.every((p) => !p.startsWith("the test runner printed no summary")), problems.join("\n"));
    } finally {
      busy.close();
    }
  });

  it("a run with no summary (stopped) is not a pass", () => {
    assert.deepEqual(summaryProblems(undefined, 1), ["the test runner printed no summary: it was stopped before it finished"]);
  });

  it("npm test runs the checker on the whole suite", async () => {
    const pkg = JSON.parse(await readFile(path.join(REPO_ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
    assert.equal(pkg.scripts["test"], "npm run build && node --import tsx scripts/run-tests.ts");
  });
});
