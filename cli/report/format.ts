import { formatMinor } from "../../runtime/money.js";
import { formatCount } from "../plan/render-text.js";
import type { RevenueLine } from "../../schemas/report.js";

/** "1 purchase", "3 purchases". */
export function plural(n: number, word: string): string {
  return `${formatCount(n)} ${word}${n === 1 ? "" : "s"}`;
}

/** Net revenue per currency on one line: "USD 1,222.56 · EUR 80.00"; "-" when there is none. */
export function netRevenue(lines: readonly RevenueLine[]): string {
  return lines.length === 0 ? "-" : lines.map((r) => formatMinor(r.netMinor, r.currency)).join(" · ");
}

/** A UTC instant as "2026-11-23 10:00 UTC". */
export function utcMinute(iso: string): string {
  return `${iso.replace("T", " ").slice(0, 16)} UTC`;
}
