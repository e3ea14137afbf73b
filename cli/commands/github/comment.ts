import { readFile } from "node:fs/promises";
import { MkError } from "../../errors.js";
import { Flags } from "@oclif/core";
import { BaseCommand } from "../../base-command.js";
import { jsonFlag } from "../../flags.js";
import { pullRequestTarget, upsertPlanComment } from "../../github.js";

export default class GithubComment extends BaseCommand {
  static override summary = "Post or update mk's plan comment on a pull request.";

  static override description = `Uses GITHUB_TOKEN, GITHUB_REPOSITORY and GITHUB_API_URL (GitHub Enterprise), and takes the pull
request from GITHUB_EVENT_PATH unless --pr is given. The comment carries a hidden marker: a later run updates it
instead of adding another. Bodies over GitHub's 65,536-character limit are cut with a note.

Exit codes:
  0  the comment was created or updated
  1  no token, repository or pull request, or GitHub refused (permissions, not found, rate limit)`;

  static override examples = ["<%= config.bin %> github comment --body-file plan.md", "<%= config.bin %> github comment --pr 42 --body-file plan.md --json"];

  static override flags = {
    pr: Flags.integer({ summary: "Pull-request number (default: from GITHUB_EVENT_PATH).", min: 1 }),
    "body-file": Flags.file({ summary: "Markdown file with the comment (mk plan --markdown writes one).", required: true }),
    json: jsonFlag('{ action: "created" | "updated", url }'),
  };

  async run(): Promise<void> {
    // 1. Read the body and find the pull request.
    const { flags } = await this.parse(GithubComment);
    const body = await readFile(flags["body-file"], "utf8").catch((error: NodeJS.ErrnoException) => {
      throw new MkError("MK081", `cannot read --body-file ${flags["body-file"]} (${error.code ?? error.message})`);
    });
    const target = await pullRequestTarget(process.env, flags.pr);

    // 2. Create or update the comment.
    const { action, url } = await upsertPlanComment(target, body);
    if (flags.json) return this.printJson({ action, url });
    this.log(`${action === "created" ? "Created" : "Updated"} the plan comment: ${url}`);
  }
}
