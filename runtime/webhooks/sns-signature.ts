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

/** Fetches the PEM certificate at a URL already checked to be Amazon SNS's. */
export type CertificateSource = (url: URL) => Promise<string>;

const SNS_HOST = /^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/;

/** An https URL on an SNS host: where signing certificates and subscription links may point, and nowhere else. */
export function isSnsUrl(text: string | undefined, pathEnding = ""): URL | undefined {
  if (!text) return undefined;
  try {
    const url = new URL(text);
    return url.protocol === "https:" && SNS_HOST.test(url.hostname) && url.port === "" && url.pathname.endsWith(pathEnding) ? url : undefined;
  } catch {
    return undefined;
  }
}

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
 * (SHA256withRSA) over the documented fields, with a certificate fetched only
 * from an https://sns.<region>.amazonaws.com/….pem URL and valid now.
 * Anything else — another version, another host, a changed byte — is false.
 */
export async function verifySnsSignature(message: SnsMessage, certificates: CertificateSource, now = new Date()): Promise<boolean> {
  const algorithm = message.SignatureVersion === "1" ? "RSA-SHA1" : message.SignatureVersion === "2" ? "RSA-SHA256" : undefined;
  const certUrl = isSnsUrl(message.SigningCertURL, ".pem");
  const text = stringToSign(message);
  if (!algorithm || !certUrl || text === undefined) return false;
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(await certificates(certUrl));
  } catch {
    return false;
  }
  if (new Date(certificate.validFrom) > now || new Date(certificate.validTo) < now) return false;
  return createVerify(algorithm).update(text, "utf8").verify(certificate.publicKey, message.Signature, "base64");
}

/** Certificates over https, each fetched once per process. */
export function httpsCertificates(): CertificateSource {
  const cache = new Map<string, Promise<string>>();
  return (url) => {
    let pem = cache.get(url.href);
    if (!pem) {
      pem = fetch(url, { signal: AbortSignal.timeout(5000) }).then(async (response) => {
        if (!response.ok) throw new Error(`certificate ${url.href}: HTTP ${response.status}`);
        return response.text();
      });
      pem.catch(() => cache.delete(url.href));
      cache.set(url.href, pem);
    }
    return pem;
  };
}
