import { writeFile } from "node:fs/promises";
import { MkError } from "../errors.js";

/** Write a report to --out; a folder that does not exist or a read-only path is MK087, not a stack trace. */
export async function writeReport(path: string, content: string | Buffer): Promise<void> {
  try {
    await writeFile(path, typeof content !== "string" || content.endsWith("\n") ? content : `${content}\n`);
  } catch (error) {
    throw new MkError("MK087", `cannot write ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}
