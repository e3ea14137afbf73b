import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { once } from "node:events";
import { createServer, type AddressInfo, type Socket } from "node:net";
import { connectionFailure, databaseTarget, reconnectDelayMs } from "../../../runtime/db/connection-failure.js";
import { DatabaseWaitTimeout, waitForDatabase } from "../../../runtime/db/wait-for-database.js";

const withCode = (code: string, message: string) => Object.assign(new Error(message), { code });

describe("connection failures", { timeout: 10_000 }, () => {
  it("are recognised from node's socket codes, PostgreSQL's shutdown and connection codes, and pg's own words", () => {
    // localhost tried as ::1 and 127.0.0.1: an AggregateError with a code and no message.
    assert.deepEqual(connectionFailure(Object.assign(new AggregateError([], ""), { code: "ECONNREFUSED" })), { code: "ECONNREFUSED", reason: "ECONNREFUSED" });
    assert.deepEqual(connectionFailure(withCode("ENOTFOUND", "getaddrinfo ENOTFOUND postgres")), { code: "ENOTFOUND", reason: "getaddrinfo ENOTFOUND postgres" });
    for (const code of ["57P01", "57P03", "08006"]) assert.equal(connectionFailure(withCode(code, "x"))?.code, code);
    assert.deepEqual(connectionFailure(new Error("Connection terminated unexpectedly")), { code: undefined, reason: "Connection terminated unexpectedly" });
    assert.ok(connectionFailure(new Error("Connection terminated due to connection timeout")));
    assert.ok(connectionFailure(new Error("timeout expired")), "a server that accepts and never answers");
  });

  it("keep waiting for a server that accepts connections and never answers, then give up with the reason", async () => {
    const silent = createServer(() => {}).listen(0, "127.0.0.1");
    await once(silent, "listening");
    const sockets: Socket[] = [];
    silent.on("connection", (socket) => sockets.push(socket));
    try {
      const port = (silent.address() as AddressInfo).port;
      const lines: string[] = [];
      const log = { info: () => {}, warn: (_: object, message: string) => void lines.push(message), error: (_: object, message: string) => void lines.push(message) };
      await assert.rejects(waitForDatabase(`postgres://mk:pw@127.0.0.1:${port}/mk`, { waitSeconds: 3, log }), (error: unknown) => {
        assert.ok(error instanceof DatabaseWaitTimeout, String(error));
        assert.match(error.message, /^the runtime gave up waiting for its database at 127\.0\.0\.1:\d+ \(database mk\) after \d+ attempts? in 3 s: timeout expired; /);
        return true;
      });
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  it("say what to check when the server refuses the runtime", () => {
    assert.deepEqual(connectionFailure(withCode("28P01", 'password authentication failed for user "mk"')), {
      code: "28P01",
      reason: 'password authentication failed for user "mk"',
      hint: "check the user and password in DATABASE_URL",
    });
    assert.equal(connectionFailure(withCode("3D000", 'database "nope" does not exist'))?.hint, "check the database name in DATABASE_URL, or create the database");
  });

  it("leave out errors of the query itself", () => {
    assert.equal(connectionFailure(withCode("23505", "duplicate key value violates unique constraint")), undefined);
    assert.equal(connectionFailure(withCode("42P01", 'relation "state" does not exist')), undefined);
    assert.equal(connectionFailure(new Error("timeout exceeded when trying to connect")), undefined, "a full pool is not a lost database");
    assert.equal(connectionFailure(undefined), undefined);
  });

  it("wait 0.5 s doubling to 5 s between attempts, in the upper half of each step", () => {
    assert.deepEqual([1, 2, 3, 4, 5, 20].map((n) => reconnectDelayMs(n, () => 0)), [250, 500, 1000, 2000, 2500, 2500]);
    assert.deepEqual([1, 2, 3, 4, 5, 20].map((n) => reconnectDelayMs(n, () => 1)), [500, 1000, 2000, 4000, 5000, 5000]);
  });

  it("name host, port and database of a URL, never its password", () => {
    const target = databaseTarget("postgres://mk:s3cret@db.internal:6543/campaigns");
    assert.deepEqual(target, { host: "db.internal", port: 6543, database: "campaigns" });
    assert.doesNotMatch(JSON.stringify(target), /s3cret/);
  });
});
