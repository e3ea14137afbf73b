import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { chmod, mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { once } from "node:events";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { nextSteps } from "../../cli/local/next-steps.js";
import { startCommand, type RunningCommand } from "../helpers/mk-up-process.js";
import { REPO_ROOT, runMk, STACK_LINE } from "../helpers/run-mk.js";
import { waitFor } from "../helpers/wait-for.js";

const BIN = path.join(REPO_ROOT, "bin", "run.js");
const READY = "Press Ctrl-C to stop.";

function mkUp(dataDir: string, ...args: string[]): RunningCommand {
  mkdirSync(path.dirname(dataDir), { recursive: true });
  return startCommand(process.execPath, [BIN, "up", "--port", "0", "--data-dir", dataDir, ...args], { cwd: path.dirname(dataDir), env: { ...process.env, NO_COLOR: "1", MK_UP_PORT: "" } });
}

function urlOf(output: string): string {
  const match = /URL:\s+(http:\/\/\S+)/.exec(output);
  assert.ok(match, `no URL in:\n${output}`);
  return match[1]!;
}

async function postmasterRunning(dataDir: string): Promise<boolean> {
  return existsSync(path.join(dataDir, "postgres", "postmaster.pid"));
}

describe("mk up", { timeout: 240_000 }, () => {
  let base: string;
  const running: RunningCommand[] = [];
  before(async () => {
    base = await mkdtemp(path.join(tmpdir(), "mk-up-"));
    // Enterable by others, so that run as root the clusters stay inside it rather than in /var/lib/mk.
    await chmod(base, 0o755);
  }, { timeout: 120_000 });
  after(async () => {
    await Promise.all(running.map((command) => command.signal("SIGKILL")));
    await rm(base, { recursive: true, force: true });
  }, { timeout: 120_000 });

  it("comes back after being SIGKILLed, refuses a second mk up on the same data, and stops cleanly on SIGINT", async () => {
    const dataDir = path.join(base, "killed", ".mk");
    const first = mkUp(dataDir);
    running.push(first);
    await first.waitForOutput(READY, 60_000);
    first.child.kill("SIGKILL");
    await first.exited;
    assert.ok(await postmasterRunning(dataDir), "its PostgreSQL outlived it");

    const second = mkUp(dataDir);
    running.push(second);
    await second.waitForOutput(READY, 60_000);
    const health = await fetch(`${urlOf(second.output())}/healthz`);
    assert.equal(health.status, 200);
    const runtimeFile = JSON.parse(await readFile(path.join(dataDir, "runtime.json"), "utf8")) as { pid: number };
    assert.equal(runtimeFile.pid, second.child.pid);

    const third = mkUp(dataDir);
    running.push(third);
    const refused = await third.exited;
    assert.equal(refused.code, 1);
    assert.match(third.output(), new RegExp(`^Error: MK094 another mk up \\(pid ${second.child.pid}\\) is running on ${dataDir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} at http://127\\.0\\.0\\.1:\\d+; use it, or stop it first\\n$`));

    const stopped = await second.signal("SIGINT");
    assert.equal(stopped.code, 0);
    assert.equal(await postmasterRunning(dataDir), false, "PostgreSQL stopped with it");
    assert.equal(existsSync(path.join(dataDir, "runtime.json")), false);
  });

  it("Ctrl-C while it starts stops what has started: no PostgreSQL left, no lock", async () => {
    const dataDir = path.join(base, "interrupted", ".mk");
    const up = mkUp(dataDir);
    running.push(up);
    // The lock is taken once the signal handlers are in place, just before PostgreSQL starts.
    await waitFor(async () => existsSync(path.join(dataDir, "up.lock")), 60_000, "mk up to take its lock");
    const exit = await up.signal("SIGINT");
    assert.equal(exit.code, 0, up.output());
    assert.equal(await postmasterRunning(dataDir), false, "PostgreSQL stopped");
    assert.equal(existsSync(path.join(dataDir, "up.lock")), false);
    assert.doesNotMatch(up.output(), STACK_LINE);
  });

  it("says in one line when its port is taken", async () => {
    const busy: Server = createServer().listen(0, "127.0.0.1");
    await once(busy, "listening");
    try {
      const port = String((busy.address() as { port: number }).port);
      const run = await runMk(["up", "--port", port, "--data-dir", path.join(base, "busy", ".mk")], { cwd: base });
      assert.equal(run.code, 1);
      assert.equal(run.stderr, `Error: MK094 port ${port} is in use; pass another with --port (or stop the other mk up)\n`);
      assert.doesNotMatch(run.stdout + run.stderr, STACK_LINE);
    } finally {
      busy.close();
    }
  });

  it("says in one line, with PostgreSQL's reason, when PostgreSQL cannot start", async () => {
    const dataDir = path.join(base, "denied", ".mk");
    const first = mkUp(dataDir);
    running.push(first);
    await first.waitForOutput(READY, 60_000);
    assert.equal((await first.signal("SIGINT")).code, 0);
    const global = path.join(dataDir, "postgres", "global");
    await chmod(global, 0o000);
    try {
      const started = Date.now();
      const run = await runMk(["up", "--port", "0", "--data-dir", dataDir], { cwd: base });
      assert.equal(run.code, 1);
      assert.match(run.stderr, /^Error: MK094 PostgreSQL could not start: .*Permission denied.*; the user ".+" must own .+ and be able to enter every folder above it; fix the permissions or choose another data folder\n$/);
      assert.doesNotMatch(run.stdout + run.stderr, STACK_LINE);
      assert.ok(Date.now() - started < 30_000);
    } finally {
      await chmod(global, 0o700);
    }
  });
});

describe("what mk up suggests next", { timeout: 10_000 }, () => {
  it("plan, import and send, as commands for the repository it applied", () => {
    const text = nextSteps({
      dir: path.join(REPO_ROOT, "example-campaigns"),
      applied: [
        { kind: "Campaign", name: "bangkok-coworking-launch", spec: { schedule: { at: "2027-03-01T09:00:00" } } },
        { kind: "Campaign", name: "monthly-digest-december", spec: {} },
      ],
      environment: { npm_command: "exec" },
    });
    const dir = path.join(REPO_ROOT, "example-campaigns");
    const commands = text.split("\n").filter((line) => line.startsWith("  npx mk"));
    assert.deepEqual(commands, [
      `  npx mk plan --dir ${dir}`,
      `  npx mk subscribers import ${path.join(dir, "subscribers.csv")} --dir ${dir}`,
      `  npx mk send monthly-digest-december --dir ${dir} && npx mk outbox list --dir ${dir}`,
    ]);
  });

  it("quotes a folder with a space, so the commands still paste", () => {
    const text = nextSteps({ dir: "my campaigns", applied: [], environment: {} });
    assert.match(text, /^ {2}mk plan --dir 'my campaigns'$/m);
  });

  it("without a repository: mk itself, and placeholders to fill in", () => {
    const text = nextSteps({ environment: {} });
    assert.match(text, /^ {2}mk plan$/m);
    assert.match(text, /^ {2}mk subscribers import people\.csv$/m);
    assert.match(text, /^ {2}mk send <campaign> && mk outbox list$/m);
  });
});
