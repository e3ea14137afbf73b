import type { z } from "zod";
import { audience } from "./audience.js";
import { campaign } from "./campaign.js";
import { message } from "./message.js";
import { project } from "./project.js";
import { sequence } from "./sequence.js";

/**
 * Every file kind a campaigns repository holds, by its `kind:` value. Its own
 * module, so reading a repository loads these schemas and not the API's.
 */
export const KINDS = {
  Project: project,
  Audience: audience,
  Campaign: campaign,
  Sequence: sequence,
  Message: message,
} as const satisfies Record<string, z.ZodType>;

export type Kind = keyof typeof KINDS;

/** The folder each kind lives in (the project lives in mk.yaml at the root). */
export const KIND_FOLDERS = {
  Audience: "audiences",
  Campaign: "campaigns",
  Sequence: "sequences",
  Message: "messages",
} as const;
