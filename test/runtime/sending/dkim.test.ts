import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { dkimVerify } from "mailauth/lib/dkim/verify.js";
import { appliedDkimKey, DKIM_SIGNED_HEADERS, readDkimKey } from "../../../runtime/sending/dkim.js";
import { smtpTransport } from "../../../runtime/sending/transports/smtp.js";
import { TransportError, type OutgoingMessage, type RemoteTransport } from "../../../runtime/sending/transports/transport.js";
import type { DkimSettings } from "../../../schemas/dkim.js";
import { dkimTestKey, oneRecordResolver, type DkimTestKey } from "../../helpers/dkim-keys.js";
import { captureSmtp, type SmtpCapture } from "../../helpers/smtp-capture.js";

const SETTINGS: DkimSettings = { domain: "nomaddesk.example", selector: "mk2026", privateKeyEnv: "MK_DKIM_PRIVATE_KEY" };
const RECORD_NAME = "mk2026._domainkey.nomaddesk.example";

/** A campaign message with the headers MessageComposer gives one. */
function campaignMessage(to: string): OutgoingMessage {
  return {
    sendId: "0b6c1f3e-4a3d-4c1e-9a53-0d1c2e3f4a5b",
    campaign: "lisbon-guide",
    to,
    from: "Nomad Desk <hello@nomaddesk.example>",
    replyTo: "support@nomaddesk.example",
    subject: "Lisbon for remote workers: the 2027 guide",
    html: "<html><body><p>Hi Alex, the guide is here.</p><a href=\"https://mk.nomaddesk.example/u/tok\">Unsubscribe</a></body></html>",
    text: "Hi Alex, the guide is here.\n\nUnsubscribe: https://mk.nomaddesk.example/u/tok",
    headers: {
      "List-Unsubscribe": "<https://mk.nomaddesk.example/u/tok>, <mailto:unsubscribe@nomaddesk.example?subject=unsubscribe%200b6c1f3e>",
      "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
      "X-Mk-Send-Id": "0b6c1f3e-4a3d-4c1e-9a53-0d1c2e3f4a5b",
      "X-Mk-Campaign": "lisbon-guide",
    },
  };
}

describe("DKIM: the SMTP transport signs with mk.yaml's sending.dkim key (mailauth verifies)", { timeout: 60_000 }, () => {
  let smtp: SmtpCapture;
  let key: DkimTestKey;
  let transport: RemoteTransport;
  const verify = (raw: Buffer | string) => dkimVerify(raw, { resolver: oneRecordResolver(RECORD_NAME, key.txtRecord) });

  before(async () => {
    smtp = await captureSmtp();
    key = dkimTestKey();
    const signing = readDkimKey(SETTINGS, { MK_DKIM_PRIVATE_KEY: key.privateKeyPem });
    transport = smtpTransport(smtp.url, { dkim: async () => signing });
  }, { timeout: 30_000 });
  after(async () => {
    await transport.close();
    await smtp.close();
  }, { timeout: 30_000 });

  it("signs the message as the server received it: an independent verifier passes it, and h= covers From, To, Subject, Date, Message-ID and both List-Unsubscribe headers", { timeout: 30_000 }, async () => {
    await transport.send(campaignMessage("alex@example.test"));
    const raw = smtp.received.at(-1)!.raw;
    const [result, ...others] = (await verify(raw)).results;
    assert.equal(others.length, 0, "one signature");
    assert.equal(result!.status.result, "pass", result!.info);
    assert.equal(result!.signingDomain, "nomaddesk.example");
    assert.equal(result!.selector, "mk2026");
    assert.equal(result!.algo, "rsa-sha256");
    assert.equal(result!.format, "relaxed/relaxed");
    const signed = result!.signingHeaders!.keys.toLowerCase().split(": ");
    for (const header of ["from", "to", "subject", "date", "message-id", "list-unsubscribe", "list-unsubscribe-post", "reply-to", "content-type"]) {
      assert.ok(signed.includes(header), `${header} is not signed: h=${result!.signingHeaders!.keys}`);
    }
    assert.ok(signed.every((h) => DKIM_SIGNED_HEADERS.some((d) => d.toLowerCase() === h)));
  });

  it("a changed body, subject or List-Unsubscribe fails the signature", { timeout: 30_000 }, async () => {
    await transport.send(campaignMessage("sam@example.test"));
    const raw = smtp.received.at(-1)!.raw.toString("latin1");
    assert.equal((await verify(raw)).results[0]!.status.result, "pass");
    const tampered = {
      body: raw.replace("the guide is here", "the guide is HERE"),
      subject: raw.replace("Subject: Lisbon", "Subject: Porto"),
      unsubscribe: raw.replace("<https://mk.nomaddesk.example/u/tok>", "<https://evil.example/u/tok>"),
    };
    for (const [what, text] of Object.entries(tampered)) {
      assert.notEqual(text, raw, `${what} was not changed`);
      const result = (await verify(text)).results[0]!;
      // mailauth says "neutral (body hash did not verify)" for a body that no longer hashes to bh=, "fail" for a header signature that no longer verifies.
      assert.equal(result.status.result, what === "body" ? "neutral" : "fail", `${what}: ${result.info}`);
      if (what === "body") assert.match(result.info, /body hash did not verify/);
    }
  });

  it("a missing, unparsable, non-RSA or short key: nothing sent, a retry naming the variable, logged once, the key never in the reason", { timeout: 30_000 }, async () => {
    const ed25519 = generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const short = generateKeyPairSync("rsa", { modulusLength: 512 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const garbled = key.privateKeyPem.replace(/[A-Za-z0-9+/]{64}/, "A".repeat(64));
    const cases: [string, string | undefined, RegExp][] = [
      ["missing", undefined, /MK_DKIM_PRIVATE_KEY, which the runtime's environment does not set/],
      ["not a key", "hunter2-not-a-key", /does not hold a PEM private key/],
      ["garbled", garbled, /does not hold a PEM private key/],
      ["ed25519", ed25519, /holds an ed25519 key; the SMTP transport signs rsa-sha256 only/],
      ["512 bits", short, /holds a 512-bit RSA key/],
    ];
    const before = smtp.received.length;
    for (const [what, value, reason] of cases) {
      const logged: string[] = [];
      const env = value === undefined ? {} : { MK_DKIM_PRIVATE_KEY: value };
      const refusing = smtpTransport(smtp.url, { dkim: appliedDkimKey(async () => SETTINGS, env, { error: (_details, message) => logged.push(message) }) });
      try {
        for (let i = 0; i < 2; i += 1) {
          const error = await refusing.send(campaignMessage("kim@example.test")).then(() => undefined, (e: unknown) => e);
          assert.ok(error instanceof TransportError, `${what}: ${String(error)}`);
          assert.equal(error.kind, "retry", what);
          assert.match(error.message, /^not sent: cannot sign it with DKIM: /);
          assert.match(error.message, reason, what);
          if (value !== undefined) assert.ok(!error.message.includes(value.length > 80 ? value.slice(40, 80) : value), `${what}: the reason holds the key`);
        }
        assert.equal(logged.length, 1, `${what}: logged once, not per message`);
        assert.match(logged[0]!, reason);
      } finally {
        await refusing.close();
      }
    }
    assert.equal(smtp.received.length, before, "nothing went out unsigned");
  });

  it("reads sending.dkim again after a few seconds, not per message; a key written with \\n escapes signs too; none named, none signed", { timeout: 30_000 }, async () => {
    let reads = 0;
    let settings: DkimSettings | undefined = SETTINGS;
    const escaped = key.privateKeyPem.trimEnd().replaceAll("\n", "\\n");
    const source = appliedDkimKey(async () => (reads += 1, settings), { MK_DKIM_PRIVATE_KEY: escaped }, { error: () => assert.fail("no error expected") });
    const keys = await Promise.all(Array.from({ length: 20 }, () => source()));
    assert.equal(reads, 1, "one read for twenty concurrent sends");
    assert.ok(keys.every((k) => k === keys[0] && k?.domainName === "nomaddesk.example"));
    const signing = smtpTransport(smtp.url, { dkim: source });
    try {
      await signing.send(campaignMessage("lee@example.test"));
      assert.equal((await verify(smtp.received.at(-1)!.raw)).results[0]!.status.result, "pass");
      settings = undefined;
      const unsigned = smtpTransport(smtp.url, { dkim: appliedDkimKey(async () => settings, {}, { error: () => assert.fail("no error expected") }) });
      await unsigned.send(campaignMessage("max@example.test"));
      await unsigned.close();
      assert.doesNotMatch(smtp.received.at(-1)!.raw.toString(), /^DKIM-Signature:/im);
    } finally {
      await signing.close();
    }
  });
});
