#!/usr/bin/env node
import module from "node:module";

// Node ≥ 22.1 keeps the compiled code of every module it loads (in the system's temporary folder, or
// NODE_COMPILE_CACHE), so later runs skip compiling; older versions have no such cache. Before oclif is imported.
module.enableCompileCache?.();
const { execute } = await import("@oclif/core");

await execute({ dir: import.meta.url });
