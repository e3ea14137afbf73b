import type { AddressInfo } from "node:net";
import { buildRuntime, type Runtime } from "../../runtime/app.js";
import { freshDatabase } from "./database.js";

export const TOKEN = "test-token-0123456789-0123456789-abcdef";

export interface TestRuntime extends Runtime {
  url: string;
  databaseUrl: string;
  /** fetch against the runtime with the API token. */
  api: (path: string, init?: { method?: string; body?: unknown; token?: string | null }) => Promise<{ status: number; body: any }>;
}

/** A runtime on a fresh database, listening on a random loopback port. */
export async function startRuntime(): Promise<TestRuntime> {
  const databaseUrl = await freshDatabase();
  const runtime = buildRuntime({ DATABASE_URL: databaseUrl, MK_API_TOKEN: TOKEN, LOG_LEVEL: "silent" });
  await runtime.app.listen({ port: 0, host: "127.0.0.1" });
  const url = `http://127.0.0.1:${(runtime.app.server.address() as AddressInfo).port}`;
  const api: TestRuntime["api"] = async (path, init = {}) => {
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
    return { status: response.status, body: text.startsWith("{") || text.startsWith("[") ? JSON.parse(text) : text };
  };
  return { ...runtime, url, databaseUrl, api };
}
