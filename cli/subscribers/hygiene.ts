import { disposableEmailBlocklistSet } from "disposable-email-domains-js";

/**
 * Addresses an import skips unless told otherwise (README, "mk subscribers
 * import"): role addresses, which reach a function rather than a person who
 * consented, and addresses at disposable-mail domains.
 *
 * Role addresses: the mailbox names of RFC 2142 (business, network and service
 * mailboxes), mailer-daemon, the operating system's administrator accounts,
 * and the ways of writing "no reply". Compared without case and without a
 * +subaddress.
 */
export const ROLE_MAILBOXES: ReadonlySet<string> = new Set([
  // RFC 2142 section 3 (business), 4 (network operations), 5 (services).
  "info", "marketing", "sales", "support", "abuse", "noc", "security", "postmaster", "hostmaster", "usenet", "news", "webmaster", "www", "uucp", "ftp",
  "mailer-daemon", "root", "admin", "administrator",
  "noreply", "no-reply", "no_reply", "donotreply", "do-not-reply", "do_not_reply",
]);

/**
 * Disposable domains: the list kept by the disposable-email-domains project,
 * through the disposable-email-domains-js package (republished as the list
 * changes). A subdomain of a listed domain counts too, as the list asks.
 */
let disposable: Set<string> | undefined;

export type HygieneKind = "role" | "disposable";

/** Why an (already normalised) address is skipped, or undefined when it is not. */
export function hygieneProblem(email: string, allow: { role?: boolean; disposable?: boolean } = {}): { kind: HygieneKind; reason: string } | undefined {
  const at = email.lastIndexOf("@");
  const local = email.slice(0, at).toLowerCase().split("+")[0]!;
  const domain = email.slice(at + 1).toLowerCase();
  if (!allow.role && ROLE_MAILBOXES.has(local)) {
    return { kind: "role", reason: `${local}@ is a role address, not a person (--allow-role imports it)` };
  }
  if (!allow.disposable) {
    const listed = disposableDomainOf(domain);
    if (listed !== undefined) return { kind: "disposable", reason: `${listed} is a disposable-mail domain (--allow-disposable imports it)` };
  }
  return undefined;
}

/** Domains looked up already, with the listed domain each is or is under (an import's rows share a few domains). */
const lookedUp = new Map<string, string | undefined>();
const LOOKED_UP_AT_MOST = 10_000;

/** The domain of the disposable list that `domain` is or is a subdomain of, if any. */
function disposableDomainOf(domain: string): string | undefined {
  if (lookedUp.has(domain)) return lookedUp.get(domain);
  disposable ??= disposableEmailBlocklistSet();
  const labels = domain.split(".");
  let listed: string | undefined;
  for (let i = 0; i < labels.length - 1 && listed === undefined; i++) {
    const candidate = labels.slice(i).join(".");
    if (disposable.has(candidate)) listed = candidate;
  }
  if (lookedUp.size >= LOOKED_UP_AT_MOST) lookedUp.clear();
  lookedUp.set(domain, listed);
  return listed;
}
