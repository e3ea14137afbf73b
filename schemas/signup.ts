import { z } from "zod";
import { emailAddress, locale, resourceName } from "./common.js";
import { SUBSCRIBER_LIMITS } from "./subscriber.js";

/** One value of a form field, or the repeated field of an HTML form (topics=a&topics=b). */
const oneOrMany = <T extends z.ZodType>(item: T) => z.union([item, z.array(item).max(100)]).transform((v) => (Array.isArray(v) ? v : [v]));

/**
 * A signup as `POST /f/<form>` takes it, from an HTML form
 * (application/x-www-form-urlencoded) or JSON. `website` is the honeypot: a
 * field the page hides, which people leave empty and bots fill in.
 */
export const signupRequest = z.object({
  email: z
    .string({ error: "is required" })
    .trim()
    .toLowerCase()
    .max(SUBSCRIBER_LIMITS.email, { error: `must be at most ${SUBSCRIBER_LIMITS.email} characters` })
    .pipe(emailAddress),
  firstName: z
    .string()
    .trim()
    .max(SUBSCRIBER_LIMITS.name, { error: `must be at most ${SUBSCRIBER_LIMITS.name} characters` })
    .refine((v) => !v.includes("\u0000"), { error: "may not contain the NUL character" })
    .optional()
    .transform((v) => (v === "" ? undefined : v)),
  topics: oneOrMany(resourceName).optional(),
  /** The language of the page the answer is (a BCP 47 tag such as th or pt-BR); without it, the request's Accept-Language. */
  locale: z
    .string()
    .max(35, { error: "must be at most 35 characters" })
    .optional()
    .transform((v) => (v === "" ? undefined : v))
    .pipe(locale.optional()),
  website: z.string().max(1000).optional(),
});
export type SignupRequest = z.infer<typeof signupRequest>;
