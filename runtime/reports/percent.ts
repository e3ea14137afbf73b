/** A rate as a percentage with sensible precision: 0.0105 → "1.05 %", 0.395 → "39.5 %"; "-" without a base. */
export function percent(rate: number | null): string {
  if (rate === null) return "-";
  return `${(rate * 100).toFixed(rate < 0.1 ? 2 : 1)} %`;
}
