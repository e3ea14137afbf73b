import type { FastifyInstance } from "fastify";
import type pg from "pg";
import { z } from "zod";
import { countryCode } from "../../schemas/common.js";
import { fxImportRequest, LEDGER_HEAD_PATTERN } from "../../schemas/tax.js";
import { parseBody, parseQuery } from "../http/errors.js";
import { taxContext } from "./context.js";
import { importFxRates } from "./fx.js";
import { parsePeriod } from "./period.js";
import { taxReport } from "./report.js";
import { ledgerKey } from "./ledger.js";
import { verifyLedger } from "./verify.js";

const ratesQuery = z.strictObject({
  country: countryCode.optional(),
  date: z.iso.date({ error: "must be a date, YYYY-MM-DD" }).optional(),
  history: z.enum(["true", "false"]).optional(),
});
const verifyQuery = z.strictObject({
  country: countryCode.optional(),
  /** Heads recorded earlier, `TH:202:<hash>,DE:17:<hash>`: each must still be in its chain. */
  expect: z
    .string()
    .transform((text) => text.split(","))
    .pipe(z.array(z.string().regex(LEDGER_HEAD_PATTERN, { error: "must be heads such as TH:202:<64 hex digits>, separated by commas" })))
    .transform((heads) => heads.map((head) => LEDGER_HEAD_PATTERN.exec(head)!).map(([, country, seq, hash]) => ({ country: country!, seq: Number(seq), hash: hash! })))
    .optional(),
});
const reportQuery = z.strictObject({
  country: z.string({ error: "is required: the country to report on, e.g. TH" }).transform((c) => c.toUpperCase()),
  period: z.string().optional(),
  from: z.string().optional(),
  to: z.string().optional(),
});

/** Tax rates, ledger verification and FX imports under /v1 (bearer token already checked). */
export function registerTaxRoutes(v1: FastifyInstance, deps: { pool: pg.Pool; ledgerKey?: string | undefined }): void {
  const { pool } = deps;
  const key = deps.ledgerKey === undefined ? undefined : ledgerKey(deps.ledgerKey);
  v1.get("/tax/rates", async (request) => {
    const query = parseQuery(ratesQuery, request.query);
    const { rates } = await taxContext(pool);
    return query.history === "true" ? rates.history(query.country) : rates.inForce(query.date ?? new Date().toISOString().slice(0, 10), query.country);
  });
  v1.get("/tax/verify", async (request) => {
    const query = parseQuery(verifyQuery, request.query);
    return verifyLedger(pool, { key, country: query.country, expected: query.expect });
  });
  v1.get("/reports/tax", async (request) => {
    const query = parseQuery(reportQuery, request.query);
    return taxReport(pool, query.country, parsePeriod(query));
  });
  v1.post("/fx/rates", async (request) => importFxRates(pool, parseBody(fxImportRequest, request.body)));
}
