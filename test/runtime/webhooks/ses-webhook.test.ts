import assert from "node:assert/strict";
import { createSign, randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import Fastify from "fastify";
import { Registry } from "prom-client";
import selfsigned from "selfsigned";
import { systemClock } from "../../../runtime/clock.js";
import { registerSesWebhook, TOPICS_UNSET_LINE } from "../../../runtime/webhooks/routes.js";
import { stopDatabase } from "../../helpers/database.js";
import { startRuntime, type TestRuntime } from "../../helpers/runtime.js";
import { addSubscribers, applyCampaigns, query } from "../../helpers/sending.js";

/*
 * Amazon SNS delivering SES events, signed by a test certificate that the
 * runtime fetches from a stand-in certificate source (no internet): the
 * records follow the examples of the SES developer guide, "Examples of event
 * data that Amazon SES publishes to Amazon SNS". The source hands the
 * certificate out for any URL it is asked for and writes each one down, so a
 * check the runtime skipped would show as an accepted forgery or a fetch.
 */
const CERT_URL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem";
const TOPIC = "arn:aws:sns:us-east-1:123456789012:ses-events";
/** Someone else's topic: its messages are signed by SNS too (here, by the same test certificate). */
const FOREIGN_TOPIC = "arn:aws:sns:us-east-1:999999999999:ses-events";
let key = "";
let certificate = "";
const confirmed: string[] = [];
const fetched: string[] = [];
const certificates = async (url: URL) => {
  fetched.push(url.href);
  return certificate;
};
const confirmSubscription = async (url: URL) => {
  confirmed.push(url.href);
};

type Envelope = Record<string, string>;

function sign(envelope: Envelope, version: "1" | "2" = "2"): Envelope {
  const fields = envelope["Type"] === "Notification" ? ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"] : ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"];
  const text = fields.filter((f) => envelope[f] !== undefined).map((f) => `${f}\n${envelope[f]}\n`).join("");
  const signature = createSign(version === "1" ? "RSA-SHA1" : "RSA-SHA256").update(text).sign(key, "base64");
  return { ...envelope, SignatureVersion: version, Signature: signature, SigningCertURL: envelope["SigningCertURL"] ?? CERT_URL };
}

function notification(record: object, messageId = randomUUID(), topic = TOPIC, timestamp = new Date()): Envelope {
  return { Type: "Notification", MessageId: messageId, TopicArn: topic, Message: JSON.stringify(record), Timestamp: timestamp.toISOString() };
}

function subscription(subscribeUrl: string, topic = TOPIC): Envelope {
  return sign({ Type: "SubscriptionConfirmation", MessageId: randomUUID(), TopicArn: topic, Token: "token-1", Message: "You have chosen to subscribe…", SubscribeURL: subscribeUrl, Timestamp: new Date().toISOString() });
}

const subscribeUrl = (topic: string) => `https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${topic}&Token=token-1`;

/** An SES event record shaped like the developer guide's examples, for one of our sends. */
function sesRecord(eventType: string, sendId: string, to: string, extra: object = {}): object {
  return {
    eventType,
    mail: {
      timestamp: "2026-11-23T09:59:00.000Z",
      source: "Nomad Desk <hello@nomaddesk.example>",
      sendingAccountId: "123456789012",
      messageId: `ses-${sendId}`,
      destination: [to],
      headersTruncated: false,
      tags: { "ses:configuration-set": ["marketing"], "mk-send-id": [sendId], "mk-campaign": ["hooks"] },
    },
    ...extra,
  };
}

const EXTRAS: Record<string, (to: string) => object> = {
  Bounce: (to) => ({ bounce: { bounceType: "Permanent", bounceSubType: "General", bouncedRecipients: [{ emailAddress: to, action: "failed", status: "5.1.1", diagnosticCode: "smtp; 550 5.1.1 user unknown" }], timestamp: "2026-11-23T10:00:01.000Z", feedbackId: "f-1" } }),
  Complaint: (to) => ({ complaint: { complainedRecipients: [{ emailAddress: to }], timestamp: "2026-11-23T10:05:00.000Z", feedbackId: "f-2", complaintFeedbackType: "abuse" } }),
  Delivery: (to) => ({ delivery: { timestamp: "2026-11-23T10:00:02.000Z", processingTimeMillis: 546, recipients: [to], smtpResponse: "250 ok", reportingMTA: "a8-70.smtp-out.amazonses.com" } }),
  Send: () => ({ send: {} }),
  Reject: () => ({ reject: { reason: "Bad content" } }),
  Open: () => ({ open: { ipAddress: "192.0.2.1", timestamp: "2026-11-23T11:00:00.000Z", userAgent: "Mozilla/5.0" } }),
  Click: () => ({ click: { ipAddress: "192.0.2.1", link: "https://nomaddesk.example/offer", linkTags: {}, timestamp: "2026-11-23T11:01:00.000Z", userAgent: "Mozilla/5.0" } }),
  "Rendering Failure": () => ({ failure: { errorMessage: "Attribute 'attributeName' is not present in the rendering data.", templateName: "MyTemplate" } }),
  DeliveryDelay: (to) => ({ deliveryDelay: { timestamp: "2026-11-23T10:30:00.000Z", delayType: "TransientCommunicationFailure", expirationTime: "2026-11-24T10:00:00.000Z", delayedRecipients: [{ emailAddress: to, status: "4.4.1", diagnosticCode: "smtp; 421 4.4.1 Unable to connect" }] } }),
  Subscription: () => ({ subscription: { contactList: "SystemMonitor-Canary", timestamp: "2026-11-23T10:40:00.000Z", source: "UnsubscribeHeader", newTopicPreferences: { unsubscribeAll: true, topicSubscriptionStatus: [] } } }),
};

after(() => stopDatabase(), { timeout: 120_000 });

describe("POST /v1/webhooks/ses", { timeout: 180_000 }, () => {
  let rt: TestRuntime;
  let sends: { id: string; email: string }[] = [];
  const post = (envelope: unknown, contentType = "text/plain; charset=UTF-8") =>
    fetch(`${rt.url}/v1/webhooks/ses`, { method: "POST", headers: { "content-type": contentType, "x-amz-sns-message-type": "Notification" }, body: JSON.stringify(envelope) });
  const counts = async () => (await query<{ messages: number; events: number; suppressed: number }>(rt.databaseUrl, "select (select count(*)::int from sns_messages) as messages, (select count(*)::int from events) as events, (select count(*)::int from suppressions) as suppressed"))[0]!;

  before(async () => {
    const pems = await selfsigned.generate([{ name: "commonName", value: "sns.us-east-1.amazonaws.com" }], { notAfterDate: new Date(Date.now() + 2 * 86_400_000), keySize: 2048 });
    key = pems.private;
    certificate = pems.cert;
    rt = await startRuntime({ MK_SNS_TOPIC_ARNS: ` ${TOPIC} , arn:aws:sns:eu-west-1:123456789012:other` }, undefined, { snsCertificates: certificates, confirmSnsSubscription: confirmSubscription });
    await addSubscribers(rt.databaseUrl, 14);
    await applyCampaigns(rt, [{ name: "hooks" }], { provider: "ses" });
    await rt.api("/v1/sends/start", { body: { campaign: "hooks" } });
    // Every row as if a worker lost track of it mid-call: only the provider's events can settle it.
    await query(rt.databaseUrl, "update sends set status = 'ambiguous', transport = 'ses'");
    sends = await query<{ id: string; email: string }>(rt.databaseUrl, "select id, email from sends order by email");
  }, { timeout: 120_000 });
  after(() => rt.close(), { timeout: 120_000 });

  it("takes every SES event type, settles each send, suppresses bounces and complaints, records the events", async () => {
    const types = Object.keys(EXTRAS);
    for (const [i, type] of types.entries()) {
      const send = sends[i]!;
      const response = await post(sign(notification(sesRecord(type, send.id, send.email, EXTRAS[type]!(send.email))), i % 2 ? "1" : "2"));
      assert.equal(response.status, 200, `${type}: ${await response.clone().text()}`);
      assert.deepEqual(await response.json(), { status: "handled", eventType: type, sendId: send.id });
    }
    const rows = await query<{ email: string; status: string; provider_message_id: string }>(rt.databaseUrl, "select email, status, provider_message_id from sends order by email");
    const statusOf = (type: string) => rows[types.indexOf(type)]!.status;
    for (const type of types) assert.equal(statusOf(type), type === "Reject" || type === "Rendering Failure" ? "failed" : "sent", type);
    assert.equal(rows[types.indexOf("Delivery")]!.provider_message_id, `ses-${sends[types.indexOf("Delivery")]!.id}`);
    assert.equal(rows[types.length]!.status, "ambiguous", "a send with no event stays ambiguous");
    assert.deepEqual([...new Set(fetched)], [CERT_URL], "the certificate came from the message's SigningCertURL");

    const suppressed = await query<{ email: string; reason: string }>(rt.databaseUrl, "select email, reason from suppressions order by reason");
    assert.deepEqual(suppressed, [
      { email: sends[types.indexOf("Bounce")]!.email, reason: "bounce" },
      { email: sends[types.indexOf("Complaint")]!.email, reason: "complaint" },
    ]);
    const events = await query<{ name: string; campaign: string; data: { bounceType?: string } }>(rt.databaseUrl, "select name, campaign, data from events order by name");
    assert.deepEqual(events.map((e) => e.name), ["ses.bounce", "ses.click", "ses.complaint", "ses.delivery", "ses.delivery-delay", "ses.open", "ses.reject", "ses.rendering-failure", "ses.send", "ses.subscription"]);
    assert.ok(events.every((e) => e.campaign === "hooks"), "every SES event counts for the campaign of its send");
    assert.equal(events[0]!.data.bounceType, "Permanent");
    // In the campaign's report: one hard bounce, one complaint, one delivery, one unique open and click.
    const report = (await rt.api("/v1/reports/campaigns/hooks")).body;
    assert.deepEqual(
      [report.totals.bounced, report.totals.complained, report.totals.delivered, report.totals.opened, report.totals.clicked, report.totals.unsubscribed],
      [1, 1, 1, 1, 1, 1],
    );
  });

  it("a hard bounce or complaint replaces an earlier unsubscribe or manual suppression, which no longer keeps transactional mail going to it", async () => {
    // Two of the subscribers no other test of this file touches.
    const unsubscribed = sends[12]!;
    const manual = sends[13]!;
    await query(rt.databaseUrl, "insert into suppressions (email, reason, source) values ($1, 'unsubscribe', 'test'), ($2, 'manual', 'test')", [unsubscribed.email, manual.email]);
    for (const [send, type] of [[unsubscribed, "Bounce"], [manual, "Complaint"]] as const) {
      const response = await post(sign(notification(sesRecord(type, send.id, send.email, EXTRAS[type]!(send.email)))));
      assert.equal(response.status, 200, await response.clone().text());
    }
    const reasons = await query<{ email: string; reason: string; source: string }>(rt.databaseUrl, "select email, reason, source from suppressions where email = any($1::text[]) order by reason", [[unsubscribed.email, manual.email]]);
    assert.deepEqual(reasons.map((r) => [r.email, r.reason, r.source.startsWith("ses:")]), [[unsubscribed.email, "bounce", true], [manual.email, "complaint", true]]);
  });

  it("counts a redelivered message once", async () => {
    const envelope = sign(notification(sesRecord("Delivery", sends[10]!.id, sends[10]!.email, EXTRAS["Delivery"]!(sends[10]!.email))));
    assert.equal(((await (await post(envelope)).json()) as { status: string }).status, "handled");
    const before = await counts();
    assert.deepEqual(await (await post(envelope)).json(), { status: "duplicate" });
    assert.deepEqual(await counts(), before);
  });

  it("refuses a changed byte, a certificate from another host, an unknown signature version, an unsigned message: 403, nothing stored", async () => {
    const send = sends[11]!;
    const good = sign(notification(sesRecord("Bounce", send.id, send.email, EXTRAS["Bounce"]!(send.email))));
    const before = await counts();
    const tampered = { ...good, Message: good["Message"]!.replace("Permanent", "Permanenu") };
    const otherHost = sign({ ...notification(sesRecord("Delivery", send.id, send.email)), SigningCertURL: "https://sns.us-east-1.amazonaws.com.evil.example/cert.pem" });
    const plainHttp = sign({ ...notification(sesRecord("Delivery", send.id, send.email)), SigningCertURL: CERT_URL.replace("https:", "http:") });
    const version3 = { ...good, SignatureVersion: "3" };
    const { Signature: _signature, ...unsigned } = good;
    for (const [name, envelope] of Object.entries({ tampered, otherHost, plainHttp, version3, unsigned })) {
      const response = await post(envelope);
      assert.equal(response.status, 403, name);
      assert.equal(((await response.json()) as { error: { code: string } }).error.code, "invalid_signature");
    }
    assert.deepEqual(await counts(), before);
    assert.equal((await query(rt.databaseUrl, "select 1 from sends where id = $1 and status = 'ambiguous'", [send.id])).length, 1);
    assert.equal((await post("not json at all".split(""))).status, 403);
    assert.equal((await fetch(`${rt.url}/v1/webhooks/ses`, { method: "POST", headers: { "content-type": "text/plain" }, body: "{ nope" })).status, 400);
  });

  it("confirms a subscription only from a verified message, and only at an SNS URL in the topic's region for that topic", async () => {
    const url = subscribeUrl(TOPIC);
    assert.equal((await post(subscription(url))).status, 200);
    assert.deepEqual(confirmed, [url]);
    assert.equal((await post({ ...subscription(url), Token: "token-2" })).status, 403);
    const fetches = fetched.length;
    for (const elsewhere of [
      "https://evil.example/confirm",
      url.replace("us-east-1.amazonaws.com", "eu-west-1.amazonaws.com"),
      url.replace("amazonaws.com/", "amazonaws.com:8443/"),
      url.replace("https://", "https://user@"),
      url.replace(TOPIC, FOREIGN_TOPIC),
      url.replace("ConfirmSubscription", "Unsubscribe"),
      `${url}#fragment`,
    ]) {
      const response = await post(subscription(elsewhere));
      assert.equal(response.status, 400, elsewhere);
      assert.deepEqual(((await response.json()) as { error: { fields: unknown } }).error.fields, [{ path: "SubscribeURL", message: "SubscribeURL is not https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=<this topic>…" }]);
    }
    assert.deepEqual(confirmed, [url]);
    assert.equal(fetched.length, fetches, "a SubscribeURL that cannot be visited stops the message before any certificate is fetched");
  });

  it("refuses a correctly signed message from a topic not in MK_SNS_TOPIC_ARNS: 403, nothing stored, fetched or confirmed", async () => {
    const send = sends[11]!;
    const before = [await counts(), fetched.length, confirmed.length];
    const bounce = sign(notification(sesRecord("Bounce", send.id, send.email, EXTRAS["Bounce"]!(send.email)), randomUUID(), FOREIGN_TOPIC));
    const complaint = sign(notification(sesRecord("Complaint", send.id, send.email, EXTRAS["Complaint"]!(send.email)), randomUUID(), FOREIGN_TOPIC));
    for (const envelope of [bounce, complaint, subscription(subscribeUrl(FOREIGN_TOPIC), FOREIGN_TOPIC)]) {
      const response = await post(envelope);
      assert.equal(response.status, 403, envelope["Type"]);
      assert.deepEqual(((await response.json()) as { error: { code: string; message: string } }).error, {
        code: "unknown_topic",
        message: "TopicArn is not one of the topics in the runtime's MK_SNS_TOPIC_ARNS",
        fields: [{ path: "TopicArn", message: "TopicArn is not one of the topics in the runtime's MK_SNS_TOPIC_ARNS" }],
        requestId: response.headers.get("x-request-id"),
      });
    }
    assert.deepEqual([await counts(), fetched.length, confirmed.length], before);
    assert.deepEqual(await query(rt.databaseUrl, "select status, consent is not null as consent from sends join subscribers s on s.id = sends.subscriber_id where sends.id = $1", [send.id]), [{ status: "ambiguous", consent: true }]);
  });

  it("refuses a SigningCertURL on another host, in another region, with a query, fragment, userinfo or port: 403, no fetch", async () => {
    const send = sends[11]!;
    const before = [await counts(), fetched.length];
    for (const certUrl of [
      "https://sns.us-east-1.amazonaws.com.evil.example/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem",
      "https://evil.example/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem",
      CERT_URL.replace("us-east-1", "eu-west-1"),
      `${CERT_URL}?x=1`,
      `${CERT_URL}#x`,
      CERT_URL.replace("https://", "https://user@"),
      CERT_URL.replace(".com/", ".com:443/"),
      CERT_URL.replace("SimpleNotificationService-", "other-"),
      CERT_URL.replace("0123456789abcdef0123456789abcdef", "../../evil"),
    ]) {
      const response = await post(sign({ ...notification(sesRecord("Bounce", send.id, send.email, EXTRAS["Bounce"]!(send.email))), SigningCertURL: certUrl }));
      assert.equal(response.status, 403, certUrl);
      assert.equal(((await response.json()) as { error: { code: string; message: string } }).error.message, "SigningCertURL is not https://sns.us-east-1.amazonaws.com/SimpleNotificationService-<hex>.pem (the topic's region, no query)");
    }
    assert.deepEqual([await counts(), fetched.length], before);
  });

  it("refuses a Timestamp older than MK_SNS_MAX_AGE (6h) or over 5 minutes ahead, and takes one within that skew", async () => {
    const send = sends[11]!;
    const before = [await counts(), fetched.length];
    const at = (offsetMs: number) => new Date(Date.now() + offsetMs);
    const stale = [at(-6 * 3_600_000 - 60_000), at(6 * 60_000)].map((time) => sign(notification(sesRecord("Bounce", send.id, send.email, EXTRAS["Bounce"]!(send.email)), randomUUID(), TOPIC, time)));
    const unreadable = sign({ ...notification(sesRecord("Bounce", send.id, send.email)), Timestamp: "Tue, 01 Dec 2026 10:00:00 GMT" });
    for (const envelope of [...stale, unreadable]) {
      const response = await post(envelope);
      assert.equal(response.status, 403, envelope["Timestamp"]);
      assert.equal(((await response.json()) as { error: { code: string } }).error.code, "stale_message");
    }
    assert.deepEqual([await counts(), fetched.length], before);
    const nobody = sesRecord("Delivery", randomUUID(), "nobody@example.test");
    for (const time of [at(4 * 60_000), at(-5 * 3_600_000)]) {
      const response = await post(sign(notification(nobody, randomUUID(), TOPIC, time)));
      assert.deepEqual([response.status, await response.json()], [200, { status: "handled", eventType: "Delivery" }], time.toISOString());
    }
  });

  it("refuses every message while MK_SNS_TOPIC_ARNS is unset, and logs how to set it once per process", async () => {
    const unset = await startRuntime({}, rt.databaseUrl, { snsCertificates: certificates, confirmSnsSubscription: confirmSubscription });
    const lines: string[] = [];
    const app = Fastify({ logger: { level: "info", stream: { write: (line: string) => lines.push(line) } } });
    registerSesWebhook(app, { pool: rt.pool, registry: new Registry(), log: app.log, policy: { topicArns: new Set(), maxAgeMs: 6 * 3_600_000 }, clock: systemClock, certificates, confirmSubscription });
    try {
      const send = sends[11]!;
      const before = [await counts(), fetched.length, confirmed.length];
      const messages = [sign(notification(sesRecord("Bounce", send.id, send.email, EXTRAS["Bounce"]!(send.email)))), subscription(subscribeUrl(TOPIC)), "{ not json"];
      for (const message of messages) {
        const body = typeof message === "string" ? message : JSON.stringify(message);
        const deployed = await fetch(`${unset.url}/v1/webhooks/ses`, { method: "POST", headers: { "content-type": "text/plain" }, body });
        const { error } = (await deployed.json()) as { error: { code: string; message: string } };
        assert.deepEqual([deployed.status, error.code, error.message], [403, "sns_topics_not_configured", "this runtime accepts no SNS topic yet: its MK_SNS_TOPIC_ARNS is not set"]);
        // The same webhook on a bare app (no runtime error handler) whose log this test reads.
        assert.equal((await app.inject({ method: "POST", url: "/v1/webhooks/ses", headers: { "content-type": "text/plain" }, payload: body })).statusCode, 403);
      }
      assert.deepEqual([await counts(), fetched.length, confirmed.length], before);
      const said = lines.map((line) => JSON.parse(line) as { level: number; msg: string }).filter((line) => line.level >= 40);
      assert.deepEqual(said, [{ ...said[0], level: 40, msg: TOPICS_UNSET_LINE }], "one warning for three refused messages (the bare app's own request lines are info)");
    } finally {
      await app.close();
      await unset.close();
    }
  });
});
