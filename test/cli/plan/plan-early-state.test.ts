import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { planRepository } from "../../../cli/plan/plan-repository.js";
import { tempRepo } from "../../helpers/temp-repo.js";

/** A "runtime" that takes every request and never answers it; `closed` resolves when the client gives a request up. */
async function silentRuntime(): Promise<{ url: string; requests: string[]; closed: Promise<void>; stop: () => Promise<void> }> {
  const requests: string[] = [];
  const held: IncomingMessage[] = [];
  let giveUp: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => (giveUp = resolve));
  const server: Server = createServer((request) => {
    requests.push(`${request.method} ${request.url}`);
    held.push(request);
    request.socket.on("close", giveUp);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    closed,
    stop: () => {
      for (const request of held) request.socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe("mk plan asks for the state while it reads the repository", { timeout: 30_000 }, () => {
  it("asks once mk.yaml is read, and gives the request up (returning at once) when the repository has errors", { timeout: 20_000 }, async () => {
    const runtime = await silentRuntime();
    const repo = await tempRepo();
    try {
      await repo.write(".mk/runtime.json", JSON.stringify({ url: runtime.url, pid: process.pid, startedAt: new Date().toISOString() }));
      await repo.write(".mk/api-token", "mk_local_test_token\n");
      await repo.write("campaigns/broken.yaml", "apiVersion: mk/v1\nkind: Campaign\nsubject: [\n");
      const outcome = await planRepository({ dir: repo.root, env: "local", environment: {} });
      assert.equal(outcome.plan, undefined);
      assert.deepEqual(outcome.problems.map((p) => `${p.file} ${p.code}`), ["campaigns/broken.yaml MK001"]);
      assert.deepEqual(runtime.requests, ["GET /v1/state"], "the state was asked for before the errors were known");
      await runtime.closed;
    } finally {
      await runtime.stop();
      await repo.remove();
    }
  });
});
