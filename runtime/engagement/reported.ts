import { classify, type Classification } from "./classify.js";
import type { Network, NetworkLookup } from "./networks.js";
import { evidenceOf } from "./request-evidence.js";

/** An open or click someone else saw (SES's tracking, an app posting to /v1/events): what they say of the request. */
export interface ReportedEngagement {
  kind: "open" | "click";
  ip?: string | undefined;
  userAgent?: string | undefined;
  occurredAt: Date;
  /** When its send went out, when the event belongs to one mk sent. */
  sentAt?: Date | undefined;
  /** Who reports it: SES's tracking, or your own system through POST /v1/events. */
  source: "ses" | "api";
}

export interface ReportedClassification extends Classification {
  network?: Network | undefined;
}

/**
 * Who made an open or click reported to mk, from the evidence the report
 * carries: its address's network, its user agent and how soon after the send
 * it came. A report has no request method (a GET as far as anyone can tell)
 * and no burst of other links (each arrives on its own).
 */
export function classifyReported(report: ReportedEngagement, networkOf: NetworkLookup | undefined): ReportedClassification {
  const network = report.ip === undefined ? undefined : networkOf?.(report.ip);
  const userAgent = report.userAgent?.trim() || undefined;
  const secondsAfterSend = report.sentAt === undefined ? undefined : (report.occurredAt.getTime() - report.sentAt.getTime()) / 1000;
  return { ...classify({ ...evidenceOf(report.kind, { method: "GET", userAgent, ip: report.ip, network }, { secondsAfterSend }), reported: report.source === "api" }), network };
}
