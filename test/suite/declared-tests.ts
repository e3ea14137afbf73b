import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";

/** Every test file of the suite under `testDir`, sorted: what `npm test` runs. */
export function testFiles(testDir: string): string[] {
  return readdirSync(testDir, { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".test.ts"))
    .map((file) => path.join(testDir, file))
    .sort();
}

/**
 * How many tests the files declare: the calls of node:test's `it` and
 * `test`, read from the syntax tree (not by pattern, so a string or a
 * comment that says "it(" is not one). A call inside a loop counts once, so
 * the suite runs at least this many.
 */
export function countDeclaredTests(files: readonly string[]): number {
  return [...declaredByFile(files).values()].reduce((sum, n) => sum + n, 0);
}

/** The same count for each file. */
export function declaredByFile(files: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const file of files) {
    let count = 0;
    const visit = (node: ts.Node): void => {
      if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && (node.expression.text === "it" || node.expression.text === "test")) count++;
      ts.forEachChild(node, visit);
    };
    visit(ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, false, ts.ScriptKind.TS));
    counts.set(file, count);
  }
  return counts;
}

/** The committed count (test/declared-tests.json) that `npm test` holds the runner's summary to. */
export function committedCount(file: string): number {
  return (JSON.parse(readFileSync(file, "utf8")) as { declaredTests: number }).declaredTests;
}
