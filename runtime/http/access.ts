import type { FastifyInstance, FastifyRequest } from "fastify";
import type { TokenScope } from "../../schemas/tokens.js";
import type { ScopeOf, TokenIdentity } from "./auth.js";
import { ApiError } from "./errors.js";

/** Who may call a route: anyone (it needs no token, or carries its own proof), or a token whose scope grants this one. */
export type Access = "public" | TokenScope;

export interface RouteRule {
  access: Access;
  /**
   * The most bytes its body may take when not the server's DEFAULT_BODY_LIMIT;
   * "route": the route sets its own from the configuration. Bodies are read
   * only after the token was checked.
   */
  bodyLimit?: number | "route";
  /** The media types its body may have (JSON unless said); any other is a 415 before the body is read. */
  contentTypes?: readonly string[];
}

/** The most any body may take unless its route's rule says otherwise, unmatched routes included. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/** The scopes that grant each scope: admin grants all, apply grants what plan may do. */
const GRANTED_BY: Record<TokenScope, readonly TokenScope[]> = {
  admin: ["admin"],
  apply: ["apply", "admin"],
  plan: ["plan", "apply", "admin"],
  ingest: ["ingest", "admin"],
  report: ["report", "admin"],
  messages: ["messages", "admin"],
};

const JSON_BODY = ["application/json"];
/** RFC 8058: one-click unsubscribes post multipart/form-data or form-urlencoded; the confirmation page posts the latter. */
const FORM_BODY = ["application/x-www-form-urlencoded", "multipart/form-data"];
/** Amazon SNS posts its JSON as text/plain. */
const SNS_BODY = ["text/plain", "application/json"];

/**
 * Every route of the runtime, by method and URL as registered (HEAD goes as
 * GET), and who may call it: the one place that says so. Registering a route
 * missing here stops the runtime at start. Personal data (the outbox's
 * messages, dead letters' payloads, one subscriber's journey) and changes to
 * subscribers, exchange rates and tokens are admin's.
 */
export const ROUTES: Readonly<Record<string, RouteRule>> = {
  "GET /healthz": { access: "public" },
  "GET /metrics": { access: "public" },
  "GET /u/:token": { access: "public" },
  "POST /u/:token": { access: "public", bodyLimit: 4096, contentTypes: FORM_BODY },
  "GET /c/:token": { access: "public" },
  "GET /o/:token": { access: "public" },
  "GET /v/:token": { access: "public" },
  // The preference page's form: a marker, at most 100 topic names (63 characters each), the everything box.
  "GET /p/:token": { access: "public" },
  "POST /p/:token": { access: "public", bodyLimit: 16 * 1024, contentTypes: ["application/x-www-form-urlencoded"] },
  // Signup forms: one address, a first name and some topic names fit in 16 KiB; the confirmation page's button posts nothing.
  "POST /f/:form": { access: "public", bodyLimit: 16 * 1024, contentTypes: ["application/x-www-form-urlencoded", "application/json"] },
  "OPTIONS /f/:form": { access: "public" },
  "GET /f/confirm/:token": { access: "public" },
  "POST /f/confirm/:token": { access: "public", bodyLimit: 1024, contentTypes: ["application/x-www-form-urlencoded"] },
  "POST /v1/webhooks/ses": { access: "public", contentTypes: SNS_BODY },

  // What `mk plan`, `mk status` and `mk history` need.
  "GET /v1/state": { access: "plan" },
  "GET /v1/applies": { access: "plan" },
  "POST /v1/audiences/count": { access: "plan" },

  // Applies carry every compiled template: 1,000 campaigns are some tens of megabytes.
  "POST /v1/apply": { access: "apply", bodyLimit: 64 * 1024 * 1024 },
  "POST /v1/sends/due": { access: "apply" },
  "POST /v1/sends/start": { access: "apply" },
  "GET /v1/sends": { access: "apply" },
  "GET /v1/sends/ambiguous": { access: "apply" },
  // Proofs (mk send test): whoever may apply decides what every subscriber gets and, through the applied
  // testRecipients, who may get proofs; one rendered message with its text part fits in 5 MiB.
  "POST /v1/sends/test": { access: "apply", bodyLimit: 5 * 1024 * 1024 },

  // MK_EVENTS_BATCH_LIMIT events at 8 KB each, at least 1 MiB (runtime/events/routes.ts).
  "POST /v1/events": { access: "ingest", bodyLimit: "route" },

  // One transactional message (runtime/messages/routes.ts): an address, a locale and its data fit in 64 KiB.
  "POST /v1/messages/:name": { access: "messages", bodyLimit: 64 * 1024 },

  "GET /v1/reports/campaigns": { access: "report" },
  "GET /v1/reports/messages/:name": { access: "report" },
  "GET /v1/reports/campaigns/:name": { access: "report" },
  "GET /v1/reports/sequences/:name": { access: "report" },
  "GET /v1/reports/tax": { access: "report" },
  "GET /v1/tax/rates": { access: "report" },
  "GET /v1/tax/verify": { access: "report" },

  "GET /v1/reports/sequences/:name/subscribers/:email": { access: "admin" },
  // 10,000 subscribers at 3 KiB each.
  "POST /v1/subscribers/import": { access: "admin", bodyLimit: 32 * 1024 * 1024 },
  // One subscriber at most 3 KiB, its consent proof included.
  "POST /v1/subscribers": { access: "admin", bodyLimit: 64 * 1024 },
  "GET /v1/subscribers": { access: "admin" },
  "GET /v1/subscribers/:email": { access: "admin" },
  "PATCH /v1/subscribers/:email": { access: "admin", bodyLimit: 64 * 1024 },
  // Data-subject requests: everything held about one address, and its erasure.
  "GET /v1/subscribers/:email/export": { access: "admin" },
  "DELETE /v1/subscribers/:email": { access: "admin" },
  "GET /v1/outbox": { access: "admin" },
  "GET /v1/outbox/:sendId": { access: "admin" },
  "GET /v1/events/dead-letters": { access: "admin" },
  "POST /v1/events/dead-letters/replay": { access: "admin" },
  // mk fx import's batches: 20,000 rates at some 80 bytes each.
  "POST /v1/fx/rates": { access: "admin", bodyLimit: 4 * 1024 * 1024 },
  "GET /v1/tokens": { access: "admin" },
  "POST /v1/tokens": { access: "admin" },
  "POST /v1/tokens/:name/revoke": { access: "admin" },
};

/** The rule of a route, by its method and registered URL. */
export function routeRule(method: string, url: string): RouteRule | undefined {
  return ROUTES[`${method === "HEAD" ? "GET" : method} ${url}`];
}

/** Whether a token of scope `scope` may call a route that needs `needed`. */
export function grants(scope: TokenScope, needed: TokenScope): boolean {
  return GRANTED_BY[needed].includes(scope);
}

const registered = new WeakMap<FastifyInstance, { method: string; url: string }[]>();

/** The routes `app` registered since requireRouteRules, HEAD ones included, in order. */
export function registeredRoutes(app: FastifyInstance): readonly { method: string; url: string }[] {
  return registered.get(app) ?? [];
}

/**
 * ROUTES and the routes registered after this must match exactly, or the
 * runtime stops at start: a route without a rule when it is registered, a rule
 * without a route when the runtime gets ready. A rule's bodyLimit becomes its
 * route's. Call it before any route.
 */
export function requireRouteRules(app: FastifyInstance): void {
  const routes: { method: string; url: string }[] = [];
  registered.set(app, routes);
  app.addHook("onRoute", (route) => {
    for (const method of [route.method].flat()) {
      const rule = routeRule(method, route.url);
      if (!rule) throw new Error(`${method} ${route.url} is not in ROUTES (runtime/http/access.ts): add it with who may call it`);
      if ((rule.bodyLimit === "route") !== (route.bodyLimit !== undefined)) {
        throw new Error(`${method} ${route.url}: a route sets its own bodyLimit exactly when its rule in ROUTES says bodyLimit: "route"`);
      }
      if (typeof rule.bodyLimit === "number") route.bodyLimit = rule.bodyLimit;
      routes.push({ method, url: route.url });
    }
  });
  app.addHook("onReady", async () => {
    const live = new Set(routes.map((r) => `${r.method} ${r.url}`));
    const stale = Object.keys(ROUTES).filter((key) => !live.has(key));
    if (stale.length > 0) throw new Error(`ROUTES (runtime/http/access.ts) has rules for routes nothing registers: ${stale.join(", ")}`);
  });
}

const BODY_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

const callers = new WeakMap<FastifyRequest, TokenIdentity>();

/** The token a request's rule was checked against (undefined on public routes). */
export function callerOf(request: FastifyRequest): TokenIdentity | undefined {
  return callers.get(request);
}

/**
 * Before any body is read (onRequest): a token whose scope grants the route's
 * (else 401, or 403 naming the scope needed), and a body of a media type the
 * route takes (else 415). Unmatched routes go on to the 404, their bodies
 * bounded by the server's limit.
 */
export function enforceRouteRules(app: FastifyInstance, scopeOf: ScopeOf): void {
  app.addHook("onRequest", async (request) => {
    const url = request.routeOptions.url;
    if (url === undefined) return;
    const rule = routeRule(request.method, url);
    if (!rule) throw new Error(`${request.method} ${url} has no rule in ROUTES`);
    if (rule.access !== "public") {
      const caller = await scopeOf(request.headers.authorization);
      if (caller === undefined) {
        throw new ApiError(401, "unauthorized", "missing, wrong, expired or revoked API token; send Authorization: Bearer <token> (MK_API_TOKEN, or one from mk tokens create)");
      }
      if (!grants(caller.scope, rule.access)) {
        const others = GRANTED_BY[rule.access].filter((s) => s !== rule.access);
        throw new ApiError(403, "forbidden", `this route needs a token with scope ${rule.access}${others.length > 0 ? ` (or ${others.join(" or ")})` : ""}; this token has scope ${caller.scope}`);
      }
      callers.set(request, caller);
    }
    checkMediaType(request, url, rule.contentTypes ?? JSON_BODY);
  });
}

function checkMediaType(request: FastifyRequest, url: string, accepted: readonly string[]): void {
  if (!BODY_METHODS.has(request.method)) return;
  const sent = request.headers["content-type"]?.split(";")[0]?.trim().toLowerCase();
  if (!sent || accepted.includes(sent)) return;
  throw new ApiError(415, "unsupported_media_type", `${request.method} ${url} takes a body of type ${accepted.join(" or ")}, not ${sent}`);
}
