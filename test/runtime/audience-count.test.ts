import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { ConditionCompiler } from "../../runtime/audiences/condition-sql.js";
import { countAudiences } from "../../runtime/audiences/count.js";
import { ApiError } from "../../runtime/http/errors.js";
import { ConditionSizes, type Condition } from "../../schemas/index.js";
import { freshDatabase, stopDatabase } from "../helpers/database.js";
import { startRuntime, TOKEN, type TestRuntime } from "../helpers/runtime.js";
import { applyCampaigns } from "../helpers/sending.js";

let databaseUrl: string;
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
  databaseUrl = await freshDatabase();
  pool = new pg.Pool({ connectionString: databaseUrl });
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

describe("audience conditions compiled to SQL", { timeout: 180_000 }, () => {
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

/** l00 … l23 and vip, each referring to the one below twice: 24 levels, 2^24 copies of l00 once expanded, from about 2 KB of JSON. */
function doubling(levels = 24): Record<string, Condition> {
  const name = (i: number) => (i === levels ? "vip" : `l${String(i).padStart(2, "0")}`);
  const audiences: Record<string, Condition> = { l00: { consent: "marketing" } };
  for (let i = 1; i <= levels; i++) audiences[name(i)] = { any: [{ audience: name(i - 1) }, { all: [{ audience: name(i - 1) }, { tag: "vip" }] }] };
  return audiences;
}

/** A condition nested `levels` deep: not, all, not, all … */
function nested(levels: number): Condition {
  let condition: Condition = { tag: "x" };
  for (let i = 1; i < levels; i++) condition = i % 2 === 1 ? { not: condition } : { all: [{ tag: "y" }, condition] };
  return condition;
}

describe("condition limits: expansion counted without expanding, nesting refused before parsing", { timeout: 180_000 }, () => {
  let rt: TestRuntime;
  before(async () => {
    rt = await startRuntime({}, databaseUrl);
  }, { timeout: 120_000 });
  after(() => rt.close(), { timeout: 120_000 });

  it("counts SQL parameters exactly as the compiler binds them, and a depth-24 audience's nodes without expanding it", () => {
    const audiences = new Map<string, Condition | undefined>([
      ["opted", { consent: "marketing" }],
      ["asia", { all: [{ audience: "opted" }, { country: { in: ["TH", "VN"] } }, { event: "purchase", within: "7d", max: 3 }] }],
      ["twice", { any: [{ audience: "asia" }, { not: { audience: "asia" } }] }],
    ]);
    const conditions: Condition[] = [...cases.flatMap(([, where]) => (where ? [where] : [])), { audience: "twice" }, { all: [{ audience: "twice" }, { timezone: "Asia/Bangkok" }] }];
    for (const condition of conditions) {
      const compiler = new ConditionCompiler(audiences, "Asia/Bangkok", new Date());
      compiler.compile(condition);
      assert.equal(new ConditionSizes(audiences).of(condition).parameters, compiler.params.length, JSON.stringify(condition));
    }
    // vip: 6 × 2^24 − 5 nodes, counted in 25 steps.
    assert.equal(new ConditionSizes(new Map(Object.entries(doubling()))).ofAudience("vip").nodes, 6 * 2 ** 24 - 5);
  });

  it("POST /v1/audiences/count refuses a depth-24 audience with condition_too_large, naming the audience where it passes the limit", async (t) => {
    const started = performance.now();
    const response = await rt.api("/v1/audiences/count", { body: { timezone: "Asia/Bangkok", audiences: doubling(), campaigns: [{ name: "c", audience: "vip", marketing: true }] } });
    const ms = performance.now() - started;
    assert.equal(response.status, 400, JSON.stringify(response.body));
    assert.equal(response.body.error.code, "condition_too_large");
    assert.match(response.body.error.message, /^audience "l11" expands to 12,283 condition nodes, more than the 10,000 allowed: it refers to audience "l10" 2 times/);
    assert.deepEqual(response.body.error.fields.map((f: { path: string }) => f.path), ["audiences.l11"]);
    t.diagnostic(`refused in ${ms.toFixed(1)} ms, the request's first (bench/conditions.bench.ts times it warm)`);
  });

  it("POST /v1/apply refuses the same audiences, and a sequence step that expands too far, naming the resource field; nothing is stored", async () => {
    const baseSerial = (await rt.api("/v1/state")).body.serial as number;
    const source = { commit: null, author: null, branch: null, dirty: null };
    const audiences = Object.entries(doubling()).map(([name, where]) => ({ kind: "Audience", name, spec: { where } }));
    const refused = await rt.api("/v1/apply", { body: { baseSerial, source, templates: [], resources: audiences } });
    assert.equal(refused.status, 400, JSON.stringify(refused.body));
    assert.equal(refused.body.error.code, "condition_too_large");
    assert.deepEqual(refused.body.error.fields.map((f: { path: string }) => f.path), ["resources[11].spec.where"]);

    // Each audience within the limits (l10: 6,139 nodes), the step referring to l10 twice is not.
    const sequence = {
      kind: "Sequence",
      name: "winback",
      spec: { trigger: { event: "signup" }, steps: [{ wait: "1d" }, { if: { any: [{ audience: "l10" }, { audience: "l10" }] }, then: "exit" }] },
    };
    const step = await rt.api("/v1/apply", { body: { baseSerial, source, templates: [], resources: [...audiences.slice(0, 11), sequence] } });
    assert.equal(step.status, 400, JSON.stringify(step.body));
    assert.equal(step.body.error.code, "condition_too_large");
    assert.match(step.body.error.message, /^sequence "winback" step 2 expands to 12,2\d\d condition nodes/);
    assert.deepEqual(step.body.error.fields.map((f: { path: string }) => f.path), ["resources[11].spec.steps[1].if"]);
    assert.equal((await rt.api("/v1/state")).body.serial, baseSerial);
  });

  it("refuses conditions nested too deeply with a 400 naming the field, 100,000 levels included (no stack overflow, no 500)", async () => {
    // As text: JSON.stringify itself cannot go 100,000 levels deep.
    const post = async (path: string, body: string) => {
      const response = await fetch(rt.url + path, { method: "POST", headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" }, body });
      return { status: response.status, body: (await response.json()) as { error: { code: string; fields: { path: string; message: string }[] } } };
    };
    const nots = (levels: number) => `${'{"not":'.repeat(levels - 1)}{"tag":"x"}${"}".repeat(levels - 1)}`;
    const count = (levels: number) => post("/v1/audiences/count", `{"timezone":"Asia/Bangkok","campaigns":[],"audiences":{"deep":${nots(levels)}}}`);
    const apply = (levels: number) =>
      post("/v1/apply", `{"baseSerial":0,"source":{"commit":null,"author":null,"branch":null,"dirty":null},"templates":[],"resources":[{"kind":"Audience","name":"deep","spec":{"where":${nots(levels)}}}]}`);
    const counted = await count(33);
    assert.equal(counted.status, 400, JSON.stringify(counted.body).slice(0, 300));
    assert.equal(counted.body.error.fields[0]?.path, `audiences.deep${".not".repeat(32)}`);
    assert.match(counted.body.error.fields[0]?.message ?? "", /more than 32 levels deep/);
    const applied = await apply(33);
    assert.equal(applied.status, 400, JSON.stringify(applied.body).slice(0, 300));
    assert.match(applied.body.error.fields[0]?.path ?? "", /^resources\[0\]\.spec(\.where)?\.not\.not/);
    // 100,000 levels: past what any route takes, refused for the whole body before a schema walks it (runtime/http/body-depth.ts).
    for (const abyss of [await count(100_000), await apply(100_000)]) {
      assert.equal(abyss.status, 400, JSON.stringify(abyss.body).slice(0, 300));
      assert.match(abyss.body.error.fields[0]?.message ?? "", /^nests more than 128 levels$/);
    }
    assert.equal((await rt.api("/v1/audiences/count", { body: { timezone: "Asia/Bangkok", audiences: { ok: nested(32) }, campaigns: [] } })).status, 200);
  });

  it("caps every count of one request together: many campaigns over one large audience", async () => {
    const audiences = doubling(10); // vip: 6,139 nodes
    const campaigns = Array.from({ length: 41 }, (_, i) => ({ name: `c${i}`, audience: "vip", marketing: false }));
    const response = await rt.api("/v1/audiences/count", { body: { timezone: "Asia/Bangkok", audiences, campaigns } });
    assert.equal(response.status, 400, JSON.stringify(response.body).slice(0, 300));
    assert.match(response.body.error.message, /^the counts of this request expand to [\d,]+ condition nodes together, more than the 250,000 allowed/);
    const fewer = await rt.api("/v1/audiences/count", { body: { timezone: "Asia/Bangkok", audiences, campaigns: campaigns.slice(0, 2) } });
    assert.equal(fewer.status, 200, JSON.stringify(fewer.body).slice(0, 300));
    assert.equal(fewer.body.campaigns.c0, 4, "everyone opted in, since vip is l00 (consent) or more of the same");
  });

  it("POST /v1/sends/start refuses a campaign whose stored audience expands too far (applied before the limits)", async () => {
    await applyCampaigns(rt, [{ name: "big" }]);
    const rows = Object.entries({ ...doubling(), everyone: { audience: "vip" } as Condition });
    await pool.query(
      `insert into resources (kind, name, spec, spec_hash, created_serial, updated_serial)
       select 'Audience', name, spec, 'legacy', 1, 1 from unnest($1::text[], $2::jsonb[]) as r (name, spec)
       on conflict (kind, name) do update set spec = excluded.spec`,
      [rows.map(([name]) => name), rows.map(([, where]) => JSON.stringify({ where }))],
    );
    const response = await rt.api("/v1/sends/start", { body: { campaign: "big" } });
    assert.equal(response.status, 400, JSON.stringify(response.body).slice(0, 300));
    assert.equal(response.body.error.code, "condition_too_large");
    assert.match(response.body.error.message, /^audience "everyone" expands to [\d,]+ condition nodes, more than the 10,000 allowed: it refers to audience "vip" once/);
    assert.equal(Number((await pool.query("select count(*) from sends")).rows[0].count), 0);
  });
});
