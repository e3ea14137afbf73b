import { runtimeConfig, type RuntimeConfig } from "../schemas/runtime-config.js";

/** The configuration is wrong; `problems` has one line per variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`the runtime's configuration is invalid:\n${problems.map((p) => `  ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** Read and check the runtime's environment variables, reporting every problem at once. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  const result = runtimeConfig.safeParse(env);
  if (result.success) return result.data;
  throw new ConfigError(result.error.issues.map((issue) => `${issue.path.join(".")} ${issue.message}`));
}
