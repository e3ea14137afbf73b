import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import type { z } from "zod";
import { ConditionCompiler } from "../../../runtime/audiences/condition-sql.js";
import { countAudiences } from "../../../runtime/audiences/count.js";
import { condition as conditionSchema, ConditionSizes, type Condition } from "../../../schemas/index.js";
import { freshDatabase, stopDatabase } from "../../helpers/database.js";
import { startRuntime, type TestRuntime } from "../../helpers/runtime.js";
import { addSubscribers, applyCampaigns, query, type SequenceFixture } from "../../helpers/sending.js";
import { waitFor } from "../../helpers/wait-for.js";

after(() => stopDatabase(), { timeout: 120_000 });

/** Who made each open and click of a subscriber, a day ago: `null` is a row stored before opens and clicks were classified. */
const PEOPLE: [string, [name: string, actor: string | null][]][] = [
  ["reader@example.com", [["click", "human"], ["open", "human"]]],
  ["scanned@example.com", [["click", "machine"], ["click", "machine"], ["click", "machine"], ["open", "machine"]]],
  ["unsure@example.com", [["click", "unknown"], ["ses.open", null]]],
  ["ses-reader@example.com", [["ses.click", "human"], ["ses.open", "human"], ["purchase", null]]],
  ["quiet@example.com", []],
];

describe("event conditions on opens and clicks count people's engagement unless they say otherwise", { timeout: 180_000 }, () => {
  let pool: pg.Pool;
  before(async () => {
    pool = new pg.Pool({ connectionString: await freshDatabase() });
    for (const [email, events] of PEOPLE) {
      const { rows } = await pool.query<{ id: string }>("insert into subscribers (email, consent) values ($1, 'marketing') returning id", [email]);
      for (const [name, actor] of events) {
        await pool.query("insert into events (subscriber_id, name, occurred_at, actor) values ($1, $2, now() - interval '1 day', $3)", [rows[0]!.id, name, actor]);
      }
    }
  }, { timeout: 120_000 });
  after(() => pool.end(), { timeout: 30_000 });

  const count = async (where: Condition) => (await countAudiences(pool, { timezone: "Asia/Bangkok", audiences: { target: where }, campaigns: [] })).audiences["target"];

  const cases: [string, Condition, number][] = [
    ["a click, by default a person's", { event: "click", within: "7d" }, 1],
    ["a click by: human, said", { event: "click", within: "7d", by: "human" }, 1],
    ["a click by: machine (the scanned one)", { event: "click", within: "7d", by: "machine" }, 1],
    ["three machine clicks: min 3 by: machine", { event: "click", within: "7d", min: 3, by: "machine" }, 1],
    ["three clicks, nobody's min 3 of a person's", { event: "click", within: "7d", min: 3 }, 0],
    ["a click by: any (human, machine, unknown)", { event: "click", within: "7d", by: "any" }, 3],
    ["an open, by default a person's", { event: "open", within: "7d" }, 1],
    ["an SES open: a person's, and the one stored before classification, counted as it always was", { event: "ses.open", within: "7d" }, 2],
    ["an SES open by: any", { event: "ses.open", within: "7d", by: "any" }, 2],
    ["an SES open by: machine: not the one stored before classification", { event: "ses.open", within: "7d", by: "machine" }, 0],
    ["an SES click", { event: "ses.click", within: "7d" }, 1],
    ["no person's click: max 0", { event: "click", within: "7d", max: 0 }, 4],
    ["other events have no actor and count as always", { event: "purchase", within: "7d" }, 1],
  ];
  for (const [name, where, expected] of cases) {
    it(name, async () => assert.equal(await count(where), expected));
  }

  it("binds whose engagement as a parameter, counted exactly as the size limits count it", () => {
    for (const [, where] of cases) {
      const compiler = new ConditionCompiler(new Map(), "Asia/Bangkok", new Date());
      const sql = compiler.compile(where);
      assert.doesNotMatch(sql, /'(human|machine)'/, "no value written into the SQL");
      assert.equal(new ConditionSizes(new Map()).of(where).parameters, compiler.params.length, JSON.stringify(where));
    }
  });
});

/** Every issue of a parse, the branches of unions included. */
function allIssues(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue[] {
  return issues.flatMap((issue) => [issue, ...(issue.code === "invalid_union" ? issue.errors.flatMap(allIssues) : [])]);
}

describe("by: in the condition schema", { timeout: 10_000 }, () => {
  it("takes human, machine and any on opens and clicks", () => {
    for (const event of ["open", "click", "ses.open", "ses.click"]) {
      for (const by of ["human", "machine", "any"]) assert.ok(conditionSchema.safeParse({ event, within: "1d", by }).success, `${event} by ${by}`);
    }
  });

  it("refuses by: on any other event with MK139 at by", () => {
    const parsed = conditionSchema.safeParse({ event: "purchase", within: "7d", by: "human" });
    assert.equal(parsed.success, false);
    const mk139 = allIssues(parsed.error!.issues).filter((issue) => issue.code === "custom" && issue.params?.["code"] === "MK139");
    assert.equal(mk139.length, 1);
    assert.deepEqual(mk139[0]!.path, ["by"]);
    assert.match(mk139[0]!.message, /by applies to open, click, ses\.open and ses\.click only/);
  });

  it("refuses a by: that is no actor", () => {
    assert.equal(conditionSchema.safeParse({ event: "click", within: "7d", by: "people" }).success, false);
  });
});

const T0 = new Date("2026-11-23T08:00:00Z");
const DAY = 86_400_000;

const nurture: SequenceFixture = {
  name: "nurture",
  trigger: { event: "signup" },
  audience: "everyone",
  steps: [
    { name: "pause", wait: "1d" },
    { name: "clicked", if: { event: "click", within: "1d" }, then: "exit" },
    { name: "follow-up", send: { template: "templates/hello.mjml", subject: "Did you see our offer?" } },
  ],
};

describe("a sequence's if: counts a person's click, not a scanner's", { timeout: 180_000 }, () => {
  let rt: TestRuntime;
  let now = T0;
  before(async () => {
    rt = await startRuntime({ MK_WORKERS: "1" }, undefined, { clock: () => now });
    await addSubscribers(rt.databaseUrl, 2);
    await applyCampaigns(rt, [], {}, { sequences: [nurture] });
  }, { timeout: 120_000 });
  after(() => rt.close(), { timeout: 120_000 });

  it("goes on for the subscriber whose only clicks were a scanner's, and exits the one a person clicked for", async () => {
    const signups = ["s1@example.test", "s2@example.test"].map((email) => ({ idempotencyKey: `signup-${email}`, type: "signup", subscriber: { email }, occurredAt: T0.toISOString() }));
    const ingested = await rt.api("/v1/events", { body: { events: signups } });
    assert.equal(ingested.body.accepted, 2, JSON.stringify(ingested.body));
    await waitFor(async () => (await query(rt.databaseUrl, "select 1 from enrollments where step = 1")).length === 2, 30_000, "both enrollments waiting");

    // s1: a link scanner's burst a second after delivery; s2: a scanner's click, then a person's in the afternoon.
    const click = (email: string, at: number, actor: string) =>
      query(rt.databaseUrl, "insert into events (subscriber_id, name, occurred_at, actor, actor_reason) select id, 'click', $2, $3, $4 from subscribers where email = $1", [
        email, new Date(T0.getTime() + at), actor, actor === "human" ? "ordinary-client" : "link-burst",
      ]);
    for (const link of [0, 1, 2]) await click("s1@example.test", 1000 + link, "machine");
    await click("s2@example.test", 1000, "machine");
    await click("s2@example.test", 6 * 3_600_000, "human");

    now = new Date(T0.getTime() + DAY);
    await waitFor(async () => (await query(rt.databaseUrl, "select 1 from enrollments where status = 'active'")).length === 0, 30_000, "both enrollments to end");
    const ended = await query<{ email: string; status: string; exit_reason: string | null }>(
      rt.databaseUrl,
      "select s.email, e.status, e.exit_reason from enrollments e join subscribers s on s.id = e.subscriber_id order by s.email",
    );
    assert.deepEqual(ended, [
      { email: "s1@example.test", status: "completed", exit_reason: null },
      { email: "s2@example.test", status: "exited", exit_reason: "condition: step 2 (clicked)" },
    ]);
    await waitFor(async () => (await query(rt.databaseUrl, "select 1 from outbox")).length === 1, 30_000, "the follow-up");
    assert.deepEqual(await query(rt.databaseUrl, "select recipient, subject from outbox"), [{ recipient: "s1@example.test", subject: "Did you see our offer?" }]);
  });
});
