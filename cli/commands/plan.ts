import { appendFile, writeFile } from "node:fs/promises";
import { Flags } from "@oclif/core";
import { BaseCommand } from "../base-command.js";
import { MkError } from "../errors.js";
import { allowExitActiveFlag, cacheFlag, envFlag, jsonFlag } from "../flags.js";
import { pullRequestTarget, upsertPlanComment } from "../github.js";
import { checkRunContext, createCheckRun, planCheckRun } from "../github-check.js";
import { planJson } from "../plan/plan-json.js";
import { renderPlanMarkdown, renderRefusalMarkdown } from "../plan/render-markdown.js";
import { writePlanFile } from "../plan/plan-file.js";
import { planRepository } from "../plan/plan-repository.js";
import { renderPlanText, summaryLine } from "../plan/render-text.js";

export default class Plan extends BaseCommand {
  static override summary = "Show what mk apply would change on the runtime.";

  static override description = `Validates the repository, fetches the runtime's applied state, compiles the templates whose
fingerprint (their files, the mk and mjml versions) the runtime has not recorded and prints the difference the way
Terraform does: + create, ~ update in place (field by field, templates as a diff of
their MJML), - delete, with audience sizes and estimated cost, then one summary line.

In a pull request (GitHub Actions) the token goes only to the URL the environment has in mk.yaml on the base
branch, or in MK_ENVIRONMENT_URL when the workflow passes it; otherwise mk refuses (MK100), and with --markdown or
--github-comment or --github-check the refusal is written there instead of the plan.

--github-check creates the check run "mk plan" on the pull request's head commit (GITHUB_EVENT_PATH, else
GITHUB_SHA) with the plan's Markdown as its output; the token needs checks: write.

Exit codes:
  0  succeeded, no changes (with --detailed-exitcode; without it, also when there are changes)
  1  errored: the repository has errors, the runtime cannot be reached, or a change cannot be made
  2  succeeded, there are changes (with --detailed-exitcode)`;

  static override examples = [
    "<%= config.bin %> plan",
    "<%= config.bin %> plan --env prod --out plan.json --detailed-exitcode",
  ];

  static override flags = {
    env: envFlag,
    out: Flags.file({ summary: "Write the plan to this file for mk apply (it carries the desired state, serial, commit and a checksum)." }),
    "detailed-exitcode": Flags.boolean({ summary: "Exit 0 when there are no changes, 2 when there are, 1 on error." }),
    cache: cacheFlag,
    "allow-exit-active": allowExitActiveFlag,
    json: jsonFlag("the plan, { env, url, baseSerial, summary, changes, errors, audiences, campaigns, sequences }; problems go to stderr"),
    markdown: Flags.file({ summary: "Also write the plan as Markdown to this file (for a pull-request comment)." }),
    "github-comment": Flags.boolean({ summary: "Post the plan as the pull request's sticky comment (see mk github comment)." }),
    "github-check": Flags.boolean({ summary: 'Create the check run "mk plan" with the plan as its output: success, or failure when the plan has errors.' }),
  };

  async run(): Promise<void> {
    // 1. Validate and plan; problems stop it before the runtime is asked anything.
    const { flags } = await this.parse(Plan);
    const planned = await planRepository({ dir: flags.dir, cache: flags.cache, env: flags.env, allowExitActive: flags["allow-exit-active"] }).catch(async (error: unknown) => {
      // A token mk refused to send (MK100) still reports where the plan would have, so the pull request says why.
      if (error instanceof MkError && error.code === "MK100") {
        const refused = { headline: `No plan: mk refused to send the token (${error.code})`, failed: true };
        await this.publishMarkdown(renderRefusalMarkdown(flags.env, error), refused, flags).catch((failure: Error) => this.logToStderr(`The refusal could not be reported: ${failure.message}`));
      }
      throw error;
    });
    const outcome = this.planOrProblems(planned, { json: flags.json });
    if (!outcome) return;
    const style = { color: Boolean(process.stdout.isTTY) };
    const { plan } = outcome;

    // 2. Print it, and write the plan file.
    if (flags.json) this.printJson(planJson(plan));
    else process.stdout.write(renderPlanText(plan, style));
    if (flags.out && plan.errors.length === 0) {
      await writePlanFile(flags.out, plan);
      this.logToStderr(`Saved the plan to ${flags.out}; apply it with: mk apply ${flags.out}`);
    }

    // 3. Markdown: a file, the job summary in GitHub Actions, the pull-request comment, the check run.
    const headline = plan.changes.length === 0 ? "No changes. The runtime matches the repository." : summaryLine(plan, { color: false });
    const errors = plan.errors.length === 0 ? "" : ` ${plan.errors.length} ${plan.errors.length === 1 ? "error" : "errors"}.`;
    await this.publishMarkdown(renderPlanMarkdown(plan, plan.request.source.commit), { headline: headline + errors, failed: errors !== "" }, flags);

    // 4. Exit like terraform plan -detailed-exitcode.
    if (plan.errors.length > 0) process.exitCode = 1;
    else if (flags["detailed-exitcode"] && plan.changes.length > 0) process.exitCode = 2;
  }

  private async publishMarkdown(
    markdown: string,
    check: { headline: string; failed: boolean },
    flags: { markdown?: string | undefined; "github-comment": boolean; "github-check": boolean },
  ): Promise<void> {
    if (flags.markdown) await writeFile(flags.markdown, markdown);
    const summary = process.env["GITHUB_STEP_SUMMARY"];
    if (summary) await appendFile(summary, markdown);
    if (flags["github-comment"]) {
      const { action, url } = await upsertPlanComment(await pullRequestTarget(process.env), markdown);
      this.logToStderr(`${action === "created" ? "Created" : "Updated"} the plan comment: ${url}`);
    }
    if (flags["github-check"]) {
      const { target, headSha } = await checkRunContext(process.env);
      const { url } = await createCheckRun(target, planCheckRun(markdown, { headSha, ...check }));
      this.logToStderr(`Created the check run "mk plan": ${url}`);
    }
  }
}
