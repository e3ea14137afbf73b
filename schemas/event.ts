import { z } from "zod";
import { countryCode, currencyCode, emailAddress, eventName } from "./common.js";
import { depthLimited } from "./nesting.js";
import { utm } from "./project.js";
import { regionCode } from "./tax.js";

/** The event types mk itself reads; any other name matching eventName is a custom event. */
export const KNOWN_EVENT_TYPES = ["purchase", "refund", "signup", "page_view"] as const;

/** Money as integer minor units of an ISO 4217 currency (1999 USD = $19.99). */
export const money = z.strictObject({
  value: z.int({ error: "must be a whole number of minor units (cents), e.g. 1999 for 19.99" }).min(0).max(Number.MAX_SAFE_INTEGER),
  currency: currencyCode,
});

/** How large an event's `properties` may be (README, "Limits"). */
export const PROPERTIES_LIMITS = {
  /** Levels of objects and lists, the properties object itself the first. */
  depth: 16,
  /** Characters of the properties as JSON. */
  size: 32_768,
} as const;

const properties = depthLimited(z.record(z.string().max(200), z.json()), {
  max: PROPERTIES_LIMITS.depth,
  message: `nests more than ${PROPERTIES_LIMITS.depth} levels of objects and lists here`,
}).refine((value) => JSON.stringify(value).length <= PROPERTIES_LIMITS.size, {
  error: `must be at most ${PROPERTIES_LIMITS.size.toLocaleString("en-US")} characters as JSON`,
});

/**
 * One event of `POST /v1/events`. The idempotency key makes it count once,
 * however often it is sent and whatever its occurredAt the next time.
 */
export const event = z
  .strictObject({
    idempotencyKey: z.string().min(1).max(200).meta({ description: "Unique per event, forever: a retry with the same key is a duplicate." }),
    type: eventName.meta({ description: `purchase, refund, signup, page_view, or a custom name` }),
    subscriber: z.union([z.strictObject({ email: emailAddress }), z.strictObject({ id: z.int().positive() })], {
      error: 'must be { "email": … } or { "id": … }',
    }),
    occurredAt: z.iso.datetime({ offset: true, error: "must be an ISO 8601 date and time with a Z or an offset, e.g. 2026-11-23T14:05:00+07:00" }),
    properties: properties.optional(),
    amount: money.optional().meta({ description: "For a refund, the amount refunded." }),
    country: countryCode.optional(),
    region: regionCode.optional().meta({ description: "The subdivision of country (ISO 3166-2 without the country), where its tax differs: ON, QC, BC … in Canada." }),
    ip: z.union([z.ipv4(), z.ipv6()], { error: "must be an IPv4 or IPv6 address" }).optional(),
    utm: utm.optional(),
    sendId: z.uuid({ error: "must be the send id (a UUID) from the email's links" }).optional(),
  })
  .refine((e) => !e.type.startsWith("ses."), {
    error: "names starting with ses. are reserved for Amazon SES events, which arrive through POST /v1/webhooks/ses",
    path: ["type"],
  })
  .refine((e) => !(e.type === "purchase" || e.type === "refund") || e.amount !== undefined, {
    error: "a purchase or refund needs an amount",
    path: ["amount"],
  })
  .refine((e) => !JSON.stringify(e).includes("\\u0000"), { error: "text may not contain the NUL character (\\u0000)" });

export type IngestEvent = z.infer<typeof event>;
