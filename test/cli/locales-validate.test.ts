import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { validateRepository } from "../../cli/validation.js";
import { tempRepo } from "../helpers/temp-repo.js";

/**
 * `mk validate` checks translations like code (issue 20, item 2): every
 * problem of a catalog, an override or a {{t}} call at its file:line:col.
 * Before these checks, each of these repositories validated clean and
 * failed (or fell back silently) only when a message was sent.
 */
const NOW = new Date("2026-12-01T00:00:00Z");
const CORPUS = fileURLToPath(new URL("../fixtures/invalid/", import.meta.url));
const MK_YAML = `apiVersion: mk/v1
kind: Project
name: fixture
defaults:
  from: "Fixture <hello@fixture.example>"
  timezone: Asia/Bangkok
  postalAddress: "1 Test Rd, Bangkok 10110, Thailand"
environments:
  prod: { url: "https://mk.fixture.example", tokenEnv: MK_PROD_TOKEN }
`;
const TEMPLATE = (body: string) =>
  `<mjml>\n  <mj-body>\n    <mj-section>\n      <mj-column>\n        <mj-text>${body}</mj-text>\n        <mj-text>{{project.postalAddress}} · <a href="{{unsubscribeUrl}}">Unsubscribe</a></mj-text>\n      </mj-column>\n    </mj-section>\n  </mj-body>\n</mjml>\n`;
const CAMPAIGN = (extra = "") => `apiVersion: mk/v1\nkind: Campaign\nsubject: Hello\npreheader: A short hello\ntemplate: templates/hello.mjml\naudience: everyone\n${extra}`;

type Found = { file: string; line: number; col: number; code: string; message: string };
const at = (problems: readonly Found[]) => problems.map((p) => `${p.file}:${p.line}:${p.col} ${p.code}`);
const only = (problems: readonly Found[], ...codes: string[]) => problems.filter((p) => codes.includes(p.code));

/** The minimal repository with `locales:` in mk.yaml, a template body, a campaign's extra lines and catalogs. */
async function repository(options: { locales?: string; body: string; campaign?: string; catalogs?: Record<string, string> }) {
  const repo = await tempRepo();
  await repo.write("mk.yaml", MK_YAML + (options.locales ?? ""));
  await repo.write("templates/hello.mjml", TEMPLATE(options.body));
  await repo.write("campaigns/hello.yaml", CAMPAIGN(options.campaign));
  for (const [file, text] of Object.entries(options.catalogs ?? {})) await repo.write(`locales/${file}`, text);
  return repo;
}

async function validate(repo: { root: string }, cache = false): Promise<Found[]> {
  return (await validateRepository({ dir: repo.root, now: NOW, cache })).problems;
}

describe("mk validate checks locales like code", { timeout: 120_000 }, () => {
  it("finds every planted translation problem of a three-locale repository at its exact place, naming locales and fallbacks", { timeout: 30_000 }, async () => {
    const repo = await tempRepo(path.join(CORPUS, "locale-problems"));
    try {
      const problems = await validate(repo);
      assert.deepEqual(at(problems), [
        "campaigns/hello.yaml:3:10 MK129",
        "campaigns/hello.yaml:10:3 MK123",
        "campaigns/hello.yaml:12:3 MK122",
        "locales/en.yaml:7:11 MK128",
        "locales/en.yaml:8:22 MK128",
        "locales/en.yaml:9:3 MK126",
        "locales/en.yaml:12:5 MK138",
        "locales/fr.yaml:1:1 MK123",
        "locales/th.yaml:5:20 MK127",
        "locales/xx.yaml:1:1 MK122",
        "mk.yaml:10:23 MK124",
        "templates/hello.mjml:6:22 MK129",
        "templates/hello.mjml:6:44 MK124",
        "templates/hello.mjml:6:68 MK130",
      ]);
      const message = (code: string, file: string) => problems.find((p) => p.code === code && p.file === file)?.message ?? "";
      assert.match(message("MK124", "templates/hello.mjml"), /"hello\.only_en" is missing from locales\/th\.yaml \(th falls back to en\)/);
      assert.match(message("MK124", "mk.yaml"), /pt-BR has no catalog locales\/pt-BR\.yaml.*pt-BR readers get en/);
      assert.match(message("MK129", "templates/hello.mjml"), /does not pass count=, which its message in en, th uses/);
      assert.match(message("MK128", "locales/en.yaml"), /handlebars block \{\{#if subscriber\.firstName\}\}.*ICU select or plural/);
      assert.match(message("MK127", "locales/th.yaml"), /"hello\.bad_icu" is no ICU message: expect argument closing brace/);
      assert.ok(!problems.some((p) => p.code === "MK126" && p.message.includes("mk.unsubscribe")), "the public pages' mk.* keys are not unused");
      assert.match(message("MK138", "locales/en.yaml"), /"mk\.unsubscribe\.title" overrides no public page string.*did you mean "mk\.pages\.unsubscribe\.title"\?/);
      assert.ok(!problems.some((p) => p.code === "MK045"), "{{locale}} and {{dir}} are variables a template has");
    } finally {
      await repo.remove();
    }
  });

  it("reaches each locale with the message it gets: a locale's own template need not use the default template's keys", { timeout: 30_000 }, async () => {
    const repo = await repository({
      locales: "locales:\n  supported: [en, th]\n",
      body: '{{t "hello.body"}}',
      campaign: "locales:\n  th:\n    template: templates/hello-th.mjml\n",
      catalogs: { "en.yaml": "hello:\n  body: Hello\n  th_only: x\n", "th.yaml": "hello:\n  th_only: สวัสดี\n" },
    });
    try {
      await repo.write("templates/hello-th.mjml", TEMPLATE('{{t "hello.th_only"}}'));
      assert.deepEqual(at(await validate(repo)), [], "th readers get hello-th.mjml, which has its key; en has hello.body");
      await repo.write("campaigns/hello.yaml", CAMPAIGN("locales:\n  th:\n    subject: สวัสดี\n"));
      const problems = await validate(repo);
      assert.deepEqual(at(only(problems, "MK124", "MK126")), ["locales/en.yaml:3:3 MK126", "locales/th.yaml:2:3 MK126", "templates/hello.mjml:5:22 MK124"]);
      assert.match(problems.find((p) => p.code === "MK124")!.message, /missing from locales\/th\.yaml \(th falls back to en\)/);
    } finally {
      await repo.remove();
    }
  });

  it("warns with locales.missing: warn while the fallback has the key, and is an error when no locale of the chain has it", { timeout: 30_000 }, async () => {
    const repo = await repository({
      locales: "locales:\n  supported: [en, pt-BR, pt]\n  missing: warn\n",
      body: '{{t "a"}} {{t "b"}}',
      catalogs: { "en.yaml": "a: A\n", "pt.yaml": "a: A\nb: B\n", "pt-BR.yaml": "c: C\n" },
    });
    try {
      await repo.write("campaigns/hello.yaml", CAMPAIGN().replace("preheader: A short hello", 'preheader: \'{{t "c"}}\''));
      const problems = await validate(repo);
      assert.deepEqual(at(only(problems, "MK124", "MK125", "MK123")), ["campaigns/hello.yaml:4:12 MK124", "templates/hello.mjml:5:22 MK125", "templates/hello.mjml:5:32 MK124"]);
      const [preheader, a, b] = only(problems, "MK124", "MK125");
      assert.match(preheader!.message, /"c" is missing from locales\/en\.yaml \(no catalog of en's chain has it: sending fails\), locales\/pt\.yaml \(no catalog of pt's chain/);
      assert.match(a!.message, /"a" is missing from locales\/pt-BR\.yaml \(pt-BR falls back to pt\); add the key there$/);
      assert.match(b!.message, /"b" is missing from locales\/en\.yaml \(no catalog of en's chain has it: sending fails\), locales\/pt-BR\.yaml \(pt-BR falls back to pt\)/);
    } finally {
      await repo.remove();
    }
  });

  it("refuses locale codes no language has and locales mk.yaml does not support, wherever they are written", { timeout: 30_000 }, async () => {
    const repo = await repository({
      locales: "locales:\n  default: xx\n  supported: [en, xx, qq-BR]\n",
      body: "Hello",
      catalogs: { "de.yaml": "x: y\n", "EN.yaml": "x: y\n" },
    });
    try {
      await repo.write("mk.yaml", (MK_YAML + "locales:\n  default: xx\n  supported: [en, xx, qq-BR]\n").replace("  timezone:", "  locale: zz\n  timezone:"));
      await repo.write(
        "sequences/onboarding.yaml",
        'apiVersion: mk/v1\nkind: Sequence\ntrigger: { event: signup }\nsteps:\n  - send:\n      template: templates/hello.mjml\n      subject: Hi\n      preheader: Hi\n      locales:\n        de: { subject: Hallo }\n        yy: { subject: "?" }\n',
      );
      const problems = await validate(repo);
      assert.deepEqual(at(only(problems, "MK122", "MK123")), [
        "locales/EN.yaml:1:1 MK123",
        "locales/de.yaml:1:1 MK123",
        "mk.yaml:6:11 MK122",
        "mk.yaml:12:12 MK122",
        "mk.yaml:13:19 MK122",
        "mk.yaml:13:23 MK122",
        "sequences/onboarding.yaml:10:9 MK123",
        "sequences/onboarding.yaml:11:9 MK122",
      ]);
      assert.match(problems.find((p) => p.file === "locales/EN.yaml")!.message, /the catalog locales\/EN\.yaml is for "EN", which mk\.yaml's locales\.supported spells "en"; spell it the same/);
      assert.match(problems.find((p) => p.file === "locales/de.yaml")!.message, /is for "de", which mk\.yaml's locales\.supported \(en, xx, qq-BR\) does not list/);
    } finally {
      await repo.remove();
    }
  });

  it("without locales: in mk.yaml, every {{t}}, override and catalog says to add it", { timeout: 30_000 }, async () => {
    const repo = await repository({ body: '{{t "hello"}} {{t}} {{default (t "x") "y"}}', campaign: "locales:\n  th: { subject: สวัสดี }\n", catalogs: { "th.yaml": "hello: สวัสดี\n" } });
    try {
      const problems = await validate(repo);
      assert.deepEqual(at(problems), [
        "campaigns/hello.yaml:8:3 MK123",
        "locales/th.yaml:1:1 MK123",
        "templates/hello.mjml:5:22 MK123",
        "templates/hello.mjml:5:32 MK130",
        "templates/hello.mjml:5:51 MK123",
      ]);
      assert.match(problems[0]!.message, /mk\.yaml has no locales:.*add locales: \{ supported: \[en, th\] \}/);
    } finally {
      await repo.remove();
    }
  });

  it("checks catalog messages as the runtime reads them: ICU errors at the character, blocks, and variables of the messages using the key", { timeout: 30_000 }, async () => {
    const repo = await repository({
      locales: "locales:\n  supported: [en]\n",
      body: '{{t "greet" n=1}} {{t "plan" count=2}} {{t "alt"}} {{t "desks" n=2}} {{t "data"}} {{t "folded"}}',
      campaign: "data:\n  plan: pro\n",
      catalogs: {
        "en.yaml": [
          'greet: "Hi {{subscriber.firstName}}, {n, plural, one {# desk} other {# desks}"',
          'plan: "{count, plural, one {# seat} other {# seats}} {{#each subscriber.tags}}{{this}}{{/each}}"',
          'alt: "a {{else}} b"',
          'desks: "{n, plural, one {{n} desk} other {{n} desks}}"',
          "data: \"{{campaign.data.plan}} {{campaign.data.tier}} {{locale}} {{dir}}\"",
          "folded: >-\n  a long\n  {broken",
          "",
        ].join("\n"),
      },
    });
    try {
      const problems = await validate(repo);
      assert.deepEqual(at(problems), [
        "locales/en.yaml:1:38 MK127",
        "locales/en.yaml:2:54 MK128",
        "locales/en.yaml:3:9 MK128",
        "locales/en.yaml:4:25 MK128",
        "locales/en.yaml:4:54 MK127",
        "locales/en.yaml:5:33 MK128",
        "locales/en.yaml:6:9 MK127",
      ]);
      assert.match(problems[1]!.message, /handlebars block \{\{#each subscriber\.tags\}\}/);
      assert.match(problems[3]!.message, /write one \{ \{n\} desk\} with a space/);
      assert.match(problems[5]!.message, /"data": campaign\.data\.tier is not set by campaign "hello" \(its data has plan\)/);
    } finally {
      await repo.remove();
    }
  });

  it("a {{t}} must pass every ICU argument its message uses in any locale, nested in select and plural too", { timeout: 30_000 }, async () => {
    const repo = await repository({
      locales: "locales:\n  supported: [en, de]\n",
      body: '{{t "seats" count=1}} {{t "seats" count=1 who="x"}}',
      catalogs: { "en.yaml": 'seats: "{count, plural, other {# seats}}"\n', "de.yaml": 'seats: "{count, plural, other {# Plätze für {who}}}"\n' },
    });
    try {
      const problems = await validate(repo);
      assert.deepEqual(at(problems), ["templates/hello.mjml:5:22 MK129"]);
      assert.match(problems[0]!.message, /does not pass who=, which its message in de uses/);
    } finally {
      await repo.remove();
    }
  });

  it("never reads a parse cache of the older shape: a cached scan without {{t}} calls is parsed again", { timeout: 30_000 }, async () => {
    const repo = await repository({ locales: "locales:\n  supported: [en]\n", body: '{{t "missing"}}', catalogs: { "en.yaml": "other: x\n" } });
    try {
      const expected = ["locales/en.yaml:1:1 MK126", "templates/hello.mjml:5:22 MK124"];
      assert.deepEqual(at(await validate(repo, true)), expected);
      const file = path.join(repo.root, ".mk/cache/parsed.json");
      const index = JSON.parse(await readFile(file, "utf8")) as { mk: string; format?: number; entries: Record<string, Record<string, unknown>> };
      const older = Object.fromEntries(Object.entries(index.entries).map(([key, entry]) => [key, "translations" in entry ? { variables: entry["variables"], problems: entry["problems"] } : entry]));
      await writeFile(file, JSON.stringify({ mk: index.mk, entries: older }));
      assert.deepEqual(at(await validate(repo, true)), expected, "the cache without format 2 is started afresh");
      assert.equal((JSON.parse(await readFile(file, "utf8")) as { format?: number }).format, index.format);
    } finally {
      await repo.remove();
    }
  });
});
