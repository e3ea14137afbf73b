import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { describe, it } from "node:test";
import { runMk, STACK_LINE } from "../helpers/run-mk.js";

/**
 * The error corpus: every broken repository under test/fixtures/invalid and
 * exactly what `mk validate` must say about it (file:line:col code), in
 * order. Each case runs the real binary in a fresh process.
 */
const EXPECTED: Record<string, string[]> = {
  "attribute-two-operators": ["audiences/everyone.yaml:6:7 MK016"],
  "audience-cycle": ["audiences/b.yaml:6:17 MK028"],
  "bad-condition": ["audiences/everyone.yaml:6:7 MK015"],
  "bad-country": ["campaigns/hello.yaml:8:28 MK025"],
  "bad-currency": ["mk.yaml:10:11 MK029"],
  "bad-duration": ["audiences/buyers.yaml:5:11 MK014"],
  "bad-from": ["campaigns/hello.yaml:7:7 MK032"],
  "bad-schedule-format": ["campaigns/hello.yaml:8:7 MK010"],
  "bad-reenter": ["sequences/onboarding.yaml:4:10 MK010"],
  "bad-step": ["sequences/onboarding.yaml:6:5 MK015"],
  "bad-test-recipients": ["mk.yaml:11:5 MK118", "mk.yaml:12:5 MK118"],
  "bad-timezone": ["campaigns/hello.yaml:9:13 MK024"],
  "bad-wait-until": ["sequences/onboarding.yaml:7:24 MK010"],
  // vip refers to l23 twice, l23 to l22 twice, … 24 levels: 2^24 copies of l00 once expanded. Reported where it first passes the limit.
  "condition-too-large": ["audiences/l11.yaml:5:17 MK102"],
  "dkim-literal-key": ["mk.yaml:13:20 MK027"],
  "dkim-not-smtp": ["mk.yaml:10:9 MK121"],
  "duplicate-name": ["campaigns/hello.yaml:1:1 MK020"],
  "duration-too-long": ["audiences/buyers.yaml:5:11 MK014"],
  "duplicate-step-name": ["sequences/onboarding.yaml:7:11 MK033"],
  "decide-by-without-variants": ["campaigns/hello.yaml:7:11 MK140"],
  "duplicate-variant": ["campaigns/hello.yaml:9:13 MK030"],
  "event-as-mapping": ["audiences/buyers.yaml:6:7 MK012", "audiences/buyers.yaml:6:14 MK010"],
  "event-by-not-engagement": ["audiences/buyers.yaml:6:7 MK139"],
  "empty-file": ["audiences/empty.yaml:1:1 MK002"],
  "form-problems": ["mk.yaml:19:26 MK110", "mk.yaml:20:15 MK116", "mk.yaml:21:11 MK111", "mk.yaml:24:15 MK022"],
  "handlebars-syntax": ["templates/hello.mjml:5:62 MK044"],
  "handlebars-unclosed-block": ["templates/hello.mjml:11:1 MK044"],
  "html-too-big": ["templates/hello.mjml:1:1 MK052"],
  "http-environment-url": ["mk.yaml:9:16 MK098", "mk.yaml:10:21 MK098"],
  "http-link": ["templates/hello.mjml:5:9 MK054"],
  "image-no-alt": ["templates/hello.mjml:5:9 MK053"],
  "include-cycle": ["templates/partials/b.mjml:4:1 MK042"],
  "include-missing": ["templates/hello.mjml:9:5 MK041"],
  "include-outside": ["templates/hello.mjml:9:5 MK043"],
  // MK047 for symbolic links (out of the repository, into .git/) is in
  // repository-paths.test.ts, which makes the links in a temporary copy: git
  // keeps no symlink portably (a checkout with core.symlinks=false writes a
  // text file) and a link out of the repository points at another machine.
  "include-private-folder": ["templates/hello.mjml:9:5 MK047"],
  "invalid-file-name": ["campaigns/Hello World.yaml:1:1 MK013"],
  "invalid-name": ["campaigns/hello.yaml:7:7 MK013"],
  "javascript-link": ["templates/hello.mjml:5:9 MK055"],
  "kind-in-wrong-folder": ["campaigns/everyone-too.yaml:2:7 MK003"],
  "literal-token": ["mk.yaml:9:56 MK027"],
  "raw-translation": ["templates/hello.mjml:5:18 MK137"],
  // Three locales (en, th, pt-BR) and one of every translation problem; fr and xx are the planted unsupported and unknown codes.
  "locale-problems": [
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
  ],
  // A key de lacks while en has it is a warning; one no catalog of the chain has is an error even with missing: warn.
  "locale-missing-warn": ["campaigns/hello.yaml:3:10 MK125", "templates/hello.mjml:5:71 MK124"],
  "locale-undeclared": ["campaigns/hello.yaml:8:3 MK123", "locales/en.yaml:1:1 MK123", "templates/hello.mjml:5:22 MK123"],
  "long-subject": ["campaigns/hello.yaml:3:10 MK057"],
  "missing-audience": ["campaigns/hello.yaml:6:11 MK021"],
  "missing-campaign-data": ["templates/hello.mjml:5:68 MK045"],
  "missing-kind": ["audiences/everyone.yaml:1:1 MK002"],
  "missing-required": ["campaigns/hello.yaml:1:1 MK012"],
  "missing-template": ["campaigns/hello.yaml:5:11 MK022"],
  // A transactional message: a data field name that is no identifier, a field its template reads but data: lacks, a campaign's link.
  "message-problems": ["messages/refund.yaml:7:10 MK132", "templates/receipt.mjml:5:59 MK133", "templates/receipt.mjml:6:29 MK134"],
  "migrate-without-names": ["sequences/onboarding.yaml:4:10 MK034"],
  "mjml-error-in-partial": ["templates/partials/footer.mjml:3:5 MK040"],
  "mjml-error": ["templates/hello.mjml:5:9 MK040"],
  "multi-document": ["audiences/everyone.yaml:5:1 MK003"],
  "no-postal-address": ["templates/hello.mjml:1:1 MK051"],
  "no-preheader": ["campaigns/hello.yaml:3:10 MK056"],
  "no-unsubscribe": ["templates/hello.mjml:1:1 MK050"],
  "reserved-environment": ["mk.yaml:10:3 MK031"],
  "runner-token-env": ["mk.yaml:9:56 MK099", "mk.yaml:10:67 MK099"],
  "schedule-in-past": ["campaigns/hello.yaml:8:7 MK035"],
  "token-key": ["mk.yaml:9:46 MK027"],
  "tracking-ip-unknown": ["mk.yaml:10:17 MK010"],
  "unknown-helper": ["templates/hello.mjml:5:26 MK046"],
  "unknown-key": ["campaigns/hello.yaml:3:1 MK011"],
  "unknown-kind": ["campaigns/hello.yaml:2:7 MK002"],
  "unknown-nested-key": ["campaigns/hello.yaml:9:3 MK011"],
  "unknown-topic": ["campaigns/hello.yaml:7:8 MK108"],
  "unknown-variable": ["templates/hello.mjml:5:34 MK045"],
  "weights-not-100": ["campaigns/hello.yaml:8:3 MK023"],
  "wrong-api-version": ["audiences/everyone.yaml:1:13 MK002"],
  "wrong-type": ["campaigns/hello.yaml:7:16 MK010"],
  // Sorted after every repository the plan goldens apply, so adding it shifted none of their serials.
  "wrong-dkim-domain": ["campaigns/hello.yaml:7:7 MK119"],
  "yaml-duplicate-key": ["campaigns/hello.yaml:7:1 MK001"],
  "yaml-unknown-alias": ["campaigns/hello.yaml:3:10 MK001"],
  "yaml-syntax": ["campaigns/hello.yaml:4:12 MK001"],
  "many-problems": [
    "audiences/thailand.yaml:6:27 MK025",
    "campaigns/goodbye.yaml:5:11 MK022",
    "campaigns/hello.yaml:6:11 MK021",
    "campaigns/welcome.yaml:7:1 MK011",
    "templates/hello.mjml:1:1 MK050",
  ],
};

const FIXTURES = new URL("../fixtures/invalid/", import.meta.url);
const LINE = /^(.+):(\d+):(\d+) {2}(error|warning)\s+(MK\d{3}) {2}(.+)$/;
const SUMMARY = /^[✔⚠✖] (\d+) errors?, (\d+) warnings?$/;

describe("error corpus: mk validate on each broken repository", { timeout: 180_000, concurrency: 4 }, () => {
  it("has an expectation for every fixture and a fixture for every expectation", () => {
    const cases = readdirSync(FIXTURES).sort();
    assert.deepEqual(cases, Object.keys(EXPECTED).sort());
    assert.ok(cases.length >= 30, `only ${cases.length} cases`);
  });

  for (const [name, expected] of Object.entries(EXPECTED)) {
    it(name, async () => {
      const run = await runMk(["validate", "--dir", new URL(name, FIXTURES).pathname]);
      const lines = run.stdout.trimEnd().split("\n");
      const summary = lines.pop() ?? "";
      const problems = lines.map((line) => {
        const match = LINE.exec(line);
        assert.ok(match, `not a problem line: ${line}`);
        const [, file, l, c, severity, code, message] = match;
        assert.ok(message && message.length > 10, `message too short: ${line}`);
        return { at: `${file}:${l}:${c} ${code}`, severity };
      });

      assert.deepEqual(problems.map((p) => p.at), expected);
      const errors = problems.filter((p) => p.severity === "error").length;
      const summaryMatch = SUMMARY.exec(summary);
      assert.ok(summaryMatch, `no summary line: ${summary}`);
      assert.equal(Number(summaryMatch[1]), errors);
      assert.equal(Number(summaryMatch[2]), problems.length - errors);
      assert.equal(run.code, errors > 0 ? 1 : 0);
      assert.equal(run.stderr, "");
      assert.doesNotMatch(run.stdout, STACK_LINE);
    });
  }
});

describe("mk validate --json on the corpus", { timeout: 180_000, concurrency: 4 }, () => {
  for (const name of ["many-problems", "yaml-syntax", "http-link"]) {
    it(`${name}: one JSON array in FORMAT.md's shape, matching the text output`, async () => {
      const run = await runMk(["validate", "--json", "--dir", new URL(name, FIXTURES).pathname]);
      const problems = JSON.parse(run.stdout) as Record<string, unknown>[];
      assert.ok(Array.isArray(problems));
      assert.deepEqual(
        problems.map((p) => `${String(p["file"])}:${String(p["line"])}:${String(p["col"])} ${String(p["code"])}`),
        EXPECTED[name],
      );
      for (const p of problems) {
        assert.deepEqual(Object.keys(p).sort(), ["code", "col", "file", "line", "message", "severity"]);
        assert.ok(p["severity"] === "error" || p["severity"] === "warning");
        assert.equal(typeof p["message"], "string");
      }
      const hasError = problems.some((p) => p["severity"] === "error");
      assert.equal(run.code, hasError ? 1 : 0);
    });
  }
});
