import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { MK_VERSION } from "../../cli/version.js";
import { runMk, STACK_LINE } from "../helpers/run-mk.js";

describe("mk init", { timeout: 180_000 }, () => {
  let base: string;
  before(async () => {
    base = await mkdtemp(path.join(tmpdir(), "mk-init-"));
  }, { timeout: 120_000 });
  after(() => rm(base, { recursive: true, force: true }), { timeout: 120_000 });

  test("writes a repository that validates with 0 errors and 0 warnings, then renders its campaign", async () => {
    const dir = path.join(base, "fresh");
    const init = await runMk(["init", dir]);
    assert.equal(init.code, 0, init.stderr);
    for (const file of ["mk.yaml", ".gitignore", "package.json", ".github/workflows/mk-plan.yml", "templates/partials/header.mjml", ".vscode/settings.json"]) {
      assert.match(init.stdout, new RegExp(`^  ${file.replace(/\./g, "\\.")}`, "m"), `${file} listed`);
    }
    assert.match(init.stdout, /Next steps:\n {2}cd .*fresh\n {2}npm install/);

    const validate = await runMk(["validate", "--dir", dir]);
    assert.equal(validate.code, 0, validate.stdout);
    assert.match(validate.stdout, /0 errors, 0 warnings/);

    const render = await runMk(["render", "welcome", "--dir", dir, "--text"]);
    assert.equal(render.code, 0, render.stderr);
    assert.match(render.stdout, /^Hi Alex,$/m);
    assert.match(render.stdout, /^Your Company, 1 Example Street/m);

    assert.match(await readFile(path.join(dir, ".gitignore"), "utf8"), /^\.mk\/$/m);
    // Each workflow its own secret: a plan-scoped one for pull requests, the apply-scoped ones in GitHub Environments.
    const secrets = await Promise.all(["mk-plan.yml", "mk-apply.yml", "mk-send.yml"].map(async (name) => (await readFile(path.join(dir, ".github/workflows", name), "utf8")).match(/secrets\.MK_\w+/g)));
    assert.deepEqual(secrets, [["secrets.MK_PROD_PLAN_TOKEN"], ["secrets.MK_PROD_APPLY_TOKEN"], ["secrets.MK_PROD_SEND_TOKEN"]]);
    const manifest = JSON.parse(await readFile(path.join(dir, "package.json"), "utf8")) as { name: string; private: boolean; devDependencies: Record<string, string> };
    assert.deepEqual([manifest.name, manifest.private, manifest.devDependencies["mk"]], ["fresh", true, `^${MK_VERSION}`]);
  });

  test("--json prints the folder and the files written, without the next steps", async () => {
    const dir = path.join(base, "scripted");
    const init = await runMk(["init", dir, "--json"]);
    assert.deepEqual([init.code, init.stderr], [0, ""]);
    const result = JSON.parse(init.stdout) as { folder: string; written: string[]; packageJson: string };
    assert.equal(result.folder, path.resolve(dir));
    assert.ok(result.written.includes("mk.yaml") && result.written.includes(".github/workflows/mk-plan.yml"), result.written.join(", "));
    assert.equal(result.packageJson, "created");
  });

  test("refuses to overwrite anything without --force, and leaves the files as they were", async () => {
    const dir = path.join(base, "existing");
    assert.equal((await runMk(["init", dir])).code, 0);
    await writeFile(path.join(dir, "mk.yaml"), "# mine\n");

    const again = await runMk(["init", dir]);
    assert.equal(again.code, 1);
    assert.equal(again.stdout, "");
    assert.match(again.stderr, /^Error: MK083 .*existing already has .*mk\.yaml.*--force/);
    assert.doesNotMatch(again.stderr, STACK_LINE);
    assert.equal(await readFile(path.join(dir, "mk.yaml"), "utf8"), "# mine\n");

    const forced = await runMk(["init", dir, "--force"]);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(await readFile(path.join(dir, "mk.yaml"), "utf8"), /kind: Project/);
  });

  test("adds mk to an existing package.json instead of replacing it", async () => {
    const dir = path.join(base, "node-project");
    await mkdir(dir);
    await writeFile(path.join(dir, "package.json"), JSON.stringify({ name: "shop", version: "2.0.0", devDependencies: { typescript: "^5" } }));
    const init = await runMk(["init"], { cwd: dir });
    assert.equal(init.code, 0, init.stderr);
    assert.match(init.stdout, /package\.json \(mk added to devDependencies\)/);
    assert.doesNotMatch(init.stdout, /\n {2}cd /, "no cd step when initialising the current folder");
    const manifest = JSON.parse(await readFile(path.join(dir, "package.json"), "utf8")) as Record<string, unknown>;
    assert.deepEqual(manifest, { name: "shop", version: "2.0.0", devDependencies: { typescript: "^5", mk: `^${MK_VERSION}` } });
  });

  test("a file where the folder should be, or a broken package.json, is a clear error", async () => {
    const file = path.join(base, "a-file");
    await writeFile(file, "x");
    const blocked = await runMk(["init", file]);
    assert.equal(blocked.code, 1);
    assert.match(blocked.stderr, /^Error: MK084 .*a-file exists and is not a folder/);

    const dir = path.join(base, "broken-package");
    await mkdir(dir);
    await writeFile(path.join(dir, "package.json"), "{ nope");
    const broken = await runMk(["init", dir]);
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /^Error: MK084 package\.json is not valid JSON/);
    assert.doesNotMatch(broken.stderr, STACK_LINE);
    await assert.rejects(readFile(path.join(dir, "mk.yaml")), { code: "ENOENT" }, "nothing written before the error");
  });
});
