import { compileMessage, type MessageContext, type PersonalisedMessage } from "../templates/personalise.js";
import { signLinkToken, type LinkKind } from "./link-tokens.js";
import type { SendSnapshot, SnapshotVariant } from "./snapshot.js";
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

/**
 * Personalises messages of started campaigns. Each variant's HTML is compiled
 * by handlebars once (by campaign and variant, whose HTML hash the snapshot
 * fixes) and rendered per recipient.
 */
export class MessageComposer {
  private readonly compiled = new Map<string, (context: MessageContext) => PersonalisedMessage>();

  private readonly confirmKey: ConfirmKey;

  constructor(
    private readonly links: LinkSettings,
    private readonly loadHtml: (hash: string) => Promise<string>,
  ) {
    this.confirmKey = confirmKey(links.signingSecret);
  }

  async compose(snapshot: SendSnapshot, recipient: Recipient, now = new Date()): Promise<OutgoingMessage> {
    const variant = snapshot.variants.find((v) => v.name === recipient.variant) ?? snapshot.variants[0]!;
    const render = await this.template(snapshot, variant);
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
      campaign: { name: snapshot.sequence?.name ?? snapshot.campaign, subject: variant.subject, data: variant.data },
      variant: variant.name,
      project: snapshot.project,
      unsubscribeUrl,
      preferencesUrl: link("preferences"),
      viewInBrowserUrl: link("view"),
      ...(recipient.confirm ? { confirmUrl: `${this.links.publicUrl}/f/confirm/${signConfirmToken(this.confirmKey, recipient.confirm)}` } : {}),
      trackedLink: (index) => (index >= 0 && index < variant.links.length ? link("click", index) : ""),
    });
    const mailto = this.links.unsubscribeMailto ?? `unsubscribe@${senderDomain(snapshot.from)}`;
    return {
      sendId: recipient.sendId,
      campaign: snapshot.campaign,
      to: recipient.email,
      from: snapshot.from,
      replyTo: snapshot.replyTo,
      subject: message.subject,
      html: message.html,
      text: message.text,
      headers: recipient.confirm ? { "X-Mk-Send-Id": recipient.sendId, "X-Mk-Campaign": snapshot.campaign } : {
        // RFC 2369 and RFC 8058: one-click unsubscribe, which Gmail and Yahoo require of bulk senders.
        "List-Unsubscribe": `<${unsubscribeUrl}>, <mailto:${mailto}?subject=unsubscribe%20${recipient.sendId}>`,
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "X-Mk-Send-Id": recipient.sendId,
        "X-Mk-Campaign": snapshot.campaign,
        ...(snapshot.sequence ? { "X-Mk-Sequence": snapshot.sequence.name } : {}),
      },
      configurationSet: snapshot.configurationSet,
    };
  }

  private async template(snapshot: SendSnapshot, variant: SnapshotVariant): Promise<(context: MessageContext) => PersonalisedMessage> {
    const key = `${snapshot.campaign}\u0000${variant.name ?? ""}`;
    let render = this.compiled.get(key);
    if (!render) {
      render = compileMessage({ subject: variant.subject, html: await this.loadHtml(variant.htmlHash), preheader: variant.preheader });
      this.compiled.set(key, render);
    }
    return render;
  }
}

/** The domain of "Name <user@domain>" or "user@domain". */
export function senderDomain(mailbox: string): string {
  const address = /<([^>]+)>/.exec(mailbox)?.[1] ?? mailbox;
  return address.slice(address.lastIndexOf("@") + 1).trim();
}
