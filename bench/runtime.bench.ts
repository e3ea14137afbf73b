import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import { chmod, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startLocalRuntime } from "../cli/local/up.js";
import { generateRepository } from "./generate-repository.js";
import { generateSubscribersCsv } from "./generate-subscribers.js";
import type { Bench } from "./run.js";

const BIN = fileURLToPath(new URL("../bin/run.js", import.meta.url));
const WORK = fileURLToPath(new URL("./.work/", import.meta.url));

/** Seconds until `mk up` prints that it is ready (then it is stopped with Ctrl-C). */
function timeUp(dataDir: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(process.execPath, [BIN, "up", "--port", "0", "--data-dir", dataDir], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes("Press Ctrl-C to stop.")) {
        const seconds = Number(process.hrtime.bigint() - start) / 1e9;
        child.once("exit", () => resolve(seconds));
        child.kill("SIGINT");
      }
    });
    child.once("error", reject);
    child.once("exit", (code) => (out.includes("Press Ctrl-C") ? undefined : reject(new Error(`mk up exited ${code}: ${out}`))));
  });
}

/** Seconds for one mk command in a fresh process (asynchronously: the runtime may live in this process). */
async function timeMk(args: string[], okCodes = [0]): Promise<number> {
  const start = process.hrtime.bigint();
  try {
    await promisify(execFile)(process.execPath, [BIN, ...args], { maxBuffer: 256 * 1024 * 1024 });
  } catch (error) {
    if (!okCodes.includes((error as { code: number }).code)) throw error;
  }
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/**
 * The runtime figures: mk up cold and warm, mk plan of 100 and 1,000
 * campaigns against a runtime already holding that state (cold, and warm with
 * --cache), and the subscribers CSV import in rows per second.
 */
const bench: Bench = async (report) => {
  await mkdir(WORK, { recursive: true });
  await chmod(WORK, 0o755);

  // 1. mk up, on a new data folder and again on the same one.
  const upDir = path.join(WORK, "up");
  await rm(upDir, { recursive: true, force: true });
  report({ name: "mk up to ready, new data folder", value: `${(await timeUp(upDir)).toFixed(2)} s` });
  const warm = await timeUp(upDir);
  report({ name: "mk up to ready, warm data folder", value: `${warm.toFixed(2)} s`, goal: { text: "< 3 s", met: warm < 3 } });
  await rm(upDir, { recursive: true, force: true });

  // 2. mk plan against a runtime that already holds the repository's state.
  // Cold: no .mk/cache/ (as on a new CI runner), the runtime's recorded fingerprints only. Changed: 10 templates edited, no cache either.
  const times: Record<string, { cold: number; warm: number; changed: number }> = {};
  for (const size of [100, 1000]) {
    const repo = path.join(WORK, `plan-${size}`);
    await generateRepository(repo, size);
    const local = await startLocalRuntime({ dataDir: path.join(repo, ".mk"), port: 0 });
    const cache = path.join(repo, ".mk", "cache");
    try {
      await timeMk(["apply", "--auto-approve", "--cache", "--dir", repo]);
      await rm(cache, { recursive: true, force: true });
      const cold = await timeMk(["plan", "--detailed-exitcode", "--dir", repo]);
      const warmPlan = await timeMk(["plan", "--detailed-exitcode", "--cache", "--dir", repo]);
      await editTemplates(repo, 10, size);
      await rm(cache, { recursive: true, force: true });
      const changed = await timeMk(["plan", "--detailed-exitcode", "--dir", repo], [2]);
      times[size] = { cold, warm: warmPlan, changed };
      if (size === 1000) {
        // 3. The subscribers import, on the same runtime.
        const csv = path.join(WORK, "people.csv");
        await generateSubscribersCsv(csv, 100_000, 100);
        const seconds = await timeMk(["subscribers", "import", csv, "--dir", repo], [0, 2]);
        const rate = 100_000 / seconds;
        report({ name: "subscribers import, 100,000 rows (1% bad)", value: `${Math.round(rate).toLocaleString("en-US")} rows/s (${seconds.toFixed(2)} s)`, goal: { text: "≥ 50,000 rows/s", met: rate >= 50_000 } });
        await rm(csv, { force: true });
      }
    } finally {
      await local.stop();
      await rm(repo, { recursive: true, force: true });
    }
  }
  const [small, large] = [times[100], times[1000]];
  if (!small || !large) return;
  report({ name: "plan 100 campaigns, no changes, cold", value: `${small.cold.toFixed(2)} s` });
  report({ name: "plan 1,000 campaigns, no changes, cold", value: `${large.cold.toFixed(2)} s`, goal: { text: "< 2 s", met: large.cold < 2 } });
  report({ name: "plan 1,000 campaigns, no changes, warm --cache", value: `${large.warm.toFixed(2)} s`, goal: { text: "< 2 s", met: large.warm < 2 } });
  report({ name: "plan 1,000 / 100 campaigns, warm --cache", value: `${(large.warm / small.warm).toFixed(2)}×`, goal: { text: "≤ 11×", met: large.warm / small.warm <= 11 } });
  report({ name: "plan 1,000 / 100 campaigns, cold", value: `${(large.cold / small.cold).toFixed(2)}×`, goal: { text: "≤ 11×", met: large.cold / small.cold <= 11 } });
  report({ name: "plan 1,000 campaigns, 10 templates changed, cold", value: `${large.changed.toFixed(2)} s`, goal: { text: "< 2.5 s", met: large.changed < 2.5 } });
};

/** Change the text of `count` of the repository's `size` templates, spread over it. */
async function editTemplates(repo: string, count: number, size: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const file = path.join(repo, "templates", `campaign-${String(i * Math.floor(size / count)).padStart(4, "0")}.mjml`);
    await writeFile(file, (await readFile(file, "utf8")).replace("See the offer", "See this offer"));
  }
}

export default bench;
