import { isIP } from "node:net";
import { z } from "zod";
import { dkimSettings } from "./dkim.js";
import { localeSettings } from "./locales.js";
import { taxRateOverride } from "./tax.js";
import { apiVersion, countryCode, currencyCode, emailAddress, ENV_VAR_PATTERN, locale, mailbox, resourceName, templatePath, timeZone } from "./common.js";

export const utm = z.strictObject({
  source: z.string().min(1).optional(),
  medium: z.string().min(1).optional(),
  campaign: z.string().min(1).optional(),
  term: z.string().min(1).optional(),
  content: z.string().min(1).optional(),
});

export const RESERVED_ENVIRONMENT = "local";

/** Long runs of letters and digits without the underscores variable names have. */
export function looksLikeToken(value: string): boolean {
  return value.length >= 24 && /[0-9]/.test(value) && !value.includes("_");
}

/** A plain http:// URL to anywhere but this machine (127.0.0.0/8, ::1, localhost): a token sent there can be read on the way. */
function plainHttpOffMachine(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const { protocol, hostname } = new URL(value);
  if (protocol !== "http:") return false;
  return !(hostname === "localhost" || hostname === "[::1]" || (isIP(hostname) === 4 && hostname.startsWith("127.")));
}

/**
 * Variables a CI runner or a cloud sets for itself (GitHub's job token, the
 * runner's, cloud credentials): a tokenEnv naming one would send that
 * credential to the runtime. The README's "Environments" lists them.
 */
export const RUNNER_VARIABLES = {
  names: ["CI", "HOME", "PATH", "PWD", "SHELL", "USER", "TMPDIR", "HOSTNAME", "NODE_AUTH_TOKEN"],
  prefixes: ["GITHUB_", "ACTIONS_", "RUNNER_", "CI_", "GITLAB_", "AWS_", "AZURE_", "ARM_", "GOOGLE_", "GCP_", "GCLOUD_", "CLOUDSDK_"],
} as const;

export function isRunnerVariable(name: string): boolean {
  return (RUNNER_VARIABLES.names as readonly string[]).includes(name) || RUNNER_VARIABLES.prefixes.some((prefix) => name.startsWith(prefix));
}

const environment = z.strictObject({
  url: z
    .url({ protocol: /^https?$/, error: 'must be the runtime\'s URL, e.g. "https://mk.example.com"' })
    .refine((value) => !plainHttpOffMachine(value), {
      error: "must be https:// (plain http:// only to 127.0.0.1, ::1 or localhost): the API token would cross the network readable",
      params: { code: "MK098" },
    })
    .meta({ description: "The runtime's URL: https://, or http:// to 127.0.0.1, ::1 or localhost." }),
  tokenEnv: z
    .string()
    .regex(ENV_VAR_PATTERN, {
      error: "must name an environment variable (upper case, digits, _) that holds the API token, never the token itself",
    })
    .refine((value) => !looksLikeToken(value), {
      error: "looks like a literal token; set tokenEnv to the name of the environment variable that holds it (e.g. MK_PROD_TOKEN)",
      params: { code: "MK027" },
    })
    .refine((value) => !isRunnerVariable(value), {
      error: (issue) =>
        `${String(issue.input)} is a variable the CI runner or cloud sets for itself (${[...RUNNER_VARIABLES.prefixes.map((p) => `${p}*`), ...RUNNER_VARIABLES.names].join(", ")}): mk would send its credential to the runtime; name a variable of your own, e.g. MK_PROD_TOKEN`,
      params: { code: "MK099" },
    })
    .meta({ description: "Name of the environment variable holding the runtime's API token (not one the CI runner or cloud sets, such as GITHUB_TOKEN or AWS_*)." }),
});

/**
 * A subject subscribers can choose to get or not (newsletter, product news …).
 * opt-out: everyone with marketing consent gets it until they leave it;
 * opt-in: only those who chose it.
 */
export const topic = z.strictObject({
  name: resourceName,
  title: z.string().min(1).max(200).meta({ description: "What the preference page calls it." }),
  description: z.string().max(1000).optional().meta({ description: "One or two sentences on the preference page." }),
  default: z.enum(["opt-in", "opt-out"]).default("opt-out").meta({ description: "opt-out: sent to everyone with marketing consent who did not leave it; opt-in: only to those who chose it." }),
});
export type Topic = z.infer<typeof topic>;

/** An http(s) URL a form's POST or confirmation redirects to. */
const redirectUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL, e.g. "https://example.com/thanks"' });

/**
 * A signup form (`POST /f/<name>`): who may post it from a browser, which
 * topics it offers, and the confirmation email of its double opt-in.
 */
export const form = z.strictObject({
    name: resourceName,
    topics: z.array(resourceName).max(100).default([]).meta({ description: "Topics of mk.yaml a signup may choose (all of them when the request names none)." }),
    doubleOptIn: z.boolean().default(true).meta({ description: "Send a confirmation email and record consent only when its link is followed (default true)." }),
    template: templatePath.optional().meta({ description: "The confirmation email's template; it must link {{confirmUrl}}. Needed with doubleOptIn." }),
    subject: z.string().min(1).max(200).default("Please confirm your subscription").meta({ description: "The confirmation email's subject." }),
    from: mailbox.optional().meta({ description: "The confirmation email's sender; default defaults.from." }),
    redirect: z
      .strictObject({
        success: redirectUrl.optional().meta({ description: "Where a browser goes after posting the form (303); without it a small \"check your inbox\" page." }),
        confirmed: redirectUrl.optional().meta({ description: "Where the confirmation link leads once confirmed; without it a small page." }),
      })
      .prefault({}),
    allowedOrigins: z
      .array(z.url({ protocol: /^https?$/, error: 'must be an origin such as "https://example.com"' }).refine((u) => new URL(u).origin === u.replace(/\/$/, ""), { error: "must be an origin only: scheme, host and port, no path" }))
      .max(50)
      .default([])
      .meta({ description: "Origins whose pages may post it with fetch (CORS); a plain HTML form post needs none." }),
  });
export type Form = z.infer<typeof form>;

/** An address such as "@nomaddesk.example": every address at that domain. */
const RECIPIENT_DOMAIN = /^@(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

/** A proof's recipient (`mk send test`): an address, or "@domain" for every address at it. */
export const testRecipient = z
  .string()
  .refine((value) => RECIPIENT_DOMAIN.test(value) || emailAddress.safeParse(value).success, {
    error: (issue) => `"${String(issue.input)}" is neither an email address (proofs@example.com) nor a domain written "@example.com"`,
    params: { code: "MK118" },
  })
  .meta({ description: 'An address, or "@example.com" for every address at that domain.' });

export const project = z.strictObject({
  apiVersion,
  kind: z.literal("Project"),
  name: resourceName.optional(),
  defaults: z.strictObject({
    from: mailbox,
    replyTo: emailAddress.optional(),
    locale: locale.default("en"),
    timezone: timeZone.default("UTC").meta({ description: "Used when a subscriber has no time zone." }),
    postalAddress: z.string().min(1).optional().meta({ description: "Physical postal address shown in every marketing email's footer." }),
  }),
  tracking: z
    .strictObject({
      clicks: z.boolean().default(true),
      opens: z.boolean().default(false),
      utm: utm.default({}),
      ip: z
        .enum(["keep", "truncate", "drop"])
        .default("truncate")
        .meta({ description: "What is stored of an open's or click's IP address once it was classified and its country found: keep all of it, truncate it to /24 (IPv4) or /48 (IPv6), or drop it." }),
      noOpensIn: z
        .array(countryCode)
        .max(250)
        .optional()
        .meta({ description: "No open pixel for subscribers in these countries (ISO 3166-1 alpha-2), e.g. where a tracking pixel needs consent." }),
    })
    .prefault({}),
  sending: z
    .strictObject({
      provider: z.enum(["ses", "smtp", "outbox"]).default("outbox"),
      configurationSet: z.string().min(1).optional().meta({ description: "SES configuration set (ses only)." }),
      maxPerSecond: z.number().positive().default(14),
      pricePer1000Usd: z.number().min(0).default(0.1),
      dkim: dkimSettings.optional().meta({ description: "Sign SMTP messages with DKIM (smtp only: SES signs its own): the domain, the selector and the runtime's variable holding the private key." }),
      transactional: z
        .strictObject({
          configurationSet: z.string().min(1).optional().meta({ description: "SES configuration set of transactional messages (messages/), instead of sending.configurationSet." }),
        })
        .optional(),
    })
    .prefault({}),
  topics: z
    .array(topic)
    .max(100)
    .superRefine((topics, ctx) => {
      const seen = new Set<string>();
      topics.forEach((t, i) => {
        if (seen.has(t.name)) ctx.addIssue({ code: "custom", path: [i, "name"], message: `topic "${t.name}" is defined twice` });
        seen.add(t.name);
      });
    })
    .optional()
    .meta({ description: "What campaigns and sequences may be about (their topic:); each subscriber can leave or join each on the preference page." }),
  forms: z
    .array(form)
    .max(100)
    .superRefine((forms, ctx) => {
      const seen = new Set<string>();
      forms.forEach((f, i) => {
        if (seen.has(f.name)) ctx.addIssue({ code: "custom", path: [i, "name"], message: `form "${f.name}" is defined twice` });
        seen.add(f.name);
      });
    })
    .optional()
    .meta({ description: "Signup forms (POST /f/<name>) with double opt-in." }),
  locales: localeSettings.optional().meta({ description: "The languages campaigns are sent in; catalogs in locales/<code>.yaml; {{t \"key\"}} in templates and subjects." }),
  testRecipients: z
    .array(testRecipient)
    .max(100)
    .optional()
    .meta({ description: "Who `mk send test` may send proofs to: addresses and @domains (the runtime enforces the applied list)." }),
  currency: currencyCode.default("USD"),
  tax: z
    .strictObject({
      pricesIncludeTax: z.boolean().default(true),
      rates: z.array(taxRateOverride).optional().meta({ description: "Rates that replace the shipped data for a country and period (e.g. a reduced rate the business qualifies for)." }),
    })
    .prefault({}),
  environments: z
    .record(resourceName, environment)
    .refine((envs) => Object.keys(envs).length > 0, { error: "needs at least one environment (for example prod)" }),
});

export type Project = z.infer<typeof project>;
export type ProjectInput = z.input<typeof project>;
