import { createVerify, X509Certificate } from "node:crypto";
import { z } from "zod";

/** An Amazon SNS message as it arrives over HTTP (the documented fields; others are kept but not trusted). */
export const snsMessage = z.looseObject({
  Type: z.enum(["Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation"]),
  MessageId: z.string().min(1).max(200),
  TopicArn: z.string().min(1),
  Subject: z.string().optional(),
  Message: z.string(),
  Timestamp: z.string().min(1),
  SignatureVersion: z.string(),
  Signature: z.string().min(1),
  SigningCertURL: z.string().min(1),
  SubscribeURL: z.string().optional(),
  Token: z.string().optional(),
});
export type SnsMessage = z.infer<typeof snsMessage>;

/** Fetches the PEM certificate at a URL that sns-envelope.ts admitted. */
export type CertificateSource = (url: URL) => Promise<string>;

/** The fields SNS signs, in the documented order, as "Key\nValue\n" pairs. */
function stringToSign(message: SnsMessage): string | undefined {
  const keys =
    message.Type === "Notification"
      ? ["Message", "MessageId", ...(message.Subject !== undefined ? ["Subject"] : []), "Timestamp", "TopicArn", "Type"]
      : ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"];
  let out = "";
  for (const key of keys) {
    const value = (message as Record<string, unknown>)[key];
    if (typeof value !== "string") return undefined;
    out += `${key}\n${value}\n`;
  }
  return out;
}

/**
 * Whether an SNS message is genuine: SignatureVersion 1 (SHA1withRSA) or 2
 * (SHA256withRSA) over the documented fields, by the certificate at
 * `certificateUrl` (admitted by sns-envelope.ts), valid at `now`. Anything
 * else — another version, a changed byte, no signature — is false, and
 * nothing but that one URL is fetched.
 */
export async function verifySnsSignature(message: SnsMessage, certificateUrl: URL, certificates: CertificateSource, now: Date): Promise<boolean> {
  const algorithm = message.SignatureVersion === "1" ? "RSA-SHA1" : message.SignatureVersion === "2" ? "RSA-SHA256" : undefined;
  const text = stringToSign(message);
  if (!algorithm || text === undefined) return false;
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(await certificates(certificateUrl));
  } catch {
    return false;
  }
  if (new Date(certificate.validFrom) > now || new Date(certificate.validTo) < now) return false;
  return createVerify(algorithm).update(text, "utf8").verify(certificate.publicKey, message.Signature, "base64");
}
