import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { waitEnds } from "../../../runtime/sequences/wait.js";

const iso = (d: Date) => d.toISOString();

describe("waitEnds", { timeout: 180_000 }, () => {
  it("adds minutes and hours as elapsed time, days and weeks as calendar days in the recipient's zone", () => {
    assert.equal(iso(waitEnds(new Date("2026-11-23T08:00:00Z"), { wait: "90m" }, "Asia/Bangkok")), "2026-11-23T09:30:00.000Z");
    assert.equal(iso(waitEnds(new Date("2026-11-23T08:00:00Z"), { wait: "2w" }, "Asia/Bangkok")), "2026-12-07T08:00:00.000Z");
    // Lisbon leaves summer time on 2026-10-25: a day later is still 10:00 local, 25 hours on.
    assert.equal(iso(waitEnds(new Date("2026-10-24T09:00:00Z"), { wait: "1d" }, "Europe/Lisbon")), "2026-10-25T10:00:00.000Z");
    assert.equal(iso(waitEnds(new Date("2026-10-24T09:00:00Z"), { wait: "24h" }, "Europe/Lisbon")), "2026-10-25T09:00:00.000Z");
  });

  it("with until, goes on at the next such local time after the wait: that day's, or the next day's", () => {
    // 08:00 UTC is 15:00 in Bangkok; a day later it is past 09:00 there, so 09:00 the day after.
    assert.equal(iso(waitEnds(new Date("2026-11-23T08:00:00Z"), { wait: "1d", until: "09:00" }, "Asia/Bangkok")), "2026-11-25T02:00:00.000Z");
    // 23:00 UTC is 06:00 in Bangkok the next day: 09:00 that same day comes after the wait.
    assert.equal(iso(waitEnds(new Date("2026-11-22T23:00:00Z"), { wait: "1d", until: "09:00" }, "Asia/Bangkok")), "2026-11-24T02:00:00.000Z");
    // The same instant for a New Yorker: 18:00 local, so 09:00 New York time two days on.
    assert.equal(iso(waitEnds(new Date("2026-11-22T23:00:00Z"), { wait: "1d", until: "09:00" }, "America/New_York")), "2026-11-24T14:00:00.000Z");
  });

  it("moves a local time the clocks skip forward by the gap", () => {
    // New York springs forward at 02:00 on 2027-03-14: 02:30 does not exist that night.
    assert.equal(iso(waitEnds(new Date("2027-03-13T12:00:00Z"), { wait: "12h", until: "02:30" }, "America/New_York")), "2027-03-14T07:30:00.000Z");
  });
});
