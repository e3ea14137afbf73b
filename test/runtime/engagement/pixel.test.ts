import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { storedAddress } from "../../../runtime/engagement/ip-privacy.js";
import { signLinkToken } from "../../../runtime/sending/link-tokens.js";
import { stopDatabase } from "../../helpers/database.js";
import { SIGNING_SECRET, startRuntime, testConfig, TOKEN, type TestRuntime } from "../../helpers/runtime.js";
import { addSubscribers, applyCampaigns, query, type ApplyExtras } from "../../helpers/sending.js";
import { waitFor } from "../../helpers/wait-for.js";

/**
 * The open pixel (runtime/engagement/pixel-route.ts, compose.ts): which mail
 * carries it, what a request for it stores (classified, the address as
 * tracking.ip says, throttled), that every request gets the same image
 * whatever its token, and that X-Forwarded-For counts only from a proxy
 * MK_TRUST_PROXY names.
 */
const CONFIRM_HTML = '<html><body><p>Please <a href="{{confirmUrl}}">confirm</a>.</p></body></html>';
const RECEIPT_HTML = "<html><body><p>Order {{data.orderId}}</p></body></html>";
const BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const PIXEL_TAG = /<img src="[^"]*\/o\/([\w-]{54})" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0">/g;
/** The proxy the main runtime trusts (MK_TRUST_PROXY). */
const PROXY = "192.0.2.1";

/** mk.yaml's tracking with opens as given, and no pixel in Germany. */
function extras(opens: boolean): ApplyExtras {
  return {
    templates: { "templates/confirm.mjml": CONFIRM_HTML, "templates/receipt.mjml": RECEIPT_HTML },
    project: {
      tracking: { clicks: true, opens, noOpensIn: ["DE"], utm: { source: "mk", medium: "email" } },
      forms: [{ name: "newsletter", doubleOptIn: true, template: "templates/confirm.mjml", subject: "Confirm", redirect: {}, allowedOrigins: [] }],
    },
    resources: [
      { kind: "Message", name: "receipt", spec: { template: "templates/receipt.mjml", subject: "Order {{data.orderId}}", data: { orderId: { type: "string" } } } },
      { kind: "Message", name: "reset", spec: { template: "templates/receipt.mjml", subject: "Reset {{data.orderId}}", data: { orderId: { type: "string" } }, tracking: { opens: true } } },
    ],
  };
}

let rt: TestRuntime;

interface Sent {
  send_id: string;
  campaign: string;
  recipient: string;
  html: string;
}
const outbox = () => query<Sent>(rt.databaseUrl, "select send_id, campaign, recipient, html from outbox order by recipient, campaign");
const mail = async (campaign: string | RegExp, recipient: string) => {
  const found = (await outbox()).find((m) => (typeof campaign === "string" ? m.campaign === campaign : campaign.test(m.campaign)) && m.recipient === recipient);
  assert.ok(found, `no ${String(campaign)} mail to ${recipient}`);
  return found;
};
const pixelsIn = (html: string) => [...html.matchAll(PIXEL_TAG)].map((m) => m[1]!);
const pixelOf = async (recipient: string) => {
  const [token] = pixelsIn((await mail("news", recipient)).html);
  assert.ok(token, `no pixel in ${recipient}'s news`);
  return token;
};
const open = (token: string, options: { method?: "GET" | "HEAD"; ip?: string; userAgent?: string; headers?: Record<string, string>; on?: TestRuntime } = {}) =>
  (options.on ?? rt).app.inject({
    method: options.method ?? "GET",
    url: `/o/${token}`,
    remoteAddress: options.ip ?? "198.51.100.23",
    headers: { "user-agent": options.userAgent ?? BROWSER, ...options.headers },
  });
interface OpenRow {
  campaign: string;
  variant: string | null;
  country: string | null;
  ip: string | null;
  actor: string;
  actor_reason: string;
  data: Record<string, unknown>;
}
const opensOf = (sendId: string) =>
  query<OpenRow>(rt.databaseUrl, "select campaign, variant, country, host(ip) as ip, actor, actor_reason, data from events where name = 'open' and send_id = $1 order by id", [sendId]);
const everything = async () =>
  (await query<{ events: number; throttle: number }>(rt.databaseUrl, "select (select count(*) from events)::int as events, (select count(*) from open_throttle)::int as throttle"))[0]!;

before(async () => {
  rt = await startRuntime({ MK_WORKERS: "1", MK_TRUST_PROXY: PROXY });
  // s2, s4 … s16 live in Portugal, s1, s3 … s15 in Germany (no pixel).
  await addSubscribers(rt.databaseUrl, 16, { countries: ["PT", "DE"] });
  await applyCampaigns(rt, [{ name: "news" }, { name: "quiet" }, { name: "notice", transactional: true }], {}, extras(true));
  assert.equal((await rt.api("/v1/sends/start", { body: { campaign: "news" } })).status, 200);
  assert.equal((await rt.api("/v1/sends/start", { body: { campaign: "notice" } })).status, 200);
  await waitFor(async () => (await query(rt.databaseUrl, "select 1 from sends where status <> 'sent'")).length === 0);
  // The same project with opens off: a send started now carries none; news keeps what it started with.
  await applyCampaigns(rt, [{ name: "news" }, { name: "quiet" }, { name: "notice", transactional: true }], {}, extras(false));
  assert.equal((await rt.api("/v1/sends/start", { body: { campaign: "quiet" } })).status, 200);
  for (const name of ["receipt", "reset"]) {
    const sent = await rt.app.inject({
      method: "POST",
      url: `/v1/messages/${name}`,
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json", "idempotency-key": `${name}-1` },
      payload: { subscriber: "s2@example.test", data: { orderId: "42" } },
    });
    assert.equal(sent.statusCode, 202, sent.body);
  }
  const signup = await rt.app.inject({ method: "POST", url: "/f/newsletter", remoteAddress: "192.0.2.50", headers: { "content-type": "application/x-www-form-urlencoded" }, payload: "email=new%40example.test" });
  assert.equal(signup.statusCode, 200, signup.body);
  await waitFor(async () => (await query(rt.databaseUrl, "select 1 from sends where status <> 'sent'")).length === 0 && (await outbox()).length === 16 + 16 + 16 + 3);
  // Sent an hour ago: no open is too soon after sending unless a test says so.
  await query(rt.databaseUrl, "update sends set sent_at = now() - interval '1 hour'");
}, { timeout: 120_000 });
after(async () => {
  await rt.close();
  await stopDatabase();
}, { timeout: 120_000 });

describe("which mail carries the open pixel", { timeout: 60_000 }, () => {
  it("a campaign started with opens on: one pixel right before </body>, except to a country of noOpensIn", async () => {
    const portugal = await mail("news", "s2@example.test");
    assert.equal(pixelsIn(portugal.html).length, 1);
    assert.match(portugal.html, new RegExp(`${PIXEL_TAG.source}</body></html>$`));
    assert.deepEqual(pixelsIn((await mail("news", "s1@example.test")).html), [], "Germany is in noOpensIn");
  });

  it("a transactional campaign carries none, opens on or not", async () => {
    for (const recipient of ["s1@example.test", "s2@example.test"]) assert.deepEqual(pixelsIn((await mail("notice", recipient)).html), []);
  });

  it("a campaign started with opens off carries none", async () => {
    for (const recipient of ["s1@example.test", "s2@example.test"]) assert.deepEqual(pixelsIn((await mail("quiet", recipient)).html), []);
  });

  it("a transactional message carries one only when its Message says tracking.opens; a form's confirmation never", async () => {
    assert.deepEqual(pixelsIn((await mail(/^message:receipt\//, "s2@example.test")).html), []);
    assert.equal(pixelsIn((await mail(/^message:reset\//, "s2@example.test")).html).length, 1);
    const confirmation = await mail(/^form:newsletter\//, "new@example.test");
    assert.match(confirmation.html, /\/f\/confirm\//);
    assert.deepEqual(pixelsIn(confirmation.html), [], "opens were on for the project when the confirmation was sent");
  });
});

describe("GET /o/:token", { timeout: 60_000 }, () => {
  it("a genuine request stores one open: the send's campaign, variant, subscriber's country, a human by its reason, the address truncated", async () => {
    const { send_id } = await mail("news", "s2@example.test");
    const response = await open(await pixelOf("s2@example.test"));
    assert.equal(response.statusCode, 200);
    const opens = await opensOf(send_id);
    assert.equal(opens.length, 1);
    const [row] = opens;
    assert.deepEqual(
      { campaign: row!.campaign, variant: row!.variant, country: row!.country, ip: row!.ip, actor: row!.actor, reason: row!.actor_reason },
      { campaign: "news", variant: null, country: "PT", ip: "198.51.100.0", actor: "human", reason: "ordinary-client" },
    );
    assert.equal(row!.data["campaign"], "news");
    assert.equal(row!.data["userAgent"], BROWSER);
    assert.equal(typeof row!.data["detail"], "string");
  });

  it("a subscriber without a country gets the whole address's, looked up before it is truncated", async () => {
    const { send_id } = await mail("news", "s4@example.test");
    await query(rt.databaseUrl, "update subscribers set country = null where email = 's4@example.test'");
    await open(await pixelOf("s4@example.test"), { ip: "1.1.1.1" });
    assert.deepEqual((await opensOf(send_id)).map((o) => [o.country, o.ip]), [["AU", "1.1.1.0"]]);
  });

  it("keeps the address, an IPv6 one's /48, or nothing, as the send's snapshot says", async () => {
    const { send_id } = await mail("news", "s6@example.test");
    const token = await pixelOf("s6@example.test");
    const setIp = (setting: string) => query(rt.databaseUrl, "update campaign_sends set snapshot = jsonb_set(snapshot, '{tracking,ip}', to_jsonb($1::text)) where campaign = 'news'", [setting]);
    try {
      await setIp("keep");
      await open(token, { ip: "198.51.100.23" });
      await setIp("truncate");
      await open(token, { ip: "2001:db8:abcd:12::1" });
      await setIp("drop");
      await open(token, { ip: "198.51.100.23" });
    } finally {
      await setIp("truncate");
    }
    assert.deepEqual((await opensOf(send_id)).map((o) => o.ip), ["198.51.100.23", "2001:db8:abcd::", null]);
  });

  it("a snapshot from before open tracking: its mail (here the browser view) carries no pixel, and an open keeps the address truncated", async () => {
    const { send_id, html } = await mail("news", "s8@example.test");
    const token = pixelsIn(html)[0]!;
    const view = signLinkToken(SIGNING_SECRET, { kind: "view", sendId: send_id, linkIndex: 0 });
    assert.equal(pixelsIn((await rt.app.inject({ method: "GET", url: `/v/${view}` })).body).length, 1, "the browser view is the email, pixel included");
    const saved = (await query<{ tracking: unknown }>(rt.databaseUrl, "select snapshot -> 'tracking' as tracking from campaign_sends where campaign = 'news'"))[0]!.tracking;
    await query(rt.databaseUrl, "update campaign_sends set snapshot = snapshot - 'tracking' where campaign = 'news'");
    try {
      assert.deepEqual(pixelsIn((await rt.app.inject({ method: "GET", url: `/v/${view}` })).body), []);
      await open(token, { ip: "198.51.100.23" });
    } finally {
      await query(rt.databaseUrl, "update campaign_sends set snapshot = jsonb_set(snapshot, '{tracking}', $1::jsonb) where campaign = 'news'", [JSON.stringify(saved)]);
    }
    assert.deepEqual((await opensOf(send_id)).map((o) => o.ip), ["198.51.100.0"]);
  });

  it("HEAD gets the same headers, no body, and stores a machine's open", async () => {
    const { send_id } = await mail("news", "s10@example.test");
    const token = await pixelOf("s10@example.test");
    const get = await open(token);
    const head = await open(token, { method: "HEAD" });
    assert.equal(head.statusCode, 200);
    assert.equal(head.rawPayload.length, 0);
    for (const name of ["content-type", "content-length", "cache-control", "referrer-policy"]) assert.equal(head.headers[name], get.headers[name], name);
    assert.deepEqual((await opensOf(send_id)).map((o) => [o.actor, o.actor_reason]), [["human", "ordinary-client"], ["machine", "head-request"]]);
  });

  it("answers every token, forged, altered, expired or another kind's, with the same 43-byte GIF and headers, and stores nothing for those", async () => {
    const genuine = await open(await pixelOf("s12@example.test"));
    assert.equal(genuine.statusCode, 200);
    assert.equal(genuine.headers["content-type"], "image/gif");
    assert.equal(genuine.headers["cache-control"], "no-store, no-cache, must-revalidate, private");
    assert.equal(genuine.headers["referrer-policy"], "no-referrer");
    assert.equal(genuine.rawPayload.length, 43);
    assert.equal(genuine.rawPayload.subarray(0, 6).toString("latin1"), "GIF89a");

    const { send_id } = await mail("news", "s12@example.test");
    const token = await pixelOf("s12@example.test");
    const genuineHead = await open(token, { method: "HEAD" });
    const altered = token.slice(0, 10) + (token[10] === "A" ? "B" : "A") + token.slice(11);
    const before = await everything();
    const bad = [
      "x",
      "A".repeat(54),
      altered,
      signLinkToken(SIGNING_SECRET, { kind: "click", sendId: send_id, linkIndex: 0 }),
      signLinkToken(SIGNING_SECRET, { kind: "view", sendId: send_id, linkIndex: 0 }),
      signLinkToken("another-secret-0123456789-0123456789-0123", { kind: "open", sendId: send_id, linkIndex: 0 }),
      signLinkToken(SIGNING_SECRET, { kind: "open", sendId: send_id, linkIndex: 0, issuedAt: new Date(Date.now() - 401 * 24 * 3600 * 1000) }),
    ];
    for (const text of bad) {
      for (const method of ["GET", "HEAD"] as const) {
        const response = await open(text, { method });
        const reference = method === "GET" ? genuine : genuineHead;
        assert.equal(response.statusCode, 200, text);
        assert.deepEqual(response.rawPayload, reference.rawPayload, text);
        const shown = (r: typeof response) => Object.fromEntries(Object.entries(r.headers).filter(([name]) => name !== "x-request-id" && name !== "date"));
        assert.deepEqual(shown(response), shown(reference), text);
      }
    }
    assert.deepEqual(await everything(), before);
  });

  it("stores 3 rows of 10 requests in one minute and serves the image to all 10", async () => {
    // Ten requests inside one UTC minute: wait out the end of this one if it is close.
    const left = 60_000 - (Date.now() % 60_000);
    if (left < 5_000) await new Promise((resolve) => setTimeout(resolve, left + 100));
    const { send_id } = await mail("news", "s14@example.test");
    const token = await pixelOf("s14@example.test");
    const responses = await Promise.all(Array.from({ length: 10 }, () => open(token)));
    for (const response of responses) assert.equal(response.rawPayload.length, 43);
    assert.equal((await opensOf(send_id)).length, 3);
  });
});

describe("X-Forwarded-For", { timeout: 60_000 }, () => {
  it("is believed from a proxy MK_TRUST_PROXY names, and ignored from any other peer or when it is unset", async () => {
    const { send_id } = await mail("news", "s16@example.test");
    const token = await pixelOf("s16@example.test");
    const claimed = { "x-forwarded-for": "203.0.113.77" };
    await open(token, { ip: PROXY, headers: claimed });
    await open(token, { ip: "198.51.100.9", headers: claimed });
    const plain = await startRuntime({}, rt.databaseUrl);
    try {
      await open(token, { ip: "127.0.0.1", headers: claimed, on: plain });
    } finally {
      await plain.close();
    }
    assert.deepEqual((await opensOf(send_id)).map((o) => o.ip), ["203.0.113.0", "198.51.100.0", "127.0.0.0"]);
  });

  it("with a hop count, believes that many proxies from the right; a setting that is none is refused at start, naming the variable", async () => {
    const { send_id } = await mail("news", "s2@example.test");
    const hops = await startRuntime({ MK_TRUST_PROXY: "1" }, rt.databaseUrl);
    try {
      await open(await pixelOf("s2@example.test"), { ip: "127.0.0.1", headers: { "x-forwarded-for": "198.51.100.200, 203.0.113.200" }, on: hops });
    } finally {
      await hops.close();
    }
    assert.equal((await opensOf(send_id)).at(-1)!.ip, "203.0.113.0");
    for (const setting of ["0", "everyone", "10.0.0.0/33", ","]) assert.throws(() => testConfig(rt.databaseUrl, { MK_TRUST_PROXY: setting }), /MK_TRUST_PROXY/, setting);
    assert.deepEqual(testConfig(rt.databaseUrl, { MK_TRUST_PROXY: "loopback, 10.0.0.0/8,2001:db8::/32" }).MK_TRUST_PROXY, ["loopback", "10.0.0.0/8", "2001:db8::/32"]);
  });
});

describe("what an event keeps of an address (storedAddress)", { timeout: 10_000 }, () => {
  it("keeps, truncates to /24 or /48, or drops; an IPv4 address an IPv6 socket reports is IPv4; anything else is nothing", () => {
    const cases: [string | undefined, [string | null, string | null, string | null]][] = [
      ["192.0.2.77", ["192.0.2.77", "192.0.2.0", null]],
      ["::ffff:192.0.2.77", ["192.0.2.77", "192.0.2.0", null]],
      ["2001:db8:abcd:12::1", ["2001:db8:abcd:12::1", "2001:db8:abcd::", null]],
      ["1::2:3:4:5:6:7", ["1::2:3:4:5:6:7", "1:0:2::", null]],
      ["fe80::1%eth0", ["fe80::1", "fe80:0:0::", null]],
      ["not an address", [null, null, null]],
      [undefined, [null, null, null]],
    ];
    for (const [ip, expected] of cases) assert.deepEqual((["keep", "truncate", "drop"] as const).map((setting) => storedAddress(ip, setting)), expected, String(ip));
  });
});
