import { chmod, mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { readRepository } from "../cli/project/reader.js";
import { resolveRepository } from "../cli/project/resolver.js";
import { buildRuntime } from "../runtime/app.js";
import { loadConfig } from "../runtime/config.js";
import { startEmbeddedPostgres } from "../runtime/db/embedded.js";
import { migrate } from "../runtime/db/migrate.js";
import type { Condition } from "../schemas/index.js";
import type { Bench } from "./run.js";

const WORK = fileURLToPath(new URL("./.work/", import.meta.url));
const FIXTURE = fileURLToPath(new URL("../test/fixtures/invalid/condition-too-large/", import.meta.url));
const TOKEN = "bench-token-0123456789-0123456789-abcdef";
const RUNS = 20;

/** l00 … l23 and vip, each referring to the one below twice: 2^24 copies of l00 once expanded (the error corpus's condition-too-large). */
function doubling(levels = 24): Record<string, Condition> {
  const name = (i: number) => (i === levels ? "vip" : `l${String(i).padStart(2, "0")}`);
  const audiences: Record<string, Condition> = { l00: { consent: "marketing" } };
  for (let i = 1; i <= levels; i++) audiences[name(i)] = { any: [{ audience: name(i - 1) }, { all: [{ audience: name(i - 1) }, { tag: "vip" }] }] };
  return audiences;
}

/** Median milliseconds of `run` over RUNS runs, after one to warm up. */
async function median(run: () => Promise<void>): Promise<number> {
  await run();
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    await run();
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b)[Math.floor(RUNS / 2)] as number;
}

/**
 * A depth-24 audience (an audience referring to another twice, nested: 2^24
 * copies once expanded) is refused without being expanded: by mk validate's
 * resolver (MK102), and by the runtime's POST /v1/audiences/count and
 * /v1/apply (400 condition_too_large), each well under 100 ms.
 */
const bench: Bench = async (report) => {
  report({ name: "(conditions: a depth-24 audience, 2^24 copies once expanded)", value: "" });

  // 1. mk validate's cross-file checks on the error corpus's repository (already read).
  const [repo] = await readRepository(FIXTURE);
  const resolve = await median(async () => {
    const [, problems] = await resolveRepository(repo);
    if (!problems.some((p) => p.code === "MK102")) throw new Error("the resolver did not refuse the depth-24 audience");
  });
  report({ name: "validate: depth-24 audience refused (MK102)", value: `${resolve.toFixed(1)} ms median`, goal: { text: "< 100 ms", met: resolve < 100 } });

  // 2. The runtime over HTTP (in-process, on an embedded PostgreSQL).
  await mkdir(WORK, { recursive: true });
  await chmod(WORK, 0o755);
  const dir = path.join(WORK, "conditions");
  await rm(dir, { recursive: true, force: true });
  const db = await startEmbeddedPostgres(dir);
  try {
    await migrate(db.url);
    const runtime = buildRuntime(loadConfig({ DATABASE_URL: db.url, MK_API_TOKEN: TOKEN, MK_SIGNING_SECRET: `${TOKEN}-signing`, LOG_LEVEL: "silent", MK_WORKERS: "0" }));
    try {
      const refused = (url: string, body: unknown) => async () => {
        const response = await runtime.app.inject({ method: "POST", url, headers: { authorization: `Bearer ${TOKEN}` }, payload: body as object });
        if (response.statusCode !== 400 || response.json<{ error: { code: string } }>().error.code !== "condition_too_large") throw new Error(`${url}: ${response.statusCode} ${response.body.slice(0, 200)}`);
      };
      const audiences = doubling();
      const count = await median(refused("/v1/audiences/count", { timezone: "Asia/Bangkok", audiences, campaigns: [{ name: "c", audience: "vip", marketing: true }] }));
      report({ name: "POST /v1/audiences/count: depth-24 audience refused", value: `${count.toFixed(1)} ms median`, goal: { text: "< 100 ms", met: count < 100 } });
      const resources = Object.entries(audiences).map(([name, where]) => ({ kind: "Audience", name, spec: { where } }));
      const apply = await median(refused("/v1/apply", { baseSerial: 0, source: { commit: null, author: null, branch: null, dirty: null }, templates: [], resources }));
      report({ name: "POST /v1/apply: depth-24 audience refused", value: `${apply.toFixed(1)} ms median`, goal: { text: "< 100 ms", met: apply < 100 } });
    } finally {
      await runtime.close();
    }
  } finally {
    await db.stop();
    await rm(dir, { recursive: true, force: true });
  }
};

export default bench;
