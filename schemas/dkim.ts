import { z } from "zod";
import { ENV_VAR_PATTERN } from "./common.js";

/** One DNS label: letters, digits and inner dashes, at most 63 characters. */
const LABEL = "[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?";
const DOMAIN_PATTERN = new RegExp(`^(?=.{1,253}$)(?:${LABEL}\\.)+${LABEL}$`, "i");
const SELECTOR_PATTERN = new RegExp(`^(?=.{1,63}$)${LABEL}(?:\\.${LABEL})*$`, "i");

/** A PEM block ("-----BEGIN … KEY-----") or its base64 body (DER starts "MII…", and base64 has lower case, + or /) pasted where a variable's name belongs. */
export function looksLikePem(value: string): boolean {
  return value.includes("-----BEGIN") || (/^MII[A-Za-z0-9+/=\s]{20,}$/.test(value) && /[a-z+/]/.test(value));
}

/**
 * mk.yaml `sending.dkim`: the SMTP transport signs every message with the
 * key the runtime's environment variable `privateKeyEnv` holds, under
 * `d=<domain>; s=<selector>` (the TXT record `<selector>._domainkey.<domain>`
 * publishes its public half). The key itself never goes into the repository.
 */
export const dkimSettings = z.strictObject({
  domain: z
    .string()
    .regex(DOMAIN_PATTERN, { error: 'must be a domain name such as "nomaddesk.example" (the d= of the signature)' })
    .meta({ description: "The signing domain (d=): the From domain or a parent of it, for DMARC alignment." }),
  selector: z
    .string()
    .regex(SELECTOR_PATTERN, { error: 'must be a DKIM selector such as "mk2026" (letters, digits, dashes; dots between labels)' })
    .meta({ description: "The selector (s=): its public key is the TXT record <selector>._domainkey.<domain>." }),
  privateKeyEnv: z
    .string()
    .refine((value) => !looksLikePem(value), {
      error: "holds a private key: never write it in mk.yaml (remove it from the Git history too); set privateKeyEnv to the name of the runtime's environment variable that holds it, e.g. MK_DKIM_PRIVATE_KEY",
      params: { code: "MK027" },
      abort: true,
    })
    .regex(ENV_VAR_PATTERN, { error: "must name an environment variable of the runtime (upper case, digits, _) that holds the PEM private key, never the key itself" })
    .meta({ description: "Name of the runtime's environment variable holding the PEM (RSA) private key; never the key itself." }),
});
export type DkimSettings = z.infer<typeof dkimSettings>;
