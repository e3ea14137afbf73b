import { chmod, mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { startEmbeddedPostgres } from "../runtime/db/embedded.js";
import { migrate } from "../runtime/db/migrate.js";
import { campaignReport } from "../runtime/reports/campaign-report.js";
import { MessageComposer, type Recipient } from "../runtime/sending/compose.js";
import type { SendSnapshot } from "../runtime/sending/snapshot.js";
import { startCampaignNow } from "../runtime/sending/start.js";
import { sha256 } from "../runtime/state/canonical.js";
import { applyState } from "../runtime/state/store.js";
import type { Bench } from "./run.js";

const WORK = fileURLToPath(new URL("./.work/", import.meta.url));
const SECRET = "bench-signing-secret-0123456789-0123456789";
const ARTICLES = [1, 2, 3];
/** The same newsletter-sized message twice: its text written in the template, and every string through {{t}}. */
const PLAIN =
  '<html><body><h1>Hi {{default subscriber.firstName "there"}},</h1><p>Desks in {{campaign.data.city}} from 199 USD a month, first week free.</p><a href="https://nomaddesk.example/offer">Book a desk</a>' +
  ARTICLES.map((n) => `<h2>Story ${n}</h2><p>Working from Lisbon: visas, coworking, cafés and the best neighbourhoods for a month or a year.</p><a href="https://nomaddesk.example/blog/${n}">Read more</a>`).join("") +
  '<p>{{project.postalAddress}} <a href="{{unsubscribeUrl}}">Unsubscribe</a></p></body></html>';
const LOCALIZED =
  '<html><body><h1>{{t "hello" name=subscriber.firstName}}</h1><p>{{t "offer" city=campaign.data.city}}</p><a href="https://nomaddesk.example/offer">{{t "book"}}</a>' +
  ARTICLES.map((n) => `<h2>{{t "story" n=${n}}}</h2><p>{{t "body"}}</p><a href="https://nomaddesk.example/blog/${n}">{{t "more"}}</a>`).join("") +
  '<p>{{project.postalAddress}} <a href="{{unsubscribeUrl}}">{{t "unsubscribe"}}</a></p></body></html>';
const CATALOGS = {
  en: { hello: "Hi {name}!", offer: "Desks in {city} from 199 USD a month, first week free.", book: "Book a desk", story: "Story {n}", body: "Working from Lisbon: visas, coworking, cafés and the best neighbourhoods for a month or a year.", more: "Read more", unsubscribe: "Unsubscribe" },
  th: { hello: "สวัสดี {name}!", offer: "โต๊ะใน {city} เริ่มต้น 199 USD ต่อเดือน สัปดาห์แรกฟรี", book: "จองโต๊ะ", story: "เรื่องที่ {n}", body: "ทำงานจากลิสบอน: วีซ่า โคเวิร์กกิ้ง คาเฟ่ และย่านที่ดีที่สุด", more: "อ่านต่อ", unsubscribe: "ยกเลิกการรับอีเมล" },
  pt: { hello: "Olá, {name}!", offer: "Mesas em {city} a partir de 199 USD por mês, primeira semana grátis.", book: "Reservar uma mesa", story: "História {n}", body: "Trabalhar a partir de Lisboa: vistos, coworking, cafés e os melhores bairros.", more: "Ler mais", unsubscribe: "Cancelar inscrição" },
};
const LOCALES = ["th", "pt-BR", "xx", null];
const RECIPIENTS = 20_000;
const REPORT_SENDS = 200_000;

/** Messages per second composing `recipients` of a snapshot, one after another (compose is synchronous work after its first template load). */
async function composeRate(composer: MessageComposer, snapshot: SendSnapshot, recipients: Recipient[]): Promise<number> {
  const started = performance.now();
  for (const recipient of recipients) await composer.compose(snapshot, recipient);
  return recipients.length / ((performance.now() - started) / 1000);
}

async function median(times: number, run: () => Promise<number>): Promise<number> {
  const values: number[] = [];
  for (let i = 0; i < times; i++) values.push(await run());
  return values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}

/**
 * Locales (issue 20): what composing every string through {{t}} in the
 * recipient's language costs against the same message written in its
 * template, measured side by side on the same composer; and the campaign
 * report's split by locale, which reads the campaign's ledger rows.
 */
const bench: Bench = async (report) => {
  const dir = path.join(WORK, "locales");
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  // Enterable by the postgres user that runs the cluster when the bench runs as root.
  await chmod(WORK, 0o755);
  await chmod(dir, 0o755);
  const db = await startEmbeddedPostgres(dir);
  try {
    await migrate(db.url);
    const pool = new pg.Pool({ connectionString: db.url, max: 4 });
    const campaign = (name: string, template: string) => ({
      kind: "Campaign" as const,
      name,
      spec: { subject: "{{subscriber.firstName}}, your desk", audience: "everyone", template, transactional: false, data: { city: "Lisbon" } },
    });
    await applyState(pool, {
      baseSerial: 0,
      source: { commit: null, author: null, branch: null, dirty: false },
      templates: [PLAIN, LOCALIZED].map((html) => ({ hash: sha256(html), html })),
      resources: [
        {
          kind: "Project",
          name: "bench",
          spec: {
            name: "bench",
            defaults: { from: "Bench <b@bench.example>", timezone: "UTC", locale: "en", postalAddress: "1 Rua, Lisbon" },
            locales: { default: "en", supported: ["en", "th", "pt"], missing: "error" },
            sending: { provider: "outbox", maxPerSecond: 1_000_000, pricePer1000Usd: 0.1 },
          },
        },
        ...Object.entries(CATALOGS).map(([name, messages]) => ({ kind: "Catalog" as const, name, spec: { messages } })),
        { kind: "Template", name: "templates/plain.mjml", spec: { html: sha256(PLAIN), files: {} } },
        { kind: "Template", name: "templates/localized.mjml", spec: { html: sha256(LOCALIZED), files: {} } },
        { kind: "Audience", name: "everyone", spec: {} },
        campaign("plain", "templates/plain.mjml"),
        campaign("localized", "templates/localized.mjml"),
      ],
    } as Parameters<typeof applyState>[1]);
    await pool.query(
      `insert into subscribers (email, first_name, locale, consent)
       select 's' || i || '@bench.example', 'Name' || i, ($2::text[])[1 + i % 4], 'marketing' from generate_series(1, $1) as i`,
      [REPORT_SENDS, LOCALES.map((l) => l ?? "")],
    );
    await pool.query("update subscribers set locale = null where locale = ''");
    for (const name of ["plain", "localized"]) await startCampaignNow(pool, name, "outbox");
    const snapshots = new Map(
      (await pool.query<{ campaign: string; snapshot: SendSnapshot }>("select campaign, snapshot from campaign_sends")).rows.map((r) => [r.campaign, r.snapshot]),
    );
    const plainSnapshot = { ...snapshots.get("plain")!, locales: undefined };
    const composer = new MessageComposer({ publicUrl: "https://mk.bench.example", signingSecret: SECRET }, async (hash) => (await pool.query<{ html: string }>("select html from compiled_templates where hash = $1", [hash])).rows[0]!.html);
    const recipients: Recipient[] = Array.from({ length: RECIPIENTS }, (_, i) => ({
      sendId: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
      email: `s${i}@bench.example`,
      variant: null,
      subscriber: { firstName: `Name${i}`, lastName: null, country: null, timezone: "UTC", locale: LOCALES[i % LOCALES.length]!, tags: [], consent: "marketing", attributes: {} },
    }));
    await composeRate(composer, plainSnapshot, recipients.slice(0, 500));
    await composeRate(composer, snapshots.get("localized")!, recipients.slice(0, 500));
    // Alternating rounds, so both see the same machine.
    const plainRates: number[] = [];
    const localizedRates: number[] = [];
    for (let round = 0; round < 3; round++) {
      plainRates.push(await composeRate(composer, plainSnapshot, recipients));
      localizedRates.push(await composeRate(composer, snapshots.get("localized")!, recipients));
    }
    const mid = (values: number[]) => values.sort((a, b) => a - b)[1]!;
    const plain = mid(plainRates);
    const localized = mid(localizedRates);
    report({ name: "(locales: a newsletter-sized message, 10 strings, 3 locales)", value: "" });
    report({ name: "compose, text written in the template", value: `${Math.round(plain).toLocaleString("en-US")} messages/s` });
    report({ name: "compose, every string through {{t}}, 3 locales", value: `${Math.round(localized).toLocaleString("en-US")} messages/s` });
    report({ name: "compose with {{t}} ÷ without", value: `${(localized / plain).toFixed(2)}×`, goal: { text: "≥ 0.8×", met: localized / plain >= 0.8 } });

    // The report's split by locale: the campaign's ledger rows as sent, each with its locale.
    await pool.query(
      `update sends set status = 'sent', sent_at = now(), locale = case when subscriber_id % 4 = 1 then 'th' when subscriber_id % 4 = 2 then 'pt' else 'en' end
       where campaign = 'localized'`,
    );
    await pool.query("vacuum analyze sends");
    const withLocales = await median(5, async () => {
      const started = performance.now();
      const r = await campaignReport(pool, "localized");
      if (r.locales?.length !== 3) throw new Error(`expected 3 locales in the report, got ${r.locales?.length ?? "none"}`);
      return performance.now() - started;
    });
    await pool.query("update campaign_sends set snapshot = snapshot - 'locales' where campaign = 'localized'");
    const without = await median(5, async () => {
      const started = performance.now();
      await campaignReport(pool, "localized");
      return performance.now() - started;
    });
    report({ name: `campaign report with its locale split, ${REPORT_SENDS.toLocaleString("en-US")} sends`, value: `${withLocales.toFixed(0)} ms median (${without.toFixed(0)} ms without the split)`, goal: { text: "< 500 ms", met: withLocales < 500 } });
    await pool.end();
  } finally {
    await db.stop();
    await rm(dir, { recursive: true, force: true });
  }
};

export default bench;
