import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { it } from "node:test";
import { PROBLEM_CODES } from "../../cli/problems.js";
import { REPO_ROOT } from "../helpers/run-mk.js";

it("the README's problem-code table lists every code with its severity", { timeout: 180_000 }, () => {
  const readme = readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
  const rows = new Map([...readme.matchAll(/^\| (MK\d{3}) \| (error|warning) \|/gm)].map((m) => [m[1], m[2]]));
  assert.deepEqual(
    [...rows].sort(),
    Object.entries(PROBLEM_CODES).map(([code, { severity }]) => [code, severity]).sort(),
  );
});
