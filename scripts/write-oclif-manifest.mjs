/**
 * Writes oclif.manifest.json after the build: the list of commands with their
 * flags, so `mk` loads only the command it runs instead of every command's
 * modules (about 0.5 s less per invocation). Built by @oclif/core itself from
 * dist/, exactly as it would at run time without a manifest.
 */
import { rm, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { Config } from "@oclif/core";

const root = fileURLToPath(new URL("..", import.meta.url));
const file = new URL("../oclif.manifest.json", import.meta.url);
// A stale manifest must not describe the commands being listed.
await rm(file, { force: true });
const config = await Config.load(root);
const plugin = config.getPluginsList().find((p) => p.root === config.root);
if (!plugin) throw new Error("mk's own oclif plugin was not found");
await writeFile(file, `${JSON.stringify(plugin.manifest, null, 2)}\n`);
console.log(`wrote oclif.manifest.json (${Object.keys(plugin.manifest.commands).length} commands)`);
