import Table from "cli-table3";
import type { ApiTokenInfo } from "../../schemas/tokens.js";

/** "2026-10-01 12:00:00" (UTC) of an ISO time; "-" for none. */
export function shortTime(iso: string | null): string {
  return iso === null ? "-" : iso.replace("T", " ").slice(0, 19);
}

/** Whether a token still works at `now`: active, expired or revoked. */
export function tokenState(token: ApiTokenInfo, now: Date): "active" | "expired" | "revoked" {
  if (token.revokedAt !== null) return "revoked";
  return token.expiresAt !== null && Date.parse(token.expiresAt) <= now.getTime() ? "expired" : "active";
}

/** `mk tokens list`'s table: one token a row, times in UTC. */
export function tokenTable(tokens: readonly ApiTokenInfo[], now: Date, options: { bold: boolean }): string {
  const table = new Table({ head: ["name", "scope", "state", "created", "expires", "revoked", "last used"], style: { head: options.bold ? ["bold"] : [], border: [] } });
  for (const t of tokens) table.push([t.name, t.scope, tokenState(t, now), shortTime(t.createdAt), t.expiresAt === null ? "never" : shortTime(t.expiresAt), shortTime(t.revokedAt), shortTime(t.lastUsedAt)]);
  return table.toString();
}
