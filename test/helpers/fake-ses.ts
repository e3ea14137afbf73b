import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface SesCall {
  at: number;
  sendId: string;
  to: string;
  outcome: "accepted" | "throttled" | "error" | "rejected" | "dropped";
  raw: string;
}

/**
 * A local stand-in for the SES v2 API (restJson1 over real HTTP):
 * POST /v2/email/outbound-emails. It throttles a share of calls (429
 * TooManyRequestsException), fails some with 500, rejects addresses that
 * start with "reject", and drops the connection mid-call for addresses that
 * start with "drop" (the client cannot know whether SES took the message).
 * A message is failed at most `maxFailuresPerMessage` times in a row.
 */
export class FakeSes {
  readonly calls: SesCall[] = [];
  private server: Server | undefined;
  private readonly failures = new Map<string, number>();
  url = "";

  constructor(private readonly options: { throttleShare: number; errorShare: number; maxFailuresPerMessage: number }) {}

  async start(): Promise<void> {
    this.server = createServer((request, response) => void this.handle(request, response));
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  /** Accepted messages by send id. */
  accepted(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const call of this.calls) if (call.outcome === "accepted") counts.set(call.sendId, (counts.get(call.sendId) ?? 0) + 1);
    return counts;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let body = "";
    for await (const chunk of request) body += String(chunk);
    if (request.method !== "POST" || request.url !== "/v2/email/outbound-emails") {
      return this.error(response, 404, "NotFoundException", `no route ${request.method} ${request.url}`);
    }
    const input = JSON.parse(body) as { Destination: { ToAddresses: string[] }; EmailTags: { Name: string; Value: string }[]; Content: { Raw: { Data: string } } };
    const to = input.Destination.ToAddresses[0]!;
    const sendId = input.EmailTags.find((tag) => tag.Name === "mk-send-id")?.Value ?? "";
    const raw = Buffer.from(input.Content.Raw.Data, "base64").toString("utf8");
    const record = (outcome: SesCall["outcome"]) => this.calls.push({ at: Date.now(), sendId, to, outcome, raw });

    if (to.startsWith("drop")) {
      record("dropped");
      request.socket.destroy();
      return;
    }
    if (to.startsWith("reject")) {
      record("rejected");
      return this.error(response, 400, "MessageRejected", "Email address is not verified.");
    }
    const failed = this.failures.get(sendId) ?? 0;
    const roll = Math.random();
    if (failed < this.options.maxFailuresPerMessage && roll < this.options.throttleShare + this.options.errorShare) {
      this.failures.set(sendId, failed + 1);
      const throttled = roll < this.options.throttleShare;
      record(throttled ? "throttled" : "error");
      return throttled ? this.error(response, 429, "TooManyRequestsException", "Maximum sending rate exceeded.") : this.error(response, 500, "InternalFailure", "Internal failure");
    }
    this.failures.set(sendId, 0);
    record("accepted");
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ MessageId: `ses-${sendId}` }));
  }

  private error(response: ServerResponse, status: number, type: string, message: string): void {
    response.writeHead(status, { "content-type": "application/json", "x-amzn-errortype": type }).end(JSON.stringify({ message }));
  }
}
