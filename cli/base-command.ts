import { Command, Errors, Flags } from "@oclif/core";
import { MkError } from "./errors.js";

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

  /** Print one JSON document on stdout (FORMAT.md, "Machine-readable output"). */
  protected printJson(value: unknown): void {
    process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }
}
