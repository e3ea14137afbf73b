import { cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const MINIMAL = fileURLToPath(new URL("../fixtures/valid/minimal/", import.meta.url));

/** A writable copy of a fixture repository in a fresh temporary folder. */
export async function tempRepo(from: string = MINIMAL): Promise<{ root: string; write: (file: string, text: string) => Promise<void>; remove: () => Promise<void> }> {
  const root = await mkdtemp(path.join(tmpdir(), "mk-test-"));
  await cp(from, root, { recursive: true });
  return {
    root,
    write: async (file, text) => {
      await mkdir(path.dirname(path.join(root, file)), { recursive: true });
      await writeFile(path.join(root, file), text);
    },
    remove: () => rm(root, { recursive: true, force: true }),
  };
}
