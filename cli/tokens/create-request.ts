import { tokenCreateRequest, type TokenCreateRequest } from "../../schemas/tokens.js";
import { MkError } from "../errors.js";

const FLAG_OF: Record<string, string> = { name: "--name", scope: "--scope", expiresIn: "--expires" };

/** `mk tokens create`'s flags as the runtime's request, checked first: a bad name or expiry is MK095, naming the flag. */
export function tokenCreateRequestFromFlags(flags: { name: string; scope: string; expires?: string | undefined }): TokenCreateRequest {
  const parsed = tokenCreateRequest.safeParse({ name: flags.name, scope: flags.scope, ...(flags.expires === undefined ? {} : { expiresIn: flags.expires }) });
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const flag = FLAG_OF[String(issue.path[0])] ?? String(issue.path[0]);
  throw new MkError("MK095", `${flag} ${issue.message}`);
}
