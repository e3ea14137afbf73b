import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { chmod, mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { startLocalRuntime } from "../cli/local/up.js";
import { generateRepository } from "./generate-repository.js";
import type { Bench } from "./run.js";

const BIN = fileURLToPath(new URL("../bin/run.js", import.meta.url));
const WORK = fileURLToPath(new URL("./.work/", import.meta.url));
const RUNS = 5;
const GOAL_SECONDS = 0.3;

/**
 * CPU seconds of the child processes this one has waited for (Linux: cutime +
 * cstime of /proc/self/stat, in clock ticks of 1/100 s); undefined elsewhere.
 * Unlike wall time it hardly moves with the machine's load.
 */
function childCpuSeconds(): number | undefined {
  if (!existsSync("/proc/self/stat")) return undefined;
  const fields = readFileSync("/proc/self/stat", "utf8").replace(/^.*\) /, "").split(" ");
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

/** Wall and CPU seconds of one fresh node process (asynchronously: the runtime it talks to lives in this process). */
async function timeProcess(args: string[]): Promise<{ wall: number; cpu: number | undefined }> {
  const start = process.hrtime.bigint();
  const cpuBefore = childCpuSeconds();
  await promisify(execFile)(process.execPath, args);
  const cpuAfter = childCpuSeconds();
  return { wall: Number(process.hrtime.bigint() - start) / 1e9, cpu: cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore };
}

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
}

/**
 * Start-up of the commands people run most, each a fresh process: `mk --help`,
 * `mk status` and `mk send --due` (nothing due) against a runtime started here
 * on a generated repository of 100 campaigns (applied, all scheduled in 2099),
 * beside a bare `node -e ''` measured in the same rounds (the floor no command
 * can go below) and `mk --version` (oclif's own start, the floor of every mk
 * command). Status is timed against a running runtime: that is the answer
 * people wait for, and a runtime that is down fails before most of the work.
 */
const bench: Bench = async (report) => {
  await mkdir(WORK, { recursive: true });
  await chmod(WORK, 0o755);
  const repo = path.join(WORK, "startup");
  await generateRepository(repo, 100);
  const local = await startLocalRuntime({ dataDir: path.join(repo, ".mk"), port: 0 });
  const commands: [string, string[]][] = [
    ["node -e '' (baseline)", ["-e", ""]],
    ["mk --version (oclif alone)", [BIN, "--version"]],
    ["mk --help", [BIN, "--help"]],
    ["mk status, runtime running", [BIN, "status", "--dir", repo]],
    ["mk send --due, nothing due", [BIN, "send", "--due", "--dir", repo]],
  ];
  const times = new Map<string, { wall: number; cpu: number | undefined }[]>(commands.map(([name]) => [name, []]));
  try {
    // Applied, so send --due has state to look at; every schedule is in 2099, so nothing is due.
    await timeProcess([BIN, "apply", "--auto-approve", "--dir", repo]);
    // Rounds over every command, so the machine's load weighs on each alike.
    for (let round = 0; round < RUNS; round++) {
      for (const [name, args] of commands) times.get(name)?.push(await timeProcess(args));
    }
  } finally {
    await local.stop();
    await rm(repo, { recursive: true, force: true });
  }
  const ms = (seconds: number) => `${Math.round(seconds * 1000)} ms`;
  const cpu = (name: string) => {
    const runs = (times.get(name) ?? []).map((t) => t.cpu);
    return runs.every((t) => t !== undefined) ? `; CPU ${ms(median(runs as number[]))}` : "";
  };
  const wall = (name: string) => median((times.get(name) ?? []).map((t) => t.wall));
  const baseline = wall("node -e '' (baseline)");
  report({ name: "start-up, node -e '' (baseline)", value: `${ms(baseline)}${cpu("node -e '' (baseline)")}` });
  // What oclif costs before any command's own modules load: the floor of every mk command.
  const oclif = wall("mk --version (oclif alone)");
  report({ name: "start-up, mk --version (oclif alone)", value: `${ms(oclif)} (${(oclif / baseline).toFixed(1)}× node -e ''${cpu("mk --version (oclif alone)")})` });
  for (const [name] of commands.slice(2)) {
    const seconds = wall(name);
    report({ name: `start-up, ${name}`, value: `${ms(seconds)} (${(seconds / baseline).toFixed(1)}× node -e ''${cpu(name)})`, goal: { text: "< 300 ms", met: seconds < GOAL_SECONDS } });
  }
};

export default bench;
