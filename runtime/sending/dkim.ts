import { createPrivateKey, type KeyObject } from "node:crypto";
import type { DkimSettings } from "../../schemas/dkim.js";

/**
 * What each signature covers (h=), of the headers a message has: those a
 * mailbox shows or acts on. List-Unsubscribe and List-Unsubscribe-Post are
 * in it (nodemailer's default list lacks the second), so nobody on the way
 * can point one-click unsubscribe elsewhere without breaking the signature.
 */
export const DKIM_SIGNED_HEADERS = [
  "From",
  "Sender",
  "Reply-To",
  "To",
  "Cc",
  "Subject",
  "Date",
  "Message-ID",
  "MIME-Version",
  "Content-Type",
  "Content-Transfer-Encoding",
  "Content-Language",
  "List-Unsubscribe",
  "List-Unsubscribe-Post",
  "List-Id",
] as const;

/** A signing key in nodemailer's terms (its `dkim` option). */
export interface DkimKey {
  domainName: string;
  keySelector: string;
  privateKey: KeyObject;
}

/** The runtime cannot sign as sending.dkim asks: the message says why and never holds the key. */
export class DkimKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DkimKeyError";
  }
}

/** Receivers ignore shorter RSA keys (RFC 8301). */
const MIN_RSA_BITS = 1024;

/**
 * The key the runtime's variable `settings.privateKeyEnv` holds: a PEM RSA
 * private key (PKCS#8 or PKCS#1), its line breaks real or written `\n` as
 * .env files and secret stores often keep them. nodemailer signs rsa-sha256
 * only, and a key it cannot use makes it send the message unsigned, so
 * anything else is refused here.
 */
export function readDkimKey(settings: DkimSettings, env: NodeJS.ProcessEnv): DkimKey {
  const name = settings.privateKeyEnv;
  const value = env[name];
  if (value === undefined || value.trim() === "") {
    throw new DkimKeyError(`mk.yaml sending.dkim.privateKeyEnv names ${name}, which the runtime's environment does not set: set it to the PEM private key of selector "${settings.selector}" and restart the runtime`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(value.includes("\n") ? value : value.replaceAll("\\n", "\n"));
  } catch {
    throw new DkimKeyError(`${name} (mk.yaml sending.dkim.privateKeyEnv) does not hold a PEM private key ("-----BEGIN PRIVATE KEY-----" …, unencrypted): openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 writes one`);
  }
  if (key.asymmetricKeyType !== "rsa") {
    throw new DkimKeyError(`${name} (mk.yaml sending.dkim.privateKeyEnv) holds an ${key.asymmetricKeyType ?? "unknown"} key; the SMTP transport signs rsa-sha256 only: use an RSA key of 2048 bits`);
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS) {
    throw new DkimKeyError(`${name} (mk.yaml sending.dkim.privateKeyEnv) holds a ${bits}-bit RSA key; receivers ignore signatures under ${MIN_RSA_BITS} bits: use 2048`);
  }
  return { domainName: settings.domain.toLowerCase(), keySelector: settings.selector, privateKey: key };
}

export interface DkimLog {
  error(details: object, message: string): void;
}

/** How long the applied sending.dkim is kept before it is read again: an apply that changes it takes effect within this. */
const REREAD_MS = 5000;

/**
 * The signing key the applied project's `sending.dkim` names, for the SMTP
 * transport to sign each message with (undefined: it names none). The
 * settings are re-read every few seconds, as sending.maxPerSecond is; each
 * variable is read and parsed once (the environment does not change while
 * the runtime runs), and a problem with it is logged once and thrown for
 * every message, which then is not sent.
 */
export function appliedDkimKey(readSettings: () => Promise<DkimSettings | undefined>, env: NodeJS.ProcessEnv, log: DkimLog): () => Promise<DkimKey | undefined> {
  const keys = new Map<string, DkimKey | DkimKeyError>();
  let current: { settings: DkimSettings | undefined; readAt: number } | undefined;
  let reading: Promise<DkimSettings | undefined> | undefined;

  const settings = async (): Promise<DkimSettings | undefined> => {
    if (current && Date.now() - current.readAt < REREAD_MS) return current.settings;
    reading ??= readSettings()
      .then((read) => {
        current = { settings: read, readAt: Date.now() };
        return read;
      })
      .finally(() => (reading = undefined));
    return reading;
  };

  return async () => {
    const wanted = await settings();
    if (!wanted) return undefined;
    const id = `${wanted.privateKeyEnv}\u0000${wanted.domain}\u0000${wanted.selector}`;
    let key = keys.get(id);
    if (!key) {
      try {
        key = readDkimKey(wanted, env);
      } catch (error) {
        if (!(error instanceof DkimKeyError)) throw error;
        key = error;
        log.error({ variable: wanted.privateKeyEnv, domain: wanted.domain, selector: wanted.selector }, `cannot sign SMTP messages with DKIM, so none is sent: ${error.message}`);
      }
      keys.set(id, key);
    }
    if (key instanceof DkimKeyError) throw key;
    return key;
  };
}
