import { DateTime } from "luxon";
import { ApiError } from "../http/errors.js";

export interface Period {
  /** "2026-10", "2026-Q3", "2026", or "2026-07-01..2026-09-30". */
  label: string;
  /** Inclusive dates, YYYY-MM-DD. */
  from: string;
  to: string;
}

function day(text: string, field: string): DateTime {
  const parsed = DateTime.fromISO(text, { zone: "UTC" });
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text) || !parsed.isValid) {
    throw new ApiError(400, "invalid_period", `${field} must be a date, YYYY-MM-DD (got "${text}")`, [{ path: field, message: "YYYY-MM-DD" }]);
  }
  return parsed;
}

/**
 * A reporting period: a month (2026-10), a quarter (2026-Q3), a year (2026),
 * or from and to dates (inclusive). Dates are the ledger's tax dates.
 */
export function parsePeriod(input: { period?: string | undefined; from?: string | undefined; to?: string | undefined }): Period {
  const { period, from, to } = input;
  if (period !== undefined && (from !== undefined || to !== undefined)) {
    throw new ApiError(400, "invalid_period", "give either period or from and to, not both", [{ path: "period", message: "either period or from/to" }]);
  }
  if (period === undefined) {
    if (from === undefined || to === undefined) {
      throw new ApiError(400, "invalid_period", "give a period (2026-10, 2026-Q3 or 2026) or both from and to", [{ path: "period", message: "required" }]);
    }
    const start = day(from, "from");
    const end = day(to, "to");
    if (end < start) throw new ApiError(400, "invalid_period", `to (${to}) is before from (${from})`, [{ path: "to", message: "on or after from" }]);
    return { label: `${from}..${to}`, from, to };
  }
  const month = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(period);
  const quarter = /^(\d{4})-Q([1-4])$/i.exec(period);
  const year = /^(\d{4})$/.exec(period);
  let start: DateTime;
  let end: DateTime;
  if (month) {
    start = DateTime.utc(Number(month[1]), Number(month[2]), 1);
    end = start.endOf("month");
  } else if (quarter) {
    start = DateTime.utc(Number(quarter[1]), (Number(quarter[2]) - 1) * 3 + 1, 1);
    end = start.plus({ months: 2 }).endOf("month");
  } else if (year) {
    start = DateTime.utc(Number(year[1]), 1, 1);
    end = start.endOf("year");
  } else {
    throw new ApiError(400, "invalid_period", `period must be a month (2026-10), a quarter (2026-Q3) or a year (2026); got "${period}"`, [{ path: "period", message: "2026-10, 2026-Q3 or 2026" }]);
  }
  return { label: quarter ? `${quarter[1]}-Q${quarter[2]}` : period, from: start.toISODate()!, to: end.toISODate()! };
}
