import nodemailer from "nodemailer";
import { mailOptions } from "./mime.js";
import { TransportError, type OutgoingMessage, type RemoteTransport } from "./transport.js";

const NOT_SENT = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ECONNECTION", "EDNS"]);

/**
 * SMTP through nodemailer's pooled transport (`MK_SMTP_URL`, e.g.
 * smtp://user:pass@smtp.example.com:587). 4xx replies are retried, 5xx
 * replies fail the message; a connection lost after DATA is ambiguous.
 */
export function smtpTransport(url: string, options: { maxConnections?: number } = {}): RemoteTransport {
  const transporter = nodemailer.createTransport({ url, pool: true, maxConnections: options.maxConnections ?? 5 } as Parameters<typeof nodemailer.createTransport>[0]);
  return {
    name: "smtp",
    kind: "remote",
    async send(message: OutgoingMessage): Promise<string> {
      try {
        const info = await transporter.sendMail(mailOptions(message));
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
