import { z } from "zod";
import { countryCode, emailAddress, locale, timeZone } from "./common.js";

/** A subscriber as templates see it (`subscriber.*`), e.g. the sample for `mk render --data`. */
export const subscriber = z.strictObject({
  email: emailAddress,
  firstName: z.string().optional(),
  lastName: z.string().optional(),
  country: countryCode.optional(),
  timezone: timeZone.optional(),
  locale: locale.optional(),
  tags: z.array(z.string()).default([]),
  consent: z.enum(["marketing"]).optional(),
  attributes: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).default({}),
});

export type Subscriber = z.infer<typeof subscriber>;

export const SUBSCRIBER_FIELDS = [
  "email", "firstName", "lastName", "country", "timezone", "locale", "tags", "consent", "attributes",
] as const;
