import { availableParallelism } from "node:os";
import type { CompileCache } from "./compile-cache.js";
import type { CompileJob, CompileResult } from "./compile-job.js";
import { contentKey } from "./fingerprint.js";

/** Below this many templates per thread, loading MJML into another thread (~0.7 s) costs more than it saves. */
const TEMPLATES_PER_THREAD = 128;

/** Run from source (tsx) the worker is a .ts file; built, a .js file beside this one. */
const WORKER = new URL(`./compile-worker${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`, import.meta.url);

export interface CompiledBatch {
  /** In job order. */
  results: CompileResult[];
  /** How many templates MJML compiled (the rest came from the cache or from a template with the same content). */
  compiled: number;
}

/**
 * Compiles many templates at once. MJML is CPU-bound (a few milliseconds a
 * template), so large repositories are compiled by a pool of worker threads,
 * one per core; small ones in this thread. With a cache, only templates
 * whose files changed are compiled; a cache that cannot be written is
 * skipped, as it only saves time. Templates with the same content in the
 * same folder compile once.
 */
export async function compileAll(jobs: readonly CompileJob[], cache?: CompileCache): Promise<CompiledBatch> {
  if (!cache) return compileFresh(jobs);
  const keys = jobs.map((job) => cache.key(job));
  const cached = await Promise.all(keys.map((key) => cache.get(key)));
  const missing = jobs.flatMap((job, i) => (cached[i] ? [] : [i]));
  const fresh = await compileFresh(missing.map((i) => jobs[i] as CompileJob));
  await Promise.all(
    missing.map((jobIndex, i) => {
      const result = fresh.results[i] as CompileResult;
      cached[jobIndex] = result;
      return cache.set(keys[jobIndex] as string, result).catch(() => undefined);
    }),
  );
  return { results: cached as CompileResult[], compiled: fresh.compiled };
}

/**
 * Each distinct content once; the others of a group take its result when it
 * has no problems (problems name their template's own file, so a template
 * with any is compiled for itself).
 */
async function compileFresh(jobs: readonly CompileJob[]): Promise<CompiledBatch> {
  const keys = jobs.map(contentKey);
  const firstOf = new Map<string, number>();
  keys.forEach((key, i) => firstOf.has(key) || firstOf.set(key, i));
  const original = (i: number) => firstOf.get(keys[i] as string) as number;
  const results: CompileResult[] = new Array(jobs.length);
  const compileInto = async (indexes: number[]) => {
    const compiled = await compileEach(indexes.map((i) => jobs[i] as CompileJob));
    indexes.forEach((i, n) => (results[i] = compiled[n] as CompileResult));
  };
  const distinct = [...firstOf.values()];
  await compileInto(distinct);
  const twins = jobs.flatMap((_, i) => (original(i) === i ? [] : [i]));
  const alone = twins.filter((i) => (results[original(i)] as CompileResult).problems.length > 0);
  for (const i of twins) results[i] = results[original(i)] as CompileResult;
  await compileInto(alone);
  return { results, compiled: distinct.length + alone.length };
}

/** MJML, its lint and the thread pool are loaded only when something is compiled (a run that finds everything cached needs none of them). */
async function compileEach(jobs: readonly CompileJob[]): Promise<CompileResult[]> {
  if (jobs.length === 0) return [];
  const threads = Math.min(availableParallelism(), Math.floor(jobs.length / TEMPLATES_PER_THREAD));
  if (threads < 2) {
    const { compileJob } = await import("./compile-job.js");
    const results: CompileResult[] = [];
    for (const job of jobs) results.push(await compileJob(job));
    return results;
  }
  const { Piscina } = await import("piscina");
  const pool = new Piscina<CompileJob, CompileResult>({ filename: WORKER.href, minThreads: threads, maxThreads: threads });
  try {
    return await Promise.all(jobs.map((job) => pool.run(job)));
  } finally {
    await pool.destroy();
  }
}
