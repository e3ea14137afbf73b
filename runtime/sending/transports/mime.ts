import MailComposer from "nodemailer/lib/mail-composer";
import type { OutgoingMessage } from "./transport.js";

/** The message in nodemailer's terms: addresses, subject, text and HTML alternatives, extra headers. */
export function mailOptions(message: OutgoingMessage) {
  return {
    from: message.from,
    to: message.to,
    ...(message.replyTo ? { replyTo: message.replyTo } : {}),
    subject: message.subject,
    text: message.text,
    html: message.html,
    headers: message.headers,
  };
}

/** The message as RFC 5322 MIME (multipart/alternative, text and HTML), headers included. */
export function toMime(message: OutgoingMessage): Promise<Buffer> {
  return new MailComposer(mailOptions(message)).compile().build();
}
