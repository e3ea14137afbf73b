import { generateKeyPairSync } from "node:crypto";

export interface DkimTestKey {
  /** PKCS#8 PEM, as the runtime's variable would hold it. */
  privateKeyPem: string;
  /** The TXT record `<selector>._domainkey.<domain>` publishes. */
  txtRecord: string;
}

/** A fresh RSA key pair and the DNS record of its public half. */
export function dkimTestKey(bits = 2048): DkimTestKey {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: bits });
  const spki = publicKey.export({ type: "spki", format: "der" }).toString("base64");
  return { privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(), txtRecord: `v=DKIM1; k=rsa; p=${spki}` };
}

/**
 * A DNS resolver with dns.promises.resolve's signature that knows one TXT
 * record and nothing else (no network): what mailauth's verifier asks.
 */
export function oneRecordResolver(name: string, txtRecord: string): (host: string, type: string) => Promise<string[][]> {
  return async (host, type) => {
    if (type === "TXT" && host.toLowerCase() === name.toLowerCase()) return [[txtRecord]];
    throw Object.assign(new Error(`queryTxt ENOTFOUND ${host}`), { code: "ENOTFOUND" });
  };
}
