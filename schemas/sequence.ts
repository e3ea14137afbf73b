import { z } from "zod";
import { apiVersion, duration, eventName, mailbox, resourceName, templatePath } from "./common.js";
import { campaignData } from "./campaign.js";
import { condition } from "./condition.js";

const stepName = resourceName.optional().meta({ description: "Optional step name, shown in reports." });

const sendStep = z.strictObject({
  name: stepName,
  send: z.strictObject({
    template: templatePath,
    subject: z.string().min(1),
    preheader: z.string().optional(),
    from: mailbox.optional(),
    data: campaignData.optional(),
  }),
});

const waitStep = z.strictObject({ name: stepName, wait: duration });

const ifStep = z.strictObject({
  name: stepName,
  if: condition,
  then: z.literal("exit", { error: 'must be "exit"' }),
});

export const sequenceStep = z.union([sendStep, waitStep, ifStep]);

export const sequence = z.strictObject({
  apiVersion,
  kind: z.literal("Sequence"),
  name: resourceName.optional(),
  description: z.string().optional(),
  trigger: z.strictObject({ event: eventName }),
  audience: resourceName.optional().meta({ description: "Only subscribers in this audience may enter." }),
  transactional: z.boolean().default(false).meta({ description: "true skips marketing consent (service mail only)." }),
  steps: z.array(sequenceStep).min(1),
});

export type Sequence = z.infer<typeof sequence>;
export type SequenceStep = z.infer<typeof sequenceStep>;
export type SendStep = z.infer<typeof sendStep>;
