import type { IncomingMessage } from "node:http";

/** What the runtime answered: its status and its whole body as text. */
export interface HttpAnswer {
  status: number;
  /** 2xx, as fetch's Response.ok. */
  ok: boolean;
  text: string;
}

export interface HttpRequestOptions {
  method: string;
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

/**
 * One request through node:http (node:https for an https: URL), its answer
 * read whole as UTF-8. Not fetch: a process's first fetch compiles undici's
 * HTTP parser to WebAssembly and the process then waits for that compiler
 * before it can exit, about 0.2 s of a command that asks the runtime one
 * thing (bench/startup.bench.ts). Redirects are answers like any other, not
 * followed: the token goes to the URL it was meant for and nowhere else.
 * Rejects with node's error, whose `code` says why (ECONNREFUSED, ENOTFOUND,
 * ABORT_ERR when `signal` aborts it).
 */
export async function httpRequest(url: string, options: HttpRequestOptions): Promise<HttpAnswer> {
  const target = new URL(url);
  const { request } = target.protocol === "https:" ? await import("node:https") : await import("node:http");
  const headers = options.body === undefined ? options.headers : { ...options.headers, "content-length": String(Buffer.byteLength(options.body)) };
  return new Promise((resolve, reject) => {
    const sent = request(target, { method: options.method, headers, ...(options.signal ? { signal: options.signal } : {}) }, (response: IncomingMessage) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("error", reject);
      // A connection that drops mid-answer ends neither in "end" nor, on every node version, in "error".
      response.on("close", () => {
        if (!response.complete) reject(Object.assign(new Error("the connection closed before the whole answer arrived"), { code: "ECONNRESET" }));
      });
      response.on("end", () => {
        const status = response.statusCode ?? 0;
        resolve({ status, ok: status >= 200 && status < 300, text: Buffer.concat(chunks).toString("utf8") });
      });
    });
    sent.on("error", reject);
    sent.end(options.body);
  });
}
