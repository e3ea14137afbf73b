import { z } from "zod";
import { countryCode, emailAddress, locale, timeZone } from "./common.js";

/** How large a subscriber's fields may be (README, "Limits"): generous for people, small enough that no row is a payload. */
export const SUBSCRIBER_LIMITS = {
  /** Characters of an email address (RFC 5321: a path holds at most 256, the address 254 of them). */
  email: 254,
  /** Characters of firstName and of lastName. */
  name: 200,
  /** Characters of a BCP 47 language tag (RFC 5646 asks to support 35). */
  locale: 35,
  tags: 100,
  /** Characters of one tag. */
  tag: 100,
  attributes: 100,
  /** Characters of an attribute's name. */
  attributeName: 100,
  /** Characters of an attribute's text value. */
  attributeText: 2000,
} as const;

const L = SUBSCRIBER_LIMITS;
const atMost = (n: number) => ({ error: `must be at most ${n.toLocaleString("en-US")} characters` });
const noNul = (value: string) => !value.includes("\u0000");
/** Text a subscriber row stores: at most `max` characters, none of them NUL (which PostgreSQL text cannot hold). */
const text = (max: number) => z.string().max(max, atMost(max)).refine(noNul, { error: "may not contain the NUL character (\\u0000)" });

export const subscriberTags = z.array(text(L.tag)).max(L.tags, { error: `at most ${L.tags} tags` });

export const subscriberAttributes = z
  .record(z.string(), z.union([text(L.attributeText), z.number(), z.boolean(), z.null()]))
  .superRefine((attributes, ctx) => {
    const names = Object.keys(attributes);
    if (names.length > L.attributes) ctx.addIssue({ code: "custom", message: `at most ${L.attributes} attributes, got ${names.length}` });
    for (const name of names) {
      if (name.length > L.attributeName || !noNul(name)) {
        ctx.addIssue({ code: "custom", path: [name], message: `an attribute name is at most ${L.attributeName} characters, without NUL` });
      }
    }
  });

/** A subscriber as templates see it (`subscriber.*`), e.g. the sample for `mk render --data`. */
export const subscriber = z.strictObject({
  email: emailAddress.max(L.email, atMost(L.email)),
  firstName: text(L.name).optional(),
  lastName: text(L.name).optional(),
  country: countryCode.optional(),
  timezone: timeZone.optional(),
  locale: locale.max(L.locale, atMost(L.locale)).optional(),
  tags: subscriberTags.default([]),
  consent: z.enum(["marketing"]).optional(),
  attributes: subscriberAttributes.default({}),
});

export type Subscriber = z.infer<typeof subscriber>;

export const SUBSCRIBER_FIELDS = [
  "email", "firstName", "lastName", "country", "timezone", "locale", "tags", "consent", "attributes",
] as const;
