import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { chmod, cp, mkdtemp, readFile, rm } from "node:fs/promises";
import { createHash } from "node:crypto";
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

  it("takes a signup on the example's form end to end: form post → confirmation in the outbox → its link → consent with proof → signup event → welcome", async () => {
    const repo = path.join(base, "signup");
    await cp(path.join(REPO_ROOT, "example-campaigns"), repo, { recursive: true });
    const up = mkUp(path.join(repo, ".mk"), "--apply", repo);
    running.push(up);
    await up.waitForOutput(READY, 120_000);
    const url = urlOf(up.output());
    const token = (await readFile(path.join(repo, ".mk", "api-token"), "utf8")).trim();
    const api = async <T>(route: string): Promise<T> => {
      const response = await fetch(`${url}${route}`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(response.status, 200, `${route}: ${await response.clone().text()}`);
      return (await response.json()) as T;
    };
    const outbox = (to: string) => api<{ sendId: string; campaign: string; to: string; subject: string }[]>("/v1/outbox?limit=1000").then((all) => all.filter((m) => m.to === to));
    const signup = (email: string, extra: Record<string, string> = {}) =>
      fetch(`${url}/f/newsletter`, {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded", "user-agent": "SignupBrowser/1.0" },
        body: new URLSearchParams({ email, firstName: "Nia", topics: "city-guides", ...extra }).toString(),
      });

    const answer = await signup("nia@example.test");
    assert.equal(answer.status, 200);
    const page = await answer.text();
    assert.match(page, /Check your inbox/);
    await waitFor(async () => (await outbox("nia@example.test")).length === 1, 30_000, "the confirmation in the outbox");
    const [confirmation] = await outbox("nia@example.test");
    assert.equal(confirmation!.subject, "Please confirm your subscription to Nomad Desk");
    const message = await api<{ html: string }>(`/v1/outbox/${confirmation!.sendId}`);
    const link = /href="(http:\/\/127\.0\.0\.1:\d+\/f\/confirm\/[A-Za-z0-9_-]+)"/.exec(message.html)?.[1];
    assert.ok(link, "the confirmation links its /f/confirm/ page on this runtime");

    assert.match(await (await fetch(link)).text(), /<form method="post">/, "opening the link shows the button; a link scanner's GET confirms nothing");
    const confirmed = await fetch(link, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", "user-agent": "MailClient/2.0" }, body: "" });
    assert.equal(confirmed.status, 200);
    assert.match(await confirmed.text(), /your subscription to City guides is confirmed/);

    type Subscriber = { consent: string; firstName: string; topics: Record<string, boolean>; consentHistory: { topic: string; action: string; source: string; sourceDetail: string; ip: string; userAgent: string; textHash: string }[] };
    const subscriber = await api<Subscriber>("/v1/subscribers/nia@example.test");
    assert.equal(subscriber.consent, "marketing");
    assert.equal(subscriber.firstName, "Nia");
    assert.equal(subscriber.topics["city-guides"], true);
    assert.deepEqual(
      subscriber.consentHistory.map((c) => [c.topic, c.action, c.source, c.sourceDetail, c.ip, c.userAgent]),
      [
        ["", "granted", "form", "newsletter", "127.0.0.1", "MailClient/2.0"],
        ["city-guides", "granted", "form", "newsletter", "127.0.0.1", "MailClient/2.0"],
      ],
    );
    for (const entry of subscriber.consentHistory) assert.match(entry.textHash, /^[0-9a-f]{64}$/, "the version of the text they confirmed");
    await waitFor(async () => (await outbox("nia@example.test")).some((m) => m.subject === "Welcome, Nia"), 60_000, "the onboarding sequence's welcome, started by the signup event");
    const exported = await api<{ events: { name: string }[] }>("/v1/subscribers/nia@example.test/export");
    assert.deepEqual(exported.events.map((e) => e.name), ["signup"]);

    const replayed = await fetch(link, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "" });
    assert.match(await replayed.text(), /your subscription to City guides is confirmed/);
    const known = await signup("nia@example.test");
    const unknown = await signup("nobody-yet@example.test");
    assert.equal(await known.text(), page, "a known address gets the same bytes as a new one");
    assert.equal(createHash("sha256").update(await unknown.text()).digest("hex"), createHash("sha256").update(page).digest("hex"));
    const bot = await signup("bot@example.test", { website: "https://spam.example" });
    assert.equal(await bot.text(), page, "a filled honeypot gets the same answer");
    await waitFor(async () => (await outbox("nobody-yet@example.test")).length === 1, 30_000, "the unknown address's confirmation");
    assert.equal((await outbox("nia@example.test")).length, 2, "replaying the link and signing up again mailed nothing more");
    assert.deepEqual(await outbox("bot@example.test"), [], "the bot got nothing");
    assert.deepEqual((await api<{ events: { name: string }[] }>("/v1/subscribers/nia@example.test/export")).events.map((e) => e.name), ["signup"], "still one signup event");

    const cli = await runMk(["subscribers", "get", "nia@example.test", "--dir", repo], { cwd: repo });
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /city-guides +│ granted │ form +│ newsletter │ 127\.0\.0\.1 +│ MailClient\/2\.0/);
    assert.equal((await up.signal("SIGINT")).code, 0);
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
