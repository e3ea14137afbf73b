import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { REPO_ROOT } from "../helpers/run-mk.js";

/**
 * The commands that print no data, so take no --json, and why. Every other
 * command must have it (FORMAT.md, "Machine-readable output").
 */
const NO_DATA: Record<string, string> = {
  up: "long-running and interactive: it prints the URL and token for a person and runs until Ctrl-C; .mk/runtime.json is the copy for programs",
};

interface Manifest {
  commands: Record<string, { flags: Record<string, { type: string }> }>;
}

/** The commands as the built binary lists them (npm run build writes the manifest), "report campaign" style. */
const manifest = JSON.parse(readFileSync(path.join(REPO_ROOT, "oclif.manifest.json"), "utf8")) as Manifest;
const commands = new Map(Object.entries(manifest.commands).map(([id, command]) => [id.replaceAll(":", " "), command]));

/** The README's command headings under "## Commands": each `mk …` in backticks, by the command it names. */
function readmeHeadings(): Map<string, string[]> {
  const readme = readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("\n## Commands\n"), readme.indexOf("\n## ", readme.indexOf("\n## Commands\n") + 1));
  const headings = new Map<string, string[]>();
  for (const [, heading] of section.matchAll(/^### (.+)$/gm)) {
    for (const [, usage] of heading!.matchAll(/`mk ([^`]+)`/g)) {
      const words = usage!.split(" ");
      const end = words.findIndex((word) => !/^[a-z][a-z-]*$/.test(word));
      const id = words.slice(0, end === -1 ? undefined : end).join(" ");
      headings.set(id, [...(headings.get(id) ?? []), usage!]);
    }
  }
  return headings;
}

describe("--json on every command that prints data", { timeout: 180_000 }, () => {
  it("lists only real commands as printing no data", () => {
    assert.deepEqual(Object.keys(NO_DATA).filter((id) => !commands.has(id)), []);
  });

  it("every other command declares a boolean --json", () => {
    const without = [...commands].filter(([id, command]) => !(id in NO_DATA) && command.flags["json"]?.type !== "boolean").map(([id]) => id);
    assert.deepEqual(without, []);
  });

  it("the README's command headings show --json for each of them", () => {
    const headings = readmeHeadings();
    const problems = [...commands.keys()]
      .filter((id) => !(id in NO_DATA))
      .flatMap((id) => {
        const usages = headings.get(id) ?? [];
        if (usages.length === 0) return [`${id}: no heading under "## Commands"`];
        return usages.filter((usage) => !usage.includes("--json")).map((usage) => `${id}: "mk ${usage}" has no --json`);
      });
    assert.deepEqual(problems, []);
  });
});
