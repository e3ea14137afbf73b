import { chmod, mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { startEmbeddedPostgres } from "../runtime/db/embedded.js";
import { migrate } from "../runtime/db/migrate.js";
import { parsePeriod } from "../runtime/tax/period.js";
import { taxReport } from "../runtime/tax/report.js";
import type { Bench } from "./run.js";

const WORK = fileURLToPath(new URL("./.work/", import.meta.url));
const ENTRIES = 1_000_000;

/** Insert ledger entries in bulk: one country, days spread over a date range, five currencies, a few campaigns. */
async function fill(pool: pg.Pool, country: string, count: number, from: string, days: number, offset: number): Promise<void> {
  for (let start = 0; start < count; start += 200_000) {
    await pool.query(
      `insert into tax_ledger (country, seq, kind, event_key, occurred_at, tax_date, currency, net_minor, tax_minor, gross_minor, rate, tax_type, prices_include_tax, campaign, prev_hash, hash)
       select $1, $5::bigint + g, case when g % 20 = 0 then 'refund' else 'sale' end, $1 || '-' || ($5::bigint + g), d, d::date,
         (array['THB','USD','EUR','JPY','KWD'])[1 + g % 5],
         s * (1000 + g % 90000), s * ((1000 + g % 90000) * 7 / 100), s * ((1000 + g % 90000) + (1000 + g % 90000) * 7 / 100),
         7, 'VAT', g % 2 = 0, (array['launch','welcome',null])[1 + g % 3], md5(g::text), md5((g + 1)::text)
       from generate_series($2::bigint, $3::bigint) as g,
         lateral (select $4::date + (g % $6)::int as d, case when g % 20 = 0 then -1 else 1 end as s) x`,
      [country, start + 1, Math.min(count, start + 200_000), from, offset, days],
    );
  }
}

/** What appendToLedger keeps beside the entries it writes (the bulk fill bypasses it), then the statistics autovacuum would have. */
async function settle(pool: pg.Pool): Promise<void> {
  await pool.query("delete from tax_daily");
  await pool.query(
    `insert into tax_daily (country, tax_date, currency, lines, net_minor, tax_minor, gross_minor)
     select country, tax_date, currency, count(*), sum(net_minor), sum(tax_minor), sum(gross_minor) from tax_ledger group by 1, 2, 3`,
  );
  await pool.query("vacuum analyze tax_ledger");
  await pool.query("vacuum analyze tax_daily");
}

/**
 * The tax report for one country and one quarter with 1,000,000 entries in
 * the ledger (TH's quarter holding a quarter of them), and again with all
 * 1,000,000 inside the reported quarter.
 */
const bench: Bench = async (report) => {
  await mkdir(WORK, { recursive: true });
  await chmod(WORK, 0o755);
  const dir = path.join(WORK, "tax");
  await rm(dir, { recursive: true, force: true });
  const db = await startEmbeddedPostgres(dir);
  const pool = new pg.Pool({ connectionString: db.url, max: 4 });
  try {
    await migrate(db.url);
    await pool.query(
      `insert into fx_rates (day, base, quote, rate, source)
       select d::date, 'EUR', q.quote, q.rate * (1 + (extract(doy from d)::int % 7) / 100.0), 'bench'
       from generate_series('2026-01-01'::date, '2026-12-31'::date, interval '1 day') as d,
         (values ('THB', 38.0), ('USD', 1.25), ('JPY', 160.0), ('KWD', 0.32)) as q (quote, rate)
       where extract(isodow from d) < 6`,
    );
    // 600,000 Thai entries over 2026 (about 150,000 in Q3) and 400,000 elsewhere.
    await fill(pool, "TH", 600_000, "2026-01-01", 365, 0);
    await fill(pool, "DE", 400_000, "2026-01-01", 365, 0);
    await settle(pool);
    const time = async (country: string, period: string) => {
      const times: number[] = [];
      let lines = 0;
      for (let i = 0; i < 5; i++) {
        const t = performance.now();
        const r = await taxReport(pool, country, parsePeriod({ period }));
        times.push(performance.now() - t);
        lines = r.totals.sales + r.totals.refunds;
      }
      return { ms: times.sort((a, b) => a - b)[2]!, lines };
    };
    const q3 = await time("TH", "2026-Q3");
    report({ name: `tax report TH 2026-Q3, ${ENTRIES.toLocaleString("en-US")} ledger entries`, value: `${q3.ms.toFixed(0)} ms median (${q3.lines.toLocaleString("en-US")} lines in the quarter)`, goal: { text: "< 500 ms", met: q3.ms < 500 } });

    await pool.query("alter table tax_ledger disable trigger tax_ledger_no_truncate");
    await pool.query("truncate tax_ledger");
    await pool.query("alter table tax_ledger enable trigger tax_ledger_no_truncate");
    await fill(pool, "TH", ENTRIES, "2026-07-01", 92, 0);
    await settle(pool);
    const all = await time("TH", "2026-Q3");
    report({ name: "same, all 1,000,000 entries inside the quarter", value: `${all.ms.toFixed(0)} ms median (${all.lines.toLocaleString("en-US")} lines)` });
  } finally {
    await pool.end();
    await db.stop();
    await rm(dir, { recursive: true, force: true });
  }
};

export default bench;
