import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, it } from "node:test";
import { MkError } from "../../cli/errors.js";
import { renderCampaign } from "../../cli/render.js";
import { sendProofs } from "../../cli/send-test.js";
import { recordingProofClient } from "../helpers/proof-client.js";
import { REPO_ROOT, runMk, STACK_LINE } from "../helpers/run-mk.js";
import { MINIMAL, tempRepo } from "../helpers/temp-repo.js";

const EXAMPLE = path.join(REPO_ROOT, "example-campaigns");
const LOCALES = path.join(REPO_ROOT, "test", "fixtures", "valid", "locales");
const NOW = new Date("2026-11-23T00:00:00Z");

const rejectsWith = (code: string, pattern: RegExp) => (error: unknown) => {
  assert.ok(error instanceof MkError, `not an MkError: ${String(error)}`);
  assert.equal(error.code, code);
  assert.match(error.message, pattern);
  return true;
};

describe("renderCampaign", { timeout: 180_000 }, () => {
  it("personalises the first variant for the sample subscriber", async () => {
    const out = await renderCampaign({ dir: EXAMPLE, campaign: "bangkok-coworking-launch", now: NOW });
    assert.equal(out.variant, "a");
    assert.equal(out.subject, "Alex, a desk in Bangkok is waiting");
    assert.match(out.html, /^<!doctype html>/i);
    assert.match(out.html, /Hi Alex,/);
    assert.match(out.html, /DESK10/);
    assert.match(out.html, /class="mk-preheader"[^>]*>First week free for members</);
    assert.match(out.html, /href="https:\/\/preview\.mk\.invalid\/u\/preview"/);
    assert.doesNotMatch(out.html, /\{\{/);
    assert.match(out.text, /Hi Alex,/);
    assert.doesNotMatch(out.text, /<[a-z]/i);
    assert.doesNotMatch(out.text, /First week free for members/, "the preheader is not part of the text body");
  });

  it("renders the variant asked for, with its own subject", async () => {
    const out = await renderCampaign({ dir: EXAMPLE, campaign: "bangkok-coworking-launch", variant: "b", now: NOW });
    assert.equal(out.variant, "b");
    assert.equal(out.subject, "Your Bangkok desk: first week free");
  });

  it("personalises for a subscriber from a JSON file, escaping what they wrote", async () => {
    const repo = await tempRepo();
    try {
      const file = path.join(repo.root, "subscriber.json");
      await writeFile(file, JSON.stringify({ email: "mai@example.com", firstName: "<b>Mai</b>", country: "VN", timezone: "Asia/Ho_Chi_Minh" }));
      const out = await renderCampaign({ dir: repo.root, campaign: "hello", dataFile: file });
      assert.equal(out.subject, "Hello <b>Mai</b>", "subjects are plain text");
      assert.match(out.html, /Hello &lt;b&gt;Mai&lt;\/b&gt;/);
      assert.doesNotMatch(out.html, /<b>Mai<\/b>/);
    } finally {
      await repo.remove();
    }
  });

  it("names the campaign it could not find and suggests the closest", async () => {
    await assert.rejects(renderCampaign({ dir: EXAMPLE, campaign: "bangkok-coworking-lunch", now: NOW }), rejectsWith("MK060", /did you mean "bangkok-coworking-launch"/));
  });

  it("names the variants when the one asked for does not exist", async () => {
    await assert.rejects(
      renderCampaign({ dir: EXAMPLE, campaign: "bangkok-coworking-launch", variant: "c", now: NOW }),
      rejectsWith("MK060", /no variant "c"; variants are a, b/),
    );
    await assert.rejects(renderCampaign({ dir: MINIMAL, campaign: "hello", variant: "a" }), rejectsWith("MK060", /has no variants/));
  });

  it("rejects a --data file that is missing, not JSON, or not a subscriber", async () => {
    const repo = await tempRepo();
    try {
      const file = path.join(repo.root, "s.json");
      await assert.rejects(renderCampaign({ dir: repo.root, campaign: "hello", dataFile: file }), rejectsWith("MK061", /cannot read the file \(ENOENT\)/));
      await writeFile(file, "{ email: nope");
      await assert.rejects(renderCampaign({ dir: repo.root, campaign: "hello", dataFile: file }), rejectsWith("MK061", /not valid JSON/));
      await writeFile(file, JSON.stringify({ email: "not-an-email", country: "Thailand" }));
      await assert.rejects(renderCampaign({ dir: repo.root, campaign: "hello", dataFile: file }), rejectsWith("MK061", /email.*country|country.*email/));
    } finally {
      await repo.remove();
    }
  });

  it("refuses to render a repository that has errors", async () => {
    const repo = await tempRepo();
    try {
      await repo.write("campaigns/hello.yaml", "apiVersion: mk/v1\nkind: Campaign\nsubject: Hi\ntemplate: templates/hello.mjml\naudience: nobody\n");
      await assert.rejects(renderCampaign({ dir: repo.root, campaign: "hello" }), rejectsWith("MK062", /has 1 error; run mk validate/));
    } finally {
      await repo.remove();
    }
  });
});

describe("mk render and mk send test in a locale", { timeout: 180_000 }, () => {
  it("--locale th renders the th override's subject and {{t}} from the Thai catalog, lang=\"th\"; --locale ar is dir=\"rtl\"", async () => {
    const th = await renderCampaign({ dir: LOCALES, campaign: "hello", locale: "th" });
    assert.equal(th.locale, "th");
    assert.equal(th.subject, "สวัสดี Alex");
    assert.match(th.html, /<html[^>]* lang="th" dir="ltr">/);
    assert.match(th.html, /สวัสดีค่ะ Alex/);
    assert.match(th.text, /คุณได้รับอีเมลนี้เพราะคุณสมัครไว้ บริษัท ฟิกซ์เจอร์ จำกัด/);
    const ar = await renderCampaign({ dir: LOCALES, campaign: "hello", locale: "ar" });
    assert.match(ar.html, /<html[^>]* lang="ar" dir="rtl">/);
    assert.equal(ar.subject, "Hello Alex", "ar has no override: the subject every locale gets");
    assert.match(ar.html, /مرحبا Alex/);
  });

  it("without --locale: the subscriber's locale through the chain (pt-BR gets pt's own template, xx the default)", async () => {
    const repo = await tempRepo(LOCALES);
    try {
      const file = path.join(repo.root, "s.json");
      await writeFile(file, JSON.stringify({ email: "bia@example.com", firstName: "Bia", locale: "pt-BR" }));
      const pt = await renderCampaign({ dir: repo.root, campaign: "hello", dataFile: file });
      assert.deepEqual([pt.locale, pt.subject], ["pt", "Olá Bia"]);
      assert.match(pt.html, /Olá Bia \(pt\)/, "the pt override's template");
      assert.match(pt.html, /lang="pt" dir="ltr"/);
      await writeFile(file, JSON.stringify({ email: "x@example.com", firstName: "Xavi", locale: "xx" }));
      const xx = await renderCampaign({ dir: repo.root, campaign: "hello", dataFile: file });
      assert.deepEqual([xx.locale, xx.subject], ["en", "Hello Xavi"]);
      assert.match(xx.html, /lang="en"/);
      const sample = await renderCampaign({ dir: MINIMAL, campaign: "hello" });
      assert.equal(sample.locale, null);
      assert.doesNotMatch(sample.html, /lang="en"/, "a project without locales: renders as it did");
    } finally {
      await repo.remove();
    }
  });

  it("a --locale the project does not support is MK131, in mk render and in mk send test before the runtime is asked", async () => {
    await assert.rejects(renderCampaign({ dir: LOCALES, campaign: "hello", locale: "de" }), rejectsWith("MK131", /--locale de: .*supports en, th, pt, ar/));
    await assert.rejects(renderCampaign({ dir: MINIMAL, campaign: "hello", locale: "th" }), rejectsWith("MK131", /no locales: in mk\.yaml/));
    const connect = () => Promise.reject(new Error("the runtime must not be asked"));
    await assert.rejects(sendProofs({ dir: LOCALES, target: "hello", to: ["me@fixture.example"], locale: "de" }, connect), rejectsWith("MK131", /--locale de/));
  });

  it("mk send test --locale th sends the message mk render --locale th renders", async () => {
    const { bodies, client } = recordingProofClient();
    const [proof] = await sendProofs({ dir: LOCALES, target: "hello", to: ["me@fixture.example"], locale: "th" }, async () => client);
    const rendered = await renderCampaign({ dir: LOCALES, campaign: "hello", locale: "th" });
    assert.equal(proof?.subject, "[Test] สวัสดี Alex");
    assert.deepEqual([bodies.length, bodies[0]?.html, bodies[0]?.subject], [1, rendered.html, rendered.subject]);
  });
});

describe("mk render (the binary)", { timeout: 180_000 }, () => {
  it("--out writes the personalised HTML", async () => {
    const repo = await tempRepo();
    try {
      const out = path.join(repo.root, "x.html");
      const run = await runMk(["render", "hello", "--dir", repo.root, "--out", out]);
      assert.equal(run.code, 0, run.stderr);
      const html = await readFile(out, "utf8");
      assert.match(html, /^<!doctype html>/i);
      assert.match(html, /<\/html>\s*$/);
      assert.match(html, /Hello Alex/);
      assert.match(html, /1 Test Rd, Bangkok 10110, Thailand/);
      assert.match(run.stderr, /Wrote .*x\.html — subject: Hello Alex/);
    } finally {
      await repo.remove();
    }
  });

  it("--text prints the plain-text part and --json one document", async () => {
    const text = await runMk(["render", "hello", "--dir", MINIMAL, "--text"]);
    assert.equal(text.code, 0);
    assert.match(text.stdout, /Hello Alex/);
    assert.doesNotMatch(text.stdout, /<\w/);
    const json = await runMk(["render", "hello", "--dir", MINIMAL, "--json"]);
    const doc = JSON.parse(json.stdout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(doc).sort(), ["campaign", "html", "subject", "text", "variant"]);
    assert.equal(doc["subject"], "Hello Alex");
    for (const other of [["--out", "x.html"], ["--text"]]) {
      const both = await runMk(["render", "hello", "--dir", MINIMAL, "--json", ...other]);
      assert.deepEqual([both.code, both.stdout], [2, ""], "--json holds the HTML and the text: no --out or --text beside it");
      assert.match(both.stderr, new RegExp(`${other[0]}\\S* cannot also be provided when using --json`));
      assert.doesNotMatch(both.stderr, STACK_LINE);
    }
  });

  it("a --locale the project does not support is one coded line (MK131) on stderr and exit 1", async () => {
    const run = await runMk(["render", "hello", "--dir", LOCALES, "--locale", "de"]);
    assert.deepEqual([run.code, run.stdout], [1, ""]);
    assert.match(run.stderr, /MK131 +--locale de: the project does not support this locale; it supports en, th, pt, ar/);
    assert.doesNotMatch(run.stderr, STACK_LINE);
  });

  it("an unknown campaign is one coded line on stderr and exit 1", async () => {
    const run = await runMk(["render", "helo", "--dir", MINIMAL]);
    assert.equal(run.code, 1);
    assert.equal(run.stdout, "");
    assert.match(run.stderr, /MK060 +no campaign "helo"; did you mean "hello"\?/);
    assert.doesNotMatch(run.stderr, STACK_LINE);
  });
});
