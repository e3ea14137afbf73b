import { z } from "zod";
import { emailAddress, mailbox } from "./common.js";

/** The most recipients one proof request may name (the hourly cap still applies to each). */
export const TEST_SEND_RECIPIENT_LIMIT = 20;

/**
 * `POST /v1/sends/test` (`mk send test`): one message as the working copy
 * renders it, personalised already, for the runtime to send as a proof to
 * addresses of the applied project's testRecipients. The runtime prefixes the
 * subject with "[Test] " and records the proof nowhere but the transport.
 */
export const testSendRequest = z.strictObject({
  /** The campaign, or "sequence/step", the proof is of (the X-Mk-Campaign header). */
  campaign: z.string().min(1).max(300),
  variant: z.string().min(1).max(100).nullable(),
  to: z.array(emailAddress).min(1).max(TEST_SEND_RECIPIENT_LIMIT),
  from: mailbox,
  replyTo: emailAddress.optional(),
  subject: z.string().min(1).max(998),
  /** 2 MiB each: far more than an inbox shows (Gmail clips at 102 KiB). */
  html: z.string().min(1).max(2 * 1024 * 1024),
  text: z.string().max(2 * 1024 * 1024),
});
export type TestSendRequest = z.infer<typeof testSendRequest>;

export interface TestSendResponse {
  /** One proof per recipient: its id (the outbox's send id with mk up) and the transport it went through. */
  sent: { to: string; id: string; transport: string }[];
}
