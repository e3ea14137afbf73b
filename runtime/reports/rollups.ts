import type pg from "pg";
import { Gauge, type Registry } from "prom-client";
import { perScrape } from "../http/metrics.js";
import { REPORT_SQL } from "./queries.js";

/** Deltas folded per transaction: large enough to keep up, small enough to keep locks short. */
const FOLD_BATCH = 20_000;
/** Batches per run, so one run cannot hold a connection for long after an outage. */
const MAX_BATCHES = 50;

/**
 * Fold pending campaign deltas into the rollups (mk_fold_campaign_rollups),
 * oldest first, until none are left or MAX_BATCHES ran. Safe from every
 * replica: one folds, the others return 0. Returns how many were folded.
 */
export async function foldRollups(pool: pg.Pool): Promise<number> {
  let total = 0;
  for (let batch = 0; batch < MAX_BATCHES; batch++) {
    const folded = (await pool.query<{ folded: number }>(REPORT_SQL.fold, [FOLD_BATCH])).rows[0]?.folded ?? 0;
    total += folded;
    if (folded < FOLD_BATCH) break;
  }
  return total;
}

/** How far the rollups are behind: deltas waiting, and the age of the oldest (read by scrapes, at most every 5 s: perScrape). */
export function registerRollupMetrics(registry: Registry, pool: pg.Pool): void {
  const backlog = perScrape(async () => (await pool.query<{ deltas: number; age_seconds: number }>(REPORT_SQL.backlog)).rows[0]);
  new Gauge({
    name: "mk_rollup_backlog",
    help: "Campaign analytics deltas not yet folded into the rollups",
    registers: [registry],
    async collect() {
      this.set((await backlog())?.deltas ?? 0);
    },
  });
  new Gauge({
    name: "mk_rollup_lag_seconds",
    help: "Age of the oldest campaign analytics delta not yet folded (reports stay exact; this is processing lag)",
    registers: [registry],
    async collect() {
      this.set((await backlog())?.age_seconds ?? 0);
    },
  });
}
