import assert from "node:assert/strict";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { applyRequest } from "../../../cli/plan/apply-plan.js";
import type { Plan } from "../../../cli/plan/make-plan.js";
import { planJson } from "../../../cli/plan/plan-json.js";
import { planRepository } from "../../../cli/plan/plan-repository.js";
import { renderPlanMarkdown } from "../../../cli/plan/render-markdown.js";
import { renderPlanText } from "../../../cli/plan/render-text.js";
import type { StateResponse } from "../../../schemas/api.js";
import { stopDatabase } from "../../helpers/database.js";
import { startRuntime, TOKEN, type TestRuntime } from "../../helpers/runtime.js";

/**
 * Catalogs planned and applied (issue 20): Catalog resources by locale, the
 * override templates applied beside the others, key-level diffs in the
 * plan's text, Markdown and JSON, and each campaign's reach by the locale
 * its recipients would get.
 */
const FIXTURE = fileURLToPath(new URL("../../fixtures/valid/locales/", import.meta.url));
const NOW = new Date("2026-12-01T00:00:00Z");
const NO_COLOR = { color: false };

let scratch: string;
let dir: string;
let runtime: TestRuntime;

before(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), "mk-plan-locales-"));
  runtime = await startRuntime();
  dir = path.join(scratch, "repo");
  await cp(FIXTURE, dir, { recursive: true });
  await mkdir(path.join(dir, ".mk"), { recursive: true });
  await writeFile(path.join(dir, ".mk", "runtime.json"), JSON.stringify({ url: runtime.url, pid: process.pid, startedAt: NOW.toISOString() }));
}, { timeout: 120_000 });

after(async () => {
  await runtime?.app.close();
  await stopDatabase();
  await rm(scratch, { recursive: true, force: true });
}, { timeout: 60_000 });

async function plan(): Promise<Plan> {
  const outcome = await planRepository({ dir, env: "local", now: NOW, environment: { MK_API_TOKEN: TOKEN } });
  assert.ok(outcome.plan, JSON.stringify(outcome.problems));
  return outcome.plan;
}

async function apply(planned: Plan): Promise<void> {
  const response = await runtime.api("/v1/apply", { body: applyRequest(planned) });
  assert.equal(response.status, 200, JSON.stringify(response.body));
}

async function edit(file: string, change: (text: string) => string): Promise<void> {
  const at = path.join(dir, file);
  await writeFile(at, change(await readFile(at, "utf8")));
}

describe("catalogs planned and applied", { timeout: 180_000 }, () => {
  it("creates one Catalog per locale (its keys counted) and applies the per-locale override's template as a Template", { timeout: 60_000 }, async () => {
    const first = await plan();
    assert.deepEqual(
      first.changes.filter((c) => c.kind === "Catalog" || c.kind === "Template").map((c) => `${c.action} ${c.kind}/${c.name}`),
      ["create Catalog/ar", "create Catalog/en", "create Catalog/pt", "create Catalog/th", "create Template/templates/hello-pt.mjml", "create Template/templates/hello.mjml"],
    );
    const text = renderPlanText(first, NO_COLOR);
    assert.match(text, /^ {2}# catalog "th" will be created \(3 keys\)\n {2}\+ catalog "th"\n {6}\+ key "footer\.legal" = "บริษัท ฟิกซ์เจอร์ จำกัด"\n {6}\+ key "footer\.note" = /m);
    await apply(first);

    const state = (await runtime.api("/v1/state")).body as StateResponse;
    const th = state.resources.find((r) => r.kind === "Catalog" && r.name === "th");
    assert.deepEqual(th?.spec, { messages: { greeting: "สวัสดีค่ะ", "footer.note": "คุณได้รับอีเมลนี้เพราะคุณสมัครไว้", "footer.legal": "บริษัท ฟิกซ์เจอร์ จำกัด" } });
    assert.ok(state.resources.some((r) => r.kind === "Template" && r.name === "templates/hello-pt.mjml"), "the pt override's template is applied");
    assert.deepEqual((await plan()).changes, [], "applied, the repository plans no changes");
  });

  it("POST /v1/apply refuses a Catalog not named by a locale or whose messages are not flat text under dotted keys, naming the field", { timeout: 30_000 }, async () => {
    const state = (await runtime.api("/v1/state")).body as StateResponse;
    const resources = state.resources.map(({ kind, name, spec }) => ({ kind, name, spec }));
    const bad = [
      { kind: "Catalog", name: "not a locale!", spec: { messages: { ok: "fine" } } },
      { kind: "Catalog", name: "de", spec: { messages: { "has space": "x", nested: { deeper: "y" } } } },
      { kind: "Catalog", name: "es", spec: { messages: {}, extra: true } },
    ];
    const response = await runtime.api("/v1/apply", {
      body: { baseSerial: state.serial, resources: [...resources, ...bad], templates: [], source: { commit: null, author: null, branch: null, dirty: null } },
    });
    assert.equal(response.status, 400, JSON.stringify(response.body));
    const n = resources.length;
    const fields = (response.body.error.fields as { path: string; message: string }[]).map((f) => f.path);
    assert.deepEqual(fields, [`resources[${n}].name`, `resources[${n + 1}].spec.messages.has space`, `resources[${n + 1}].spec.messages.nested`, `resources[${n + 2}].spec`]);
    assert.match(response.body.error.message, /invalid catalog: .*not a BCP 47 language tag/);
    assert.equal(((await runtime.api("/v1/state")).body as StateResponse).serial, state.serial, "nothing applied");
  });

  it("shows a changed, an added and a removed key line by line (long messages shortened), and each campaign's reach by the locale each recipient gets", { timeout: 60_000 }, async () => {
    for (const [email, locale] of [["thai@example.com", "th"], ["bia@example.com", "pt-BR"], ["xavi@example.com", "xx"]]) {
      const response = await runtime.api("/v1/subscribers", { body: { email, locale, consent: "marketing" } });
      assert.ok(response.status < 300, JSON.stringify(response.body));
    }
    const long = `${"ยาว".repeat(30)}`;
    await edit("locales/th.yaml", (t) => t.replace("greeting: สวัสดีค่ะ", "greeting: สวัสดีครับ").replace(/ {2}legal: .*\n/, `  extra: ${long}\n`));
    await edit("campaigns/hello.yaml", (t) => t.replace('preheader: "A short hello"', 'preheader: "A warm hello"'));
    const planned = await plan();

    const text = renderPlanText(planned, NO_COLOR);
    assert.ok(
      text.includes(
        [
          '  # catalog "th" will be updated in place (3 keys; 1 added, 1 changed, 1 removed)',
          '  ~ catalog "th"',
          `      + key "footer.extra" = "${long.slice(0, 59)}…"`,
          '      - key "footer.legal"',
          '      ~ key "greeting" = "สวัสดีค่ะ" -> "สวัสดีครับ"',
        ].join("\n"),
      ),
      text,
    );
    assert.match(text, /^ {2}# campaign "hello" will be updated in place \(3 recipients, est\. \$0\.00\)\n {2}# by locale: en 1, th 1, pt 1, ar 0\n {2}~ campaign "hello"$/m);

    const json = planJson(planned) as ReturnType<typeof planJson> & { catalogs?: unknown };
    assert.deepEqual(json.catalogs, {
      th: {
        keys: 3,
        changes: [
          { action: "create", key: "footer.extra", after: long },
          { action: "delete", key: "footer.legal", before: "บริษัท ฟิกซ์เจอร์ จำกัด" },
          { action: "update", key: "greeting", before: "สวัสดีค่ะ", after: "สวัสดีครับ" },
        ],
      },
    });
    assert.deepEqual(json.campaigns["hello"]?.locales, { en: 1, th: 1, pt: 1, ar: 0 }, "pt-BR falls back to pt, xx to the default");

    const markdown = renderPlanMarkdown(planned, null);
    assert.match(markdown, /\| ✏️ update \| catalog `th` \| 3 keys \| {2}\|/);
    assert.match(markdown, /```diff\n# catalog "th" will be updated in place[^\n]*\n~ catalog "th"\n {4}\+ key "footer\.extra"/);
  });
});
