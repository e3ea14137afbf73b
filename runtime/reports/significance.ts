import { errorFunction } from "simple-statistics";
import type { VariantComparison } from "../../schemas/report.js";
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

export interface VariantSample {
  name: string;
  base: number;
  clicked: number;
  converted: number;
}

/**
 * A variant against the control, in plain words: by conversions when both
 * have enough of them, else by clicks; "too little data" when neither test
 * would mean anything.
 */
export function compareVariants(control: VariantSample, variant: VariantSample): VariantComparison {
  const byConversion = enough(control.converted, control.base) && enough(variant.converted, variant.base);
  const metric = byConversion ? "conversion" : "click";
  const xa = byConversion ? control.converted : control.clicked;
  const xb = byConversion ? variant.converted : variant.clicked;
  const controlRate = control.base > 0 ? xa / control.base : null;
  const variantRate = variant.base > 0 ? xb / variant.base : null;
  const base = { metric, control: control.name, variant: variant.name, controlRate, variantRate } as const;

  if (!byConversion && !(enough(control.clicked, control.base) && enough(variant.clicked, variant.base))) {
    return {
      ...base,
      z: null,
      p: null,
      significant: false,
      verdict: `Too little data to compare ${variant.name} with ${control.name} yet: each needs at least ${MIN_RECIPIENTS} recipients and ${MIN_OUTCOMES} clicks or conversions.`,
    };
  }
  const { z, p } = twoProportionZTest(xa, control.base, xb, variant.base);
  const rates = `${percent(variantRate!)} vs ${percent(controlRate!)} (p = ${p < 0.001 ? "< 0.001" : p.toFixed(3)})`;
  const noun = metric === "conversion" ? "conversion rate" : "click rate";
  const significant = p < ALPHA;
  const verdict = significant
    ? `${variant.name}'s ${noun} is ${z > 0 ? "higher" : "lower"} than ${control.name}'s: ${rates}. The difference is significant at 95 % confidence.`
    : `No clear difference in ${noun} between ${variant.name} and ${control.name} yet: ${rates}.`;
  return { ...base, z, p, significant, verdict };
}
