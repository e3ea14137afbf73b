import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, it } from "node:test";
import { ParseCache } from "../../cli/project/parse-cache.js";
import { survivesJson } from "../../cli/project/yaml-source.js";
import { validateRepository } from "../../cli/validation.js";
import { tempRepo } from "../helpers/temp-repo.js";

const NOW = new Date("2026-12-01T00:00:00Z");
const at = (problems: readonly { file: string; line: number; col: number; code: string; message: string }[]) =>
  problems.map((p) => `${p.file}:${p.line}:${p.col} ${p.code} ${p.message}`);

/** A repository whose problems need positions in files that parse cleanly (so the cache keeps them). */
async function repositoryWithProblems() {
  const repo = await tempRepo();
  await repo.write(
    "campaigns/hello.yaml",
    'apiVersion: mk/v1\nkind: Campaign\nsubject: "Hello {{subscriber.nickname}}"\npreheader: "A short hello"\ntemplate: templates/hello.mjml\n\naudience: everyone-else\n',
  );
  await repo.write("campaigns/again.yaml", "apiVersion: mk/v1\nkind: Campaign\nname: hello\nsubject: Hi\npreheader: Hi\ntemplate: templates/hello.mjml\naudience: everyone\n");
  const template = await readFile(path.join(repo.root, "templates/hello.mjml"), "utf8");
  await repo.write("templates/hello.mjml", template.replace("</mj-body>", "<mj-text>{{campaign.data.missing}}</mj-text></mj-body>"));
  return repo;
}

describe("the parse cache (.mk/cache/parsed.json)", { timeout: 60_000 }, () => {
  it("gives a second run the same problems at the same lines from files it does not parse again, and is not rewritten when nothing changed", { timeout: 30_000 }, async () => {
    const repo = await repositoryWithProblems();
    try {
      const fresh = await validateRepository({ dir: repo.root, now: NOW });
      assert.ok(fresh.problems.some((p) => p.code === "MK021" && p.line === 7), "the unknown audience, on its line");
      assert.ok(fresh.problems.some((p) => p.code === "MK020"), "the name used twice");
      assert.ok(fresh.problems.filter((p) => p.code === "MK045").length >= 2, "unknown variables in the subject and the template");

      const first = await validateRepository({ dir: repo.root, now: NOW, cache: true });
      const file = path.join(repo.root, ".mk/cache/parsed.json");
      const written = await readFile(file, "utf8");
      assert.ok(Object.keys((JSON.parse(written) as { entries: object }).entries).length >= 6, "mk.yaml, the audience, both campaigns, the template's handlebars and includes, the subjects");
      const second = await validateRepository({ dir: repo.root, now: NOW, cache: true });
      assert.deepEqual(at(first.problems), at(fresh.problems));
      assert.deepEqual(at(second.problems), at(fresh.problems), "positions found by parsing on demand are the ones a full parse gives");
      assert.equal(await readFile(file, "utf8"), written, "every file came from the cache, so nothing was added or dropped");

      await repo.write("campaigns/again.yaml", "apiVersion: mk/v1\nkind: Campaign\nname: again\nsubject: Hi\npreheader: Hi\ntemplate: templates/hello.mjml\naudience: everyone\n");
      const changed = await validateRepository({ dir: repo.root, now: NOW, cache: true });
      assert.ok(!changed.problems.some((p) => p.code === "MK020"), "the changed file is read afresh");
      assert.deepEqual(at(changed.problems), at((await validateRepository({ dir: repo.root, now: NOW })).problems));
      const keys = (text: string) => Object.keys((JSON.parse(text) as { entries: object }).entries).sort();
      const now = await readFile(file, "utf8");
      assert.equal(keys(now).length, keys(written).length, "the old parse of the changed file is dropped as its new one is added");
      assert.notDeepEqual(keys(now), keys(written));
    } finally {
      await repo.remove();
    }
  });

  it("ignores a cache that cannot be read or was written by another mk version", { timeout: 30_000 }, async () => {
    const repo = await repositoryWithProblems();
    try {
      const expected = at((await validateRepository({ dir: repo.root, now: NOW })).problems);
      const file = path.join(repo.root, ".mk/cache/parsed.json");
      await validateRepository({ dir: repo.root, now: NOW, cache: true });
      const index = JSON.parse(await readFile(file, "utf8")) as { mk: string; entries: Record<string, unknown> };
      // The same keys with other contents: believed only if the version matches.
      const poisoned = Object.fromEntries(Object.keys(index.entries).map((key) => [key, { data: { apiVersion: "mk/v1", kind: "Audience" } }]));
      await writeFile(file, JSON.stringify({ mk: "0.0.0-other", entries: poisoned }));
      assert.deepEqual(at((await validateRepository({ dir: repo.root, now: NOW, cache: true })).problems), expected);
      await writeFile(file, "{ not json");
      assert.deepEqual(at((await validateRepository({ dir: repo.root, now: NOW, cache: true })).problems), expected);
      assert.equal((JSON.parse(await readFile(file, "utf8")) as { mk: string }).mk, index.mk, "and replaces it with a good one");
    } finally {
      await repo.remove();
    }
  });

  it("keeps only what JSON gives back unchanged, and keeps nothing with --no-cache", { timeout: 10_000 }, () => {
    assert.equal(survivesJson({ a: [1, "x", true, null, { b: 2.5 }] }), true);
    for (const value of [Number.NaN, Infinity, -0, undefined, new Date(0), new Map(), { a: undefined }, [1, Number.NEGATIVE_INFINITY]]) {
      assert.equal(survivesJson(value), false, String(value));
    }
    let parses = 0;
    const none = ParseCache.none();
    none.get("yaml", "a.yaml", "x: 1", () => ++parses);
    none.get("yaml", "a.yaml", "x: 1", () => ++parses);
    assert.equal(parses, 2);
  });
});
