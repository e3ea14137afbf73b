import type { FastifyBaseLogger, FastifyInstance } from "fastify";
import type pg from "pg";
import { Counter, type Registry } from "prom-client";
import { ApiError } from "../http/errors.js";
import { firstDelivery, handleSesNotification } from "./ses-events.js";
import { isSnsUrl, snsMessage, verifySnsSignature, type CertificateSource } from "./sns-signature.js";

export interface SesWebhookDeps {
  pool: pg.Pool;
  registry: Registry;
  log: FastifyBaseLogger;
  certificates: CertificateSource;
  /** Visits a verified SubscribeURL (an https SNS URL). */
  confirmSubscription: (url: URL) => Promise<void>;
}

/**
 * `POST /v1/webhooks/ses`: Amazon SNS delivering SES events. No bearer token:
 * every message must carry a valid SNS signature instead, or it gets a 403 and
 * nothing is stored.
 */
export function registerSesWebhook(app: FastifyInstance, deps: SesWebhookDeps): void {
  const failures = new Counter({ name: "mk_webhook_verification_failures_total", help: "Webhook messages refused for their signature", labelNames: ["source"] as const, registers: [deps.registry] });
  const received = new Counter({ name: "mk_webhook_messages_total", help: "Verified webhook messages, by type and outcome", labelNames: ["type", "outcome"] as const, registers: [deps.registry] });

  app.register(async (scope) => {
    // SNS posts JSON as text/plain.
    scope.addContentTypeParser(["text/plain", "application/json"], { parseAs: "string", bodyLimit: 256 * 1024 }, (_request, body, done) => done(null, body));

    scope.post("/v1/webhooks/ses", async (request) => {
      let body: unknown;
      try {
        body = JSON.parse(String(request.body));
      } catch {
        throw new ApiError(400, "invalid_request", "the body is not JSON");
      }
      const parsed = snsMessage.safeParse(body);
      if (!parsed.success || !(await verifySnsSignature(parsed.data, deps.certificates))) {
        failures.inc({ source: "sns" });
        request.log.warn({ messageId: parsed.success ? parsed.data.MessageId : undefined }, "SNS message refused: missing or invalid signature");
        throw new ApiError(403, "invalid_signature", "not a correctly signed Amazon SNS message");
      }
      const message = parsed.data;
      if (message.Type === "Notification") {
        const outcome = await handleSesNotification(deps.pool, message);
        received.inc({ type: message.Type, outcome: outcome.status });
        return outcome;
      }
      if (!(await firstDelivery(deps.pool, message))) {
        received.inc({ type: message.Type, outcome: "duplicate" });
        return { status: "duplicate" };
      }
      if (message.Type === "SubscriptionConfirmation") {
        const url = isSnsUrl(message.SubscribeURL);
        if (!url) throw new ApiError(400, "invalid_request", "SubscribeURL is not an https Amazon SNS URL");
        await deps.confirmSubscription(url);
        deps.log.info({ topic: message.TopicArn }, "confirmed the SNS subscription");
      }
      received.inc({ type: message.Type, outcome: "handled" });
      return { status: "handled" };
    });
  });
}
