import { isIP } from "node:net";
import { z } from "zod";
import { duration, DURATION_PATTERN, durationMs } from "./common.js";

/** An empty variable (compose's `${NAME:-}`) counts as unset. */
const unsetWhenEmpty = (value: unknown) => (value === "" ? undefined : value);

/** arn:aws:sns:<region>:<12-digit account>:<topic name>; the first group is the region. */
export const SNS_TOPIC_ARN = /^arn:aws:sns:([a-z]{2}(?:-[a-z]+)+-[0-9]+):[0-9]{12}:[A-Za-z0-9_-]{1,256}(?:\.fifo)?$/;

/** proxy-addr's names for address ranges, as Fastify's trustProxy takes them. */
const PROXY_RANGES = new Set(["loopback", "linklocal", "uniquelocal"]);

/** An address, or an address with a prefix length no longer than its family's. */
function isAddressOrCidr(text: string): boolean {
  const [address = "", prefix, ...rest] = text.split("/");
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
}

/** MK_TRUST_PROXY as Fastify's trustProxy takes it: a hop count, or the trusted peers (names, addresses, CIDRs). */
function trustedProxies(text: string, context: z.RefinementCtx): number | string[] {
  if (/^\d+$/.test(text.trim())) {
    const hops = Number(text.trim());
    if (hops < 1 || hops > 10) context.addIssue({ code: "custom", input: text, message: "must be a number of proxy hops between 1 and 10, or the proxies' addresses" });
    return hops;
  }
  const entries = text.split(",").map((entry) => entry.trim()).filter((entry) => entry !== "");
  for (const entry of entries.filter((e) => !PROXY_RANGES.has(e) && !isAddressOrCidr(e))) {
    context.addIssue({ code: "custom", input: entry, message: `must be loopback, linklocal, uniquelocal, addresses or CIDRs separated by commas (such as 10.0.0.0/8), or a number of hops; "${entry}" is none of these` });
  }
  if (entries.length === 0) context.addIssue({ code: "custom", input: text, message: "names no proxy: give loopback, addresses or CIDRs, or a number of hops" });
  return entries;
}

/**
 * The runtime's configuration, read from environment variables (DESIGN.md,
 * "Local and deployed"). Each variable's own message says what to set.
 */
export const runtimeConfig = z.object({
  DATABASE_URL: z
    .string({ error: "is required: the PostgreSQL connection string, postgres://user:password@host:5432/database" })
    .regex(/^postgres(ql)?:\/\/\S+$/, { error: "must be a PostgreSQL connection string such as postgres://user:password@host:5432/database" }),
  MK_MIGRATION_DATABASE_URL: z
    .preprocess(
      unsetWhenEmpty,
      z
        .string()
        .regex(/^postgres(ql)?:\/\/\S+$/, { error: "must be a PostgreSQL connection string such as postgres://mk_owner:password@host:5432/mk (the role that owns the tables)" })
        .optional(),
    )
    .meta({
      description:
        "The owner role migrations run as; DATABASE_URL's role then gets only what the runtime uses (tax_ledger: select and insert). Unset, migrations run as DATABASE_URL's role.",
    }),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\/\S+$/, { error: "must be a Redis URL such as redis://host:6379" })
    .optional(),
  MK_API_TOKEN: z
    .string({ error: "is required: the bearer token clients send (at least 32 characters; openssl rand -base64 32)" })
    .min(32, { error: "must be at least 32 characters (openssl rand -base64 32)" }),
  MK_SIGNING_SECRET: z
    .string({ error: "is required: the secret that signs unsubscribe and tracking links (at least 32 characters)" })
    .min(32, { error: "must be at least 32 characters (openssl rand -base64 32)" }),
  MK_METRICS_TOKEN: z
    .preprocess(unsetWhenEmpty, z.string().min(32, { error: "must be at least 32 characters (openssl rand -base64 32), or unset to leave /metrics open" }).optional())
    .meta({ description: "The bearer token GET /metrics requires (Prometheus: authorization credentials); unset, /metrics is open." }),
  PORT: z.coerce
    .number({ error: "must be a port number" })
    .int({ error: "must be a port number" })
    .min(0, { error: "must be between 0 and 65535" })
    .max(65535, { error: "must be between 0 and 65535" })
    .default(4400),
  HOST: z.string().default("0.0.0.0"),
  MK_PUBLIC_URL: z
    .url({ protocol: /^https?$/, error: "must be the runtime's public base URL, such as https://mk.example.com (unsubscribe and tracking links point there)" })
    .transform((url) => url.replace(/\/+$/, ""))
    .optional(),
  MK_TRANSPORT: z
    .enum(["outbox", "ses", "smtp"], { error: "must be outbox, ses or smtp" })
    .default("outbox")
    .meta({ description: "Where mail goes. outbox keeps it in the database (mk up); it also takes campaigns of projects set to ses or smtp." }),
  AWS_REGION: z.string().min(1).optional(),
  MK_SES_ENDPOINT: z.url({ error: "must be a URL" }).optional(),
  MK_SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\/\S+$/, { error: "must be an SMTP URL such as smtp://user:password@smtp.example.com:587" })
    .optional(),
  MK_UNSUBSCRIBE_MAILTO: z.email({ error: "must be an email address" }).optional(),
  MK_WORKERS: z.coerce.number({ error: "must be a number" }).int().min(0, { error: "must be 0 or more" }).max(64).default(2),
  MK_LEASE_SECONDS: z.coerce.number({ error: "must be a number" }).int().min(5, { error: "must be at least 5" }).max(3600).default(120),
  MK_ATTRIBUTION_WINDOW: duration.default("7d").meta({ description: "How long after a send or a click an event still counts for that campaign." }),
  MK_EVENTS_BATCH_LIMIT: z.coerce.number({ error: "must be a number" }).int().min(1).max(100_000).default(1000),
  MK_FORM_RATE_PER_IP: z.coerce
    .number({ error: "must be a number of signups per minute" })
    .int({ error: "must be a whole number of signups per minute" })
    .min(1, { error: "must be at least 1" })
    .max(1_000_000, { error: "must be at most 1000000" })
    .default(20)
    .meta({ description: "Form posts (POST /f/<form>) one IP address may make per minute, in bursts of a quarter of it; more get a 429. Shared through Redis when REDIS_URL is set." }),
  MK_TEST_SENDS_PER_HOUR: z.coerce
    .number({ error: "must be a number of proofs per hour" })
    .int({ error: "must be a whole number of proofs per hour" })
    .min(1, { error: "must be at least 1" })
    .max(100_000, { error: "must be at most 100000" })
    .default(50)
    .meta({ description: "Proofs (POST /v1/sends/test, one per recipient) the runtime sends per hour, all at once at most; more get a 429. Shared through Redis when REDIS_URL is set." }),
  MK_REPORT_CACHE_SECONDS: z.coerce
    .number({ error: "must be a number of seconds" })
    .int({ error: "must be a whole number of seconds" })
    .min(0, { error: "must be 0 (no cache) or more" })
    .max(3600, { error: "must be at most 3600" })
    .default(15)
    .meta({ description: "How long a computed campaign report is served from the cache (Redis when REDIS_URL is set)." }),
  MK_GEOIP_DB: z
    .string()
    .min(1)
    .optional()
    .meta({ description: "A MaxMind-format country database (.mmdb, e.g. GeoLite2-Country) for the country of events with only an IP; default DB-IP Lite shipped with mk; off to disable." }),
  MK_ASN_DB: z
    .string()
    .min(1)
    .optional()
    .meta({ description: "The network (ASN) database that tells mail proxies and scanners from people: a directory holding ip-location-db's asn-ipv4-num.csv and asn-ipv6-num.csv, or a GeoLite2-ASN .mmdb file; default the ip-location-db ASN data shipped with mk; off to disable." }),
  MK_TRUST_PROXY: z
    .preprocess(unsetWhenEmpty, z.string().transform(trustedProxies).optional())
    .meta({
      description:
        "Which peers' X-Forwarded-For is believed, so an open's or click's address is the reader's rather than the load balancer's: loopback, linklocal, uniquelocal, addresses and CIDRs (comma-separated), or a number of hops; unset, none (the socket's address is used).",
    }),
  MK_RETENTION_YEARS: z.coerce
    .number({ error: "must be a number of years" })
    .int({ error: "must be a whole number of years" })
    .min(1, { error: "must be at least 1" })
    .max(100)
    .default(10)
    .meta({ description: "Years purchases, refunds and the tax ledger are kept; months holding them cannot be detached sooner." }),
  MK_LEDGER_KEY: z
    .preprocess(unsetWhenEmpty, z.string().min(32, { error: "must be at least 32 characters (openssl rand -base64 32)" }).optional())
    .meta({ description: "Keys the tax ledger's hash chain (HMAC-SHA-256), so whoever changes rows cannot recompute it; verification needs it. Unset, the chain is plain SHA-256 (logged at start)." }),
  MK_DB_WAIT: z.coerce
    .number({ error: "must be a number of seconds" })
    .int({ error: "must be a whole number of seconds" })
    .min(0, { error: "must be 0 (try once) or more" })
    .max(86_400, { error: "must be at most 86400 (a day)" })
    .default(60)
    .meta({ description: "How long the runtime waits at start for its database to answer before it exits (69); meanwhile /healthz answers 503." }),
  MK_SNS_TOPIC_ARNS: z
    .string()
    .transform((text, context) => {
      const arns = text.split(",").map((arn) => arn.trim()).filter((arn) => arn !== "");
      for (const arn of arns.filter((a) => !SNS_TOPIC_ARN.test(a))) {
        context.addIssue({ code: "custom", input: arn, message: `must be SNS topic ARNs separated by commas, such as arn:aws:sns:eu-west-1:123456789012:ses-events; "${arn}" is not one` });
      }
      return arns;
    })
    .default([])
    .meta({ description: "The SNS topics POST /v1/webhooks/ses accepts, comma-separated ARNs; unset, it refuses every message." }),
  MK_SNS_MAX_AGE: duration
    .refine((value) => !DURATION_PATTERN.test(value) || durationMs(value) > 0, { error: "must be at least 1m" })
    .default("6h")
    .meta({ description: "How old a signed SNS message (its Timestamp) may be; older ones are refused as replays." }),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
}).superRefine((config, context) => {
  if (config.MK_TRANSPORT === "ses" && !config.AWS_REGION) {
    context.addIssue({ code: "custom", path: ["AWS_REGION"], message: "is required when MK_TRANSPORT is ses: the SES region, such as eu-west-1" });
  }
  if (config.MK_TRANSPORT === "smtp" && !config.MK_SMTP_URL) {
    context.addIssue({ code: "custom", path: ["MK_SMTP_URL"], message: "is required when MK_TRANSPORT is smtp: smtp://user:password@host:587" });
  }
});

export type RuntimeConfig = z.infer<typeof runtimeConfig>;
