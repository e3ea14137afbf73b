import { SNS_TOPIC_ARN } from "../../schemas/runtime-config.js";
import type { SnsMessage } from "./sns-signature.js";

/**
 * What an SNS message must show before the webhook fetches anything for it:
 * a topic it was told to accept, a signing certificate at SNS's own address
 * in that topic's region, a fresh Timestamp and, to subscribe, a SubscribeURL
 * at SNS in that region for that topic. Signatures are checked afterwards
 * (sns-signature.ts), against the one certificate URL this allows.
 */
export interface SnsPolicy {
  /** MK_SNS_TOPIC_ARNS: empty refuses every message. */
  topicArns: ReadonlySet<string>;
  /** MK_SNS_MAX_AGE in milliseconds: an older Timestamp is refused. */
  maxAgeMs: number;
}

/** How far a signed Timestamp may be ahead of the runtime's clock. */
export const CLOCK_SKEW_MS = 5 * 60_000;

/** Why a message is refused, as the route reports it (no_topics: MK_SNS_TOPIC_ARNS is empty, checked by the route first). */
export type SnsRefusal =
  | { reason: "no_topics" }
  | { reason: "unknown_topic" }
  | { reason: "certificate_url"; region: string }
  | { reason: "timestamp" }
  | { reason: "subscribe_url"; region: string }
  | { reason: "signature" };

/** The URLs the webhook may fetch for an admitted message. */
export interface SnsAdmission {
  certificateUrl: URL;
  /** For a SubscriptionConfirmation: where to confirm it. */
  subscribeUrl?: URL;
}

const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;

/** The message's URLs to fetch, or why it is refused; nothing here goes over the network. */
export function admitSnsMessage(message: SnsMessage, policy: SnsPolicy, now: Date): SnsAdmission | SnsRefusal {
  const region = policy.topicArns.has(message.TopicArn) ? SNS_TOPIC_ARN.exec(message.TopicArn)?.[1] : undefined;
  if (!region) return { reason: "unknown_topic" };
  const certificateUrl = signingCertUrl(message.SigningCertURL, region);
  if (!certificateUrl) return { reason: "certificate_url", region };
  if (!isFresh(message.Timestamp, policy.maxAgeMs, now)) return { reason: "timestamp" };
  if (message.Type !== "SubscriptionConfirmation") return { certificateUrl };
  const subscribeUrl = confirmationUrl(message.SubscribeURL, region, message.TopicArn);
  return subscribeUrl ? { certificateUrl, subscribeUrl } : { reason: "subscribe_url", region };
}

/** Exactly https://sns.<region>.amazonaws.com/SimpleNotificationService-<hex>.pem: no userinfo, port, query or fragment. */
function signingCertUrl(text: string, region: string): URL | undefined {
  // The region comes from a listed ARN (SNS_TOPIC_ARN): letters, digits and dashes, nothing a pattern reads specially.
  const expected = new RegExp(`^https://sns\\.${region}\\.amazonaws\\.com/SimpleNotificationService-[0-9a-f]{1,64}\\.pem$`);
  return expected.test(text) ? new URL(text) : undefined;
}

/** https://sns.<region>.amazonaws.com/?Action=ConfirmSubscription&TopicArn=<this topic>&…, nothing else. */
function confirmationUrl(text: string | undefined, region: string, topicArn: string): URL | undefined {
  // The prefix fixes the scheme, host and path and leaves no room for userinfo or a port.
  if (!text?.startsWith(`https://sns.${region}.amazonaws.com/?`)) return undefined;
  const url = new URL(text);
  return url.hash === "" && url.searchParams.get("Action") === "ConfirmSubscription" && url.searchParams.get("TopicArn") === topicArn ? url : undefined;
}

function isFresh(timestamp: string, maxAgeMs: number, now: Date): boolean {
  const at = ISO_TIMESTAMP.test(timestamp) ? Date.parse(timestamp) : Number.NaN;
  return at >= now.getTime() - maxAgeMs && at <= now.getTime() + CLOCK_SKEW_MS;
}
