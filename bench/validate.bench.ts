import { execFileSync } from "node:child_process";
import { rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { generateRepository } from "./generate-repository.js";
import type { Bench } from "./run.js";

const BIN = fileURLToPath(new URL("../bin/run.js", import.meta.url));
const WORK = fileURLToPath(new URL("./.work/", import.meta.url));
const RUNS = 3;

/** Seconds for `mk validate` in a fresh process (median of RUNS); it must pass. */
function timeValidate(dir: string, extra: string[] = []): number {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = process.hrtime.bigint();
    execFileSync(process.execPath, [BIN, "validate", "--dir", dir, ...extra], { stdio: ["ignore", "ignore", "inherit"] });
    times.push(Number(process.hrtime.bigint() - start) / 1e9);
  }
  return times.sort((a, b) => a - b)[Math.floor(RUNS / 2)] as number;
}

/**
 * `mk validate` on generated repositories of 100 and 1,000 campaigns, each
 * with its own MJML template on shared partials: 10× the work should cost
 * at most 11× the time. Cold is every template compiled; warm is a second
 * run with --cache, when nothing changed.
 */
const bench: Bench = async (report) => {
  const small = `${WORK}validate-100`;
  const large = `${WORK}validate-1000`;
  await generateRepository(small, 100);
  await generateRepository(large, 1000);

  // Cold: --no-cache (the cache is on by default), so every run compiles every template.
  const coldSmall = timeValidate(small, ["--no-cache"]);
  const coldLarge = timeValidate(large, ["--no-cache"]);
  report({ name: "validate 100 campaigns, cold", value: `${coldSmall.toFixed(2)} s` });
  report({ name: "validate 1,000 campaigns, cold", value: `${coldLarge.toFixed(2)} s`, goal: { text: "< 2 s", met: coldLarge < 2 } });
  const ratio = coldLarge / coldSmall;
  report({ name: "validate 1,000 / 100 campaigns, cold", value: `${ratio.toFixed(2)}×`, goal: { text: "≤ 11×", met: ratio <= 11 } });

  for (const dir of [small, large]) timeValidate(dir, ["--cache"]);
  const warmSmall = timeValidate(small, ["--cache"]);
  const warmLarge = timeValidate(large, ["--cache"]);
  report({ name: "validate 100 campaigns, warm --cache", value: `${warmSmall.toFixed(2)} s` });
  report({ name: "validate 1,000 campaigns, warm --cache", value: `${warmLarge.toFixed(2)} s`, goal: { text: "< 2 s", met: warmLarge < 2 } });
  report({ name: "validate 1,000 / 100 campaigns, warm --cache", value: `${(warmLarge / warmSmall).toFixed(2)}×`, goal: { text: "≤ 11×", met: warmLarge / warmSmall <= 11 } });
  report({ name: "validate 1,000 campaigns, cold (issue 19)", value: `${coldLarge.toFixed(2)} s`, goal: { text: "< 3 s", met: coldLarge < 3 } });
  report({ name: "validate 1,000 campaigns, warm (issue 19)", value: `${warmLarge.toFixed(2)} s`, goal: { text: "< 1 s", met: warmLarge < 1 } });

  await Promise.all([small, large].map((dir) => rm(dir, { recursive: true, force: true })));
};

export default bench;
