import path from "node:path";
import { Flags } from "@oclif/core";
import { BaseCommand } from "../base-command.js";
import { cacheFlag, jsonFlag } from "../flags.js";
import { checkRunContext, createCheckRun, validateCheckRun } from "../github-check.js";
import { githubAnnotations } from "../output/annotations.js";
import { formatProblems, problemJson } from "../output/problems.js";
import { countBySeverity } from "../problems.js";
import { validateRepository } from "../validation.js";

export default class Validate extends BaseCommand {
  static override summary = "Check every file of the campaigns repository and lint its emails.";

  static override description = `Reads mk.yaml, audiences/, campaigns/, sequences/ and the templates they use; reports every problem at once as
  path:line:col  error|warning  MKnnn  message
followed by a summary line (in GitHub Actions, also as ::error/::warning annotations, or with --github-check as the check run "mk"). Templates are compiled with MJML and checked for handlebars errors, unknown variables
and deliverability problems (unsubscribe link, postal address, size, alt text, links, preheader, subject length).

--github-check uses GITHUB_TOKEN (with checks: write), GITHUB_REPOSITORY, GITHUB_API_URL, and the pull request's head
commit from GITHUB_EVENT_PATH (else GITHUB_SHA). The problems are printed first, so a check run GitHub refuses
hides none of them; it still fails the command.

Exit codes:
  0  no errors (warnings allowed)
  1  at least one error, or --github-check could not create the check run`;

  static override examples = ["<%= config.bin %> validate", "<%= config.bin %> validate --dir example-campaigns --json"];

  static override flags = {
    json: jsonFlag("the problems, an array of { file, line, col, severity, code, message }"),
    cache: cacheFlag,
    "github-check": Flags.boolean({ summary: 'Create the check run "mk": every problem an annotation on its line; failure on errors, neutral on warnings only.' }),
  };

  async run(): Promise<void> {
    // 1. Validate the repository: every file, every reference, every template.
    const { flags } = await this.parse(Validate);
    const { problems, repo } = await validateRepository({ dir: flags.dir, cache: flags.cache });

    // 2. Print the problems, then the summary (JSON: the array alone).
    if (flags.json) {
      this.printJson(problems.map(problemJson));
    } else {
      const style = { color: Boolean(process.stdout.isTTY) };
      this.log(formatProblems(problems, style));
      // In GitHub Actions, the same problems as annotations on the pull request's lines (the check run carries them with --github-check).
      if (process.env["GITHUB_ACTIONS"] === "true" && repo && !flags["github-check"]) {
        for (const line of githubAnnotations(problems, repo.root, process.env["GITHUB_WORKSPACE"] ?? process.cwd())) this.log(line);
      }
    }

    // 3. Exit 1 on any error.
    if (countBySeverity(problems).errors > 0) process.exitCode = 1;

    // 4. The check run, after the problems are printed: one GitHub refuses (MK082) hides none of them.
    if (flags["github-check"]) {
      const { target, headSha } = await checkRunContext(process.env);
      const root = repo?.root ?? path.resolve(flags.dir);
      const { url } = await createCheckRun(target, validateCheckRun(problems, { headSha, root, workspace: process.env["GITHUB_WORKSPACE"] ?? process.cwd() }));
      this.logToStderr(`Created the check run "mk": ${url}`);
    }
  }
}
