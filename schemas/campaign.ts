import { z } from "zod";
import {
  apiVersion,
  countryCode,
  emailAddress,
  inOrNotIn,
  jsonValue,
  LOCAL_TIME_PATTERN,
  mailbox,
  resourceName,
  templatePath,
  timeZone,
} from "./common.js";
import { localeOverrides } from "./locales.js";
import { utm } from "./project.js";

/** `2026-12-01T09:00:00` (local), or with `Z` / `+07:00` (absolute). */
export const SCHEDULE_AT_PATTERN =
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?$/;

const WINDOW_PATTERN = new RegExp(`^(${LOCAL_TIME_PATTERN.source.slice(1, -1)})-(${LOCAL_TIME_PATTERN.source.slice(1, -1)})$`);

export const campaignData = z.record(z.string(), jsonValue);

const variant = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,30}$/, { error: "must be lower-case letters, digits and dashes (at most 31)" }),
  weight: z.int().min(0).max(100),
  subject: z.string().min(1).optional(),
  preheader: z.string().optional(),
  template: templatePath.optional(),
  data: campaignData.optional(),
});

export const schedule = z.strictObject({
  at: z.string().regex(SCHEDULE_AT_PATTERN, {
    error: 'must be an ISO 8601 date and time such as "2026-12-01T09:00:00" (local) or "2026-12-01T09:00:00+07:00"',
  }),
  timezone: z
    .union([z.literal("recipient"), timeZone])
    .optional()
    .meta({ description: "recipient, or an IANA zone; default defaults.timezone; ignored if `at` has an offset." }),
  window: z
    .string()
    .regex(WINDOW_PATTERN, { error: 'must be a local time range such as "09:00-11:00"' })
    .optional()
    .meta({ description: "Delivery window, local to the recipient." }),
  allowPast: z
    .boolean()
    .optional()
    .meta({
      description:
        "Set true to plan a campaign whose `at` has passed and that the runtime has not started: it starts at the next `mk send --due`. A campaign that has started sending needs no allowPast, and adding or removing it changes nothing.",
    }),
});

/** Who may receive a campaign, by country and time zone (allow or deny lists). */
export const geofence = z
  .strictObject({
    countries: inOrNotIn(countryCode).optional(),
    timezones: inOrNotIn(timeZone).optional(),
  })
  .refine((g) => g.countries !== undefined || g.timezones !== undefined, { error: "set countries, timezones or both" });
export type Geofence = z.infer<typeof geofence>;

export const campaign = z.strictObject({
  apiVersion,
  kind: z.literal("Campaign"),
  name: resourceName.optional(),
  subject: z.string().min(1),
  preheader: z.string().optional(),
  from: mailbox.optional(),
  replyTo: emailAddress.optional(),
  template: templatePath,
  audience: resourceName,
  schedule: schedule.optional(),
  variants: z.array(variant).min(2, { error: "an A/B test needs at least two variants" }).optional(),
  decideBy: z
    .enum(["conversions", "clicks", "opens"])
    .optional()
    .meta({
      description:
        "What decides the A/B test: conversions, human clicks, or human opens. Default: conversions when every variant has enough, else human clicks. Machine opens and clicks never count; opens decide only when set here.",
    }),
  budget: z
    .strictObject({
      maxRecipients: z.int().positive().optional(),
      maxUsd: z.number().positive().optional(),
    })
    .refine((b) => b.maxRecipients !== undefined || b.maxUsd !== undefined, { error: "set maxRecipients, maxUsd or both" })
    .optional(),
  geofence: geofence.optional(),
  utm: utm.optional(),
  data: campaignData.optional(),
  transactional: z.boolean().default(false),
  topic: resourceName.optional().meta({ description: "A topic of mk.yaml: sent only to subscribers who consent to it (ignored for transactional mail)." }),
  locales: localeOverrides.optional(),
});

export type Campaign = z.infer<typeof campaign>;
export type Variant = z.infer<typeof variant>;
export type Schedule = z.infer<typeof schedule>;
