import { Args, Flags } from "@oclif/core";
import type { ApplyResponse } from "../../schemas/api.js";
import { BaseCommand } from "../base-command.js";
import { LOCAL_ENV } from "../environments.js";
import { allowExitActiveFlag, cacheFlag, jsonFlag } from "../flags.js";
import { applyCompleteLine, applyPlanFile, applyRequest, confirmApply } from "../plan/apply-plan.js";
import { planRepository } from "../plan/plan-repository.js";
import { renderPlanText } from "../plan/render-text.js";

export default class Apply extends BaseCommand {
  static override summary = "Make the runtime's state what the repository says.";

  static override description = `Without a plan file: plans (exactly as mk plan), shows the plan and asks for confirmation on a
terminal; without a terminal it refuses unless --auto-approve is given. With a plan file from mk plan --out: applies
that plan as it was saved. Either way the runtime applies the whole change in one transaction and refuses it if its
state moved since the plan (plan again), and records the git commit, author, branch and dirty flag.

Exit codes:
  0  applied, or nothing to change
  1  errored: the repository has errors, the plan is stale or cannot be applied, or it was not confirmed`;

  static override examples = [
    "<%= config.bin %> apply",
    "<%= config.bin %> apply --env prod --auto-approve",
    "<%= config.bin %> apply plan.json",
  ];

  static override args = {
    plan: Args.file({ description: "A plan file written by mk plan --out.", exists: false }),
  };

  static override flags = {
    env: Flags.string({ char: "e", summary: `Environment from mk.yaml, or "${LOCAL_ENV}" for the runtime mk up started (default: local, or the plan file's).` }),
    "auto-approve": Flags.boolean({ summary: "Apply without asking for confirmation (for CI)." }),
    cache: cacheFlag,
    "allow-exit-active": allowExitActiveFlag,
    json: jsonFlag("the runtime's answer, { serial, added, changed, deleted, sequenceVersions?, enrollmentsMigrated?, enrollmentsExited? }; the plan goes to stderr"),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Apply);
    const report = (result: ApplyResponse) =>
      flags.json ? this.printJson(result) : this.log(applyCompleteLine(result));

    // 1. A saved plan is applied as it is.
    if (args.plan) {
      const { result } = await applyPlanFile(args.plan, flags.dir, flags.env);
      report(result);
      return;
    }

    // 2. Otherwise plan now, show it, and stop on problems or when nothing changes.
    const outcome = this.planOrProblems(await planRepository({ dir: flags.dir, cache: flags.cache, env: flags.env ?? LOCAL_ENV, allowExitActive: flags["allow-exit-active"] }), { json: flags.json });
    if (!outcome) return;
    const { plan, client } = outcome;
    // With --json the plan goes to stderr: stdout holds the answer alone, and whoever confirms still sees what they confirm.
    const planStream = flags.json ? process.stderr : process.stdout;
    planStream.write(renderPlanText(plan, { color: Boolean(planStream.isTTY) }));
    if (plan.errors.length > 0) {
      process.exitCode = 1;
      return;
    }
    if (plan.changes.length === 0) {
      if (flags.json) report({ serial: plan.baseSerial, added: 0, changed: 0, deleted: 0 });
      return;
    }

    // 3. Confirm, then apply.
    if (!(await confirmApply(plan.env, flags["auto-approve"]))) {
      this.logToStderr("Apply cancelled.");
      process.exitCode = 1;
      return;
    }
    report(await client.apply(applyRequest(plan)));
  }
}
