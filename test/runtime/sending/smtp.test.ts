import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { dkimVerify } from "mailauth/lib/dkim/verify.js";
import { SMTPServer } from "smtp-server";
import { dkimTestKey, oneRecordResolver } from "../../helpers/dkim-keys.js";
import { stopDatabase } from "../../helpers/database.js";
import { startRuntime, type TestRuntime } from "../../helpers/runtime.js";
import { addSubscribers, applyCampaigns, query } from "../../helpers/sending.js";

/** The runtime's variable the applied mk.yaml's sending.dkim.privateKeyEnv names. */
const KEY_VARIABLE = "MK_SMTP_TEST_DKIM_KEY";
const DKIM = { domain: "nomaddesk.example", selector: "mk2026", privateKeyEnv: KEY_VARIABLE };

/**
 * A real SMTP server on loopback: "busy…" addresses get a 451 once, "bad…" a 550.
 * The applied project signs with DKIM; mailauth checks every message against
 * the selector's public key (its TXT record from a resolver of the test's own).
 */
describe("sending through SMTP (nodemailer's pool, a local SMTP server)", { timeout: 240_000 }, () => {
  const key = dkimTestKey();
  const verify = async (raw: string) => (await dkimVerify(Buffer.from(raw, "latin1"), { resolver: oneRecordResolver("mk2026._domainkey.nomaddesk.example", key.txtRecord) })).results;
  const received: { to: string; raw: string }[] = [];
  const refusedOnce = new Set<string>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onRcptTo(address, _session, callback) {
      const to = address.address;
      if (to.startsWith("bad")) return callback(Object.assign(new Error("mailbox unavailable"), { responseCode: 550 }));
      if (to.startsWith("busy") && !refusedOnce.has(to)) {
        refusedOnce.add(to);
        return callback(Object.assign(new Error("try again later"), { responseCode: 451 }));
      }
      callback();
    },
    onData(stream, session, callback) {
      let raw = "";
      stream.on("data", (chunk: Buffer) => (raw += chunk.toString("latin1")));
      stream.on("end", () => {
        received.push({ to: session.envelope.rcptTo[0]!.address, raw });
        callback();
      });
    },
  });
  let rt: TestRuntime;

  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.server.address() as AddressInfo).port;
    process.env[KEY_VARIABLE] = key.privateKeyPem;
    rt = await startRuntime({ MK_WORKERS: "1", MK_TRANSPORT: "smtp", MK_SMTP_URL: `smtp://127.0.0.1:${port}?ignoreTLS=true` });
    await addSubscribers(rt.databaseUrl, 20);
    await query(rt.databaseUrl, "insert into subscribers (email, consent) values ('busy@example.test', 'marketing'), ('bad@example.test', 'marketing')");
    await applyCampaigns(rt, [{ name: "via-smtp" }], { provider: "smtp" }, {
      project: { sending: { provider: "smtp", maxPerSecond: 1000, pricePer1000Usd: 0.1, dkim: DKIM }, testRecipients: ["@example.test"] },
    });
  }, { timeout: 120_000 });
  after(async () => {
    await rt.close();
    delete process.env[KEY_VARIABLE];
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await stopDatabase();
  }, { timeout: 120_000 });

  it("delivers each message once, retries a 4xx, fails a 5xx with the server's reply", { timeout: 60_000 }, async () => {
    assert.equal((await rt.api("/v1/sends/start", { body: { campaign: "via-smtp" } })).body.recipients, 22);
    const deadline = Date.now() + 45_000;
    while ((await query(rt.databaseUrl, "select 1 from sends where status in ('queued', 'claimed', 'sending')")).length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const statuses = Object.fromEntries((await query<{ status: string; n: number }>(rt.databaseUrl, "select status, count(*)::int as n from sends group by 1")).map((r) => [r.status, r.n]));
    assert.deepEqual(statuses, { sent: 21, failed: 1 });
    assert.equal(received.length, 21);
    assert.equal(new Set(received.map((r) => r.to)).size, 21);
    assert.ok(received.some((r) => r.to === "busy@example.test"), "the 451 was retried");

    const [busy] = await query<{ attempts: number; provider_message_id: string }>(rt.databaseUrl, "select attempts, provider_message_id from sends where email = 'busy@example.test'");
    assert.equal(busy!.attempts, 2);
    assert.match(busy!.provider_message_id, /^<.+@.+>$/);
    const [bad] = await query<{ last_error: string; attempts: number }>(rt.databaseUrl, "select last_error, attempts from sends where email = 'bad@example.test'");
    assert.equal(bad!.attempts, 1);
    assert.match(bad!.last_error, /^SMTP 550: .*mailbox unavailable/);

    const raw = received[0]!.raw.replace(/\r\n[ \t]+/g, " ");
    assert.match(raw, /^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r?$/m);
    for (const message of received) {
      const [signature, ...others] = await verify(message.raw);
      assert.equal(others.length, 0);
      assert.equal(signature!.status.result, "pass", `${message.to}: ${signature!.info}`);
      assert.equal(signature!.signingDomain, "nomaddesk.example");
      assert.match(signature!.signingHeaders!.keys, /List-Unsubscribe: List-Unsubscribe-Post/i);
    }
  });

  it("signs proofs (mk send test) with the same key", { timeout: 30_000 }, async () => {
    const sent = await rt.api("/v1/sends/test", {
      body: { campaign: "via-smtp", variant: null, to: ["proof@example.test"], from: "Nomad Desk <hello@nomaddesk.example>", subject: "Hello Alex", html: "<p>Hello Alex</p>", text: "Hello Alex" },
    });
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    const proof = received.find((r) => r.to === "proof@example.test");
    assert.ok(proof, "the proof reached the SMTP server");
    assert.match(proof.raw, /^Subject: \[Test\] Hello Alex\r$/m);
    const [signature] = await verify(proof.raw);
    assert.equal(signature!.status.result, "pass", signature!.info);
  });
});
