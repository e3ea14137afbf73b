import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { countAudiences } from "../../runtime/audiences/count.js";
import { ApiError } from "../../runtime/http/errors.js";
import type { Condition } from "../../schemas/index.js";
import { freshDatabase, stopDatabase } from "../helpers/database.js";

let pool: pg.Pool;

/** email, country, timezone, tags, consent, attributes, purchases (days ago) */
const PEOPLE: [string, string | null, string | null, string[], boolean, Record<string, unknown>, number[]][] = [
  ["ann@example.com", "TH", "Asia/Bangkok", ["remote-worker"], true, { plan: "pro", seats: 5, since: "2025-01-10" }, [1, 10]],
  ["bao@example.com", "VN", null, ["remote-worker", "churned"], true, { plan: "team", seats: 12, skills: ["design", "go"] }, [100]],
  ["carla@example.com", "PT", "Europe/Lisbon", [], true, { plan: "trial", bio: "loves surfing" }, []],
  ["dan@example.com", "US", "America/New_York", ["buyer"], false, { plan: "pro" }, [2]],
  ["eve@example.com", null, null, [], true, {}, []],
];

before(async () => {
  pool = new pg.Pool({ connectionString: await freshDatabase() });
  for (const [email, country, timezone, tags, consent, attributes, purchases] of PEOPLE) {
    const { rows } = await pool.query<{ id: string }>(
      "insert into subscribers (email, country, timezone, tags, consent, attributes) values ($1, $2, $3, $4, $5, $6) returning id",
      [email, country, timezone, tags, consent ? "marketing" : null, attributes],
    );
    for (const days of purchases) {
      await pool.query("insert into events (subscriber_id, name, occurred_at) values ($1, 'purchase', now() - make_interval(days => $2))", [rows[0]?.id, days]);
    }
  }
}, { timeout: 120_000 });
after(async () => {
  await pool.end();
  await stopDatabase();
}, { timeout: 120_000 });

const count = async (where: Condition | null, audiences: Record<string, Condition | null> = {}) =>
  (await countAudiences(pool, { timezone: "Asia/Bangkok", audiences: { ...audiences, target: where }, campaigns: [] })).audiences["target"];

describe("audience conditions compiled to SQL", { timeout: 180_000 }, () => {
  const cases: [string, Condition | null, number][] = [
    ["everyone (no where)", null, 5],
    ["consent", { consent: "marketing" }, 4],
    ["country", { country: "TH" }, 1],
    ["country in", { country: { in: ["TH", "VN"] } }, 2],
    ["country notIn (unknown country is not in the list)", { country: { notIn: ["US"] } }, 4],
    ["timezone, with the project's zone for subscribers without one", { timezone: "Asia/Bangkok" }, 3],
    ["timezone notIn", { timezone: { notIn: ["Asia/Bangkok"] } }, 2],
    ["tag", { tag: "remote-worker" }, 2],
    ["not", { not: { tag: "churned" } }, 4],
    ["all", { all: [{ consent: "marketing" }, { tag: "remote-worker" }] }, 2],
    ["any", { any: [{ country: "US" }, { country: "PT" }] }, 2],
    ["attribute eq", { attribute: "plan", eq: "pro" }, 2],
    ["attribute ne (missing counts as not equal)", { attribute: "plan", ne: "pro" }, 3],
    ["attribute in", { attribute: "plan", in: ["team", "trial"] }, 2],
    ["attribute notIn", { attribute: "plan", notIn: ["pro"] }, 3],
    ["attribute gt on numbers", { attribute: "seats", gt: 5 }, 1],
    ["attribute gte on numbers", { attribute: "seats", gte: 5 }, 2],
    ["attribute lt on text (dates)", { attribute: "since", lt: "2025-06-01" }, 1],
    ["attribute exists", { attribute: "plan", exists: true }, 4],
    ["attribute exists false", { attribute: "plan", exists: false }, 1],
    ["attribute contains in a list", { attribute: "skills", contains: "go" }, 1],
    ["attribute contains in text", { attribute: "bio", contains: "surf" }, 1],
    ["event within", { event: "purchase", within: "30d" }, 2],
    ["event within, min 2", { event: "purchase", within: "30d", min: 2 }, 1],
    ["event none (min 0, max 0)", { event: "purchase", within: "30d", min: 0, max: 0 }, 3],
    ["event within a longer window", { event: "purchase", within: "20w" }, 3],
  ];
  for (const [name, where, expected] of cases) {
    it(name, async () => assert.equal(await count(where), expected));
  }

  it("audience: another audience, nested", async () => {
    const audiences: Record<string, Condition | null> = { opted: { consent: "marketing" }, asia: { all: [{ audience: "opted" }, { country: { in: ["TH", "VN"] } }] } };
    assert.equal(await count({ all: [{ audience: "asia" }, { not: { tag: "churned" } }] }, audiences), 1);
  });

  it("a value cannot change the query: quotes and SQL in values are just values", async () => {
    assert.equal(await count({ tag: "x' or '1'='1" }), 0);
    assert.equal(await count({ attribute: "plan", eq: "pro'); drop table subscribers; --" }), 0);
    assert.equal(Number((await pool.query("select count(*) from subscribers")).rows[0].count), 5);
  });

  it("refuses unknown audiences and cycles", async () => {
    await assert.rejects(count({ audience: "nope" }), (e: unknown) => e instanceof ApiError && e.code === "unknown_audience");
    await assert.rejects(count({ audience: "a" }, { a: { audience: "b" }, b: { audience: "a" } }), (e: unknown) => e instanceof ApiError && e.code === "audience_cycle");
  });

  it("campaign reach: audience, consent for marketing mail, and geofence", async () => {
    const result = await countAudiences(pool, {
      timezone: "Asia/Bangkok",
      audiences: { buyers: { event: "purchase", within: "20w" } },
      campaigns: [
        { name: "marketing", audience: "buyers", marketing: true },
        { name: "transactional", audience: "buyers", marketing: false },
        { name: "fenced", audience: "buyers", marketing: false, geofence: { countries: { notIn: ["US"] } } },
        { name: "zoned", audience: "buyers", marketing: false, geofence: { timezones: { in: ["Asia/Bangkok"] } } },
      ],
    });
    assert.deepEqual(result.campaigns, { marketing: 2, transactional: 3, fenced: 2, zoned: 2 });
  });
});
