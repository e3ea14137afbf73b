import { readFile } from "node:fs/promises";
import path from "node:path";
import { parse } from "csv-parse/sync";
import { DateTime } from "luxon";
import { fxRate, type FxRate } from "../../schemas/tax.js";
import { MkError } from "../errors.js";

export interface FxFile {
  /** "ECB" (eurofxref.csv / eurofxref-hist.csv) or "CSV" (date,base,quote,rate). */
  format: "ECB" | "CSV";
  rates: FxRate[];
}

/** "03 June 2021" (the ECB's daily file) or "2021-06-03" (its history file) → "2021-06-03". */
function ecbDay(text: string): string | undefined {
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) return text;
  const parsed = DateTime.fromFormat(text, "dd MMMM yyyy", { locale: "en", zone: "UTC" });
  return parsed.isValid ? parsed.toISODate()! : undefined;
}

/**
 * Daily exchange rates from a file: the European Central Bank's reference
 * rates (eurofxref.csv, one day, "Date, USD, JPY, …" with "03 June 2021"; or
 * eurofxref-hist.csv, every day since 1999, ISO dates, N/A where a currency
 * was not quoted; columns are read by name, the trailing empty one ignored;
 * 1 EUR = rate), or a plain `date,base,quote,rate` CSV. A bad line is an
 * MK088 naming the file, line and column.
 */
export async function readFxFile(file: string): Promise<FxFile> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new MkError("MK088", `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const name = path.basename(file);
  const rows = parse(text, { trim: true, skip_empty_lines: true, relax_column_count: true }) as string[][];
  const header = (rows[0] ?? []).map((h) => h.trim());
  const fail = (line: number, column: string, message: string): never => {
    throw new MkError("MK088", `${name}:${line}: ${column} ${message}`);
  };
  const check = (candidate: FxRate, line: number, column: string): FxRate => {
    const parsed = fxRate.safeParse(candidate);
    if (!parsed.success) fail(line, column, `${parsed.error.issues[0]!.message} (got "${String(candidate[parsed.error.issues[0]!.path[0] as keyof FxRate])}")`);
    return parsed.data!;
  };

  if (["date", "base", "quote", "rate"].every((h, i) => header[i]?.toLowerCase() === h)) {
    return { format: "CSV", rates: rows.slice(1).map(([day = "", base = "", quote = "", rate = ""], i) => check({ day, base: base.toUpperCase(), quote: quote.toUpperCase(), rate }, i + 2, "")) };
  }
  if (header[0] !== "Date" || header.length < 2) {
    fail(1, "header", 'must be the ECB\'s ("Date,USD,JPY,…") or "date,base,quote,rate"');
  }
  const rates: FxRate[] = [];
  rows.slice(1).forEach((cells, i) => {
    const line = i + 2;
    const day = ecbDay(cells[0] ?? "") ?? fail(line, "Date", `must be a date such as 2026-11-20 or 20 November 2026 (got "${cells[0] ?? ""}")`);
    header.forEach((currency, column) => {
      const value = cells[column] ?? "";
      if (column === 0 || currency === "" || value === "" || value === "N/A") return;
      rates.push(check({ day, base: "EUR", quote: currency, rate: value }, line, currency));
    });
  });
  return { format: "ECB", rates };
}
