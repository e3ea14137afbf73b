import { z } from "zod";
import { apiVersion, duration, DURATION_PATTERN, durationMs, eventName, LOCAL_TIME_PATTERN, mailbox, MAX_DURATION_MS, resourceName, templatePath } from "./common.js";
import { campaignData } from "./campaign.js";
import { condition } from "./condition.js";
import { localeOverrides } from "./locales.js";

const stepName = resourceName.optional().meta({ description: "Optional step name, shown in reports." });

const sendStep = z.strictObject({
  name: stepName,
  send: z.strictObject({
    template: templatePath,
    subject: z.string().min(1),
    preheader: z.string().optional(),
    from: mailbox.optional(),
    data: campaignData.optional(),
    locales: localeOverrides.optional(),
  }),
});

const waitStep = z.strictObject({
  name: stepName,
  wait: duration,
  until: z
    .string()
    .regex(LOCAL_TIME_PATTERN, { error: 'must be a local time such as "09:00"' })
    .optional()
    .meta({ description: "After the wait, go on at the next time of day it is this, in the recipient's time zone." }),
});

const ifStep = z.strictObject({
  name: stepName,
  if: condition,
  then: z.literal("exit", { error: 'must be "exit"' }),
});

/** `after 7d`: a subscriber may enter again once this long has passed since their last enrollment began. */
export const REENTER_AFTER_PATTERN = new RegExp(`^after (${DURATION_PATTERN.source.slice(1, -1)})$`);

export const reenter = z
  .union([
    z.boolean(),
    z
      .string()
      .regex(REENTER_AFTER_PATTERN, { error: 'must be true, false or "after <duration>" such as "after 30d"' })
      .refine((value) => !REENTER_AFTER_PATTERN.test(value) || durationMs(value.slice("after ".length)) <= MAX_DURATION_MS, { error: "must be at most ten years (after 521w)" }),
  ])
  .meta({ description: "false (default): not while enrolled; true: every trigger enrolls; after <duration>: not within that long of the last enrollment." });
export type Reenter = z.infer<typeof reenter>;

export const sequenceStep = z.union([sendStep, waitStep, ifStep]);

export const sequence = z.strictObject({
  apiVersion,
  kind: z.literal("Sequence"),
  name: resourceName.optional(),
  description: z.string().optional(),
  trigger: z.strictObject({ event: eventName }),
  audience: resourceName.optional().meta({ description: "Only subscribers in this audience may enter." }),
  transactional: z.boolean().default(false).meta({ description: "true skips marketing consent (service mail only)." }),
  topic: resourceName.optional().meta({ description: "A topic of mk.yaml: only subscribers who consent to it enter and get its steps (ignored for transactional mail)." }),
  reenter: reenter.default(false),
  migrate: z
    .literal("by-step-name", { error: 'must be "by-step-name"' })
    .optional()
    .meta({ description: "On a change, move active enrollments to the new version at the step of the same name." }),
  steps: z.array(sequenceStep).min(1),
});

export type Sequence = z.infer<typeof sequence>;
export type SequenceStep = z.infer<typeof sequenceStep>;
export type SendStep = z.infer<typeof sendStep>;
export type WaitStep = z.infer<typeof waitStep>;
export type IfStep = z.infer<typeof ifStep>;
