import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type pg from "pg";
import { verifyLinkToken, type LinkKind } from "../sending/link-tokens.js";
import { toRecipient, type LedgerRow, type MessageComposer, type SubscriberRow } from "../sending/compose.js";
import { SEND_SQL } from "../sending/queries.js";
import { LINK_SQL } from "./queries.js";
import type { SendSnapshot } from "../sending/snapshot.js";
import { withTransaction } from "../db/transaction.js";
import { recordClick } from "../engagement/record-click.js";
import type { AddressLookups } from "../engagement/request-evidence.js";
import { CONSENT_SQL } from "../subscribers/consent.js";
import { page, userAgent } from "./page.js";
import { Emphasis, pageLanguages, type PageText } from "./page-language.js";

interface SendRow extends LedgerRow {
  snapshot: SendSnapshot;
}


/** What a send's topic is called: its title when the snapshot kept one, else its name. */
function topicTitle(snapshot: SendSnapshot, topic: string): string {
  return snapshot.topicTitle ?? topic;
}

/**
 * The email in the browser is the campaign's HTML, with the subscriber's data
 * in it: a sandbox (no scripts, forms, or same-origin access; links may open a
 * new tab), images, inline styles and fonts from anywhere, nothing else.
 */
const VIEW_CSP = [
  "sandbox allow-popups allow-popups-to-escape-sandbox",
  "default-src 'none'",
  "img-src https: http: data:",
  "style-src 'unsafe-inline' https:",
  "font-src https: data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/**
 * The links inside sent emails: no bearer token, a signed token instead
 * (runtime/sending/link-tokens.ts). Forged, altered or expired tokens get a
 * 400 page and change nothing. Pages are in the subscriber's language; those
 * that show no subscriber's data (an invalid link's) only ever in the
 * request's Accept-Language or the project's default, so they tell nothing.
 *   GET  /u/:token  a page that asks to confirm (link scanners fetch GETs; they must not unsubscribe anyone)
 *   POST /u/:token  unsubscribe: RFC 8058 one-click from the mailbox provider, or the page's button
 *   GET  /c/:token  a tracked click: records it, classified (at most CLICK_ROWS_PER_MINUTE rows per send and
 *                   link, runtime/engagement/record-click.ts), redirects to the campaign's stored link N (never
 *                   anywhere else); a HEAD too, recorded as a machine's
 *   GET  /v/:token  the email in the browser, sandboxed, with links as old as the email's own
 */
export function registerPublicLinks(app: FastifyInstance, deps: { pool: pg.Pool; signingSecret: string; composer: MessageComposer } & AddressLookups): void {
  const { pool } = deps;
  const lookup = async (text: string, kind: LinkKind) => {
    const token = verifyLinkToken(deps.signingSecret, text, kind);
    if (!token) return undefined;
    const row = (await pool.query<SendRow>(SEND_SQL.sendForToken, [token.sendId])).rows[0];
    return row ? { token, row } : undefined;
  };
  const languages = pageLanguages(pool);
  /** The strings for a page of this send's subscriber. */
  const subscriberText = async (sendId: string): Promise<PageText> =>
    languages.forReader({ locale: (await pool.query<{ locale: string | null }>(LINK_SQL.readerLocale, [sendId])).rows[0]?.locale });
  /** The strings for a page that shows no subscriber's data: the request's languages only. */
  const requestText = (request: FastifyRequest): Promise<PageText> => languages.forReader({ acceptLanguage: request.headers["accept-language"] });
  const invalid = async (request: FastifyRequest, reply: FastifyReply) => {
    const t = await requestText(request);
    return page(reply, 400, t, "links.invalidTitle", `<p>${t.html("links.invalid")}</p>`);
  };

  app.register(async (scope) => {
    // RFC 8058 allows either form encoding; the token, not the body, says who unsubscribes.
    scope.addContentTypeParser("*", { parseAs: "string", bodyLimit: 4096 }, (_request, body, done) => done(null, body));

    scope.get<{ Params: { token: string } }>("/u/:token", async (request, reply) => {
      const found = await lookup(request.params.token, "unsubscribe");
      if (!found) return invalid(request, reply);
      const { row } = found;
      const t = await subscriberText(row.id);
      const args = { project: row.snapshot.project.name, email: new Emphasis(row.email) };
      const question =
        row.snapshot.topic === undefined ? t.html("unsubscribe.questionAll", args) : t.html("unsubscribe.questionTopic", { ...args, topic: topicTitle(row.snapshot, row.snapshot.topic) });
      return page(
        reply,
        200,
        t,
        "unsubscribe.title",
        `<p>${question}</p>` +
          `<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">${t.html("unsubscribe.button")}</button></form>`,
      );
    });

    scope.post<{ Params: { token: string } }>("/u/:token", async (request, reply) => {
      const found = await lookup(request.params.token, "unsubscribe");
      if (!found) return invalid(request, reply);
      const { row } = found;
      const topic = row.snapshot.topic;
      const detail = `campaign:${row.campaign}`;
      if (topic !== undefined) {
        // A message about a topic: one click leaves that topic, nothing else (RFC 8058 names no scope; the message is the scope).
        await withTransaction(pool, async (client) => {
          const { rowCount } = await client.query(CONSENT_SQL.withdraw, [row.subscriber_id, topic, "unsubscribe-link", detail, request.ip, userAgent(request)]);
          if (rowCount) await client.query(SEND_SQL.recordEvent, [row.id, "unsubscribe", JSON.stringify({ campaign: row.campaign, topic })]);
        });
        const t = await subscriberText(row.id);
        return page(reply, 200, t, "unsubscribe.doneTitle", `<p>${t.html("unsubscribe.doneTopic", { email: row.email, topic: topicTitle(row.snapshot, topic), project: row.snapshot.project.name })}</p>`);
      }
      await withTransaction(pool, async (client) => {
        const { rowCount } = await client.query(SEND_SQL.suppress, [row.email, "unsubscribe", detail]);
        await client.query(CONSENT_SQL.withdraw, [row.subscriber_id, "", "unsubscribe-link", detail, request.ip, userAgent(request)]);
        if (rowCount) await client.query(SEND_SQL.recordEvent, [row.id, "unsubscribe", JSON.stringify({ campaign: row.campaign })]);
      });
      const t = await subscriberText(row.id);
      return page(reply, 200, t, "unsubscribe.doneTitle", `<p>${t.html("unsubscribe.doneAll", { email: row.email, project: row.snapshot.project.name })}</p>`);
    });

    scope.get<{ Params: { token: string } }>("/c/:token", async (request, reply) => {
      const found = await lookup(request.params.token, "click");
      if (!found) return invalid(request, reply);
      const { row, token } = found;
      const variant = row.snapshot.variants.find((v) => v.name === row.variant) ?? row.snapshot.variants[0];
      const target = variant?.links[token.linkIndex];
      if (!target) {
        const t = await subscriberText(row.id);
        return page(reply, 404, t, "links.noSuchLinkTitle", `<p>${t.html("links.noSuchLink")}</p>`);
      }
      await recordClick(pool, deps, request, {
        sendId: row.id,
        linkIndex: token.linkIndex,
        data: { campaign: row.campaign, link: token.linkIndex, url: target },
        tracking: row.snapshot.tracking,
        transactional: row.snapshot.transactional || row.snapshot.message !== undefined,
      });
      return reply.header("cache-control", "no-store").header("referrer-policy", "no-referrer").redirect(target, 302);
    });

    scope.get<{ Params: { token: string } }>("/v/:token", async (request, reply) => {
      const found = await lookup(request.params.token, "view");
      if (!found) return invalid(request, reply);
      const { row, token } = found;
      const s = (await pool.query<SubscriberRow>(SEND_SQL.subscriber, [row.subscriber_id])).rows[0];
      if (!s) {
        const t = await requestText(request);
        return page(reply, 404, t, "links.goneTitle", `<p>${t.html("links.gone")}</p>`);
      }
      // Rendered at the time the email's own links were signed (this token's), so viewing never issues fresher ones.
      const message = await deps.composer.compose(row.snapshot, toRecipient(row, s), token.issuedAt);
      return reply
        .type("text/html; charset=utf-8")
        .header("content-security-policy", VIEW_CSP)
        .header("cache-control", "no-store")
        .header("referrer-policy", "no-referrer")
        .header("x-robots-tag", "noindex")
        .send(message.html);
    });
  });
}
