import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import ts from "typescript";
import { REPO_ROOT } from "../helpers/run-mk.js";
import { committedCount, countDeclaredTests, testFiles } from "./declared-tests.js";

const RUNNER = path.join(REPO_ROOT, "scripts", "run-tests.ts");

/** `npm test`'s runner (scripts/run-tests.ts) on `files`: its exit code and output. */
function runSuite(files: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; output: string }> {
  // Without this variable the inner runner would take itself for a file of ours and run nothing.
  const { NODE_TEST_CONTEXT: _, ...outer } = process.env;
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", "tsx", RUNNER, ...files], { cwd: REPO_ROOT, env: { ...outer, ...env }, timeout: 90_000 }, (error, stdout, stderr) =>
      resolve({ code: typeof error?.code === "number" ? error.code : error ? 1 : 0, output: stdout + stderr }),
    );
  });
}

const SUITE_CALLS = new Set(["describe", "it", "test"]);
const HOOK_CALLS = new Set(["before", "after", "beforeEach", "afterEach"]);

/**
 * The suites, tests and hooks of `file` that declare no timeout: every hook
 * (node 20 lets a hook hang past its suite's timeout), and every top-level
 * suite or test (those inside a suite run under its timeout).
 */
function withoutTimeout(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const missing: string[] = [];
  const visit = (node: ts.Node, topLevel: boolean): void => {
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression)) {
      const name = node.expression.text;
      const timed = node.arguments.some((arg) => ts.isObjectLiteralExpression(arg) && arg.properties.some((p) => p.name !== undefined && ts.isIdentifier(p.name) && p.name.text === "timeout"));
      if (!timed && (HOOK_CALLS.has(name) || (topLevel && SUITE_CALLS.has(name)))) {
        missing.push(`${path.relative(REPO_ROOT, file)}:${source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1} ${name}`);
      }
    }
    ts.forEachChild(node, (child) => visit(child, topLevel && !(ts.isFunctionLike(node) || ts.isBlock(node))));
  };
  for (const statement of source.statements) visit(statement, true);
  return missing;
}

describe("the suite can neither hang nor pass without running", { timeout: 300_000 }, () => {
  let dir: string;
  const write = async (name: string, text: string) => {
    const file = path.join(dir, name);
    await writeFile(file, text);
    return file;
  };
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "mk-suite-"));
  }, { timeout: 10_000 });
  after(() => rm(dir, { recursive: true, force: true }), { timeout: 10_000 });

  it("the committed count is the number of tests the files declare", () => {
    const declared = countDeclaredTests(testFiles(path.join(REPO_ROOT, "test")));
    assert.equal(committedCount(path.join(REPO_ROOT, "test", "declared-tests.json")), declared, `set declaredTests in test/declared-tests.json to ${declared}`);
  });

  it("every hook, and every top-level suite and test, of every test file declares a timeout", async () => {
    const missing: string[] = [];
    for (const file of testFiles(path.join(REPO_ROOT, "test"))) missing.push(...withoutTimeout(file, await readFile(file, "utf8")));
    assert.deepEqual(missing, []);
    const sample = 'describe("s", () => {});\nafter(() => {}, { timeout: 1 });\nit("t", { timeout: 1 }, () => {});\ndescribe("d", { timeout: 1 }, () => {\n  before(() => {});\n  it("inner", () => {});\n});\n';
    assert.deepEqual(withoutTimeout("x.test.ts", sample), ["x.test.ts:1 describe", "x.test.ts:5 before"]);
  });

  it("counts node:test calls from the syntax, not from text that looks like one", async () => {
    const file = await write("count.test.ts", 'import { it, test } from "node:test";\n// it("a comment")\nconst s = "test(1)";\nit("a", () => {});\nfor (const n of [1, 2]) test(`b${n}`, () => {});\n');
    assert.equal(countDeclaredTests([file]), 2);
  });

  it("passes a file whose declared tests all pass", async () => {
    const fine = await write("fine.test.ts", 'import { it } from "node:test";\nit("one", { timeout: 1000 }, () => {});\nfor (const n of [1, 2]) it(`more ${n}`, { timeout: 1000 }, () => {});\n');
    const run = await runSuite([fine]);
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /^suite: 3 passed, 0 failed$/m);
  });

  it("fails a file that exits before its tests run, which node's runner alone calls a pass", async () => {
    const silent = await write("silent.test.ts", 'import { before, it } from "node:test";\nbefore(() => process.exit(0), { timeout: 1000 });\nit("never runs", { timeout: 1000 }, () => {});\nit("nor this", { timeout: 1000 }, () => {});\n');
    const run = await runSuite([silent]);
    assert.equal(run.code, 1, run.output);
    assert.match(run.output, /^suite check failed: .*silent\.test\.ts: ended without running any of the 2 tests it declares \(and exited 0\)$/m);
  });

  it("fails a file that stops halfway", async () => {
    const half = await write("half.test.ts", 'import { it } from "node:test";\nit("runs", { timeout: 1000 }, () => {});\nit("exits", { timeout: 1000 }, () => process.exit(0));\nit("never runs", { timeout: 1000 }, () => {});\n');
    const run = await runSuite([half]);
    assert.equal(run.code, 1, run.output);
    assert.match(run.output, /^suite check failed: .*half\.test\.ts: /m);
  });

  it("fails a hook that hangs: its timeout cancels the tests under it", async () => {
    const hangs = await write("hangs.test.ts", 'import { before, describe, it } from "node:test";\ndescribe("s", { timeout: 20000 }, () => {\n  before(() => new Promise(() => setInterval(() => {}, 1000)), { timeout: 2000 });\n  it("waits", () => {});\n});\n');
    const started = Date.now();
    const run = await runSuite([hangs]);
    assert.equal(run.code, 1, run.output);
    assert.match(run.output, /timed out after 2000ms/);
    assert.match(run.output, /^suite check failed: .*hangs\.test\.ts: 1 failed or cancelled$/m);
    assert.ok(Date.now() - started < 60_000);
  });

  it("fails a skipped test, naming why it was skipped", async () => {
    const skips = await write("skips.test.ts", 'import { it } from "node:test";\nit("needs a tool", { timeout: 1000, skip: "the tool is not installed" }, () => {});\n');
    const run = await runSuite([skips]);
    assert.equal(run.code, 1, run.output);
    assert.match(run.output, /^suite check failed: .*skips\.test\.ts: 1 skipped \(needs a tool: the tool is not installed\)$/m);
  });

  it("fails the run when its PostgreSQL cannot start, with PostgreSQL's reason, before any file runs", async () => {
    const busy = createServer().listen(0, "127.0.0.1");
    await once(busy, "listening");
    try {
      const port = (busy.address() as { port: number }).port;
      const helpers = path.join(REPO_ROOT, "test", "helpers", "database.ts");
      const needsDatabase = await write(
        "needs-db.test.ts",
        `import { after, before, describe, it } from "node:test";\nimport { freshDatabase, stopDatabase } from ${JSON.stringify(helpers)};\n` +
          `describe("with a database", { timeout: 60000 }, () => {\n  before(() => freshDatabase());\n  after(() => stopDatabase());\n  it("uses it", () => {});\n  it("and again", () => {});\n});\n`,
      );
      // Not the outer run's cluster: this run starts its own, on a port in use.
      const run = await runSuite([needsDatabase], { MK_TEST_CLUSTER_URL: "", MK_TEST_POSTGRES_PORT: String(port) });
      assert.equal(run.code, 1, run.output);
      assert.match(run.output, /^the tests' PostgreSQL could not start: .*could not bind IPv4 address "127\.0\.0\.1": Address already in use/m);
      assert.doesNotMatch(run.output, /uses it/);
    } finally {
      busy.close();
    }
  });

  it("npm test is this runner on the whole suite, and soak on the crash tests", async () => {
    const pkg = JSON.parse(await readFile(path.join(REPO_ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
    assert.equal(pkg.scripts["test"], "npm run build && node --import tsx scripts/run-tests.ts");
    assert.equal(pkg.scripts["soak"], "MK_CRASH_ROUNDS=20 node --import tsx scripts/run-tests.ts test/runtime/sending/crash.test.ts test/runtime/sequences/crash.test.ts");
  });
});
