import { mailboxDomain } from "../../schemas/common.js";
import { compileMessage, translatorFor, type MessageContext, type PersonalisedMessage } from "../templates/personalise.js";
import { localeChain, textDirection } from "../locales/chain.js";
import { withDocumentLocale } from "../locales/document.js";
import type { Translator } from "../locales/translator.js";
import { signLinkToken, type LinkKind } from "./link-tokens.js";
import { tracksOpens, type LocalizedVariant, type SendSnapshot, type SnapshotVariant } from "./snapshot.js";
import type { OutgoingMessage } from "./transports/transport.js";
import { confirmKey, signConfirmToken, type ConfirmKey, type ConfirmToken } from "../forms/confirm-token.js";

/** A ledger row joined with its subscriber, as a worker claims it. */
export interface Recipient {
  sendId: string;
  email: string;
  variant: string | null;
  subscriber: {
    firstName: string | null;
    lastName: string | null;
    country: string | null;
    timezone: string | null;
    locale: string | null;
    tags: string[];
    consent: string | null;
    attributes: Record<string, unknown>;
  };
  /** A form's confirmation email: the signup its {{confirmUrl}} confirms (no unsubscribe headers: it is no list mail). */
  confirm?: ConfirmToken | undefined;
  /** A transactional message (messages/): the request's data its template reads as data.* (no unsubscribe headers: it is no list mail). */
  message?: { data: Record<string, unknown> } | undefined;
}

/** A sends row as the worker's claim and the public links read it. */
export interface LedgerRow {
  id: string;
  campaign: string;
  subscriber_id: string;
  email: string;
  variant: string | null;
  timezone: string;
  /** Set on a form's confirmation email, which has no subscriber yet. */
  signup_id?: string | null;
}

/** A subscribers row as SEND_SQL.subscriber returns it (and a worker's claim joins it). */
export interface SubscriberRow {
  id: string;
  first_name: string | null;
  last_name: string | null;
  country: string | null;
  timezone: string | null;
  locale: string | null;
  tags: string[];
  consent: string | null;
  attributes: Record<string, unknown>;
}

export function toRecipient(send: { id: string; email: string; variant: string | null }, s: SubscriberRow): Recipient {
  return {
    sendId: send.id,
    email: send.email,
    variant: send.variant,
    subscriber: { firstName: s.first_name, lastName: s.last_name, country: s.country, timezone: s.timezone, locale: s.locale, tags: s.tags, consent: s.consent, attributes: s.attributes },
  };
}

export interface LinkSettings {
  /** The runtime's public base URL, e.g. https://mk.example.com. */
  publicUrl: string;
  signingSecret: string;
  /** mailto: unsubscribe address; default unsubscribe@<the sender's domain>. */
  unsubscribeMailto?: string | undefined;
}

/** The language a recipient reads a send in: the first locale of their chain, its direction, and `{{t}}` along the chain. */
interface ReaderLocale {
  code: string;
  dir: "ltr" | "rtl";
  translator: Translator;
}

/**
 * Personalises messages of started campaigns. Each variant's HTML is compiled
 * by handlebars once (by campaign, variant and locale, whose HTML hash the
 * snapshot fixes) and rendered per recipient.
 */
export class MessageComposer {
  private readonly compiled = new Map<string, (context: MessageContext) => PersonalisedMessage>();

  /** By campaign and the subscriber's locale (and by chain, which those locales share): a send's catalogs are fixed by its snapshot. */
  private readonly readers = new Map<string, ReaderLocale>();

  private readonly confirmKey: ConfirmKey;

  constructor(
    private readonly links: LinkSettings,
    private readonly loadHtml: (hash: string) => Promise<string>,
  ) {
    this.confirmKey = confirmKey(links.signingSecret);
  }

  async compose(snapshot: SendSnapshot, recipient: Recipient, now = new Date()): Promise<OutgoingMessage> {
    const variant = snapshot.variants.find((v) => v.name === recipient.variant) ?? snapshot.variants[0]!;
    const reader = this.readerLocale(snapshot, recipient.subscriber.locale);
    const localized = reader ? variant.locales?.[reader.code] : undefined;
    const render = await this.template(snapshot, variant, reader?.code, localized);
    const links = localized?.links ?? variant.links;
    const link = (kind: LinkKind, linkIndex = 0) =>
      `${this.links.publicUrl}/${kind[0]}/${signLinkToken(this.links.signingSecret, { kind, sendId: recipient.sendId, linkIndex, issuedAt: now })}`;
    const unsubscribeUrl = link("unsubscribe");
    const s = recipient.subscriber;
    const message = render({
      subscriber: {
        email: recipient.email,
        firstName: s.firstName ?? undefined,
        lastName: s.lastName ?? undefined,
        country: s.country ?? undefined,
        timezone: s.timezone ?? undefined,
        locale: s.locale ?? undefined,
        tags: s.tags,
        consent: s.consent ?? undefined,
        attributes: s.attributes,
      },
      campaign: { name: snapshot.sequence?.name ?? snapshot.campaign, subject: localized?.subject ?? variant.subject, data: variant.data },
      variant: variant.name,
      project: snapshot.project,
      unsubscribeUrl,
      preferencesUrl: link("preferences"),
      viewInBrowserUrl: link("view"),
      ...(recipient.confirm ? { confirmUrl: `${this.links.publicUrl}/f/confirm/${signConfirmToken(this.confirmKey, recipient.confirm)}` } : {}),
      trackedLink: (index) => (index >= 0 && index < links.length ? link("click", index) : ""),
      ...(reader ? { locale: reader.code, dir: reader.dir, i18n: reader.translator } : {}),
      ...(recipient.message ? { data: recipient.message.data, message: { name: snapshot.message ?? snapshot.campaign, subject: variant.subject } } : {}),
    });
    const mailto = this.links.unsubscribeMailto ?? `unsubscribe@${mailboxDomain(snapshot.from)}`;
    const html = carriesOpenPixel(snapshot, recipient) ? withOpenPixel(message.html, link("open")) : message.html;
    return {
      sendId: recipient.sendId,
      campaign: snapshot.campaign,
      to: recipient.email,
      from: snapshot.from,
      replyTo: snapshot.replyTo,
      subject: message.subject,
      html,
      text: message.text,
      ...(reader ? { locale: reader.code } : {}),
      headers: recipient.message ? { "X-Mk-Send-Id": recipient.sendId, "X-Mk-Message": snapshot.message ?? snapshot.campaign, ...contentLanguage(reader) } : recipient.confirm ? { "X-Mk-Send-Id": recipient.sendId, "X-Mk-Campaign": snapshot.campaign, ...contentLanguage(reader) } : {
        // RFC 2369 and RFC 8058: one-click unsubscribe, which Gmail and Yahoo require of bulk senders.
        "List-Unsubscribe": `<${unsubscribeUrl}>, <mailto:${mailto}?subject=unsubscribe%20${recipient.sendId}>`,
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "X-Mk-Send-Id": recipient.sendId,
        "X-Mk-Campaign": snapshot.campaign,
        ...(snapshot.sequence ? { "X-Mk-Sequence": snapshot.sequence.name } : {}),
        ...contentLanguage(reader),
      },
      configurationSet: snapshot.configurationSet,
    };
  }

  private async template(snapshot: SendSnapshot, variant: SnapshotVariant, code: string | undefined, localized: LocalizedVariant | undefined): Promise<(context: MessageContext) => PersonalisedMessage> {
    const key = `${snapshot.campaign}\u0000${variant.name ?? ""}\u0000${code ?? ""}`;
    let render = this.compiled.get(key);
    if (!render) {
      const source = localized ?? variant;
      const html = await this.loadHtml(source.htmlHash);
      render = compileMessage({ subject: source.subject, html: code === undefined ? html : withDocumentLocale(html, code), preheader: source.preheader });
      this.compiled.set(key, render);
    }
    return render;
  }

  /** Undefined when the send has no locales (a project without `locales:`): its messages are as written. */
  private readerLocale(snapshot: SendSnapshot, requested: string | null): ReaderLocale | undefined {
    const locales = snapshot.locales;
    if (!locales) return undefined;
    // By the subscriber's locale as stored: working out its chain costs more than the rest of the lookup.
    const key = `${snapshot.campaign}\u0000${requested ?? ""}`;
    let reader = this.readers.get(key);
    if (!reader) {
      if (this.readers.size >= 10_000) this.readers.clear();
      const chain = localeChain(requested, locales.supported, locales.default);
      const shared = this.readers.get(`${snapshot.campaign}\u0000\u0001${chain.join(",")}`);
      reader = shared ?? { code: chain[0]!, dir: textDirection(chain[0]!), translator: translatorFor(locales.catalogs, chain) };
      // Readers of one chain share its translator and the messages it compiled.
      if (!shared) this.readers.set(`${snapshot.campaign}\u0000\u0001${chain.join(",")}`, reader);
      this.readers.set(key, reader);
    }
    return reader;
  }
}

/**
 * Whether this recipient's mail carries the open pixel: when the send tracks
 * opens (a transactional message only when its Message says so), never in a
 * form's confirmation email (no list mail, and no subscriber yet) and never
 * to a subscriber in one of the countries `tracking.noOpensIn` lists.
 */
function carriesOpenPixel(snapshot: SendSnapshot, recipient: Recipient): boolean {
  return !recipient.confirm && tracksOpens(snapshot.tracking, recipient.subscriber.country);
}

/** A 1×1 image at the end of the body, where it takes no room in the layout; appended to a document without `</body>`. */
function withOpenPixel(html: string, url: string): string {
  const pixel = `<img src="${url}" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0">`;
  const end = html.toLowerCase().lastIndexOf("</body>");
  return end === -1 ? html + pixel : html.slice(0, end) + pixel + html.slice(end);
}

/** RFC 3282: the language of the message, for clients and screen readers. */
function contentLanguage(reader: ReaderLocale | undefined): Record<string, string> {
  return reader ? { "Content-Language": reader.code } : {};
}
