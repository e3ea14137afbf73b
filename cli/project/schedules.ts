import { DateTime } from "luxon";
import type { AppliedResource } from "../../schemas/api.js";
import type { Schedule } from "../../schemas/campaign.js";
import { problem, sortProblems, type Location, type Problem } from "../problems.js";
import type { Repository } from "./reader.js";
import { locate } from "./yaml-source.js";

/**
 * A campaign whose `schedule.at` has passed (and that has no `allowPast`).
 * Whether that is wrong depends on the runtime: a campaign it has started was
 * sent at that time, one it has not would go out at the next `mk send --due`.
 * So offline it is a warning (MK035), and against a runtime an error (MK026)
 * only for a campaign that runtime neither started nor holds with that very
 * schedule (due: its next `mk send --due` starts it).
 */
export interface PastSchedule {
  campaign: string;
  schedule: Schedule;
  at: Location;
  /** `schedule.at … is in the past …`, the start of either message. */
  passed: string;
}

/** The last moment anywhere on Earth that a local time occurs (UTC-12). */
const LATEST_ZONE = "Etc/GMT+12";

/** A local time occurs at most this long before the same wall-clock time in UTC (UTC+14, Kiribati). */
const MAX_AHEAD_OF_UTC_MS = 14 * 60 * 60 * 1000;

/** MK010 for each `schedule.at` that is no real date and time, and the campaigns whose time has passed. */
export function checkSchedules(repo: Repository, now: Date): [Problem[], PastSchedule[]] {
  const fallbackZone = repo.project?.spec.defaults.timezone ?? "UTC";
  const problems: Problem[] = [];
  const past: PastSchedule[] = [];
  for (const campaign of repo.campaigns) {
    const schedule = campaign.spec.schedule;
    if (!schedule) continue;
    // Reading a time in a zone costs luxon ~0.2 ms, in UTC a quarter of that; a time
    // in the future in every zone (most schedules in a repository) needs no zone.
    const inUtc = DateTime.fromISO(schedule.at, { zone: "utc" });
    if (inUtc.isValid && inUtc.toMillis() - MAX_AHEAD_OF_UTC_MS >= now.getTime()) continue;
    const zone = schedule.timezone === "recipient" ? LATEST_ZONE : (schedule.timezone ?? fallbackZone);
    const at = DateTime.fromISO(schedule.at, { zone, setZone: true });
    const where = () => locate(campaign.source, ["schedule", "at"]);
    if (!at.isValid) {
      problems.push(problem("MK010", where(), `schedule.at: "${schedule.at}" is not a real date and time`));
    } else if (!schedule.allowPast && at.toMillis() < now.getTime()) {
      const whenLocal = schedule.timezone === "recipient" ? "in every time zone" : `(${at.toISO({ suppressMilliseconds: true })})`;
      past.push({ campaign: campaign.name, schedule, at: where(), passed: `schedule.at ${schedule.at} is in the past ${whenLocal}` });
    }
  }
  return [problems, past];
}

const REMEDY = "set a future time, or schedule.allowPast: true to send it at the next mk send --due";

/** Offline (`mk validate`, `mk render`): nobody knows yet whether the campaign was sent. */
export function pastScheduleWarning(past: PastSchedule): Problem {
  return problem("MK035", past.at, `${past.passed}; mk plan will refuse it unless the runtime has already started this campaign or holds it at that time: ${REMEDY}`);
}

/**
 * Against the runtime of `env` (`mk plan`, `mk apply`): the offline warnings
 * give way to MK026 for each campaign whose past time would be new to that
 * runtime. A campaign it has started went out at that time; one it holds,
 * unstarted, with the same time is merely due (the scheduled workflow's
 * next `mk send --due` starts it), and an unrelated change must not wait
 * for that.
 */
export function problemsAgainstRuntime(problems: readonly Problem[], past: readonly PastSchedule[], current: readonly AppliedResource[], env: string): Problem[] {
  const applied = new Map(current.filter((r) => r.kind === "Campaign").map((r) => [r.name, r]));
  const settled = (p: PastSchedule) => {
    const resource = applied.get(p.campaign);
    return resource !== undefined && (resource.startedAt !== null || sameTime((resource.spec as { schedule?: Schedule }).schedule, p.schedule));
  };
  const errors = past
    .filter((p) => !settled(p))
    .map((p) => problem("MK026", p.at, `${p.passed} and campaign "${p.campaign}" has not started sending on "${env}"; ${REMEDY}`));
  return sortProblems([...problems.filter((p) => p.code !== "MK035"), ...errors]);
}

function sameTime(applied: Schedule | undefined, wanted: Schedule): boolean {
  return applied !== undefined && applied.at === wanted.at && applied.timezone === wanted.timezone;
}
