import { Flags } from "@oclif/core";
import { LOCAL_ENV } from "./environments.js";

/** `--env`: which runtime to talk to; `local` is the one mk up started. */
export const envFlag = Flags.string({
  char: "e",
  summary: `Environment from mk.yaml, or "${LOCAL_ENV}" for the runtime mk up started.`,
  default: LOCAL_ENV,
});
