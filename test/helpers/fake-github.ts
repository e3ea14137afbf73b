import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeComment {
  id: number;
  body: string;
}

/**
 * A local fake of the part of GitHub's REST API mk uses (issue comments), on
 * loopback with real HTTP: pagination with Link headers, and failures on
 * demand. Every request is recorded.
 */
export class FakeGitHub {
  readonly comments: FakeComment[] = [];
  readonly requests: { method: string; path: string }[] = [];
  /** Answer every request with this status (403, 404, or "rate-limit"). */
  failWith: 403 | 404 | "rate-limit" | undefined;
  private server: Server | undefined;
  private nextId = 1;
  url = "";

  addComments(count: number, body = "Looks good to me"): void {
    for (let i = 0; i < count; i++) this.comments.push({ id: this.nextId++, body: `${body} (${i})` });
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req).then(({ status, body, headers }) => {
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(JSON.stringify(body));
    }));
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server?.close(() => resolve()));
  }

  private async handle(req: IncomingMessage): Promise<{ status: number; body: unknown; headers?: Record<string, string> }> {
    const url = new URL(req.url ?? "/", this.url);
    this.requests.push({ method: req.method ?? "GET", path: `${url.pathname}${url.search}` });
    let text = "";
    for await (const chunk of req) text += chunk;
    if (req.headers.authorization !== "token gh-test-token") return { status: 401, body: { message: "Bad credentials" } };
    if (this.failWith === "rate-limit") {
      return { status: 403, body: { message: "API rate limit exceeded" }, headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": "1900000000" } };
    }
    if (this.failWith === 403) return { status: 403, body: { message: "Resource not accessible by integration" } };
    if (this.failWith === 404) return { status: 404, body: { message: "Not Found" } };

    const list = /^\/repos\/nomad\/campaigns\/issues\/42\/comments$/.exec(url.pathname);
    if (list && req.method === "GET") {
      const perPage = Number(url.searchParams.get("per_page") ?? 30);
      const page = Number(url.searchParams.get("page") ?? 1);
      const pages = Math.max(1, Math.ceil(this.comments.length / perPage));
      const link = page < pages ? { link: `<${this.url}${url.pathname}?per_page=${perPage}&page=${page + 1}>; rel="next"` } : undefined;
      return { status: 200, body: this.comments.slice((page - 1) * perPage, page * perPage).map(this.view), ...(link ? { headers: link } : {}) };
    }
    if (list && req.method === "POST") {
      const comment = { id: this.nextId++, body: (JSON.parse(text) as { body: string }).body };
      this.comments.push(comment);
      return { status: 201, body: this.view(comment) };
    }
    const one = /^\/repos\/nomad\/campaigns\/issues\/comments\/(\d+)$/.exec(url.pathname);
    const existing = one ? this.comments.find((c) => c.id === Number(one[1])) : undefined;
    if (existing && req.method === "PATCH") {
      existing.body = (JSON.parse(text) as { body: string }).body;
      return { status: 200, body: this.view(existing) };
    }
    return { status: 404, body: { message: "Not Found" } };
  }

  private view = (c: FakeComment) => ({ id: c.id, body: c.body, html_url: `https://github.example/nomad/campaigns/pull/42#issuecomment-${c.id}` });
}
