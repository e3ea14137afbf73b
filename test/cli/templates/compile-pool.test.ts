import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { CompileCache } from "../../../cli/templates/compile-cache.js";
import { compileJob, type CompileJob } from "../../../cli/templates/compile-job.js";
import { compileAll } from "../../../cli/templates/compile-pool.js";

/** mjml resolves includes from the template's real path, so the templates exist on disk. */
let root = "";
before(async () => {
  root = await mkdtemp(path.join(tmpdir(), "mk-templates-"));
  await mkdir(path.join(root, "templates"));
  await Promise.all(Array.from({ length: 300 }, (_, i) => writeFile(path.join(root, "templates", `t${i}.mjml`), "")));
}, { timeout: 120_000 });
after(() => rm(root, { recursive: true, force: true }), { timeout: 120_000 });

const job = (i: number, extra = ""): CompileJob => ({
  root,
  template: `templates/t${i}.mjml`,
  texts: [[`templates/t${i}.mjml`, `<mjml><mj-body><mj-section><mj-column><mj-text>Offer ${i}</mj-text>${extra}</mj-column></mj-section></mj-body></mjml>`]],
});
const broken = (i: number) => job(i, `<mj-image src="https://x.example/${i}.png" /><mj-button href="http://x.example/${i}">Go</mj-button>`);

describe("compileAll", { timeout: 180_000 }, () => {
  it("compiles a large batch on worker threads, results in job order, the same as in this thread", async () => {
    const jobs = Array.from({ length: 300 }, (_, i) => (i % 50 === 0 ? broken(i) : job(i)));
    const { results } = await compileAll(jobs);
    assert.equal(results.length, 300);
    results.forEach((result, i) => assert.match(result.html ?? "", new RegExp(`Offer ${i}<`)));
    assert.deepEqual(results[50], await compileJob(jobs[50] as CompileJob));
    assert.deepEqual(
      results[50]?.problems.map((p) => p.code),
      ["MK053", "MK054"],
    );
  });

  it("compiles templates with the same content in the same folder once, and one with problems for itself", async () => {
    const same = (i: number, text: string): CompileJob => ({ root, template: `templates/t${i}.mjml`, texts: [[`templates/t${i}.mjml`, text]] });
    const clean = job(7).texts[0]![1];
    const { results, compiled } = await compileAll([same(10, clean), same(11, clean), same(12, clean)]);
    assert.equal(compiled, 1);
    assert.deepEqual(results[1], results[0]);
    assert.deepEqual(results[2], await compileJob(same(12, clean)));
    const lint = broken(20).texts[0]![1];
    const twins = await compileAll([same(20, lint), same(21, lint)]);
    assert.equal(twins.compiled, 2);
    assert.deepEqual(twins.results.map((r) => [...new Set(r.problems.map((p) => p.file))]), [["templates/t20.mjml"], ["templates/t21.mjml"]]);
  });

  it("with a cache, compiles only what changed and returns the same results", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "mk-cache-"));
    try {
      const cache = new CompileCache(dir);
      const { results: first } = await compileAll([job(1), broken(2)], cache);
      const entries = async () => (await readdir(dir, { recursive: true })).filter((f) => f.endsWith(".json")).length;
      assert.equal(await entries(), 2);

      // A hit is read back, not recompiled: plant a marker in the entry to prove it.
      const key = cache.key(job(1));
      const planted = { ...first[0], html: "<p>from the cache</p>" };
      await writeFile(path.join(dir, key.slice(0, 2), `${key}.json`), JSON.stringify(planted));
      const { results: second } = await compileAll([job(1), broken(2)], cache);
      assert.equal(second[0]?.html, "<p>from the cache</p>");
      assert.deepEqual(second[1], first[1]);

      // A changed file is a different key.
      const changed = job(1, "<mj-text>new</mj-text>");
      assert.notEqual(cache.key(changed), key);
      assert.match((await compileAll([changed], cache)).results[0]?.html ?? "", /new/);
      assert.equal(await entries(), 3);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("treats an unreadable entry as a miss and an unwritable cache as no cache", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "mk-cache-"));
    try {
      const cache = new CompileCache(dir);
      const key = cache.key(job(1));
      await compileAll([job(1)], cache);
      await writeFile(path.join(dir, key.slice(0, 2), `${key}.json`), "{ half a file");
      assert.match((await compileAll([job(1)], cache)).results[0]?.html ?? "", /Offer 1</);

      const file = path.join(dir, "not-a-folder");
      await writeFile(file, "");
      assert.match((await compileAll([job(3)], new CompileCache(file))).results[0]?.html ?? "", /Offer 3</);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
