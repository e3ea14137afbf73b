/**
 * A preload for a spawned mk (NODE_OPTIONS="--import=<this file>",
 * MK_RECORD_MODULES=<file>): appends to that file the URL of every module
 * the process loads, ES modules as they resolve (this file is also the
 * resolve hook) and CommonJS ones from require's cache when it exits, and
 * node:internal/deps/undici the first time fetch is called (node's own
 * modules are not resolved through hooks, so that one is noted by hand).
 */
import { appendFileSync } from "node:fs";
import { createRequire, register } from "node:module";
import { pathToFileURL } from "node:url";
import { isMainThread } from "node:worker_threads";

const out = process.env["MK_RECORD_MODULES"];

export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  if (out) appendFileSync(out, `${resolved.url}\n`);
  return resolved;
}

if (out && isMainThread) {
  register(import.meta.url);
  const fetch = globalThis.fetch;
  globalThis.fetch = (...args) => {
    appendFileSync(out, "node:internal/deps/undici\n");
    return fetch(...args);
  };
  const cache = createRequire(import.meta.url).cache;
  process.on("exit", () => appendFileSync(out, Object.keys(cache).map((file) => `${pathToFileURL(file).href}\n`).join("")));
}
