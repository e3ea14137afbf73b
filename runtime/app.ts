import { randomUUID } from "node:crypto";
import Fastify, { type FastifyInstance } from "fastify";
import pg from "pg";
import { applyRequest, audienceCountRequest, type ApiErrorBody } from "../schemas/api.js";
import type { RuntimeConfig } from "../schemas/runtime-config.js";
import { countAudiences } from "./audiences/count.js";
import { DEFAULT_BODY_LIMIT, enforceRouteRules, requireRouteRules } from "./http/access.js";
import { limitBodyDepth } from "./http/body-depth.js";
import { bearerScope } from "./http/auth.js";
import { ApiError, databaseUnavailable, parseBody, queryLimit, RETRY_AFTER_SECONDS } from "./http/errors.js";
import { registerHealth } from "./http/health.js";
import { createMetrics, registerMetricsRoute } from "./http/metrics.js";
import { serializeRequest } from "./http/request-log.js";
import { applyState, listApplies, readState } from "./state/store.js";
import { ensureEventPartitions, setRetention } from "./events/partitions.js";
import { openCountryLookup } from "./events/geoip.js";
import { registerEventRoutes } from "./events/routes.js";
import { createReportCache } from "./reports/cache.js";
import { foldRollups, registerRollupMetrics } from "./reports/rollups.js";
import { registerReportRoutes } from "./reports/routes.js";
import { shippedRates } from "./tax/rates.js";
import { registerTaxRoutes } from "./tax/routes.js";
import { registerPublicLinks } from "./public/links.js";
import { networkLookup } from "./engagement/networks.js";
import { registerOpenPixel } from "./engagement/pixel-route.js";
import { registerFormRoutes } from "./forms/routes.js";
import { purgeExpiredSignups } from "./forms/signup.js";
import { registerPreferencePage } from "./public/preferences.js";
import { registerSesWebhook } from "./webhooks/routes.js";
import { httpsCertificates, visitSubscribeUrl } from "./webhooks/sns-https.js";
import type { CertificateSource } from "./webhooks/sns-signature.js";
import { durationMs } from "../schemas/common.js";
import { registerMessageRoutes } from "./messages/routes.js";
import { purgeExpiredMessageRequests } from "./messages/send.js";
import { registerSendRoutes } from "./sending/routes.js";
import { registerTestSendRoute } from "./sending/test-sends.js";
import { createSending } from "./sending/service.js";
import { registerSubscriberRoutes } from "./subscribers/routes.js";
import { erasureKey } from "./subscribers/erase.js";
import { registerPrivacyRoutes } from "./subscribers/privacy-routes.js";
import { registerTokenRoutes } from "./tokens/routes.js";
import { systemClock, type Clock } from "./clock.js";
import { createSequences } from "./sequences/service.js";
import { databaseTarget } from "./db/connection-failure.js";
import { DatabaseStatus } from "./db/database-status.js";

export interface Runtime {
  app: FastifyInstance;
  pool: pg.Pool;
  /** Whether the database can be used, as requests, workers and timers find it. */
  database: DatabaseStatus;
  /**
   * With `awaitDatabase`: the database is reached and migrated; serve every
   * route and start the workers and timers. Call it once the runtime listens.
   */
  databaseReady: () => Promise<void>;
  /** Stop serving and close the database pool. */
  close: () => Promise<void>;
}

/** How often campaign analytics deltas are folded into the rollups. */
const ROLLUP_FOLD_MS = 2000;

/** Seams for tests: where SNS signing certificates come from, and how a subscription is confirmed. */
export interface RuntimeOptions {
  /**
   * The database may not be reachable or migrated yet (server.ts): until
   * `databaseReady()`, /healthz and every route answer 503 and no worker or
   * timer runs. Without it the caller migrated first (mk up, tests), and the
   * workers start when the runtime listens.
   */
  awaitDatabase?: boolean;
  snsCertificates?: CertificateSource;
  confirmSnsSubscription?: (url: URL) => Promise<void>;
  /** How often campaign analytics deltas are folded into the rollups; 0 = never (a test folds them itself). */
  rollupFoldIntervalMs?: number;
  /** The time sequences schedule by (enrollments, waits, conditions); tests move it forward. */
  clock?: Clock;
  /** Where log lines go instead of stdout; tests read them. */
  logStream?: { write(line: string): void };
}

/**
 * The runtime's HTTP service, its workers and timers. Tests build it
 * in-process and listen on port 0.
 */
export function buildRuntime(config: RuntimeConfig, options: RuntimeOptions = {}): Runtime {
  // Ten for requests, plus one per worker: a sequence worker holds its connection for a whole batch.
  // A connection that gets no answer in 30 s fails (a 503 to the request) rather than waiting for the kernel's TCP timeout.
  const pool = new pg.Pool({ connectionString: config.DATABASE_URL, max: 10 + 2 * config.MK_WORKERS, application_name: "mk-runtime", connectionTimeoutMillis: 30_000 });
  const clock = options.clock ?? systemClock;
  const metrics = createMetrics(pool);
  const countryOf = openCountryLookup(config.MK_GEOIP_DB);
  // Erased addresses are kept as HMACs under a key derived from the signing secret (runtime/subscribers/erase.ts).
  const erasure = erasureKey(config.MK_SIGNING_SECRET);
  // The shipped tax rates are read now: a damaged data file stops the runtime at start, not at the first purchase.
  shippedRates();
  const trustedProxies = config.MK_TRUST_PROXY;
  const reportCache = createReportCache({ ttlSeconds: config.MK_REPORT_CACHE_SECONDS, redisUrl: config.REDIS_URL });
  const app = Fastify({
    // Link tokens in request URLs are cut to a prefix (request-log.ts): a whole one is a working link.
    logger: { level: config.LOG_LEVEL, redact: ["req.headers.authorization"], serializers: { req: serializeRequest }, ...(options.logStream ? { stream: options.logStream } : {}) },
    bodyLimit: DEFAULT_BODY_LIMIT,
    // request.ip is the socket's peer unless MK_TRUST_PROXY names it as a proxy: an open's address must be the reader's, never one a client claims.
    // A hop count as the test proxy-addr makes of each hop: trusted when it is one of the first N from this server.
    trustProxy: typeof trustedProxies === "number" ? (_address: string, hop: number) => hop < trustedProxies : (trustedProxies ?? false),
    // An email address in a path (/v1/subscribers/:email) may take 254 characters, escaped up to three times that.
    routerOptions: { maxParamLength: 800 },
    genReqId: (request) => {
      const given = request.headers["x-request-id"];
      return typeof given === "string" && /^[\w.-]{1,100}$/.test(given) ? given : randomUUID();
    },
  });

  // An idle connection the server closed (restart, failover) is replaced on next use, not a crash.
  pool.on("error", (error) => app.log.warn({ code: (error as { code?: string }).code, reason: error.message }, "idle database connection closed"));
  const database = new DatabaseStatus(app.log, databaseTarget(config.DATABASE_URL), options.awaitDatabase ? "waiting" : "up");

  // Every route must have its rule in runtime/http/access.ts (who may call it, its body's size and type).
  requireRouteRules(app);
  // No JSON body nests deeper than any route takes (runtime/http/body-depth.ts).
  limitBodyDepth(app);

  // 1. Request ids on every response; latency by route.
  app.addHook("onRequest", async (request, reply) => {
    reply.header("x-request-id", request.id);
  });
  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url ?? "unmatched";
    metrics.httpDuration.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });

  // 2. Errors: the client's as they are, a lost database as a 503, ours as a 500 with the request id only.
  app.setErrorHandler(async (thrown, request, reply) => {
    const error = database.reportFailure(thrown) ? databaseUnavailable("down") : thrown;
    if (error instanceof ApiError) {
      if (error.status === 503) reply.header("retry-after", RETRY_AFTER_SECONDS);
      const body: ApiErrorBody = { error: { code: error.code, message: error.message, ...(error.fields ? { fields: error.fields } : {}), requestId: request.id } };
      return reply.status(error.status).send(body);
    }
    const status = (error as { statusCode?: number }).statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      return reply.status(status).send({ error: { code: "bad_request", message: (error as Error).message, requestId: request.id } } satisfies ApiErrorBody);
    }
    request.log.error({ err: error }, "request failed");
    return reply.status(500).send({ error: { code: "internal", message: "internal error; the runtime's log has the details under this request id", requestId: request.id } } satisfies ApiErrorBody);
  });
  app.setNotFoundHandler(async (request, reply) =>
    reply.status(404).send({ error: { code: "not_found", message: `no route ${request.method} ${request.url}`, requestId: request.id } } satisfies ApiErrorBody),
  );

  // 3. Public: health (and 503 everywhere while the runtime waits for its database) and metrics.
  registerHealth(app, { pool, database });
  registerMetricsRoute(app, metrics.registry, config.MK_METRICS_TOKEN);

  // 4. Sending, sequences, event partitions and campaign rollups: workers and timers, all telling `database` how their calls went.
  const sending = createSending(config, pool, metrics.registry, app.log, database);
  const sequences = createSequences(pool, metrics.registry, app.log, clock, config.MK_WORKERS, database);
  // While the database is away its status has said so, once; a timer's failure is news only otherwise.
  const warnUnlessDatabaseDown = (error: unknown, message: string) => {
    if (!database.reportFailure(error)) app.log.warn({ code: (error as { code?: string }).code, reason: (error as Error).message }, message);
  };

  // Monthly partitions of events, a few months ahead, and the retention period that guards detaching them: now, then daily.
  const eventMaintenance = async () => {
    try {
      await setRetention(pool, config.MK_RETENTION_YEARS);
      const created = await ensureEventPartitions(pool);
      await purgeExpiredSignups(pool, clock());
      await purgeExpiredMessageRequests(pool);
      if (created.length > 0) app.log.info({ months: created }, "created event partitions");
    } catch (error) {
      warnUnlessDatabaseDown(error, "could not create event partitions or record the retention period; retrying in a day");
    }
  };
  let partitionTimer: NodeJS.Timeout | undefined;

  // Campaign analytics: deltas folded into the rollups every few seconds (reports are exact either way); one fold at a time.
  registerRollupMetrics(metrics.registry, pool);
  let folding: Promise<void> | undefined;
  const fold = () => {
    folding ??= foldRollups(pool)
      .then(
        () => database.reportSuccess(),
        (error: unknown) => warnUnlessDatabaseDown(error, "could not fold campaign rollups; retrying"),
      )
      .finally(() => (folding = undefined));
  };
  let foldTimer: NodeJS.Timeout | undefined;

  // All of it starts when the runtime listens, or (awaitDatabase) once the database is migrated.
  let working: Promise<void> | undefined;
  const startWork = () =>
    (working ??= (async () => {
      sending.start();
      sequences.start();
      await eventMaintenance();
      partitionTimer = setInterval(() => void eventMaintenance(), 24 * 3600 * 1000).unref();
      const every = options.rollupFoldIntervalMs ?? ROLLUP_FOLD_MS;
      if (every > 0) foldTimer = setInterval(fold, every).unref();
    })());
  app.addHook("onReady", async () => {
    if (database.state !== "waiting") await startWork();
  });
  app.addHook("onClose", async () => {
    await Promise.all([sending.stop(), sequences.stop()]);
    clearInterval(partitionTimer);
    clearInterval(foldTimer);
    await folding;
  });
  // The signed links inside sent emails, and the open pixel; opens and clicks are classified by their address's network (MK_ASN_DB).
  const lookups = { networks: () => networkLookup(config.MK_ASN_DB), countryOf };
  // A missing or broken ASN database stops the runtime at start, not at the first open.
  app.addHook("onReady", async () => void (await lookups.networks()));
  registerPublicLinks(app, { pool, signingSecret: config.MK_SIGNING_SECRET, composer: sending.composer, ...lookups });
  registerOpenPixel(app, { pool, signingSecret: config.MK_SIGNING_SECRET, ...lookups });
  registerPreferencePage(app, { pool, signingSecret: config.MK_SIGNING_SECRET });
  // Signup forms and their confirmation links (mk.yaml forms:).
  const forms = registerFormRoutes(app, {
    pool,
    signingSecret: config.MK_SIGNING_SECRET,
    erasureKey: erasure,
    clock,
    attributionWindowMs: durationMs(config.MK_ATTRIBUTION_WINDOW),
    redisUrl: config.REDIS_URL,
    perIpPerMinute: config.MK_FORM_RATE_PER_IP,
  });
  app.addHook("onClose", forms.close);

  // 5. Provider webhooks: signed by the provider, not by our token.
  registerSesWebhook(app, {
    pool,
    registry: metrics.registry,
    log: app.log,
    policy: { topicArns: new Set(config.MK_SNS_TOPIC_ARNS), maxAgeMs: durationMs(config.MK_SNS_MAX_AGE) },
    clock,
    certificates: options.snsCertificates ?? httpsCertificates(),
    confirmSubscription: options.confirmSnsSubscription ?? visitSubscribeUrl,
    networks: lookups.networks,
  });

  // 6. The API. Every route's rule (runtime/http/access.ts) is enforced before its body is read: the token's scope, the body's type.
  enforceRouteRules(app, bearerScope({ apiToken: config.MK_API_TOKEN, pool }));
  app.register(
    async (v1) => {
      v1.get("/state", async () => readState(pool));
      v1.post("/apply", async (request) => {
        try {
          const result = await applyState(pool, parseBody(applyRequest, request.body), clock());
          metrics.applies.inc({ result: "applied" });
          return result;
        } catch (error) {
          metrics.applies.inc({ result: error instanceof ApiError ? error.code : "error" });
          throw error;
        }
      });
      v1.get("/applies", async (request) => listApplies(pool, queryLimit(request.query, 20, 1000)));
      v1.post("/audiences/count", async (request) => countAudiences(pool, parseBody(audienceCountRequest, request.body)));
      registerSubscriberRoutes(v1, { pool, erasureKey: erasure });
      registerPrivacyRoutes(v1, { pool, erasureKey: erasure, clock });
      registerSendRoutes(v1, { pool, transport: sending.transport });
      const proofs = registerTestSendRoute(v1, { pool, transport: sending.transport, perHour: config.MK_TEST_SENDS_PER_HOUR, redisUrl: config.REDIS_URL });
      v1.addHook("onClose", proofs.close);
      registerEventRoutes(v1, { pool, registry: metrics.registry, batchLimit: config.MK_EVENTS_BATCH_LIMIT, attributionWindow: config.MK_ATTRIBUTION_WINDOW, countryOf, networks: lookups.networks, clock, ledgerKey: config.MK_LEDGER_KEY });
      registerReportRoutes(v1, { pool, cache: reportCache });
      registerMessageRoutes(v1, { pool });
      registerTaxRoutes(v1, { pool, ledgerKey: config.MK_LEDGER_KEY });
      registerTokenRoutes(v1, { pool });
    },
    { prefix: "/v1" },
  );

  return {
    app,
    pool,
    database,
    databaseReady: async () => {
      database.ready();
      await startWork();
    },
    close: async () => {
      await app.close();
      reportCache.close();
      await pool.end();
    },
  };
}
