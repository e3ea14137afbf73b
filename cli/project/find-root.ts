import { access } from "node:fs/promises";
import path from "node:path";
import { PROJECT_FILE } from "./reader.js";

/** The nearest folder at or above `start` that holds mk.yaml, or undefined. */
export async function findProjectRoot(start: string): Promise<string | undefined> {
  let dir = path.resolve(start);
  for (;;) {
    try {
      await access(path.join(dir, PROJECT_FILE));
      return dir;
    } catch {
      const parent = path.dirname(dir);
      if (parent === dir) return undefined;
      dir = parent;
    }
  }
}
