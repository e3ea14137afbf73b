import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { stopDatabase } from "../../helpers/database.js";
import { waitFor } from "../../helpers/wait-for.js";
import fc from "fast-check";
import { foldRollups } from "../../../runtime/reports/rollups.js";
import { signLinkToken, verifyLinkToken, type LinkKind } from "../../../runtime/sending/link-tokens.js";
import { SIGNING_SECRET, startRuntime, type TestRuntime } from "../../helpers/runtime.js";
import { addSubscribers, applyCampaigns, query } from "../../helpers/sending.js";

after(() => stopDatabase(), { timeout: 120_000 });

describe("starting and sending a campaign through the outbox", { timeout: 180_000 }, () => {
  let rt: TestRuntime;
  // Everything the runtime logs, one JSON line each.
  const logLines: string[] = [];
  before(async () => {
    rt = await startRuntime({ MK_WORKERS: "2", LOG_LEVEL: "info" }, undefined, { logStream: { write: (line) => logLines.push(line) } });
    await addSubscribers(rt.databaseUrl, 50);
    await addSubscribers(rt.databaseUrl, 0);
    await query(rt.databaseUrl, "insert into subscribers (email, first_name) values ('no-consent@example.test', 'Nope')");
    await query(rt.databaseUrl, "insert into suppressions (email, reason) values ('s7@example.test', 'bounce')");
    await applyCampaigns(rt, [
      { name: "launch", variants: [{ name: "a", weight: 50 }, { name: "b", weight: 50, subject: "B for {{subscriber.firstName}}" }] },
      { name: "later", schedule: { at: "2099-01-01T09:00:00", timezone: "recipient" } },
      { name: "capped", budget: { maxRecipients: 10 } },
    ]);
  }, { timeout: 120_000 });
  after(() => rt.close(), { timeout: 120_000 });

  it("writes one ledger row per eligible subscriber: consent, suppressions, variants by hash", async () => {
    const started = await rt.api("/v1/sends/start", { body: { campaign: "launch" } });
    assert.equal(started.status, 200, JSON.stringify(started.body));
    assert.deepEqual(started.body, { campaign: "launch", recipients: 49, alreadyStarted: false });
    const rows = await query<{ variant: string; n: number }>(rt.databaseUrl, "select variant, count(*)::int as n from sends where campaign = 'launch' group by variant order by variant");
    assert.deepEqual(rows.map((r) => r.variant), ["a", "b"]);
    assert.equal(rows[0]!.n + rows[1]!.n, 49);
    const excluded = await query(rt.databaseUrl, "select 1 from sends where email in ('s7@example.test', 'no-consent@example.test')");
    assert.equal(excluded.length, 0);

    const again = await rt.api("/v1/sends/start", { body: { campaign: "launch" } });
    assert.deepEqual(again.body, { campaign: "launch", recipients: 49, alreadyStarted: true });
    assert.equal((await query(rt.databaseUrl, "select 1 from sends where campaign = 'launch'")).length, 49);
  });

  it("caps a campaign at its budget", async () => {
    assert.equal((await rt.api("/v1/sends/start", { body: { campaign: "capped" } })).body.recipients, 10);
  });

  it("starts only what is due, and nothing twice when called concurrently", async () => {
    const results = await Promise.all(Array.from({ length: 5 }, () => rt.api("/v1/sends/due", { body: {} })));
    for (const r of results) assert.equal(r.status, 200);
    assert.deepEqual(results.flatMap((r) => r.body.started), [], "launch and capped started already; later is in 2099");
    assert.deepEqual(results[0]!.body.waiting.map((w: { campaign: string }) => w.campaign), ["later"]);
  });

  it("workers send every row once, personalised, with unsubscribe headers and tracked links", async () => {
    await waitFor(async () => (await query(rt.databaseUrl, "select 1 from sends where status <> 'sent'")).length === 0);
    const outbox = await query<{ send_id: string; campaign: string; recipient: string; subject: string; html: string; text: string; headers: Record<string, string> }>(
      rt.databaseUrl,
      "select o.*, s.variant from outbox o join sends s on s.id = o.send_id order by recipient",
    );
    assert.equal(outbox.length, 59);
    assert.equal(new Set(outbox.map((m) => `${m.campaign}/${m.recipient}`)).size, 59);
    const b = outbox.find((m) => (m as unknown as { variant: string }).variant === "b")!;
    assert.match(b.subject, /^B for Name\d+$/);
    assert.match(b.headers["List-Unsubscribe"]!, new RegExp(`^<${rt.url}/u/[\\w-]{54}>, <mailto:unsubscribe@nomaddesk\\.example\\?subject=unsubscribe%20${b.send_id}>$`));
    assert.equal(b.headers["List-Unsubscribe-Post"], "List-Unsubscribe=One-Click");
    assert.doesNotMatch(b.html, /nomaddesk\.example\/offer/, "the offer link is tracked");
    assert.match(b.html, /href="mailto:help@nomaddesk\.example"/, "mailto links are left alone");
    assert.match(b.text, /^Hi Name\d+$/m);

    // The tracked link leads to the stored URL, UTM added, and records a click.
    const click = /href="([^"]*\/c\/[\w-]+)"/.exec(b.html)![1]!;
    const redirect = await fetch(click, { redirect: "manual" });
    assert.equal(redirect.status, 302);
    assert.equal(redirect.headers.get("location"), "https://nomaddesk.example/offer?ref=mail&utm_source=mk&utm_medium=email&utm_campaign=launch");

    const unsubscribeUrl = /<([^>]+)>/.exec(b.headers["List-Unsubscribe"]!)![1]!;
    // A GET only asks; the one-click POST unsubscribes, once.
    const ask = await fetch(unsubscribeUrl);
    assert.equal(ask.status, 200);
    assert.match(await ask.text(), /<form method="post">/);
    assert.equal((await query(rt.databaseUrl, "select 1 from suppressions where email = $1", [b.recipient])).length, 0);
    for (let i = 0; i < 2; i++) {
      const post = await fetch(unsubscribeUrl, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "List-Unsubscribe=One-Click" });
      assert.equal(post.status, 200);
    }
    assert.deepEqual(await query(rt.databaseUrl, "select reason from suppressions where email = $1", [b.recipient]), [{ reason: "unsubscribe" }]);
    assert.deepEqual(await query(rt.databaseUrl, "select consent from subscribers where email = $1", [b.recipient]), [{ consent: null }]);
    const events = await query<{ name: string; campaign: string; variant: string; country: string }>(rt.databaseUrl, "select name, campaign, variant, country from events where send_id = $1 order by name", [b.send_id]);
    assert.deepEqual(events, [
      { name: "click", campaign: "launch", variant: "b", country: "PT" },
      { name: "unsubscribe", campaign: "launch", variant: "b", country: "PT" },
    ]);

    const metrics = (await rt.api("/metrics", { token: null })).body as string;
    assert.match(metrics, /^mk_sends_total\{status="sent",transport="outbox"\} 59$/m);
    assert.match(metrics, /^mk_send_queue_depth 0$/m);
    assert.match(metrics, /^mk_send_queue_lag_seconds 0$/m);
    assert.match(metrics, /^mk_transport_circuit_open\{transport="outbox"\} 0$/m);
  });

  it("a click token for any link index redirects to that stored link or to nothing, never elsewhere", async () => {
    const [send] = await query<{ id: string }>(rt.databaseUrl, "select id from sends where campaign = 'launch' limit 1");
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 65_535 }), async (linkIndex) => {
        const token = signLinkToken(SIGNING_SECRET, { kind: "click", sendId: send!.id, linkIndex });
        const response = await fetch(`${rt.url}/c/${token}`, { redirect: "manual" });
        if (linkIndex === 0) assert.equal(response.headers.get("location")?.startsWith("https://nomaddesk.example/offer?"), true);
        else assert.equal(response.status, 404);
      }),
      { numRuns: 40 },
    );
  });

  it("refuses forged and truncated link tokens without side effects", async () => {
    const before = await query(rt.databaseUrl, "select count(*)::int as n from events");
    for (const path of ["/u/AAAA", `/u/${"A".repeat(54)}`, `/c/${"A".repeat(54)}`, "/v/x"]) {
      assert.equal((await fetch(rt.url + path)).status, 400, path);
    }
    assert.equal((await fetch(`${rt.url}/u/${"A".repeat(54)}`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "List-Unsubscribe=One-Click" })).status, 400);
    assert.deepEqual(await query(rt.databaseUrl, "select count(*)::int as n from events"), before);
  });

  it("counts 50 clicks on one link of one send as one click, stores a few rows, and redirects every one", async () => {
    const [send] = await query<{ id: string }>(rt.databaseUrl, "select id from sends where campaign = 'capped' limit 1");
    const token = signLinkToken(SIGNING_SECRET, { kind: "click", sendId: send!.id, linkIndex: 0 });
    const responses = await Promise.all(Array.from({ length: 50 }, () => fetch(`${rt.url}/c/${token}`, { redirect: "manual" })));
    for (const r of responses) assert.equal(r.headers.get("location")?.startsWith("https://nomaddesk.example/offer?"), true);
    const n = (await query<{ n: number }>(rt.databaseUrl, "select count(*)::int as n from events where send_id = $1 and name = 'click'", [send!.id]))[0]!.n;
    // Three a minute; the 50 may straddle a minute boundary.
    assert.ok(n >= 1 && n <= 6, `${n} click rows stored`);
    for (const fold of [false, true]) {
      if (fold) await foldRollups(rt.pool);
      const { body } = await rt.api("/v1/reports/campaigns/capped");
      assert.deepEqual({ clicked: body.totals.clicked, clicks: body.totals.clicks }, { clicked: 1, clicks: 1 }, fold ? "folded" : "unfolded");
    }
  });

  it("shows the email in the browser sandboxed, its links as old as the email's own however late it is viewed", async () => {
    const [m] = await query<{ send_id: string; html: string }>(rt.databaseUrl, "select send_id, html from outbox where campaign = 'launch' order by recipient limit 1");
    const tokensIn = (html: string) => [...html.matchAll(/\/([ucv])\/([\w-]{54})/g)].map(([, k, t]) => ({ kind: ({ u: "unsubscribe", c: "click", v: "view" } as const)[k as "u" | "c" | "v"] as LinkKind, text: t! }));
    const issuedAt = (html: string) => tokensIn(html).map(({ kind, text }) => verifyLinkToken(SIGNING_SECRET, text, kind)?.issuedAt.toISOString());
    // The view link of this very email (signed when it was composed, as its click link was) shows it exactly as sent.
    const composedAt = verifyLinkToken(SIGNING_SECRET, tokensIn(m!.html).find((t) => t.kind === "click")!.text, "click")!.issuedAt;
    const own = await fetch(`${rt.url}/v/${signLinkToken(SIGNING_SECRET, { kind: "view", sendId: m!.send_id, linkIndex: 0, issuedAt: composedAt })}`);
    assert.equal(own.status, 200);
    assert.equal(await own.text(), m!.html);
    const csp = own.headers.get("content-security-policy") ?? "";
    assert.match(csp, /^sandbox( |;)/);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /img-src https: http: data:/);
    assert.doesNotMatch(csp, /script-src|allow-scripts|allow-same-origin/);
    assert.equal(own.headers.get("referrer-policy"), "no-referrer");
    // An email sent 300 days ago, viewed today: every link in the page is 300 days old (expires when the email's do).
    const sentAt = new Date(Math.floor(Date.now() / 1000 - 300 * 86_400) * 1000);
    const old = await (await fetch(`${rt.url}/v/${signLinkToken(SIGNING_SECRET, { kind: "view", sendId: m!.send_id, linkIndex: 0, issuedAt: sentAt })}`)).text();
    assert.ok(tokensIn(old).length >= 2, "the page has click and unsubscribe links");
    assert.deepEqual(new Set(issuedAt(old)), new Set([sentAt.toISOString()]));
  });

  it("logs public link requests with a token prefix, never a whole token", async () => {
    const [send] = await query<{ id: string }>(rt.databaseUrl, "select id from sends where campaign = 'launch' limit 1");
    const tokens = (["click", "view", "unsubscribe"] as const).map((kind) => signLinkToken(SIGNING_SECRET, { kind, sendId: send!.id, linkIndex: 0 }));
    const [click, view, unsubscribe] = tokens as [string, string, string];
    for (const path of [`/c/${click}`, `/c/${click}?utm_source=x`, `/v/${view}`, `/u/${unsubscribe}`, `/c/${click}/more`, `/p/${click}`]) {
      await fetch(rt.url + path, { redirect: "manual" });
    }
    const lines = logLines.join("");
    for (const token of tokens) assert.equal(lines.includes(token.slice(8, 20)), false, "no part of a token past its first 8 characters");
    const urls = logLines.map((line) => JSON.parse(line) as { req?: { url: string } }).flatMap((entry) => (entry.req ? [entry.req.url] : []));
    assert.ok(urls.includes(`/c/${click.slice(0, 8)}…`), urls.slice(-6).join(" "));
    assert.ok(urls.includes(`/p/${click.slice(0, 8)}…`));
    assert.ok(urls.includes("/v1/sends/start"), "other URLs are logged whole");
  });
});

describe("a message its template cannot render", { timeout: 180_000 }, () => {
  it("fails that one message with the reason (formatMoney on text) and sends the rest of the batch, never claiming it again", async () => {
    const rt = await startRuntime({ MK_WORKERS: "1" });
    try {
      const html = '<html><body><p>Balance: {{formatMoney subscriber.attributes.balance "USD"}}</p><a href="{{unsubscribeUrl}}">Unsubscribe</a></body></html>';
      await applyCampaigns(rt, [{ name: "statement", template: "templates/statement.mjml", transactional: true }], {}, { templates: { "templates/statement.mjml": html } });
      await query(
        rt.databaseUrl,
        `insert into subscribers (email, attributes) values
           ('ann@example.test', '{"balance": 1999}'), ('bad@example.test', '{"balance": "abc"}'), ('text@example.test', '{"balance": "500"}'),
           ('none@example.test', '{}'), ('zoe@example.test', '{"balance": 0}')`,
      );
      const started = await rt.api("/v1/sends/start", { body: { campaign: "statement" } });
      assert.equal(started.body.recipients, 5, JSON.stringify(started.body));
      const settled = async () => query<{ email: string; status: string; last_error: string | null }>(rt.databaseUrl, "select email, status, last_error from sends order by email");
      await waitFor(async () => (await settled()).every((r) => r.status === "sent" || r.status === "failed"));
      assert.deepEqual(await settled(), [
        { email: "ann@example.test", status: "sent", last_error: null },
        { email: "bad@example.test", status: "failed", last_error: 'formatMoney: amount "abc" is not a number (campaign statement, subscriber bad@example.test)' },
        { email: "none@example.test", status: "failed", last_error: "formatMoney: amount undefined is not a number (campaign statement, subscriber none@example.test)" },
        { email: "text@example.test", status: "sent", last_error: null },
        { email: "zoe@example.test", status: "sent", last_error: null },
      ]);
      const outbox = await query<{ recipient: string; html: string }>(rt.databaseUrl, "select recipient, html from outbox order by recipient");
      assert.deepEqual(outbox.map((m) => [m.recipient, /Balance: ([^<]*)</.exec(m.html)?.[1]]), [["ann@example.test", "$19.99"], ["text@example.test", "$5.00"], ["zoe@example.test", "$0.00"]]);
    } finally {
      await rt.close();
    }
  });
});
