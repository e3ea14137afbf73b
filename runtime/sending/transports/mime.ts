import MailComposer from "nodemailer/lib/mail-composer";
import type { OutgoingMessage } from "./transport.js";

/** The message as RFC 5322 MIME (multipart/alternative, text and HTML), headers included. */
export function toMime(message: OutgoingMessage): Promise<Buffer> {
  return new MailComposer({
    from: message.from,
    to: message.to,
    ...(message.replyTo ? { replyTo: message.replyTo } : {}),
    subject: message.subject,
    text: message.text,
    html: message.html,
    headers: message.headers,
  })
    .compile()
    .build();
}
