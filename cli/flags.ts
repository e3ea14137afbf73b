import { Flags } from "@oclif/core";
import { LOCAL_ENV } from "./environments.js";

/** `--env`: which runtime to talk to; `local` is the one mk up started. */
export const envFlag = Flags.string({
  char: "e",
  summary: `Environment from mk.yaml, or "${LOCAL_ENV}" for the runtime mk up started.`,
  default: LOCAL_ENV,
});

/** `--cache`: reuse compiled templates whose files did not change. */
export const cacheFlag = Flags.boolean({ summary: "Keep compiled templates in .mk/cache/ and recompile only those whose files changed." });

/** `--allow-exit-active`: deleting a sequence ends its active enrollments; say that is meant. */
export const allowExitActiveFlag = Flags.boolean({
  summary: "Allow deleting a sequence that has active enrollments; they exit with reason sequence-deleted.",
});
