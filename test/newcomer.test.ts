import assert from "node:assert/strict";
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { chmod, cp, mkdtemp, readFile, realpath, rm } from "node:fs/promises";
import { tmpdir, userInfo } from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { freePort } from "../runtime/db/embedded.js";
import { startCommand, type RunningCommand } from "./helpers/mk-up-process.js";
import { waitFor } from "./helpers/wait-for.js";
import { REPO_ROOT } from "./helpers/run-mk.js";

/** The README's first set-up command, exactly as written there (its comment cut). */
function readmeFirstCommand(): string {
  const readme = readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
  const setUp = /## Set-up[\s\S]*?```sh\n([^\n]+)\n/.exec(readme);
  assert.ok(setUp, "the README has a Set-up section with a sh block");
  return setUp[1]!.replace(/\s+#.*$/, "");
}

const READY = "Press Ctrl-C to stop.";
const isRoot = process.getuid?.() === 0;
const USER = "mk-newcomer";

interface Newcomer {
  /** The user's home (mode 700): the clone is in `home/mk`. */
  home: string;
  uid?: number;
  gid?: number;
  remove: () => Promise<void>;
}

/** Root in a folder under /root that only root can enter: what a new VM or container gives you. */
async function rootNewcomer(): Promise<Newcomer> {
  const home = await mkdtemp(path.join(userInfo().homedir, "mk-newcomer-"));
  await chmod(home, 0o700);
  return {
    home,
    remove: async () => {
      // PostgreSQL could not enter the clone, so its cluster is in /var/lib/mk/clusters: remove it too.
      const cluster = await realpath(path.join(home, "mk", ".mk", "postgres")).catch(() => undefined);
      if (cluster && cluster.startsWith("/var/lib/mk/clusters/")) await rm(cluster, { recursive: true, force: true });
      await rm(home, { recursive: true, force: true });
    },
  };
}

/** A user in their own home folder (mode 700): created for the test when run as root, else the user running it. */
async function userNewcomer(): Promise<Newcomer> {
  if (!isRoot) {
    const home = await mkdtemp(path.join(tmpdir(), "mk-newcomer-"));
    await chmod(home, 0o700);
    return { home, remove: () => rm(home, { recursive: true, force: true }) };
  }
  const home = `/home/${USER}`;
  // Left by an earlier run that was killed: start afresh.
  spawnSync("userdel", ["--remove", USER], { stdio: "ignore" });
  execFileSync("useradd", ["--create-home", "--home-dir", home, "--shell", "/bin/bash", USER]);
  await chmod(home, 0o700);
  const uid = Number(execFileSync("id", ["-u", USER]).toString());
  const gid = Number(execFileSync("id", ["-g", USER]).toString());
  return { home, uid, gid, remove: async () => void spawnSync("userdel", ["--remove", USER], { stdio: "ignore" }) };
}

/**
 * A fresh clone of this repository in `home/mk`, with the work tree's
 * uncommitted changes laid over it (none in CI, which tests a clean clone),
 * owned by the newcomer; npm's cache beside it, so `npm install` needs no
 * network (tests reach nothing but loopback).
 */
async function cloneFor(newcomer: Newcomer): Promise<{ clone: string; env: NodeJS.ProcessEnv }> {
  const clone = path.join(newcomer.home, "mk");
  execFileSync("git", ["clone", "--quiet", REPO_ROOT, clone]);
  const changed = execFileSync("git", ["ls-files", "--modified", "--others", "--exclude-standard"], { cwd: REPO_ROOT }).toString().split("\n").filter(Boolean);
  for (const file of changed) if (existsSync(path.join(REPO_ROOT, file))) await cp(path.join(REPO_ROOT, file), path.join(clone, file));
  const cache = path.join(newcomer.home, ".npm");
  await cp(execFileSync("npm", ["config", "get", "cache"]).toString().trim(), cache, { recursive: true });
  if (newcomer.uid !== undefined) execFileSync("chown", ["-R", `${newcomer.uid}:${newcomer.gid}`, newcomer.home]);
  // A fresh shell's environment: none of npm test's npm_* variables, the runner's context or mk's settings.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(npm_|NODE_TEST|MK_|INIT_CWD)/.test(name)));
  return { clone, env: { ...env, HOME: newcomer.home, USER: newcomer.uid === undefined ? (process.env["USER"] ?? "") : USER, npm_config_cache: cache, npm_config_offline: "true", NO_COLOR: "1" } };
}

/** A command of what mk up printed, run as the newcomer in the clone. */
function shell(command: string, clone: string, env: NodeJS.ProcessEnv, newcomer: Newcomer): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile("bash", ["-c", command], { cwd: clone, env, timeout: 120_000, ...(newcomer.uid === undefined ? {} : { uid: newcomer.uid, gid: newcomer.gid! }) }, (error, stdout, stderr) =>
      resolve({ code: typeof error?.code === "number" ? error.code : error ? 1 : 0, output: stdout + stderr }),
    );
  });
}

async function firstContact(newcomer: Newcomer): Promise<void> {
  const { clone, env } = await cloneFor(newcomer);
  const port = await freePort();
  const run = () =>
    startCommand("bash", ["-c", readmeFirstCommand()], { cwd: clone, env: { ...env, MK_UP_PORT: String(port) }, ...(newcomer.uid === undefined ? {} : { uid: newcomer.uid, gid: newcomer.gid! }) });

  // 1. The README's first command: installed, built, up, the example applied.
  const first = run();
  try {
    await first.waitForOutput(READY, 300_000);
    const output = first.output();
    assert.match(output, /Apply complete! Resources: \d+ added, 0 changed, 0 deleted\./);
    assert.doesNotMatch(output, /^\s+at .+:\d+/m, "no stack trace");
    const url = `http://127.0.0.1:${port}`;
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
    if (newcomer.uid === undefined && isRoot) {
      assert.match(await realpath(path.join(clone, ".mk", "postgres")), /^\/var\/lib\/mk\/clusters\/[0-9a-f]{16}$/, "PostgreSQL's data where the user postgres can reach it");
    }
    const token = (await readFile(path.join(clone, ".mk", "api-token"), "utf8")).trim();
    const state = (await (await fetch(`${url}/v1/state`, { headers: { authorization: `Bearer ${token}` } })).json()) as { resources: { kind: string; name: string }[] };
    assert.ok(state.resources.some((r) => r.kind === "Campaign" && r.name === "monthly-digest-december"));
    assert.ok(state.resources.some((r) => r.kind === "Sequence" && r.name === "onboarding"));

    // 2. What it says to try next works as printed: plan, import, send.
    const commands = output
      .split("\n")
      .filter((line) => line.startsWith("  npx mk "))
      .map((line) => line.trim());
    assert.deepEqual(
      commands.map((c) => c.split(" ")[2]),
      ["plan", "subscribers", "send"],
    );
    for (const command of commands) {
      const result = await shell(command, clone, env, newcomer);
      assert.equal(result.code, 0, `${command}:\n${result.output}`);
      if (command.includes(" plan")) assert.match(result.output, /No changes\./);
    }
    const deadline = Date.now() + 60_000;
    let messages = 0;
    while (Date.now() < deadline && messages < 7) {
      const listed = await shell("npx mk outbox list --dir example-campaigns --json", clone, env, newcomer);
      messages = listed.code === 0 ? (JSON.parse(listed.output) as unknown[]).length : 0;
      if (messages < 7) await new Promise((resolve) => setTimeout(resolve, 500));
    }
    assert.equal(messages, 7, "the seven opted-in sample subscribers got the digest");
  } finally {
    await ctrlC(first, clone);
  }

  // 3. The same command again: the data is reused, nothing to apply.
  const second = run();
  try {
    await second.waitForOutput(READY, 300_000);
    assert.match(second.output(), /No changes\./);
  } finally {
    await ctrlC(second, clone);
  }
}

/**
 * Ctrl-C in the terminal: SIGINT to the whole process group. bash and npx
 * end on the signal, as in a terminal; mk up stops the runtime and
 * PostgreSQL and removes runtime.json.
 */
async function ctrlC(command: RunningCommand, clone: string): Promise<void> {
  const exit = await command.signal("SIGINT");
  assert.ok(exit.code === 0 || exit.signal === "SIGINT", `ended by Ctrl-C, not otherwise: ${JSON.stringify(exit)}\n${command.output()}`);
  await waitFor(
    async () => !existsSync(path.join(clone, ".mk", "runtime.json")) && !existsSync(path.join(clone, ".mk", "postgres", "postmaster.pid")),
    30_000,
    "mk up to stop the runtime and PostgreSQL",
  );
  assert.match(command.output(), /Stopping the runtime and PostgreSQL…/);
}

describe("a newcomer's first contact: the README's first command in a fresh clone", { timeout: 900_000, concurrency: 2 }, () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const cleanup of cleanups) await cleanup();
  }, { timeout: 120_000 });

  it("works as root in a folder under /root that only root can enter", { skip: isRoot ? false : "needs root" }, async () => {
    const newcomer = await rootNewcomer();
    cleanups.push(newcomer.remove);
    await firstContact(newcomer);
  });

  it("works as a user in a home folder only they can enter", async () => {
    const newcomer = await userNewcomer();
    cleanups.push(newcomer.remove);
    await firstContact(newcomer);
  });
});
