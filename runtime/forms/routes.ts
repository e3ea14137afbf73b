import { createHmac } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type pg from "pg";
import { signupRequest } from "../../schemas/signup.js";
import type { Form } from "../../schemas/project.js";
import type { StoredProject } from "../../schemas/api.js";
import type { Clock } from "../clock.js";
import { ApiError, parseBody } from "../http/errors.js";
import { page, userAgent } from "../public/page.js";
import { pageLanguages, type PageText } from "../public/page-language.js";
import { createKeyedRateLimiter } from "../sending/rate-limit.js";
import type { ErasureKey } from "../subscribers/erase.js";
import { findTopic } from "../subscribers/topics.js";
import { confirmKey, tokenDigest, verifyConfirmToken } from "./confirm-token.js";
import { FORM_SQL } from "./queries.js";
import { confirmSignup, findForm, submitSignup, type RequestEvidence, type SignupDeps } from "./signup.js";

export interface FormRouteDeps {
  pool: pg.Pool;
  signingSecret: string;
  erasureKey: ErasureKey;
  clock: Clock;
  attributionWindowMs: number;
  redisUrl: string | undefined;
  /** MK_FORM_RATE_PER_IP: posts per minute from one IP address. */
  perIpPerMinute: number;
}

/** Posts per minute one address may make, in bursts of ADDRESS_BURST (it gets at most CONFIRMATIONS_PER_DAY emails anyway). */
const ADDRESS_PER_MINUTE = 1;
const ADDRESS_BURST = 3;

/** Form fields as an object; a field given more than once (topics=a&topics=b) as an array. */
function formFields(text: string): Record<string, string | string[]> {
  const fields: Record<string, string | string[]> = {};
  for (const [key, value] of new URLSearchParams(text)) {
    const seen = fields[key];
    fields[key] = seen === undefined ? value : [...[seen].flat(), value];
  }
  return fields;
}

const evidenceOf = (request: FastifyRequest): RequestEvidence => ({ ip: request.ip, userAgent: userAgent(request) });

/** CORS for the form's allowed origins only: any other origin's page gets no header, so its script cannot read the answer nor send JSON. */
function allowOrigin(request: FastifyRequest, reply: FastifyReply, form: Form | undefined): void {
  reply.header("vary", "Origin");
  const origin = request.headers.origin;
  if (!origin || !form?.allowedOrigins.some((allowed) => allowed.replace(/\/$/, "") === origin)) return;
  reply.header("access-control-allow-origin", origin).header("access-control-allow-methods", "POST").header("access-control-allow-headers", "content-type").header("access-control-max-age", "600");
}

const isJson = (request: FastifyRequest) => request.headers["content-type"]?.startsWith("application/json") ?? false;

/**
 * The same answer to every post a form accepts, whether the address is new,
 * pending, subscribed already, rate-limited or a bot's: a JSON body to JSON
 * requests, else a 303 to the form's success URL or a small page; in the
 * language of the post's `locale` or its Accept-Language, never the address's.
 */
function accepted(request: FastifyRequest, reply: FastifyReply, form: Form, t: PageText): FastifyReply {
  if (isJson(request)) return reply.status(202).header("cache-control", "no-store").send({ status: "accepted", message: t.text("signup.checkInbox") });
  if (form.redirect.success) return reply.status(303).header("cache-control", "no-store").redirect(form.redirect.success, 303);
  return page(reply, 200, t, "signup.checkInboxTitle", `<p>${t.html("signup.checkInbox")}</p>`);
}

/**
 * Signup forms (mk.yaml forms:), public:
 *   POST    /f/:form           a signup (form-urlencoded or JSON): always the same answer (no enumeration)
 *   OPTIONS /f/:form           the CORS preflight, for the form's allowedOrigins only
 *   GET     /f/confirm/:token  a page asking to confirm (link scanners fetch GETs: they must not subscribe anyone)
 *   POST    /f/confirm/:token  confirm: consent with proof and a `signup` event; again, nothing more
 * A post from an IP beyond MK_FORM_RATE_PER_IP gets a 429 whatever its
 * address; one for an address beyond its own limit, or with the honeypot
 * (`website`) filled in, gets the usual answer and does nothing.
 */
export function registerFormRoutes(app: FastifyInstance, deps: FormRouteDeps): { close: () => Promise<void> } {
  const key = confirmKey(deps.signingSecret);
  const signupDeps: SignupDeps = { pool: deps.pool, confirmKey: key, erasureKey: deps.erasureKey, clock: deps.clock, attributionWindowMs: deps.attributionWindowMs, snapshots: new Map() };
  const perIp = createKeyedRateLimiter({ prefix: "form-ip", perMinute: deps.perIpPerMinute, burst: Math.max(1, Math.floor(deps.perIpPerMinute / 4)), redisUrl: deps.redisUrl });
  const perAddress = createKeyedRateLimiter({ prefix: "form-address", perMinute: ADDRESS_PER_MINUTE, burst: ADDRESS_BURST, redisUrl: deps.redisUrl });
  // Limiter keys never hold the address: its HMAC under the confirmation key.
  const addressKey = (email: string) => createHmac("sha256", key).update(email).digest("base64url");
  const languages = pageLanguages(deps.pool);

  app.register(async (scope) => {
    scope.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string" }, (_request, body, done) => done(null, formFields(body as string)));

    scope.options<{ Params: { form: string } }>("/f/:form", async (request, reply) => {
      allowOrigin(request, reply, (await findForm(deps.pool, request.params.form))?.form);
      return reply.status(204).send();
    });

    scope.post<{ Params: { form: string } }>("/f/:form", async (request, reply) => {
      const found = await findForm(deps.pool, request.params.form);
      allowOrigin(request, reply, found?.form);
      if (!found) throw new ApiError(404, "not_found", `no form "${request.params.form}"`);
      const signup = parseBody(signupRequest, request.body);
      const t = await languages.forReader({ locale: signup.locale, acceptLanguage: request.headers["accept-language"] });
      if (signup.website) return accepted(request, reply, found.form, t);
      if (!(await perIp.allow(request.ip))) {
        reply.header("retry-after", "60");
        // A browser's form post gets a page; a script's, the API's error.
        if (!isJson(request) && request.headers.accept?.includes("text/html")) return page(reply, 429, t, "signup.rateLimitedTitle", `<p>${t.html("signup.rateLimited")}</p>`);
        throw new ApiError(429, "rate_limited", "too many signups from this address; try again in a minute");
      }
      if (await perAddress.allow(addressKey(signup.email))) await submitSignup(signupDeps, found, signup, evidenceOf(request));
      return accepted(request, reply, found.form, t);
    });

    const pending = async (text: string) => {
      const token = verifyConfirmToken(key, text);
      if (!token) return { status: "invalid" as const };
      const row = (await deps.pool.query<{ form: string; topics: string[]; expires_at: Date; confirmed_at: Date | null }>(FORM_SQL.signupByToken, [token.signupId, tokenDigest(text)])).rows[0];
      if (!row) return { status: "gone" as const };
      if (row.confirmed_at) return { status: "confirmed" as const, form: row.form, topics: row.topics };
      return row.expires_at <= deps.clock() ? { status: "expired" as const } : { status: "pending" as const, form: row.form, topics: row.topics };
    };

    // A signup keeps no locale: the confirmation pages are in the request's Accept-Language (or the project's default).
    const requestText = (request: FastifyRequest) => languages.forReader({ acceptLanguage: request.headers["accept-language"] });

    scope.get<{ Params: { token: string } }>("/f/confirm/:token", async (request, reply) => {
      const [found, t] = await Promise.all([pending(request.params.token), requestText(request)]);
      if (found.status === "invalid") return page(reply, 400, t, "confirm.invalidTitle", `<p>${t.html("confirm.invalid")}</p>`);
      if (found.status === "expired") return page(reply, 410, t, "confirm.expiredTitle", `<p>${t.html("confirm.expired")}</p>`);
      if (found.status === "gone") return page(reply, 410, t, "confirm.goneTitle", `<p>${t.html("confirm.gone")}</p>`);
      if (found.status === "confirmed") return confirmed(reply, t, found.form, found.topics);
      const about = topicArguments(t, (await findForm(deps.pool, found.form))?.project, found.topics);
      return page(reply, 200, t, "confirm.title", `<p>${t.html("confirm.question", about)}</p><form method="post"><button type="submit">${t.html("confirm.button")}</button></form>`);
    });

    scope.post<{ Params: { token: string } }>("/f/confirm/:token", async (request, reply) => {
      const t = await requestText(request);
      const token = verifyConfirmToken(key, request.params.token);
      if (!token) return page(reply, 400, t, "confirm.invalidTitle", `<p>${t.html("confirm.invalid")}</p>`);
      const outcome = await confirmSignup(signupDeps, { token: request.params.token, parsed: token }, evidenceOf(request));
      if (outcome.status === "expired") return page(reply, 410, t, "confirm.expiredTitle", `<p>${t.html("confirm.expired")}</p>`);
      if (outcome.status === "unknown") return page(reply, 410, t, "confirm.goneTitle", `<p>${t.html("confirm.gone")}</p>`);
      return confirmed(reply, t, outcome.form, outcome.topics);
    });
  });

  const confirmed = async (reply: FastifyReply, t: PageText, formName: string, topics: readonly string[]) => {
    const found = await findForm(deps.pool, formName);
    const target = found?.form.redirect.confirmed;
    if (target) return reply.status(303).header("cache-control", "no-store").redirect(target, 303);
    return page(reply, 200, t, "confirm.doneTitle", `<p>${t.html("confirm.done", topicArguments(t, found?.project, topics))}</p>`);
  };

  return { close: async () => void (await Promise.all([perIp.close(), perAddress.close()])) };
}

/** A signup's topics for a page string: how many, and their titles in mk.yaml as the page's language lists them ("City guides and Offers"). */
function topicArguments(t: PageText, project: StoredProject | undefined, topics: readonly string[]): { topicCount: number; topics: string } {
  return { topicCount: topics.length, topics: t.list(topics.map((name) => findTopic(project?.topics, name)?.title ?? name)) };
}
