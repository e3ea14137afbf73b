import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DateTime } from "luxon";
import { dueInstant, nextInWindow, parseWindow, startsAt } from "../../../runtime/sending/schedule.js";

const utc = (instant: DateTime) => instant.toUTC().toISO({ suppressMilliseconds: true });

describe("recipient-time schedules", { timeout: 180_000 }, () => {
  // Each zone on a day its clocks change (2026), and Bangkok, which has no DST.
  const cases = [
    { zone: "America/New_York", day: "2026-03-08", expected: "2026-03-08T13:00:00Z" }, // EDT begins 02:00 → 03:00
    { zone: "America/New_York", day: "2026-11-01", expected: "2026-11-01T14:00:00Z" }, // EST begins 02:00 → 01:00
    { zone: "Europe/Berlin", day: "2026-03-29", expected: "2026-03-29T07:00:00Z" }, // CEST begins
    { zone: "Europe/Berlin", day: "2026-10-25", expected: "2026-10-25T08:00:00Z" }, // CET begins
    { zone: "Australia/Sydney", day: "2026-04-05", expected: "2026-04-04T23:00:00Z" }, // AEST begins 03:00 → 02:00
    { zone: "Australia/Sydney", day: "2026-10-04", expected: "2026-10-03T22:00:00Z" }, // AEDT begins
    { zone: "Asia/Bangkok", day: "2026-03-29", expected: "2026-03-29T02:00:00Z" },
  ];
  for (const { zone, day, expected } of cases) {
    it(`09:00 on ${day} is 09:00 in ${zone}`, () => {
      const due = dueInstant({ at: `${day}T09:00:00`, timezone: "recipient" }, zone, "UTC");
      assert.equal(utc(due), expected);
      assert.equal(due.setZone(zone).toFormat("yyyy-MM-dd HH:mm"), `${day} 09:00`);
    });
  }

  it("moves a wall-clock time the clocks skip forward by the gap, and takes the second (standard-time) one of a repeated hour", () => {
    assert.equal(utc(dueInstant({ at: "2026-03-08T02:30:00", timezone: "recipient" }, "America/New_York", "UTC")), "2026-03-08T07:30:00Z");
    assert.equal(utc(dueInstant({ at: "2026-11-01T01:30:00", timezone: "recipient" }, "America/New_York", "UTC")), "2026-11-01T06:30:00Z");
  });

  it("uses the schedule's zone, or the project's, for everyone when the schedule is not recipient time; an offset wins over both", () => {
    assert.equal(utc(dueInstant({ at: "2026-12-01T09:00:00", timezone: "Asia/Bangkok" }, "Europe/Berlin", "UTC")), "2026-12-01T02:00:00Z");
    assert.equal(utc(dueInstant({ at: "2026-12-01T09:00:00" }, "Europe/Berlin", "America/New_York")), "2026-12-01T14:00:00Z");
    assert.equal(utc(dueInstant({ at: "2026-12-01T09:00:00+07:00", timezone: "recipient" }, "Europe/Berlin", "UTC")), "2026-12-01T02:00:00Z");
  });

  it("starts a recipient-time campaign when its hour first arrives anywhere (UTC+14)", () => {
    assert.equal(utc(startsAt({ at: "2026-12-01T09:00:00", timezone: "recipient" }, "UTC")), "2026-11-30T19:00:00Z");
  });
});

describe("delivery windows", { timeout: 180_000 }, () => {
  const window = parseWindow("09:00-11:00");
  const at = (iso: string, zone: string) => DateTime.fromISO(iso, { zone });

  it("keeps a time inside the window, moves one before it to the opening and one after it to the next day's", () => {
    assert.equal(nextInWindow(at("2026-03-29T10:15", "Europe/Berlin"), "Europe/Berlin", window).toISO(), at("2026-03-29T10:15", "Europe/Berlin").toISO());
    assert.equal(nextInWindow(at("2026-03-29T07:00", "Europe/Berlin"), "Europe/Berlin", window).setZone("Europe/Berlin").toFormat("yyyy-MM-dd HH:mm"), "2026-03-29 09:00");
    assert.equal(nextInWindow(at("2026-03-28T11:00", "Europe/Berlin"), "Europe/Berlin", window).setZone("Europe/Berlin").toFormat("yyyy-MM-dd HH:mm"), "2026-03-29 09:00");
  });

  it("opens at 09:00 local on the day the clocks change, and handles windows past midnight", () => {
    const next = nextInWindow(at("2026-03-28T20:00", "America/New_York").plus({ days: -20 }), "America/New_York", window);
    assert.equal(next.setZone("America/New_York").toFormat("yyyy-MM-dd HH:mm"), "2026-03-09 09:00");
    const overnight = parseWindow("22:00-02:00");
    assert.equal(nextInWindow(at("2026-05-01T01:00", "Asia/Bangkok"), "Asia/Bangkok", overnight).setZone("Asia/Bangkok").toFormat("HH:mm"), "01:00");
    assert.equal(nextInWindow(at("2026-05-01T03:00", "Asia/Bangkok"), "Asia/Bangkok", overnight).setZone("Asia/Bangkok").toFormat("dd HH:mm"), "01 22:00");
  });

  it("applies the window to the scheduled time", () => {
    const due = dueInstant({ at: "2026-03-08T07:00:00", timezone: "recipient", window: "09:00-11:00" }, "America/New_York", "UTC");
    assert.equal(utc(due), "2026-03-08T13:00:00Z");
  });
});
