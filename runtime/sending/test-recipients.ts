// Who may get proofs (mk send test): shared by the runtime and the CLI, so it imports nothing.

/** What a proof's subject starts with, whoever asked for it. */
export const PROOF_SUBJECT_PREFIX = "[Test] ";

/** The first of `to` that `allowlist` (addresses and @domains, any case) does not name. */
export function firstNotAllowed(allowlist: readonly string[], to: readonly string[]): string | undefined {
  const entries = new Set(allowlist.map((entry) => entry.toLowerCase()));
  return to.find((address) => {
    const lower = address.toLowerCase();
    return !entries.has(lower) && !entries.has(lower.slice(lower.lastIndexOf("@")));
  });
}
