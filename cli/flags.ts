import { Flags } from "@oclif/core";
import { LOCAL_ENV } from "./environments.js";
import { MkError } from "./errors.js";

/** `--env`: which runtime to talk to; `local` is the one mk up started. */
export const envFlag = Flags.string({
  char: "e",
  summary: `Environment from mk.yaml, or "${LOCAL_ENV}" for the runtime mk up started.`,
  default: LOCAL_ENV,
});

/** `--cache` (the default) and `--no-cache`: reuse compiled templates whose files did not change. */
export const cacheFlag = Flags.boolean({
  summary: "Keep compiled templates in .mk/cache/ and recompile only those whose files changed (the default; --no-cache compiles every template).",
  default: true,
  allowNo: true,
});

/** `--allow-exit-active`: deleting a sequence ends its active enrollments; say that is meant. */
export const allowExitActiveFlag = Flags.boolean({
  summary: "Allow deleting a sequence that has active enrollments; they exit with reason sequence-deleted.",
});

/**
 * `--json`: one JSON document on stdout and nothing else there; messages go to
 * stderr (FORMAT.md, "Machine-readable output"). `document` says what it holds,
 * e.g. "the applies, newest first (an array)".
 */
export function jsonFlag(document: string, options: { exclusive?: string[] } = {}) {
  return Flags.boolean({ summary: `Print one JSON document on stdout and nothing else there: ${document}.`, ...options });
}

/** A report's `--format` (table by default) and `--json`, its shorthand for `--format json`. */
export function reportFormatFlags(formats: readonly string[]) {
  return {
    format: Flags.string({ summary: "Output format.", options: [...formats], default: "table" }),
    json: Flags.boolean({ summary: "The same as --format json: the report as one JSON document, on stdout (and nothing else there) or in --out." }),
  };
}

/**
 * The format a report asked for, from its parsed flags and oclif's parse
 * metadata (which tells a --format given from the default): `--json` is
 * `--format json`, and any other `--format` given with it is MK093.
 */
export function reportFormat(flags: { format: string; json: boolean }, metadata: { flags: Record<string, { setFromDefault?: boolean } | undefined> }): string {
  if (!flags.json) return flags.format;
  const formatGiven = metadata.flags["format"]?.setFromDefault !== true;
  if (formatGiven && flags.format !== "json") throw new MkError("MK093", `--json is --format json; give one of them, not --json with --format ${flags.format}`);
  return "json";
}
