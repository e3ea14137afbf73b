import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeComment {
  id: number;
  body: string;
}

/** A check run as the fake holds it: the last output's title, summary and text, and every request's annotations appended. */
export interface FakeCheckRun {
  id: number;
  name: string;
  head_sha: string;
  status: string;
  conclusion: string | null;
  output: { title: string; summary: string; text?: string };
  annotations: FakeAnnotation[];
}

export interface FakeAnnotation {
  path: string;
  start_line: number;
  end_line: number;
  start_column?: number;
  end_column?: number;
  annotation_level: "notice" | "warning" | "failure";
  title?: string;
  message: string;
}

interface CheckRunBody {
  name?: string;
  head_sha?: string;
  status?: string;
  conclusion?: string;
  output?: { title?: string; summary?: string; text?: string; annotations?: FakeAnnotation[] };
}

/**
 * A local fake of the part of GitHub's REST API mk uses (issue comments,
 * check runs), on loopback with real HTTP: pagination with Link headers,
 * GitHub's 422 for more than 50 annotations in a request or a malformed
 * one, and failures on demand. Every request is recorded with its JSON body.
 */
export class FakeGitHub {
  readonly comments: FakeComment[] = [];
  readonly checkRuns: FakeCheckRun[] = [];
  readonly requests: { method: string; path: string; body?: unknown }[] = [];
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
    let text = "";
    for await (const chunk of req) text += chunk;
    this.requests.push({ method: req.method ?? "GET", path: `${url.pathname}${url.search}`, ...(text ? { body: JSON.parse(text) as unknown } : {}) });
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
    if (url.pathname === "/repos/nomad/campaigns/check-runs" && req.method === "POST") {
      const body = JSON.parse(text) as CheckRunBody;
      const invalid = this.invalidCheckRun(body, true);
      if (invalid) return invalid;
      const run: FakeCheckRun = { id: this.nextId++, name: body.name!, head_sha: body.head_sha!, status: "queued", conclusion: null, output: { title: "", summary: "" }, annotations: [] };
      this.checkRuns.push(run);
      return { status: 201, body: this.updateCheckRun(run, body) };
    }
    const check = /^\/repos\/nomad\/campaigns\/check-runs\/(\d+)$/.exec(url.pathname);
    const run = check ? this.checkRuns.find((r) => r.id === Number(check[1])) : undefined;
    if (run && req.method === "PATCH") {
      const body = JSON.parse(text) as CheckRunBody;
      return this.invalidCheckRun(body, false) ?? { status: 200, body: this.updateCheckRun(run, body) };
    }
    return { status: 404, body: { message: "Not Found" } };
  }

  /** GitHub's checks on a create (`creating`) or update body: its 422 answers, or undefined when it is valid. */
  private invalidCheckRun(body: CheckRunBody, creating: boolean): { status: 422; body: unknown } | undefined {
    const failed = (field: string) => ({ status: 422 as const, body: { message: "Validation Failed", errors: [{ resource: "CheckRun", code: "invalid", field }], status: "422" } });
    if (creating && (!body.name || !body.head_sha)) return failed(body.name ? "head_sha" : "name");
    if (body.status === "completed" && !body.conclusion) return failed("conclusion");
    const output = body.output;
    if (!output) return undefined;
    if (!output.title || !output.summary) return failed(output.title ? "summary" : "title");
    if ((output.text?.length ?? 0) > 65_535) return failed("text");
    const annotations = output.annotations ?? [];
    if (annotations.length > 50) return { status: 422, body: { message: `Invalid request.\n\nNo more than 50 items are allowed; ${annotations.length} were supplied.`, status: "422" } };
    const wrong = annotations.some(
      (a) => !a.path || !(a.start_line >= 1) || !(a.end_line >= a.start_line) || !["notice", "warning", "failure"].includes(a.annotation_level) || !a.message || (a.start_column !== undefined && a.start_line !== a.end_line),
    );
    return wrong ? failed("annotations") : undefined;
  }

  private updateCheckRun(run: FakeCheckRun, body: CheckRunBody): unknown {
    if (body.conclusion) Object.assign(run, { status: "completed", conclusion: body.conclusion });
    else if (body.status) run.status = body.status;
    if (body.output) {
      const { annotations = [], ...output } = body.output;
      run.output = output as FakeCheckRun["output"];
      // GitHub appends each request's annotations to the run's.
      run.annotations.push(...annotations);
    }
    return { id: run.id, name: run.name, head_sha: run.head_sha, status: run.status, conclusion: run.conclusion, html_url: `https://github.example/nomad/campaigns/runs/${run.id}` };
  }

  private view = (c: FakeComment) => ({ id: c.id, body: c.body, html_url: `https://github.example/nomad/campaigns/pull/42#issuecomment-${c.id}` });
}
