/** The closing counts of node's test runner (spec reporter: `ℹ pass 331`). */
export interface RunnerSummary {
  tests: number;
  pass: number;
  fail: number;
  cancelled: number;
  skipped: number;
  todo: number;
}

const COUNT = /^ℹ (tests|pass|fail|cancelled|skipped|todo) (\d+)$/gm;

/** The runner's summary in `output`, or undefined when it printed none (it did not finish). */
export function parseSummary(output: string): RunnerSummary | undefined {
  const found: Partial<RunnerSummary> = {};
  for (const [, name, value] of output.matchAll(COUNT)) found[name as keyof RunnerSummary] = Number(value);
  const keys: (keyof RunnerSummary)[] = ["tests", "pass", "fail", "cancelled", "skipped", "todo"];
  return keys.every((key) => found[key] !== undefined) ? (found as RunnerSummary) : undefined;
}

/** Skipped tests as the spec reporter prints them: `﹣ name (1.2ms) # reason`. */
const SKIPPED = /^\s*﹣ (.+?) \([\d.]+m?s\) # (.+)$/gm;

/**
 * Why a run does not prove the suite passed, one line each; none when it
 * does: no failure, nothing cancelled (a timed-out or failed hook cancels
 * the tests under it), and at least as many passes as the repository
 * declares — a file that exits without running its tests counts as one
 * pass, so fewer passes than declared means tests did not run.
 */
export function summaryProblems(summary: RunnerSummary | undefined, declared: number, output = ""): string[] {
  if (!summary) return ["the test runner printed no summary: it was stopped before it finished"];
  const problems: string[] = [];
  if (summary.fail > 0) problems.push(`${summary.fail} failed`);
  if (summary.cancelled > 0) problems.push(`${summary.cancelled} cancelled (a test or hook timed out, or the hook or suite above it failed)`);
  if (summary.pass < declared) {
    const skipped = [...output.matchAll(SKIPPED)].map(([, name, reason]) => `${name}: ${reason}`);
    problems.push(
      `${summary.pass} passed, fewer than the ${declared} tests the repository declares (test/declared-tests.json)` +
        (skipped.length > 0 ? `; skipped: ${skipped.join("; ")}` : "; a test file ended without running its tests"),
    );
  }
  return problems;
}
