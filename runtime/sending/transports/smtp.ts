import nodemailer from "nodemailer";
import { DKIM_SIGNED_HEADERS, type DkimKey } from "../dkim.js";
import { mailOptions } from "./mime.js";
import { TransportError, type OutgoingMessage, type RemoteTransport } from "./transport.js";

const NOT_SENT = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ECONNECTION", "EDNS"]);

export interface SmtpOptions {
  maxConnections?: number;
  /** The key each message is signed with (mk.yaml sending.dkim), undefined for none; one that throws keeps the message unsent. */
  dkim?: () => Promise<DkimKey | undefined>;
}

/**
 * SMTP through nodemailer's pooled transport (`MK_SMTP_URL`, e.g.
 * smtp://user:pass@smtp.example.com:587). 4xx replies are retried, 5xx
 * replies fail the message; a connection lost after DATA is ambiguous.
 * With a DKIM key every message is signed (relaxed/relaxed, rsa-sha256,
 * DKIM_SIGNED_HEADERS); a key that cannot be had is a retry: the message is
 * not sent unsigned, and waits (with backoff) for the runtime to be fixed.
 */
export function smtpTransport(url: string, options: SmtpOptions = {}): RemoteTransport {
  const transporter = nodemailer.createTransport({ url, pool: true, maxConnections: options.maxConnections ?? 5 } as Parameters<typeof nodemailer.createTransport>[0]);
  return {
    name: "smtp",
    kind: "remote",
    async send(message: OutgoingMessage): Promise<string> {
      let dkim: DkimKey | undefined;
      try {
        dkim = await options.dkim?.();
      } catch (error) {
        return Promise.reject(new TransportError("retry", `not sent: cannot sign it with DKIM: ${(error as Error).message}`));
      }
      try {
        const info = await transporter.sendMail({ ...mailOptions(message), ...(dkim ? { dkim: { ...dkim, headerFieldNames: DKIM_SIGNED_HEADERS.join(":") } } : {}) });
        return String(info.messageId);
      } catch (error) {
        const { responseCode, code, message: text } = error as { responseCode?: number; code?: string; message: string };
        if (responseCode !== undefined && responseCode >= 500) return Promise.reject(new TransportError("reject", `SMTP ${responseCode}: ${text}`));
        if (responseCode !== undefined && responseCode >= 400) return Promise.reject(new TransportError("retry", `SMTP ${responseCode}: ${text}`));
        if (code !== undefined && NOT_SENT.has(code)) return Promise.reject(new TransportError("retry", `SMTP unreachable: ${text}`));
        return Promise.reject(new TransportError("unknown", `SMTP connection lost: ${text}`));
      }
    },
    close: async () => transporter.close(),
  };
}
