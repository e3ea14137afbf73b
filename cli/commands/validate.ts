import { BaseCommand } from "../base-command.js";
import { cacheFlag, jsonFlag } from "../flags.js";
import { githubAnnotations } from "../output/annotations.js";
import { formatProblems, problemJson } from "../output/problems.js";
import { countBySeverity } from "../problems.js";
import { validateRepository } from "../validation.js";

export default class Validate extends BaseCommand {
  static override summary = "Check every file of the campaigns repository and lint its emails.";

  static override description = `Reads mk.yaml, audiences/, campaigns/, sequences/ and the templates they use; reports every problem at once as
  path:line:col  error|warning  MKnnn  message
followed by a summary line (in GitHub Actions, also as ::error/::warning annotations). Templates are compiled with MJML and checked for handlebars errors, unknown variables
and deliverability problems (unsubscribe link, postal address, size, alt text, links, preheader, subject length).

Exit codes:
  0  no errors (warnings allowed)
  1  at least one error`;

  static override examples = ["<%= config.bin %> validate", "<%= config.bin %> validate --dir example-campaigns --json"];

  static override flags = {
    json: jsonFlag("the problems, an array of { file, line, col, severity, code, message }"),
    cache: cacheFlag,
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
      // In GitHub Actions, the same problems as annotations on the pull request's lines.
      if (process.env["GITHUB_ACTIONS"] === "true" && repo) {
        for (const line of githubAnnotations(problems, repo.root, process.env["GITHUB_WORKSPACE"] ?? process.cwd())) this.log(line);
      }
    }

    // 3. Exit 1 on any error.
    if (countBySeverity(problems).errors > 0) process.exitCode = 1;
  }
}
