import assert from "node:assert/strict";
import { createSign, randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import selfsigned from "selfsigned";
import { stopDatabase } from "../../helpers/database.js";
import { startRuntime, type TestRuntime } from "../../helpers/runtime.js";
import { addSubscribers, applyCampaigns, query } from "../../helpers/sending.js";

/*
 * Opens and clicks mk hears of rather than sees: SES's own open pixel and
 * link redirect (SNS notifications, signed by a test certificate as in
 * test/runtime/webhooks/ses-webhook.test.ts, with the Open and Click objects
 * of the SES developer guide, "Contents of event data that Amazon SES
 * publishes to Amazon SNS") and open and click events an app posts to
 * /v1/events. Each is classified from the address's network (the bundled
 * ASN data), the user agent and how soon after the send it came.
 *
 * The request fingerprints:
 * - Apple Mail Privacy Protection fetches through Apple's network (AS714,
 *   17.0.0.0/8) with the bare agent "Mozilla/5.0" (Apple, "Mail Privacy
 *   Protection", support.apple.com/guide/mail; the agent as Litmus and
 *   Mailgun document it).
 * - Gmail's image proxy: "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko
 *   Firefox/11.0 (via ggpht.com GoogleImageProxy)" from Google's AS15169
 *   (66.249.80.0/20), as Google documents in support.google.com/mail/answer/145919.
 * - A desktop browser: Chrome 131 on Windows, from a UK ISP's address
 *   (81.2.69.142, AS20712).
 */
const CERT_URL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem";
const TOPIC = "arn:aws:sns:us-east-1:123456789012:ses-events";
const APPLE_MPP = { ipAddress: "17.58.63.10", userAgent: "Mozilla/5.0" };
const GOOGLE_IMAGE_PROXY = { ipAddress: "66.249.84.10", userAgent: "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)" };
const DESKTOP_CHROME = { ipAddress: "81.2.69.142", userAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36" };
const BOT = "python-requests/2.31.0";

let key = "";
let certificate = "";

function signed(record: object): Record<string, string> {
  const envelope: Record<string, string> = { Type: "Notification", MessageId: randomUUID(), TopicArn: TOPIC, Message: JSON.stringify(record), Timestamp: new Date().toISOString() };
  const text = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"].filter((f) => envelope[f] !== undefined).map((f) => `${f}\n${envelope[f]}\n`).join("");
  return { ...envelope, SignatureVersion: "2", Signature: createSign("RSA-SHA256").update(text).sign(key, "base64"), SigningCertURL: CERT_URL };
}

/** An SES Open or Click record for one of our sends, `seconds` after it was sent. */
function sesRecord(type: "Open" | "Click", send: { id: string; email: string }, sentAt: Date, seconds: number, request: { ipAddress: string; userAgent: string }): object {
  const timestamp = new Date(sentAt.getTime() + seconds * 1000).toISOString();
  return {
    eventType: type,
    mail: { timestamp: sentAt.toISOString(), source: "Nomad Desk <hello@nomaddesk.example>", messageId: `ses-${send.id}`, destination: [send.email], tags: { "mk-send-id": [send.id] } },
    ...(type === "Open"
      ? { open: { ...request, timestamp } }
      : { click: { ...request, timestamp, link: "https://nomaddesk.example/offer?ref=mail", linkTags: { samplekey0: ["samplevalue0"] } } }),
  };
}

interface Stored {
  name: string;
  occurred_at: Date;
  actor: string | null;
  actor_reason: string | null;
  ip: string | null;
  data: { userAgent?: string; asn?: number; detail?: string; link?: string };
}

after(() => stopDatabase(), { timeout: 120_000 });

/** An IPv4 address cut to its /24, as tracking.ip's default stores it. */
const truncated = (ip: string) => ip.replace(/\.\d+$/, ".0");

describe("opens and clicks from SES and from /v1/events are classified", { timeout: 180_000 }, () => {
  let rt: TestRuntime;
  let sends: { id: string; email: string }[] = [];
  const sentAt = new Date(Date.now() - 3_600_000);
  const post = (record: object) =>
    fetch(`${rt.url}/v1/webhooks/ses`, { method: "POST", headers: { "content-type": "text/plain; charset=UTF-8" }, body: JSON.stringify(signed(record)) });
  const stored = (sendId: string) =>
    query<Stored>(rt.databaseUrl, "select name, occurred_at, actor, actor_reason, host(ip) as ip, data from events where send_id = $1 order by occurred_at, id", [sendId]);
  const project = (ip: string) => ({ tracking: { clicks: true, utm: { source: "mk", medium: "email" }, ip } });

  before(async () => {
    const pems = await selfsigned.generate([{ name: "commonName", value: "sns.us-east-1.amazonaws.com" }], { notAfterDate: new Date(Date.now() + 2 * 86_400_000), keySize: 2048 });
    key = pems.private;
    certificate = pems.cert;
    rt = await startRuntime({ MK_SNS_TOPIC_ARNS: TOPIC }, undefined, { snsCertificates: async () => certificate, confirmSnsSubscription: async () => {} });
    await addSubscribers(rt.databaseUrl, 9);
    await applyCampaigns(rt, [{ name: "launch" }], { provider: "ses" });
    await rt.api("/v1/sends/start", { body: { campaign: "launch" } });
    await query(rt.databaseUrl, "update sends set status = 'sent', transport = 'ses', sent_at = $1, provider_message_id = 'ses-' || id where campaign = 'launch'", [sentAt]);
    sends = await query(rt.databaseUrl, "select id, email from sends order by email");
  }, { timeout: 120_000 });
  after(() => rt.close(), { timeout: 120_000 });

  it("an SES open by Apple Mail Privacy Protection is a machine's, its address truncated (tracking.ip's default) and its evidence kept", async () => {
    const send = sends[0]!;
    const response = await post(sesRecord("Open", send, sentAt, 2, APPLE_MPP));
    assert.equal(response.status, 200, await response.clone().text());
    const [open] = await stored(send.id);
    assert.equal(open!.name, "ses.open");
    assert.equal(open!.occurred_at.toISOString(), new Date(sentAt.getTime() + 2000).toISOString(), "when SES saw the request, not when SNS posted it");
    assert.deepEqual([open!.actor, open!.actor_reason, open!.ip], ["machine", "apple-privacy-proxy", "17.58.63.0"]);
    assert.equal(open!.data.userAgent, "Mozilla/5.0");
    assert.equal(open!.data.asn, 714);
    assert.match(open!.data.detail!, /Apple/);
  });

  it("an SES open through Gmail's image proxy: a machine's on delivery, a person's an hour later", async () => {
    const send = sends[1]!;
    assert.equal((await post(sesRecord("Open", send, sentAt, 1, GOOGLE_IMAGE_PROXY))).status, 200);
    assert.equal((await post(sesRecord("Open", send, sentAt, 3600, GOOGLE_IMAGE_PROXY))).status, 200);
    const opens = await stored(send.id);
    assert.deepEqual(opens.map((o) => [o.actor, o.actor_reason, o.data.asn]), [
      ["machine", "image-proxy-prefetch", 15169],
      ["human", "image-proxy-open", 15169],
    ]);
  });

  it("an SES click within 2 s of the send is a machine's; one from a desktop browser later is a person's, with its link", async () => {
    const send = sends[2]!;
    assert.equal((await post(sesRecord("Click", send, sentAt, 1.5, DESKTOP_CHROME))).status, 200);
    assert.equal((await post(sesRecord("Click", send, sentAt, 1800, DESKTOP_CHROME))).status, 200);
    const clicks = await stored(send.id);
    assert.deepEqual(clicks.map((c) => [c.name, c.actor, c.actor_reason, c.ip, c.data.link, c.data.asn]), [
      ["ses.click", "machine", "soon-after-send", "81.2.69.0", "https://nomaddesk.example/offer?ref=mail", 20712],
      ["ses.click", "human", "ordinary-client", "81.2.69.0", "https://nomaddesk.example/offer?ref=mail", 20712],
    ]);
    assert.match(clicks[1]!.data.detail!, /Chrome/);
  });

  it("keeps or drops the address as the applied project's tracking.ip says, and cuts a long user agent to 512 characters", async () => {
    await applyCampaigns(rt, [{ name: "launch" }], { provider: "ses" }, { project: project("keep") });
    assert.equal((await post(sesRecord("Click", sends[3]!, sentAt, 600, { ...DESKTOP_CHROME, userAgent: `${DESKTOP_CHROME.userAgent} ${"x".repeat(1000)}` }))).status, 200);
    await applyCampaigns(rt, [{ name: "launch" }], { provider: "ses" }, { project: project("drop") });
    assert.equal((await post(sesRecord("Click", sends[4]!, sentAt, 600, DESKTOP_CHROME))).status, 200);
    const [kept] = await stored(sends[3]!.id);
    const [dropped] = await stored(sends[4]!.id);
    assert.equal(kept!.ip, "81.2.69.142");
    assert.equal(kept!.data.userAgent!.length, 512);
    assert.equal(dropped!.ip, null);
    assert.equal(dropped!.actor, "human", "classified from the whole address before it was dropped");
  });

  it("an SES open whose address and time are no address and time is still stored: at the notification's time, without an address", async () => {
    const send = sends[8]!;
    const record = sesRecord("Open", send, sentAt, 0, { ipAddress: "not-an-address", userAgent: DESKTOP_CHROME.userAgent }) as { open: Record<string, unknown> };
    record.open["timestamp"] = "yesterday";
    const before = Date.now();
    const response = await post(record);
    assert.equal(response.status, 200, await response.clone().text());
    const [open] = await stored(send.id);
    assert.ok(open!.occurred_at.getTime() >= before - 1000, "the notification's Timestamp");
    assert.deepEqual([open!.actor, open!.actor_reason, open!.ip], ["human", "ordinary-client", null]);
  });

  it("an SES event other than an open or click has no actor", async () => {
    const send = sends[5]!;
    const delivery = { eventType: "Delivery", mail: { timestamp: sentAt.toISOString(), messageId: `ses-${send.id}`, destination: [send.email], tags: { "mk-send-id": [send.id] } }, delivery: { timestamp: sentAt.toISOString(), recipients: [send.email] } };
    assert.equal((await post(delivery)).status, 200);
    const [row] = await stored(send.id);
    assert.deepEqual([row!.name, row!.actor, row!.actor_reason], ["ses.delivery", null, null]);
  });

  it("ingested opens and clicks: no evidence is your system's word (a person), a bot's agent a machine, soon after its send a machine, a person's browser a person; other events none", async () => {
    await applyCampaigns(rt, [{ name: "launch" }], { provider: "ses" }, { project: project("truncate") });
    const at = (seconds: number) => new Date(sentAt.getTime() + seconds * 1000).toISOString();
    const send = sends[6]!;
    const events = [
      { idempotencyKey: "bare-click", type: "click", subscriber: { email: sends[7]!.email }, occurredAt: at(600) },
      { idempotencyKey: "bot-click", type: "click", subscriber: { email: sends[7]!.email }, occurredAt: at(700), ip: "81.2.69.142", properties: { userAgent: BOT } },
      { idempotencyKey: "fast-click", type: "click", subscriber: { email: send.email }, occurredAt: at(3), sendId: send.id, ip: DESKTOP_CHROME.ipAddress, properties: { userAgent: DESKTOP_CHROME.userAgent } },
      { idempotencyKey: "person-open", type: "open", subscriber: { email: send.email }, occurredAt: at(900), sendId: send.id, properties: { userAgent: DESKTOP_CHROME.userAgent } },
      { idempotencyKey: "page", type: "page_view", subscriber: { email: send.email }, occurredAt: at(950), ip: DESKTOP_CHROME.ipAddress, properties: { userAgent: BOT } },
    ];
    const response = await rt.api("/v1/events", { body: { events } });
    assert.equal(response.body.accepted, 5, JSON.stringify(response.body));
    const rows = await query<{ idempotency_key: string; actor: string | null; actor_reason: string | null; ip: string | null }>(
      rt.databaseUrl,
      "select idempotency_key, actor, actor_reason, host(ip) as ip from events where idempotency_key = any($1::text[]) order by idempotency_key",
      [events.map((e) => e.idempotencyKey)],
    );
    // Opens' and clicks' addresses as tracking.ip says (truncate, the default); a page view's as sent.
    assert.deepEqual(rows, [
      { idempotency_key: "bare-click", actor: "human", actor_reason: "reported", ip: null },
      { idempotency_key: "bot-click", actor: "machine", actor_reason: "bot-user-agent", ip: "81.2.69.0" },
      { idempotency_key: "fast-click", actor: "machine", actor_reason: "soon-after-send", ip: truncated(DESKTOP_CHROME.ipAddress) },
      { idempotency_key: "page", actor: null, actor_reason: null, ip: DESKTOP_CHROME.ipAddress },
      { idempotency_key: "person-open", actor: "human", actor_reason: "ordinary-client", ip: null },
    ]);
  });
});
