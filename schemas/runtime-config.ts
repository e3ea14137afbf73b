import { z } from "zod";

/**
 * The runtime's configuration, read from environment variables (DESIGN.md,
 * "Local and deployed"). Each variable's own message says what to set.
 */
export const runtimeConfig = z.object({
  DATABASE_URL: z
    .string({ error: "is required: the PostgreSQL connection string, postgres://user:password@host:5432/database" })
    .regex(/^postgres(ql)?:\/\/\S+$/, { error: "must be a PostgreSQL connection string such as postgres://user:password@host:5432/database" }),
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
  PORT: z.coerce
    .number({ error: "must be a port number" })
    .int({ error: "must be a port number" })
    .min(0, { error: "must be between 0 and 65535" })
    .max(65535, { error: "must be between 0 and 65535" })
    .default(4400),
  HOST: z.string().default("0.0.0.0"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

export type RuntimeConfig = z.infer<typeof runtimeConfig>;
