import path from "node:path";
import { Args, Flags } from "@oclif/core";
import { BaseCommand } from "../base-command.js";
import { jsonFlag } from "../flags.js";
import { initRepository } from "../init/scaffold.js";

export default class Init extends BaseCommand {
  static override summary = "Start a campaigns repository: settings, an audience, a welcome campaign and the GitHub workflows.";

  static override description = `Writes mk.yaml (with comments), one audience, a welcome campaign and its MJML template with header and footer
partials, .gitignore, editor settings for the JSON Schemas, package.json with mk as a dev dependency, and three
GitHub Actions workflows: plan on pull requests, apply on merge to main, and scheduled sends. The result passes
mk validate as it is.

Existing files are left alone and init stops, unless --force. An existing package.json only gets mk added.`;

  static override examples = ["<%= config.bin %> init campaigns", "<%= config.bin %> init . --force", "<%= config.bin %> init campaigns --json"];

  static override args = {
    folder: Args.string({ description: "Folder to create the repository in (default: the --dir folder, normally the current one)." }),
  };

  static override flags = {
    force: Flags.boolean({ summary: "Overwrite files the scaffold would write." }),
    json: jsonFlag('{ folder (absolute), written (files, relative to it), packageJson: "created" | "updated" | "unchanged" }, without the next steps'),
  };

  async run(): Promise<void> {
    // 1. Write the scaffold.
    const { args, flags } = await this.parse(Init);
    const folder = args.folder ?? flags.dir;
    const result = initRepository(folder, { force: flags.force });

    // 2. Say what was written and what to do next.
    if (flags.json) return this.printJson({ folder: path.resolve(folder), ...result });
    const shown = path.normalize(folder);
    this.log(`Created a campaigns repository in ${shown}:`);
    for (const file of result.written) this.log(`  ${file}`);
    if (result.packageJson === "created") this.log("  package.json");
    if (result.packageJson === "updated") this.log("  package.json (mk added to devDependencies)");
    this.log("");
    this.log("Next steps:");
    const cd = shown === "." ? [] : [`cd ${shown}`];
    const steps = [
      ...cd,
      "npm install                         # installs mk and writes package-lock.json (commit it)",
      "npx mk validate                     # 0 errors, 0 warnings",
      "npx mk up --apply .                 # a local runtime on this machine, with this repository applied",
      "git init && git add . && git commit -m 'Campaigns with mk'",
    ];
    for (const step of steps) this.log(`  ${step}`);
    this.log("");
    this.log("Then set the prod URL in mk.yaml and add the GitHub secrets (the README's \"Use it from GitHub Actions\"): MK_PROD_PLAN_TOKEN");
    this.log("(plan scope, repository), MK_PROD_APPLY_TOKEN (apply scope, environment prod), MK_PROD_SEND_TOKEN (apply scope, environment prod-send):");
    this.log("pull requests get a plan comment, merges to main apply, and mk-send.yml starts due campaigns.");
  }
}
