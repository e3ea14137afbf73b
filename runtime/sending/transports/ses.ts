import { SendEmailCommand, SESv2Client, SESv2ServiceException } from "@aws-sdk/client-sesv2";
import { toMime } from "./mime.js";
import { TransportError, type OutgoingMessage, type RemoteTransport } from "./transport.js";

export interface SesOptions {
  region: string;
  /** A local endpoint in tests; AWS's otherwise. */
  endpoint?: string | undefined;
  /** Credentials come from the AWS default chain unless given. */
  credentials?: { accessKeyId: string; secretAccessKey: string } | undefined;
  /** Per-call timeout; a call that times out may have been accepted (ambiguous). */
  timeoutMs?: number;
}

/** Errors that mean SES did not take the message and will take it later. */
const RETRY = new Set(["TooManyRequestsException", "LimitExceededException", "ThrottlingException", "InternalFailure", "ServiceUnavailable", "InternalServerError"]);
/** Network errors raised before the request left: nothing was sent. */
const NOT_SENT = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN"]);

/**
 * Amazon SES v2 with raw MIME (mk always adds List-Unsubscribe headers), the
 * ledger row's id as the `mk-send-id` message tag (SES events carry it back),
 * and the SDK's own retries off: the ledger retries, durably, with backoff.
 */
export function sesTransport(options: SesOptions): RemoteTransport {
  const client = new SESv2Client({
    region: options.region,
    maxAttempts: 1,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    requestHandler: { requestTimeout: options.timeoutMs ?? 15_000, connectionTimeout: 5_000 },
  });
  return {
    name: "ses",
    kind: "remote",
    async send(message: OutgoingMessage): Promise<string> {
      const command = new SendEmailCommand({
        FromEmailAddress: message.from,
        Destination: { ToAddresses: [message.to] },
        ...(message.replyTo ? { ReplyToAddresses: [message.replyTo] } : {}),
        Content: { Raw: { Data: await toMime(message) } },
        EmailTags: [
          { Name: "mk-send-id", Value: message.sendId },
          { Name: "mk-campaign", Value: message.campaign },
        ],
        ...(message.configurationSet ? { ConfigurationSetName: message.configurationSet } : {}),
      });
      try {
        const result = await client.send(command);
        if (!result.MessageId) throw new TransportError("unknown", "SES answered without a message id");
        return result.MessageId;
      } catch (error) {
        throw classify(error);
      }
    },
    close: async () => client.destroy(),
  };
}

function classify(error: unknown): TransportError {
  if (error instanceof TransportError) return error;
  if (error instanceof SESv2ServiceException) {
    const status = error.$metadata.httpStatusCode ?? 0;
    const message = `SES ${error.name}: ${error.message}`;
    if (RETRY.has(error.name) || status === 429 || status >= 500) return new TransportError("retry", message);
    return new TransportError("reject", message);
  }
  const code = (error as { code?: string }).code ?? "";
  const message = `SES unreachable: ${(error as Error).message}`;
  return new TransportError(NOT_SENT.has(code) ? "retry" : "unknown", message);
}
