import { existsSync } from "node:fs";
import path from "node:path";
import type { ApplyRequest } from "../../schemas/api.js";

/** The sample subscribers file a repository may ship beside mk.yaml (example-campaigns does). */
export const SAMPLE_SUBSCRIBERS = "subscribers.csv";

export interface NextStepsContext {
  /** The repository folder given to `mk up --apply`, as the user wrote it. */
  dir?: string | undefined;
  /** What was applied from it: the campaign to suggest sending is taken from here. */
  applied?: ApplyRequest["resources"] | undefined;
  /** How mk was run: `npx mk` through npx, else `mk`. */
  environment?: NodeJS.ProcessEnv;
}

/**
 * What mk up prints once it is ready: the three things to try next — plan,
 * import, send — as commands that work when pasted into another terminal.
 */
export function nextSteps(context: NextStepsContext): string {
  const mk = (context.environment ?? process.env)["npm_command"] === "exec" ? "npx mk" : "mk";
  const dirFlag = context.dir ? ` --dir ${shellWord(context.dir)}` : "";
  const sample = path.join(context.dir ?? ".", SAMPLE_SUBSCRIBERS);
  const csv = existsSync(sample) ? shellWord(sample) : "people.csv";
  const campaign = campaignToSend(context.applied ?? []) ?? "<campaign>";
  return [
    "Try next, in another terminal:",
    `  ${mk} plan${dirFlag}`,
    `      what would change on this runtime ("No changes" right after an apply)`,
    `  ${mk} subscribers import ${csv}${dirFlag}`,
    `      load subscribers (a CSV with an email column${csv === "people.csv" ? "" : "; this one is a sample"})`,
    `  ${mk} send ${campaign}${dirFlag} && ${mk} outbox list${dirFlag}`,
    "      send a campaign now, then see the messages (they stay in the outbox)",
  ].join("\n");
}

/** The first campaign sent by hand (no schedule), else the first campaign. */
function campaignToSend(resources: ApplyRequest["resources"]): string | undefined {
  const campaigns = resources.filter((resource) => resource.kind === "Campaign");
  const byHand = campaigns.find((campaign) => !(campaign.spec as { schedule?: unknown }).schedule);
  return (byHand ?? campaigns[0])?.name;
}

/** A path as one shell word: as it is when it is plain, else in single quotes. */
function shellWord(word: string): string {
  return /^[\w./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}
