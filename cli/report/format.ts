import { formatMinor } from "../../runtime/money.js";
import type { RevenueLine } from "../../schemas/report.js";

/** A rate as a percentage with sensible precision: 0.0105 → "1.05 %", 0.395 → "39.5 %"; "-" without a base. */
export function percent(rate: number | null): string {
  if (rate === null) return "-";
  return `${(rate * 100).toFixed(rate < 0.1 ? 2 : 1)} %`;
}

export function count(n: number): string {
  return n.toLocaleString("en");
}

/** "1 purchase", "3 purchases". */
export function plural(n: number, word: string): string {
  return `${count(n)} ${word}${n === 1 ? "" : "s"}`;
}

/** Net revenue per currency on one line: "USD 1,222.56 · EUR 80.00"; "-" when there is none. */
export function netRevenue(lines: readonly RevenueLine[]): string {
  return lines.length === 0 ? "-" : lines.map((r) => formatMinor(r.netMinor, r.currency)).join(" · ");
}

/** A UTC instant as "2026-11-23 10:00 UTC". */
export function utcMinute(iso: string): string {
  return `${iso.replace("T", " ").slice(0, 16)} UTC`;
}
