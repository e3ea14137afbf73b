import Handlebars from "handlebars";
import { compile } from "html-to-text";
import { TRACKED_LINK_HELPER } from "../sending/tracked-links.js";
import { HELPERS } from "./helpers.js";
import { Translator, type CompileExpression } from "../locales/translator.js";
import type { Catalogs } from "../../schemas/locales.js";

/** What a template sees when it is personalised for one recipient (FORMAT.md, "templates"). */
export interface MessageContext {
  subscriber: Record<string, unknown> & { email: string };
  campaign: { name: string; subject: string; data: Record<string, unknown> };
  variant: string | null;
  project: { name: string; postalAddress?: string | undefined; locale?: string; timezone?: string };
  unsubscribeUrl: string;
  /** The recipient's preference page: every topic, and unsubscribing from everything. */
  preferencesUrl: string;
  viewInBrowserUrl: string;
  /** A form's confirmation email only: the link that confirms the signup. */
  confirmUrl?: string;
  /** A transactional message only (messages/): the request's data, and the message. */
  data?: Record<string, unknown>;
  message?: { name: string; subject: string };
  /** The recipient's URL for a campaign's tracked link N (see runtime/sending/tracked-links.ts). */
  trackedLink?: (index: number) => string;
  /** The locale the reader gets (the first of its fallback chain), and its direction; set when the project has locales. */
  locale?: string;
  dir?: "ltr" | "rtl";
  /** What `{{t}}` reads: the applied catalogs along the reader's chain. */
  i18n?: Translator;
}

export interface PersonalisedMessage {
  subject: string;
  html: string;
  text: string;
}

const handlebars = Handlebars.create();
for (const [name, helper] of Object.entries(HELPERS)) handlebars.registerHelper(name, helper as Handlebars.HelperDelegate);
// Not one of HELPERS: templates never write it; the runtime puts it in place of tracked links.
handlebars.registerHelper(TRACKED_LINK_HELPER, (index: number, options: Handlebars.HelperOptions) => {
  const root = options.data.root as MessageContext;
  return root.trackedLink ? root.trackedLink(index) : "";
});

/** A handlebars expression inside a catalog message, rendered with the template's helpers; its value goes into the ICU message as an argument. */
const compileExpression: CompileExpression = (source) => {
  const render = handlebars.compile(source, { noEscape: true, strict: false });
  return (root) => render(root, { allowProtoPropertiesByDefault: false });
};

/** The translations of one reader's fallback chain (see runtime/locales/chain.ts localeChain). */
export function translatorFor(catalogs: Catalogs, chain: readonly string[]): Translator {
  return new Translator(catalogs, chain, compileExpression);
}

/** A message its template cannot render for this recipient (a helper refused a value, say): that message fails, not its batch. */
export class RenderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RenderError";
  }
}

/**
 * A compiled message: the subject and the HTML compiled once, rendered for
 * any number of recipients. HTML values are escaped; the subject is plain
 * text. Whatever goes wrong while rendering is a RenderError.
 */
export function compileMessage(source: { subject: string; html: string; preheader?: string | undefined }): (context: MessageContext) => PersonalisedMessage {
  const subject = handlebars.compile(source.subject, { noEscape: true, strict: false });
  const htmlSource = source.preheader ? withPreheader(source.html, source.preheader) : source.html;
  const html = handlebars.compile(htmlSource, { strict: false });
  const text = compileTextPart(htmlSource);
  return (context) => {
    try {
      const renderedSubject = subject(context, { allowProtoPropertiesByDefault: false });
      const full = { ...context, campaign: { ...context.campaign, subject: renderedSubject } };
      const renderedHtml = html(full);
      return { subject: renderedSubject, html: renderedHtml, text: text ? text(full) : htmlToText(renderedHtml) };
    } catch (error) {
      throw new RenderError((error as Error).message);
    }
  };
}

const EXPRESSION = /\{\{\{?[\s\S]*?\}?\}\}/g;
const PLACEHOLDER = /mkx(\d+)x/gi;
const BLOCK = /^\{\{\s*[#/^]|^\{\{\s*else\b/;

/**
 * The plain-text part as a template of its own: the HTML template turned into
 * text once, its expressions kept (as placeholders while converting), so each
 * recipient costs a handlebars render instead of an HTML-to-text conversion.
 * Undefined when that is not safe (a block expression that the text loses,
 * say in an attribute): then each message is converted after rendering.
 */
function compileTextPart(htmlSource: string): ((context: MessageContext) => string) | undefined {
  const expressions: string[] = [];
  const marked = htmlSource.replace(EXPRESSION, (expression) => `mkx${expressions.push(expression) - 1}x`);
  const converted = htmlToText(marked);
  const kept = new Set([...converted.matchAll(PLACEHOLDER)].map((m) => Number(m[1])));
  if (expressions.some((expression, i) => BLOCK.test(expression) && !kept.has(i))) return undefined;
  const source = converted.replace(PLACEHOLDER, (_, i: string) => expressions[Number(i)]!);
  try {
    handlebars.precompile(source);
  } catch {
    return undefined;
  }
  return handlebars.compile(source, { noEscape: true, strict: false });
}

/**
 * A message's own preheader (campaign or variant `preheader:`): hidden text
 * placed first in the body, where inboxes read their preview from, as MJML
 * renders <mj-preview> but mid-grey instead of white: spam filters take
 * white text on the white they assume behind it for text hidden from the
 * reader (SpamAssassin's HTML_FONT_LOW_CONTRAST), while display:none,
 * max-height:0, opacity:0 and mso-hide:all (Outlook) hide it whatever its colour.
 */
export function withPreheader(html: string, preheader: string): string {
  const hidden =
    `<div class="mk-preheader" style="display:none;font-size:1px;color:#808080;line-height:1px;max-height:0px;max-width:0px;opacity:0;overflow:hidden;mso-hide:all;">` +
    `${escapeOutsideExpressions(preheader)}</div>`;
  const body = /<body[^>]*>/i.exec(html);
  if (!body) return hidden + html;
  const at = body.index + body[0].length;
  return html.slice(0, at) + hidden + html.slice(at);
}

/** HTML-escape literal text but leave {{expressions}} for handlebars (which escapes their values). */
function escapeOutsideExpressions(text: string): string {
  return text
    .split(/(\{\{[^}]*\}\})/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")))
    .join("");
}

/** html-to-text compiled once: compiling its options costs more than converting a message. */
const toText = compile({
  wordwrap: 78,
  selectors: [
    { selector: "div.mk-preheader", format: "skip" },
    { selector: 'div[style*="display:none"]', format: "skip" },
    { selector: "img", format: "skip" },
    { selector: "a", options: { hideLinkHrefIfSameAsText: true } },
    { selector: "head", format: "skip" },
  ],
});

export function htmlToText(html: string): string {
  return toText(html);
}
