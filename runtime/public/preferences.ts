import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type pg from "pg";
import type { SendSnapshot } from "../sending/snapshot.js";
import { verifyLinkToken } from "../sending/link-tokens.js";
import { SEND_SQL } from "../sending/queries.js";
import { appliedProject } from "../state/applied.js";
import { readPreferences, savePreferences, type Preferences } from "../subscribers/preferences.js";
import { escapeHtml, page, userAgent } from "./page.js";
import { Emphasis, pageLanguages, type PageText } from "./page-language.js";
import { LINK_SQL } from "./queries.js";

interface SendRow {
  id: string;
  campaign: string;
  subscriber_id: string;
  snapshot: SendSnapshot;
}

/** Marks a post as the page's own form: anything else posted here (a stray one-click unsubscribe, say) changes nothing. */
const FORM_MARKER = "preferences";

function preferencePage(t: PageText, project: string, prefs: Preferences, saved: boolean): string {
  const topics = prefs.topics
    .map(
      ({ topic, chosen }) =>
        `<label><input type="checkbox" name="topic" value="${escapeHtml(topic.name)}"${chosen ? " checked" : ""}> <strong>${escapeHtml(topic.title)}</strong>` +
        `${topic.description ? `<span>${escapeHtml(topic.description)}</span>` : ""}</label>`,
    )
    .join("");
  const legend = `<legend>${t.html("preferences.topics")}</legend>`;
  const intro =
    `<p>${t.html("preferences.intro", { project, email: new Emphasis(prefs.email) })}</p>` + (saved ? `<p role="status"><strong>${t.html("preferences.saved")}</strong></p>` : "");
  if (!prefs.subscribed) {
    return intro + `<p>${t.html("preferences.unsubscribed", { project })}</p>` + (topics ? `<fieldset disabled>${legend}${topics}</fieldset>` : "");
  }
  return (
    intro +
    `<p>${t.html("preferences.subscribed", { topicCount: prefs.topics.length })}</p>` +
    `<form method="post"><input type="hidden" name="form" value="${FORM_MARKER}">` +
    (topics ? `<fieldset>${legend}${topics}</fieldset>` : "") +
    `<fieldset><label><input type="checkbox" name="everything" value="yes"> <strong>${t.html("preferences.everything")}</strong><span>${t.html("preferences.everythingDetail", { project })}</span></label></fieldset>` +
    `<button type="submit">${t.html("preferences.save")}</button></form>`
  );
}

/**
 * The preference page behind the footer link of a sent email (`{{preferencesUrl}}`):
 * a signed token of kind "preferences" (runtime/sending/link-tokens.ts) names
 * the send, and so the subscriber. No cookies, no login, no script.
 *   GET  /p/:token  every topic of the applied project with the subscriber's choice, and the overall state
 *   POST /p/:token  the page's form: records each changed choice (runtime/subscribers/preferences.ts), then 303 back here
 * A token that is forged, altered, of another kind or whose send is gone gets the same 404 and changes nothing,
 * in the request's Accept-Language (or the project's default), never the subscriber's. The page itself is in the subscriber's.
 */
export function registerPreferencePage(app: FastifyInstance, deps: { pool: pg.Pool; signingSecret: string }): void {
  const { pool } = deps;
  const lookup = async (text: string) => {
    const token = verifyLinkToken(deps.signingSecret, text, "preferences");
    if (!token) return undefined;
    const send = (await pool.query<SendRow>(SEND_SQL.sendForToken, [token.sendId])).rows[0];
    if (!send) return undefined;
    const project = await appliedProject(pool);
    const topics = project?.topics ?? [];
    const prefs = await readPreferences(pool, send.subscriber_id, topics);
    return prefs && { send, topics, prefs, projectName: project?.name ?? send.snapshot.project.name };
  };
  const languages = pageLanguages(pool);
  /** One page for every token that does not open a preference page, whatever the reason, so none can be told apart. */
  const notFound = async (request: FastifyRequest, reply: FastifyReply) => {
    const t = await languages.forReader({ acceptLanguage: request.headers["accept-language"] });
    return page(reply, 404, t, "preferences.notFoundTitle", `<p>${t.html("preferences.notFound")}</p>`);
  };

  app.register(async (scope) => {
    scope.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string" }, (_request, body, done) => done(null, new URLSearchParams(body as string)));

    scope.get<{ Params: { token: string }; Querystring: { saved?: string } }>("/p/:token", async (request, reply) => {
      const found = await lookup(request.params.token);
      if (!found) return notFound(request, reply);
      const locale = (await pool.query<{ locale: string | null }>(LINK_SQL.readerLocale, [found.send.id])).rows[0]?.locale;
      const t = await languages.forReader({ locale });
      return page(reply, 200, t, "preferences.title", preferencePage(t, found.projectName, found.prefs, request.query.saved === "1"));
    });

    scope.post<{ Params: { token: string } }>("/p/:token", async (request, reply) => {
      const found = await lookup(request.params.token);
      if (!found) return notFound(request, reply);
      const form = request.body instanceof URLSearchParams ? request.body : new URLSearchParams();
      if (form.get("form") === FORM_MARKER) {
        const { send } = found;
        const choice = { topics: new Set(form.getAll("topic")), everything: form.get("everything") === "yes" };
        await savePreferences(pool, send.subscriber_id, found.topics, choice, { sendId: send.id, campaign: send.campaign, ip: request.ip, userAgent: userAgent(request) });
      }
      // Relative to /p/: the verified token itself (base64url), never a URL from the request.
      return reply.header("cache-control", "no-store").header("referrer-policy", "no-referrer").redirect(`${request.params.token}?saved=1`, 303);
    });
  });
}
