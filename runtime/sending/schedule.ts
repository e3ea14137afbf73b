import { DateTime } from "luxon";
import type { Schedule } from "../../schemas/index.js";

/** The earliest zone on Earth (UTC+14): a recipient-time campaign starts when its hour first arrives there. */
const EARLIEST_ZONE = "Etc/GMT-14";

const HAS_OFFSET = /(Z|[+-]\d{2}:\d{2})$/;

/**
 * The instant a schedule's `at` means for someone in `zone`. With an offset it
 * is that instant for everyone. Without one it is the wall-clock time in
 * `zone` (recipient schedules) or in the schedule's own zone, DST included:
 * an hour the clocks skip (02:30 on a spring-forward night) moves forward by
 * the gap, and an hour that happens twice is the second (standard-time) one.
 */
export function scheduledInstant(schedule: Schedule, zone: string, projectZone: string): DateTime {
  if (HAS_OFFSET.test(schedule.at)) return DateTime.fromISO(schedule.at, { setZone: true });
  const wallClockZone = schedule.timezone === "recipient" ? zone : (schedule.timezone ?? projectZone);
  return DateTime.fromISO(schedule.at, { zone: wallClockZone });
}

/** When a scheduled campaign starts: its time, or for recipient-time schedules the first zone's. */
export function startsAt(schedule: Schedule, projectZone: string): DateTime {
  return scheduledInstant(schedule, EARLIEST_ZONE, projectZone);
}

/** A delivery window ("09:00-11:00") as minutes after local midnight; the end may be past midnight ("22:00-02:00"). */
export interface DeliveryWindow {
  start: number;
  end: number;
}

export function parseWindow(window: string | undefined): DeliveryWindow | undefined {
  if (window === undefined) return undefined;
  const [start, end] = window.split("-").map((time) => {
    const [hours, minutes] = time.split(":").map(Number);
    return hours! * 60 + minutes!;
  });
  return { start: start!, end: end! };
}

/**
 * The first moment at or after `instant` that lies inside the window, local to
 * `zone`: `instant` itself when it is inside, else the window's next opening
 * (today's or tomorrow's), DST-correct.
 */
export function nextInWindow(instant: DateTime, zone: string, window: DeliveryWindow | undefined): DateTime {
  if (window === undefined) return instant;
  const local = instant.setZone(zone);
  const minute = local.hour * 60 + local.minute;
  const inside = window.start <= window.end ? minute >= window.start && minute < window.end : minute >= window.start || minute < window.end;
  if (inside) return instant;
  const opening = (day: DateTime) => day.startOf("day").set({ hour: Math.floor(window.start / 60), minute: window.start % 60 });
  const today = opening(local);
  return minute < window.start ? today : opening(local.plus({ days: 1 }));
}

/** When `zone`'s recipients are due: the scheduled instant, moved into their delivery window. */
export function dueInstant(schedule: Schedule, zone: string, projectZone: string): DateTime {
  return nextInWindow(scheduledInstant(schedule, zone, projectZone), zone, parseWindow(schedule.window));
}
