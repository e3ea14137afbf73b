import { Command, Errors, Flags } from "@oclif/core";
import { MkError } from "./errors.js";
import { formatProblems } from "./output/problems.js";
import type { PlanOutcome } from "./plan/plan-repository.js";
import { writeReport } from "./report/write-output.js";

/**
 * What every mk command shares: `--dir`, and failure output without stack
 * traces (set MK_DEBUG=1 to see one for an unexpected error).
 */
export abstract class BaseCommand extends Command {
  static override baseFlags = {
    dir: Flags.directory({
      char: "C",
      summary: "Folder of the campaigns repository (mk.yaml there or in a folder above).",
      default: ".",
      helpGroup: "GLOBAL",
    }),
  };

  protected override async catch(error: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    if (error instanceof MkError) {
      // One line, unwrapped, so scripts and CI logs can match on the code.
      process.stderr.write(`Error: ${error.code} ${error.message}\n`);
      process.exitCode = 1;
      return;
    }
    if (error instanceof Errors.CLIError || error instanceof Errors.ExitError || process.env["MK_DEBUG"]) {
      return super.catch(error);
    }
    return super.catch(new Errors.CLIError(`unexpected error: ${error.message}`, { exit: 70 }));
  }

  /** A report on stdout, or written to `out` (MK087 when it cannot be) with "Wrote <file>" on stderr. */
  protected async printOrWrite(content: string | Buffer, out: string | undefined): Promise<void> {
    if (out === undefined) {
      this.log(String(content).replace(/\n$/, ""));
      return;
    }
    await writeReport(out, content);
    this.logToStderr(`Wrote ${out}`);
  }

  /** Print one JSON document on stdout (FORMAT.md, "Machine-readable output"). */
  protected printJson(value: unknown): void {
    process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /**
   * What mk plan and mk apply show before a plan: the errors that stopped it
   * (on stdout, exit code 1; on stderr with --json, whose stdout is JSON
   * alone), or the warnings beside it (on stderr). The plan's outcome when
   * there is a plan.
   */
  protected planOrProblems(outcome: PlanOutcome, options: { json?: boolean } = {}): Extract<PlanOutcome, { plan: object }> | undefined {
    if (!outcome.plan) {
      const stream = options.json ? process.stderr : process.stdout;
      const text = formatProblems(outcome.problems, { color: Boolean(stream.isTTY) });
      if (options.json) this.logToStderr(text);
      else this.log(text);
      process.exitCode = 1;
      return undefined;
    }
    if (outcome.problems.length > 0) this.logToStderr(formatProblems(outcome.problems, { color: Boolean(process.stderr.isTTY) }));
    return outcome;
  }
}
