import type pg from "pg";
import type { Registry } from "prom-client";
import type { RuntimeConfig } from "../../schemas/runtime-config.js";
import type { DatabaseWatch } from "../db/database-status.js";
import type { DkimSettings } from "../../schemas/dkim.js";
import { MessageComposer } from "./compose.js";
import { appliedDkimKey, type DkimLog } from "./dkim.js";
import { PollingLoop } from "../polling-loop.js";
import { resumeStarts } from "./ledger-fill.js";
import { createSendMetrics } from "./metrics.js";
import { SEND_SQL } from "./queries.js";
import { createRateLimiter, type RateLimitLog, type SendRateLimiter } from "./rate-limit.js";
import { outboxTransport } from "./transports/outbox.js";
import { sesTransport } from "./transports/ses.js";
import { smtpTransport } from "./transports/smtp.js";
import type { Transport } from "./transports/transport.js";
import { SendWorker, type WorkerLog } from "./worker.js";

export type SendingConfig = Pick<
  RuntimeConfig,
  "MK_TRANSPORT" | "AWS_REGION" | "MK_SES_ENDPOINT" | "MK_SMTP_URL" | "MK_SIGNING_SECRET" | "MK_PUBLIC_URL" | "MK_UNSUBSCRIBE_MAILTO" | "MK_WORKERS" | "MK_LEASE_SECONDS" | "REDIS_URL" | "PORT"
>;

export interface Sending {
  transport: Transport;
  composer: MessageComposer;
  start(): void;
  stop(): Promise<void>;
}

/**
 * The runtime's transport. SMTP signs with the key the applied project's
 * sending.dkim names, read from `env` (SES signs its own; the outbox keeps
 * messages unsigned in the database).
 */
export function createTransport(config: SendingConfig, signing: { pool: pg.Pool; env: NodeJS.ProcessEnv; log: DkimLog }): Transport {
  if (config.MK_TRANSPORT === "ses") return sesTransport({ region: config.AWS_REGION!, endpoint: config.MK_SES_ENDPOINT });
  if (config.MK_TRANSPORT === "smtp") {
    const { pool, env, log } = signing;
    const settings = async () => (await pool.query<{ spec: { sending?: { dkim?: DkimSettings } } }>(SEND_SQL.project)).rows[0]?.spec.sending?.dkim;
    return smtpTransport(config.MK_SMTP_URL!, { dkim: appliedDkimKey(settings, env, log) });
  }
  return outboxTransport();
}

/** The project's `sending.maxPerSecond`, re-read every few seconds, so an apply that changes it takes effect. */
function projectRateLimiter(pool: pg.Pool, redisUrl: string | undefined, log: RateLimitLog): SendRateLimiter {
  let current: { perSecond: number; limiter: SendRateLimiter } | undefined;
  let checkedAt = 0;
  const limiter = async (): Promise<SendRateLimiter> => {
    if (current && Date.now() - checkedAt < 5000) return current.limiter;
    const spec = (await pool.query<{ spec: { sending?: { maxPerSecond?: number } } }>(SEND_SQL.project)).rows[0]?.spec;
    // Nothing is applied yet (so nothing to send): ask again next time instead of keeping the default.
    if (spec) checkedAt = Date.now();
    const perSecond = spec?.sending?.maxPerSecond ?? 14;
    if (current?.perSecond !== perSecond) {
      await current?.limiter.close();
      current = { perSecond, limiter: createRateLimiter({ perSecond, redisUrl, log }) };
    }
    return current.limiter;
  };
  return {
    take: async (wanted, signal) => (await limiter()).take(wanted, signal),
    close: async () => current?.limiter.close(),
  };
}

/**
 * The runtime's senders: MK_WORKERS workers on one transport, one shared rate
 * limit, one composer, one database status. `env` holds the DKIM key that
 * mk.yaml's sending.dkim.privateKeyEnv names.
 */
export function createSending(config: SendingConfig, pool: pg.Pool, registry: Registry, log: WorkerLog & RateLimitLog & DkimLog, database?: DatabaseWatch, env: NodeJS.ProcessEnv = process.env): Sending {
  const transport = createTransport(config, { pool, env, log });
  const metrics = createSendMetrics(registry, pool);
  const publicUrl = config.MK_PUBLIC_URL ?? `http://127.0.0.1:${config.PORT}`;
  const composer = new MessageComposer(
    { publicUrl, signingSecret: config.MK_SIGNING_SECRET, unsubscribeMailto: config.MK_UNSUBSCRIBE_MAILTO },
    async (hash) => {
      const html = (await pool.query<{ html: string }>(SEND_SQL.compiledHtml, [hash])).rows[0]?.html;
      if (html === undefined) throw new Error(`compiled template ${hash} is missing`);
      return html;
    },
  );
  const limiter = projectRateLimiter(pool, config.REDIS_URL, log);
  const workers = Array.from(
    { length: config.MK_WORKERS },
    () => new SendWorker({ pool, transport, limiter, composer, metrics, log, database, leaseSeconds: config.MK_LEASE_SECONDS }),
  );
  // Campaign starts cut short (their runtime died mid-way) are finished by whichever runtime runs: at once, then every few seconds.
  const starts: PollingLoop = new PollingLoop(() => resumeStarts(pool, starts.signal), { idleMs: 3000, log, name: "campaign start", id: "campaign-starts", database });
  return {
    transport,
    composer,
    start: () => {
      starts.start();
      workers.forEach((w) => w.start());
    },
    stop: async () => {
      await Promise.all([starts.stop(), ...workers.map((w) => w.stop())]);
      await limiter.close();
      await transport.close();
    },
  };
}
