import type { FastifyInstance } from "fastify";
import type pg from "pg";
import type { SendSnapshot } from "../sending/snapshot.js";
import { verifyLinkToken } from "../sending/link-tokens.js";
import { SEND_SQL } from "../sending/queries.js";
import { appliedProject } from "../state/applied.js";
import { readPreferences, savePreferences, type Preferences } from "../subscribers/preferences.js";
import { escapeHtml, page, userAgent } from "./page.js";

interface SendRow {
  id: string;
  campaign: string;
  subscriber_id: string;
  snapshot: SendSnapshot;
}

/** Marks a post as the page's own form: anything else posted here (a stray one-click unsubscribe, say) changes nothing. */
const FORM_MARKER = "preferences";

/** One page for every token that does not open a preference page, whatever the reason, so none can be told apart. */
const notFound = (reply: Parameters<typeof page>[0]) => page(reply, 404, "Page not found", "<p>This link does not open a preference page. Please use the link in your most recent email.</p>");

function preferencePage(projectName: string, prefs: Preferences, saved: boolean): string {
  const project = escapeHtml(projectName);
  const topics = prefs.topics
    .map(
      ({ topic, chosen }) =>
        `<label><input type="checkbox" name="topic" value="${escapeHtml(topic.name)}"${chosen ? " checked" : ""}> <strong>${escapeHtml(topic.title)}</strong>` +
        `${topic.description ? `<span>${escapeHtml(topic.description)}</span>` : ""}</label>`,
    )
    .join("");
  const intro =
    `<p>Email from ${project} to <strong>${escapeHtml(prefs.email)}</strong>.</p>` + (saved ? `<p role="status"><strong>Your choices are saved.</strong></p>` : "");
  if (!prefs.subscribed) {
    return (
      intro +
      `<p>You are unsubscribed from all email from ${project}.</p>` +
      (topics ? `<fieldset disabled><legend>Topics</legend>${topics}</fieldset>` : "")
    );
  }
  return (
    intro +
    `<p>You are subscribed${topics ? ": you get email about the topics checked below" : ""}.</p>` +
    `<form method="post"><input type="hidden" name="form" value="${FORM_MARKER}">` +
    (topics ? `<fieldset><legend>Topics</legend>${topics}</fieldset>` : "") +
    `<fieldset><label><input type="checkbox" name="everything" value="yes"> <strong>Unsubscribe from everything</strong><span>No more email from ${project}.</span></label></fieldset>` +
    `<button type="submit">Save my choices</button></form>`
  );
}

/**
 * The preference page behind the footer link of a sent email (`{{preferencesUrl}}`):
 * a signed token of kind "preferences" (runtime/sending/link-tokens.ts) names
 * the send, and so the subscriber. No cookies, no login, no script.
 *   GET  /p/:token  every topic of the applied project with the subscriber's choice, and the overall state
 *   POST /p/:token  the page's form: records each changed choice (runtime/subscribers/preferences.ts), then 303 back here
 * A token that is forged, altered, of another kind or whose send is gone gets the same 404 and changes nothing.
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

  app.register(async (scope) => {
    scope.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string" }, (_request, body, done) => done(null, new URLSearchParams(body as string)));

    scope.get<{ Params: { token: string }; Querystring: { saved?: string } }>("/p/:token", async (request, reply) => {
      const found = await lookup(request.params.token);
      if (!found) return notFound(reply);
      return page(reply, 200, "Email preferences", preferencePage(found.projectName, found.prefs, request.query.saved === "1"));
    });

    scope.post<{ Params: { token: string } }>("/p/:token", async (request, reply) => {
      const found = await lookup(request.params.token);
      if (!found) return notFound(reply);
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
