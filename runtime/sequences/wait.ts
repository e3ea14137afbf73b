import { DateTime } from "luxon";
import { DURATION_PATTERN } from "../../schemas/common.js";
import type { WaitStep } from "../../schemas/index.js";

const UNITS = { m: "minutes", h: "hours", d: "days", w: "weeks" } as const;

/**
 * When a wait step that began at `from` ends for a recipient in `zone`. Days
 * and weeks are calendar days in that zone, so "1d" is 09:00 to 09:00 across
 * a DST change. With `until: "09:00"` it then goes on to the next 09:00 local
 * (that day's, if not yet passed); a time the clocks skip moves forward by the gap.
 */
export function waitEnds(from: Date, step: Pick<WaitStep, "wait" | "until">, zone: string): Date {
  const match = DURATION_PATTERN.exec(step.wait);
  if (!match) throw new RangeError(`not a duration: ${step.wait}`);
  const after = DateTime.fromJSDate(from, { zone }).plus({ [UNITS[match[2] as keyof typeof UNITS]]: Number(match[1]) });
  if (step.until === undefined) return after.toJSDate();
  const [hour, minute] = step.until.split(":").map(Number) as [number, number];
  const at = (day: DateTime) => day.set({ hour, minute, second: 0, millisecond: 0 });
  const today = at(after);
  return (today >= after ? today : at(after.plus({ days: 1 }))).toJSDate();
}
