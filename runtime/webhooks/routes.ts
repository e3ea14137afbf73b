import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from "fastify";
import type pg from "pg";
import { Counter, type Registry } from "prom-client";
import type { Clock } from "../clock.js";
import type { NetworkLookup } from "../engagement/networks.js";
import { ApiError } from "../http/errors.js";
import { firstDelivery, handleSesNotification } from "./ses-events.js";
import { admitSnsMessage, CLOCK_SKEW_MS, type SnsPolicy, type SnsRefusal } from "./sns-envelope.js";
import { snsMessage, verifySnsSignature, type CertificateSource, type SnsMessage } from "./sns-signature.js";

export interface SesWebhookDeps {
  pool: pg.Pool;
  registry: Registry;
  log: FastifyBaseLogger;
  /** The topics (MK_SNS_TOPIC_ARNS) and the message age (MK_SNS_MAX_AGE) the webhook accepts. */
  policy: SnsPolicy;
  /** The time Timestamps and certificates are checked against. */
  clock: Clock;
  certificates: CertificateSource;
  /** Visits an admitted SubscribeURL of a verified message. */
  confirmSubscription: (url: URL) => Promise<void>;
  /** The network of an SES open's or click's address (MK_ASN_DB), read once per process; none when it is off. */
  networks?: (() => Promise<NetworkLookup | undefined>) | undefined;
}

/** Logged once per process, at the first message refused because no topic is configured. */
export const TOPICS_UNSET_LINE =
  "POST /v1/webhooks/ses refuses every message: MK_SNS_TOPIC_ARNS is not set. Set it to the ARNs of the SNS topics your SES configuration sets publish to, comma-separated (arn:aws:sns:<region>:<account id>:<topic>), and restart. Logged once per process.";

/** The client's view of a refusal: status, stable code, and the field at fault. */
function refusalError(refusal: SnsRefusal): ApiError {
  const field = (path: string, status: number, code: string, message: string) => new ApiError(status, code, message, [{ path, message }]);
  switch (refusal.reason) {
    case "no_topics":
      return new ApiError(403, "sns_topics_not_configured", "this runtime accepts no SNS topic yet: its MK_SNS_TOPIC_ARNS is not set");
    case "unknown_topic":
      return field("TopicArn", 403, "unknown_topic", "TopicArn is not one of the topics in the runtime's MK_SNS_TOPIC_ARNS");
    case "certificate_url":
      return field("SigningCertURL", 403, "invalid_signature", `SigningCertURL is not https://sns.${refusal.region}.amazonaws.com/SimpleNotificationService-<hex>.pem (the topic's region, no query)`);
    case "timestamp":
      return field("Timestamp", 403, "stale_message", `Timestamp is older than the runtime's MK_SNS_MAX_AGE, more than ${CLOCK_SKEW_MS / 60_000} minutes ahead of its clock, or not an ISO 8601 UTC time`);
    case "subscribe_url":
      return field("SubscribeURL", 400, "invalid_request", `SubscribeURL is not https://sns.${refusal.region}.amazonaws.com/?Action=ConfirmSubscription&TopicArn=<this topic>…`);
    case "signature":
      return new ApiError(403, "invalid_signature", "not a correctly signed Amazon SNS message");
  }
}

/**
 * `POST /v1/webhooks/ses`: Amazon SNS delivering SES events. No bearer token:
 * every message must come from a topic in MK_SNS_TOPIC_ARNS, be fresh and
 * carry a valid SNS signature by a certificate at SNS in the topic's region,
 * or it is refused (403) and nothing is stored, fetched or confirmed.
 */
export function registerSesWebhook(app: FastifyInstance, deps: SesWebhookDeps): void {
  const failures = new Counter({ name: "mk_webhook_verification_failures_total", help: "Webhook messages refused before they were trusted, by reason (topic, certificate URL, age, signature)", labelNames: ["source", "reason"] as const, registers: [deps.registry] });
  const received = new Counter({ name: "mk_webhook_messages_total", help: "Verified webhook messages, by type and outcome", labelNames: ["type", "outcome"] as const, registers: [deps.registry] });
  let toldUnset = false;

  const refuse = (request: FastifyRequest, refusal: SnsRefusal, message?: SnsMessage): never => {
    failures.inc({ source: "sns", reason: refusal.reason });
    const error = refusalError(refusal);
    if (refusal.reason !== "no_topics") {
      request.log.warn({ reason: refusal.reason, messageId: message?.MessageId, topicArn: message?.TopicArn }, `SNS message refused: ${error.message}`);
    } else if (!toldUnset) {
      toldUnset = true;
      deps.log.warn(TOPICS_UNSET_LINE);
    }
    throw error;
  };

  app.register(async (scope) => {
    // SNS posts JSON as text/plain.
    scope.addContentTypeParser(["text/plain", "application/json"], { parseAs: "string", bodyLimit: 256 * 1024 }, (_request, body, done) => done(null, body));

    scope.post("/v1/webhooks/ses", async (request) => {
      if (deps.policy.topicArns.size === 0) return refuse(request, { reason: "no_topics" });
      let body: unknown;
      try {
        body = JSON.parse(String(request.body));
      } catch {
        throw new ApiError(400, "invalid_request", "the body is not JSON");
      }
      const parsed = snsMessage.safeParse(body);
      if (!parsed.success) return refuse(request, { reason: "signature" });
      const message = parsed.data;
      const now = deps.clock();
      const admission = admitSnsMessage(message, deps.policy, now);
      if ("reason" in admission) return refuse(request, admission, message);
      if (!(await verifySnsSignature(message, admission.certificateUrl, deps.certificates, now))) return refuse(request, { reason: "signature" }, message);

      if (message.Type === "Notification") {
        const outcome = await handleSesNotification(deps.pool, message, await deps.networks?.());
        received.inc({ type: message.Type, outcome: outcome.status });
        return outcome;
      }
      if (!(await firstDelivery(deps.pool, message))) {
        received.inc({ type: message.Type, outcome: "duplicate" });
        return { status: "duplicate" };
      }
      if (admission.subscribeUrl) {
        await deps.confirmSubscription(admission.subscribeUrl);
        deps.log.info({ topic: message.TopicArn }, "confirmed the SNS subscription");
      }
      received.inc({ type: message.Type, outcome: "handled" });
      return { status: "handled" };
    });
  });
}
