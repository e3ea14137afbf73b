import { resolveTarget } from "./environments.js";
import { MkError } from "./errors.js";
import { RuntimeClient } from "./runtime-client.js";
import { findProjectRoot } from "./project/find-root.js";
import { readProject } from "./project/reader.js";

/**
 * A client for an environment of the repository in `dir`, for commands that
 * talk to the runtime without planning (status, history, subscribers import).
 */
export async function connect(dir: string, env: string): Promise<RuntimeClient> {
  const root = await findProjectRoot(dir);
  if (!root) throw new MkError("MK004", `no mk.yaml in ${dir} or any folder above it; run mk init, or pass --dir`);
  // mk.yaml alone: finding the runtime needs nothing else, and a large repository would slow every command.
  const [project] = await readProject(root);
  if (!project) throw new MkError("MK062", "mk.yaml has errors; run mk validate");
  return new RuntimeClient(await resolveTarget(env, project.spec, root));
}
