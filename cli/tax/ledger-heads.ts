import { readFile } from "node:fs/promises";
import { fieldPath } from "../../runtime/http/field-path.js";
import { ledgerHeadsFile, type LedgerHead, type LedgerHeadsFile, type LostLedgerHead } from "../../schemas/tax.js";
import { MkError } from "../errors.js";

/**
 * The heads `mk tax verify --json` printed earlier (its `heads`; the rest of
 * that document is ignored): MK106 naming the file and the field when it
 * cannot be read or holds no heads.
 */
export async function readLedgerHeads(file: string): Promise<LedgerHeadsFile["heads"]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new MkError("MK106", `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new MkError("MK106", `${file} is not JSON (${(error as Error).message}): give the file mk tax verify --json wrote`);
  }
  const parsed = ledgerHeadsFile.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new MkError("MK106", `${file}: ${fieldPath(issue.path) || "(the document)"} ${issue.message}`);
  }
  return parsed.data.heads;
}

/** One line per chain: country, head position, hash, and how it is hashed. */
export function headLines(heads: readonly LedgerHead[]): string[] {
  const width = Math.max(0, ...heads.map((h) => String(h.seq).length));
  return heads.map((h) => `  ${h.country}  ${String(h.seq).padStart(width)}  ${h.hash}  ${h.keyId ? `keyed (key id ${h.keyId})` : "unkeyed (SHA-256)"}`);
}

/** MK105: recorded heads the chains no longer hold, each with its country and both positions. */
export function lostHeadsError(file: string, lost: readonly LostLedgerHead[]): MkError {
  const lines = lost.map((l) =>
    l.reason === "replaced"
      ? `${l.country} has another entry ${l.seq} than when recorded (its chain ends at entry ${l.headSeq}): rewritten`
      : l.headSeq === 0
        ? `${l.country} has no chain, but entry ${l.seq} was its head when recorded: cut entirely`
        : `${l.country} ends at entry ${l.headSeq}, but entry ${l.seq} was its head when recorded: entries were cut from its end`,
  );
  return new MkError("MK105", `the tax ledger no longer holds ${lost.length === 1 ? "a head" : `${lost.length} heads`} recorded in ${file}: ${lines.join("; ")}`);
}
