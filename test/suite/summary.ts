/** What ran in one test file (count-reporter.ts). */
export interface FileCounts {
  pass: number;
  /** Failed or cancelled (a hook that failed or timed out cancels the tests under it). */
  fail: number;
  /** "name: reason" of each skipped test. */
  skipped: string[];
  /** The file ended without reporting a single test, and exited 0. */
  exitedEarly: boolean;
}

/**
 * Why a run does not prove the suite passed, one line each; none when it
 * does. Every file must pass at least the tests it declares (`declared`,
 * from its syntax), with nothing failed, cancelled or skipped: node's runner
 * counts a file that exits before its tests run as one pass, so fewer passes
 * than declared means tests did not run. `ran` is undefined when the runner
 * was stopped before it reported.
 */
export function runProblems(ran: Record<string, FileCounts> | undefined, declared: ReadonlyMap<string, number>): string[] {
  if (!ran) return ["the test runner reported nothing: it was stopped before it finished"];
  const problems: string[] = [];
  for (const [file, wanted] of declared) {
    const counts = ran[file] ?? { pass: 0, fail: 0, skipped: [], exitedEarly: false };
    if (counts.exitedEarly) problems.push(`${file}: ended without running any of the ${wanted} tests it declares (and exited 0)`);
    if (counts.fail > 0) problems.push(`${file}: ${counts.fail} failed or cancelled`);
    if (counts.skipped.length > 0) problems.push(`${file}: ${counts.skipped.length} skipped (${counts.skipped.join("; ")})`);
    if (counts.pass < wanted && !counts.exitedEarly && counts.fail === 0 && counts.skipped.length === 0) {
      problems.push(`${file}: ${counts.pass} passed of the ${wanted} tests it declares: it ended without running them all`);
    }
  }
  for (const file of Object.keys(ran)) if (!declared.has(file)) problems.push(`${file}: ran, but is not one of the suite's test files`);
  return problems;
}
