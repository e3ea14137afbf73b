import { readFile } from "node:fs/promises";
import { MkError } from "./errors.js";
import type { ProblemCode } from "./problems.js";

/** A JSON file a flag names (`--data`): its parsed value, or an MkError with `code` that names the file and what is wrong. */
export async function readJsonFile(file: string, code: ProblemCode): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new MkError(code, `${file}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? "error"})`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new MkError(code, `${file}: not valid JSON (${(error as Error).message})`);
  }
}
