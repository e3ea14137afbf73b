import type { AddressInfo } from "node:net";
import { buildRuntime, type Runtime, type RuntimeOptions } from "../../runtime/app.js";
import { loadConfig } from "../../runtime/config.js";
import { freePort } from "../../runtime/db/embedded.js";
import type { RuntimeConfig } from "../../schemas/runtime-config.js";
import { freshDatabase } from "./database.js";

export const TOKEN = "test-token-0123456789-0123456789-abcdef";
export const SIGNING_SECRET = "test-signing-secret-0123456789-0123456789";

/** A runtime configuration for tests: no send workers unless asked for. */
export function testConfig(databaseUrl: string, overrides: Record<string, string> = {}): RuntimeConfig {
  return loadConfig({ DATABASE_URL: databaseUrl, MK_API_TOKEN: TOKEN, MK_SIGNING_SECRET: SIGNING_SECRET, LOG_LEVEL: "silent", MK_WORKERS: "0", ...overrides });
}

export interface TestRuntime extends Runtime {
  url: string;
  databaseUrl: string;
  /** fetch against the runtime with the API token. */
  api: ApiClient;
}

export type ApiClient = (path: string, init?: { method?: string; body?: unknown; token?: string | null }) => Promise<{ status: number; body: any; headers: Headers }>;

/** fetch against the runtime at `url` with the API token (or `token`; null for none); JSON bodies parsed. */
export function apiClient(url: string): ApiClient {
  return async (path, init = {}) => {
    const token = init.token === undefined ? TOKEN : init.token;
    const response = await fetch(url + path, {
      method: init.method ?? (init.body === undefined ? "GET" : "POST"),
      headers: {
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
        ...(init.body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text.startsWith("{") || text.startsWith("[") ? JSON.parse(text) : text, headers: response.headers };
  };
}

/** A runtime on a fresh database, listening on a random loopback port. */
export async function startRuntime(overrides: Record<string, string> = {}, databaseUrl?: string, options: RuntimeOptions = {}): Promise<TestRuntime> {
  databaseUrl ??= await freshDatabase();
  const port = await freePort();
  const runtime = buildRuntime(testConfig(databaseUrl, { PORT: String(port), ...overrides }), options);
  await runtime.app.listen({ port, host: "127.0.0.1" });
  const url = `http://127.0.0.1:${(runtime.app.server.address() as AddressInfo).port}`;
  return { ...runtime, url, databaseUrl, api: apiClient(url) };
}
