import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { serializeRequest } from "../../../runtime/http/request-log.js";

/** What a request's log line shows of it: never a working link, never a reader's whole address. */
describe("the request log", { timeout: 10_000 }, () => {
  const token = "AWNVXe2mpp0R1z6T0cX2QjSl6iJYkAAAAZ2l2Rb9uKzW1ttR0jU8xD1wQ";
  it("cuts a public link's token and its reader's address to its /24 or /48, and keeps an API caller's", { timeout: 5_000 }, () => {
    const request = (url: string, ip: string) => serializeRequest({ method: "GET", url, host: "mk.example.com", ip, socket: { remotePort: 51_000 } });
    for (const kind of ["o", "c", "u", "v", "p"]) {
      assert.deepEqual(request(`/${kind}/${token}`, "81.2.69.142"), { method: "GET", url: `/${kind}/${token.slice(0, 8)}…`, host: "mk.example.com", remoteAddress: "81.2.69.0" });
    }
    assert.equal(request(`/o/${token}`, "2a02:1810:4d02:5b00:1c2d:3e4f:5a6b:7c8d").remoteAddress, "2a02:1810:4d02::");
    assert.deepEqual(request("/v1/events", "203.0.113.9"), { method: "GET", url: "/v1/events", host: "mk.example.com", remoteAddress: "203.0.113.9", remotePort: 51_000 });
  });
});
