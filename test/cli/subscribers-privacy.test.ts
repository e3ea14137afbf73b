import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { it } from "node:test";
import { runMk, STACK_LINE } from "../helpers/run-mk.js";

it("mk subscribers erase checks every address of its list before erasing any, naming the file and line", { timeout: 60_000 }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "mk-erase-cli-"));
  try {
    await writeFile(path.join(dir, "requests.txt"), "# from the support inbox\nana@example.test\n\nnot-an-address\n");
    const run = await runMk(["subscribers", "erase", "bob@example.test", "--file", "requests.txt"], { cwd: dir });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /MK112/);
    assert.match(run.stderr, /requests\.txt:4: "not-an-address" is not an email address/);
    assert.doesNotMatch(run.stderr, STACK_LINE);
    assert.equal(run.stdout, "", "nothing was erased");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
