import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { stopDatabase } from "../../helpers/database.js";
import { startRuntime, type TestRuntime } from "../../helpers/runtime.js";
import { applyCampaigns, query } from "../../helpers/sending.js";
import { waitFor } from "../../helpers/wait-for.js";

/**
 * A campaign sent in each subscriber's language (issue 20): applied catalogs
 * and a per-locale override, subscribers in th, pt-BR (falls back to pt) and
 * xx (falls back to the default), the outbox messages, the locale the ledger
 * records, and the report split by locale.
 */
const HTML =
  '<html lang="und" dir="auto"><body><p>{{t "greeting" name=subscriber.firstName}}</p><p>{{t "desks" count=campaign.data.desks}}</p>' +
  '<a href="https://nomaddesk.example/offer">{{t "cta"}}</a><a href="{{unsubscribeUrl}}">{{t "footer.unsubscribe"}}</a></body></html>';
const THAI_HTML = '<html><body><p>{{t "greeting" name=subscriber.firstName}}</p><a href="https://nomaddesk.example/th/offer">ดูข้อเสนอ</a><a href="{{unsubscribeUrl}}">{{t "footer.unsubscribe"}}</a></body></html>';
const CATALOGS = {
  en: { greeting: "Hello {{subscriber.firstName}}!", desks: "{count, plural, one {# desk left} other {# desks left}}", cta: "See the offer", "footer.unsubscribe": "Unsubscribe" },
  th: { greeting: "สวัสดี {name}", desks: "เหลือ {count} โต๊ะ", cta: "ดูข้อเสนอ", "footer.unsubscribe": "ยกเลิกการรับอีเมล" },
  pt: { greeting: "Olá, {name}!", desks: "{count, plural, one {resta # mesa} other {restam # mesas}}", cta: "Ver a oferta", "footer.unsubscribe": "Cancelar inscrição" },
  ar: { greeting: "مرحبا {name}", desks: "{count} مكاتب", cta: "شاهد العرض", "footer.unsubscribe": "إلغاء الاشتراك" },
};
const SUBSCRIBERS = [
  { email: "somchai@example.test", first: "Somchai", locale: "th" },
  { email: "ana@example.test", first: "Ana", locale: "pt-BR" },
  { email: "x@example.test", first: "X{count}", locale: "xx" },
  { email: "layla@example.test", first: "Layla", locale: "ar-EG" },
  { email: "none@example.test", first: "None", locale: null },
];

let rt: TestRuntime;
type OutboxRow = { recipient: string; subject: string; html: string; text: string; headers: Record<string, string> };
let outbox: Map<string, OutboxRow>;

before(async () => {
  rt = await startRuntime({ MK_WORKERS: "1" });
  for (const s of SUBSCRIBERS) {
    await query(rt.databaseUrl, "insert into subscribers (email, first_name, locale, consent) values ($1, $2, $3, 'marketing')", [s.email, s.first, s.locale]);
  }
  await applyCampaigns(
    rt,
    [{ name: "desks", template: "templates/desks.mjml", subject: "{{t \"cta\"}}: {{subscriber.firstName}}", data: { desks: 1 }, locales: { th: { subject: "ข้อเสนอสำหรับ {{subscriber.firstName}}", template: "templates/desks-th.mjml" } } } as never],
    {},
    {
      templates: { "templates/desks.mjml": HTML, "templates/desks-th.mjml": THAI_HTML },
      project: { defaults: { from: "Nomad Desk <hello@nomaddesk.example>", locale: "en", timezone: "Europe/Lisbon", postalAddress: "1 Rua, Lisbon" }, locales: { default: "en", supported: ["en", "th", "pt", "ar"], missing: "error" } },
      resources: Object.entries(CATALOGS).map(([name, messages]) => ({ kind: "Catalog", name, spec: { messages } })),
    },
  );
  const started = await rt.api("/v1/sends/start", { body: { campaign: "desks" } });
  assert.equal(started.status, 200, JSON.stringify(started.body));
  await waitFor(async () => (await query(rt.databaseUrl, "select 1 from sends where campaign = 'desks' and status <> 'sent'")).length === 0, 60_000, "every send");
  outbox = new Map((await query<OutboxRow>(rt.databaseUrl, "select recipient, subject, html, text, headers from outbox")).map((r) => [r.recipient, r]));
}, { timeout: 120_000 });

after(async () => {
  await rt.close();
  await stopDatabase();
}, { timeout: 120_000 });

describe("a campaign in each subscriber's language", { timeout: 180_000 }, () => {
  it("sends each message in the first locale of its chain: th, pt-BR → pt, xx and none → the default, with lang, dir and Content-Language", { timeout: 30_000 }, async () => {
    const thai = outbox.get("somchai@example.test")!;
    assert.equal(thai.subject, "ข้อเสนอสำหรับ Somchai", "the Thai override's subject");
    assert.match(thai.html, /สวัสดี Somchai/);
    assert.match(thai.html, /ยกเลิกการรับอีเมล/);
    assert.match(thai.html, /<html lang="th" dir="ltr">/);
    assert.equal(thai.headers["Content-Language"], "th");

    const portuguese = outbox.get("ana@example.test")!;
    assert.equal(portuguese.subject, "Ver a oferta: Ana");
    assert.match(portuguese.html, /Olá, Ana!/);
    assert.match(portuguese.html, /resta 1 mesa/);
    assert.match(portuguese.html, /<html lang="pt" dir="ltr">/);

    const unknown = outbox.get("x@example.test")!;
    assert.equal(unknown.subject, "See the offer: X{count}");
    assert.match(unknown.html, /Hello X\{count\}!/, "a name with ICU syntax in it is text, not a message");
    assert.match(unknown.html, /1 desk left/);
    assert.match(unknown.html, /<html lang="en" dir="ltr">/);
    assert.match(outbox.get("none@example.test")!.html, /Hello None!/);

    const arabic = outbox.get("layla@example.test")!;
    assert.match(arabic.html, /<html lang="ar" dir="rtl">/);
    assert.match(arabic.html, /مرحبا Layla/);
  });

  it("keeps tracked links of the locale's own template", { timeout: 30_000 }, async () => {
    const thai = outbox.get("somchai@example.test")!;
    const other = outbox.get("ana@example.test")!;
    assert.doesNotMatch(thai.html, /nomaddesk\.example\/th\/offer/, "the Thai template's link is tracked too");
    assert.match(thai.html, /\/c\//);
    assert.match(other.html, /\/c\//);
  });

  it("records the locale each recipient got in the ledger", { timeout: 30_000 }, async () => {
    const rows = await query<{ email: string; locale: string }>(rt.databaseUrl, "select email, locale from sends where campaign = 'desks' order by email");
    assert.deepEqual(Object.fromEntries(rows.map((r) => [r.email, r.locale])), {
      "ana@example.test": "pt",
      "layla@example.test": "ar",
      "none@example.test": "en",
      "somchai@example.test": "th",
      "x@example.test": "en",
    });
  });

  it("splits the campaign report by locale, with clicks and revenue where they happened", { timeout: 30_000 }, async () => {
    const send = (await query<{ id: string }>(rt.databaseUrl, "select id from sends where email = 'somchai@example.test'"))[0]!;
    const ingest = await rt.api("/v1/events", {
      body: { events: [{ type: "purchase", subscriber: { email: "somchai@example.test" }, idempotencyKey: "order-1", occurredAt: new Date().toISOString(), sendId: send.id, amount: { value: 99000, currency: "THB" } }] },
    });
    assert.ok(ingest.status < 300, JSON.stringify(ingest.body));
    const report = await rt.api("/v1/reports/campaigns/desks");
    assert.equal(report.status, 200, JSON.stringify(report.body));
    const byLocale = Object.fromEntries((report.body.locales as { locale: string; sent: number; converted: number; revenue: { currency: string; netMinor: number }[] }[]).map((l) => [l.locale, l]));
    assert.deepEqual(Object.keys(byLocale).sort(), ["ar", "en", "pt", "th"]);
    assert.equal(byLocale["en"]!.sent, 2);
    assert.equal(byLocale["th"]!.sent, 1);
    assert.equal(byLocale["pt"]!.sent, 1);
    assert.deepEqual(byLocale["th"]!.revenue.map((r) => [r.currency, r.netMinor]), [["THB", 99000]]);
    assert.equal(byLocale["th"]!.converted, 1);
    assert.equal(byLocale["en"]!.converted, 0);
  });
});
