import { errorFunction } from "simple-statistics";
import type { AbTestVerdict, DecidingMetric, VariantComparison } from "../../schemas/report.js";
import { percent } from "./percent.js";

export interface ZTest {
  z: number;
  /** Two-sided p-value. */
  p: number;
}

/**
 * Two-proportion z-test with a pooled proportion: is b's rate (xb of nb)
 * different from a's (xa of na)? Positive z means b's is higher.
 */
export function twoProportionZTest(xa: number, na: number, xb: number, nb: number): ZTest {
  const pooled = (xa + xb) / (na + nb);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / na + 1 / nb));
  if (se === 0) return { z: 0, p: 1 };
  const z = (xb / nb - xa / na) / se;
  return { z, p: 1 - errorFunction(Math.abs(z) / Math.SQRT2) };
}

/** The normal approximation holds with at least this many recipients, successes and failures per group. */
const MIN_RECIPIENTS = 30;
const MIN_OUTCOMES = 5;
const ALPHA = 0.05;

function enough(successes: number, base: number): boolean {
  return base >= MIN_RECIPIENTS && successes >= MIN_OUTCOMES && base - successes >= MIN_OUTCOMES;
}

/**
 * Whether the z-test means anything for the two: enough recipients in each,
 * and at least MIN_OUTCOMES successes and failures expected in each under the
 * pooled rate (so a variant nobody clicked can still lose clearly).
 */
function testable(xa: number, na: number, xb: number, nb: number): boolean {
  if (na < MIN_RECIPIENTS || nb < MIN_RECIPIENTS) return false;
  const pooled = (xa + xb) / (na + nb);
  return Math.min(na, nb) * Math.min(pooled, 1 - pooled) >= MIN_OUTCOMES;
}

/** A variant's human engagement: machine opens and clicks are in none of these. */
export interface VariantSample {
  name: string;
  base: number;
  /** Recipients with a human open (or a human click). */
  opened: number;
  /** Recipients with a human click. */
  clicked: number;
  converted: number;
}

/** A campaign's `decideBy`; "auto" when it sets none. */
export type DecideBy = AbTestVerdict["decideBy"];

const OUTCOME: Record<DecidingMetric, { of: (s: VariantSample) => number; noun: string; plural: string }> = {
  conversion: { of: (s) => s.converted, noun: "conversion rate", plural: "conversions" },
  click: { of: (s) => s.clicked, noun: "human click rate", plural: "human clicks" },
  open: { of: (s) => s.opened, noun: "human open rate", plural: "human opens" },
};

/**
 * What decides: the campaign's choice, else conversions when every variant
 * has enough of them for the test, else human clicks. Opens decide only when
 * the campaign says so: privacy proxies open every message they see.
 */
export function decidingMetric(samples: readonly VariantSample[], decideBy: DecideBy): DecidingMetric {
  if (decideBy === "opens") return "open";
  if (decideBy === "clicks") return "click";
  if (decideBy === "conversions") return "conversion";
  return samples.every((s) => enough(s.converted, s.base)) ? "conversion" : "click";
}

function rateText(p: number, a: number, b: number): string {
  return `${percent(a)} vs ${percent(b)} (p = ${p < 0.001 ? "< 0.001" : p.toFixed(3)})`;
}

function tooLittle(metric: DecidingMetric): string {
  return `each needs at least ${MIN_RECIPIENTS} recipients, and the two enough ${OUTCOME[metric].plural} that each would expect at least ${MIN_OUTCOMES}`;
}

/**
 * A variant against the control, in plain words, by the deciding metric
 * (by default as decidingMetric picks it for the two); "too little data"
 * when the test would mean nothing.
 */
export function compareVariants(control: VariantSample, variant: VariantSample, metric = decidingMetric([control, variant], "auto")): VariantComparison {
  const { of, noun } = OUTCOME[metric];
  const xa = of(control);
  const xb = of(variant);
  const controlRate = control.base > 0 ? xa / control.base : null;
  const variantRate = variant.base > 0 ? xb / variant.base : null;
  const base = { metric, control: control.name, variant: variant.name, controlRate, variantRate } as const;

  if (!testable(xa, control.base, xb, variant.base)) {
    return { ...base, z: null, p: null, significant: false, verdict: `Too little data to compare ${variant.name} with ${control.name} yet: ${tooLittle(metric)}.` };
  }
  const { z, p } = twoProportionZTest(xa, control.base, xb, variant.base);
  const rates = rateText(p, variantRate!, controlRate!);
  const significant = p < ALPHA;
  const verdict = significant
    ? `${variant.name}'s ${noun} is ${z > 0 ? "higher" : "lower"} than ${control.name}'s: ${rates}. The difference is significant at 95 % confidence.`
    : `No clear difference in ${noun} between ${variant.name} and ${control.name} yet: ${rates}.`;
  return { ...base, z, p, significant, verdict };
}

/**
 * The A/B test's winner: the variant with the best rate by the deciding
 * metric, when it is ahead of every other variant at 95 % confidence, the
 * level split across the comparisons with three or more variants
 * (Bonferroni). The verdict says what decided it and that machines did not.
 */
export function abTestVerdict(samples: readonly VariantSample[], decideBy: DecideBy): AbTestVerdict {
  const metric = decidingMetric(samples, decideBy);
  const { of, plural, noun } = OUTCOME[metric];
  const by = `Decided by ${plural}${decideBy === "auto" ? "" : " (decideBy)"}; machine opens and clicks (privacy proxies, link scanners) count for no variant.`;
  const rate = (s: VariantSample) => (s.base > 0 ? of(s) / s.base : 0);
  const [best, ...others] = [...samples].sort((a, b) => rate(b) - rate(a));
  if (!best || others.length === 0 || others.some((o) => !testable(of(o), o.base, of(best), best.base))) {
    return { decideBy, metric, winner: null, verdict: `No winner yet: too little data (${tooLittle(metric)}). ${by}` };
  }
  const alpha = ALPHA / others.length;
  const tests = others.map((o) => ({ other: o, p: twoProportionZTest(of(o), o.base, of(best), best.base).p }));
  const closest = tests.reduce((a, b) => (b.p > a.p ? b : a));
  const rates = rateText(closest.p, rate(best), rate(closest.other));
  const level = others.length > 1 ? `95 % confidence over ${others.length} comparisons` : "95 % confidence";
  if (closest.p >= alpha) return { decideBy, metric, winner: null, verdict: `No winner yet: ${best.name} leads ${closest.other.name} by ${noun}, ${rates}, which is not significant at ${level}. ${by}` };
  return { decideBy, metric, winner: best.name, verdict: `${best.name} wins: its ${noun} beats ${closest.other.name}'s, ${rates}, significant at ${level}. ${by}` };
}
