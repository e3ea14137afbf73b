import Handlebars from "handlebars";
import { convert } from "html-to-text";
import { HELPERS } from "./helpers.js";

/** What a template sees when it is personalised for one recipient (FORMAT.md, "templates"). */
export interface MessageContext {
  subscriber: Record<string, unknown> & { email: string };
  campaign: { name: string; subject: string; data: Record<string, unknown> };
  variant: string | null;
  project: { name: string; postalAddress?: string | undefined; locale?: string; timezone?: string };
  unsubscribeUrl: string;
  viewInBrowserUrl: string;
}

export interface PersonalisedMessage {
  subject: string;
  html: string;
  text: string;
}

const handlebars = Handlebars.create();
for (const [name, helper] of Object.entries(HELPERS)) handlebars.registerHelper(name, helper as Handlebars.HelperDelegate);

/**
 * A compiled message: the subject and the HTML compiled once, rendered for
 * any number of recipients. HTML values are escaped; the subject is plain text.
 */
export function compileMessage(source: { subject: string; html: string }): (context: MessageContext) => PersonalisedMessage {
  const subject = handlebars.compile(source.subject, { noEscape: true, strict: false });
  const html = handlebars.compile(source.html, { strict: false });
  return (context) => {
    const renderedSubject = subject(context, { allowProtoPropertiesByDefault: false });
    const campaign = { ...context.campaign, subject: renderedSubject };
    const renderedHtml = html({ ...context, campaign });
    return { subject: renderedSubject, html: renderedHtml, text: htmlToText(renderedHtml) };
  };
}

export function htmlToText(html: string): string {
  return convert(html, {
    wordwrap: 78,
    selectors: [
      { selector: "img", format: "skip" },
      { selector: "a", options: { hideLinkHrefIfSameAsText: true } },
      { selector: "head", format: "skip" },
    ],
  });
}
