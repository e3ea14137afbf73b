import Table from "cli-table3";
import { Flags } from "@oclif/core";
import { BaseCommand } from "../base-command.js";
import { connect } from "../connect.js";
import { envFlag, jsonFlag } from "../flags.js";

export default class History extends BaseCommand {
  static override summary = "List the applies made to the runtime, newest first.";

  static override examples = ["<%= config.bin %> history", "<%= config.bin %> history --env prod --limit 50 --json"];

  static override flags = {
    env: envFlag,
    limit: Flags.integer({ summary: "How many applies to list.", default: 20, min: 1, max: 1000 }),
    json: jsonFlag("the applies, newest first (an array)"),
  };

  async run(): Promise<void> {
    // 1. Fetch the applies.
    const { flags } = await this.parse(History);
    const client = await connect(flags.dir, flags.env);
    const applies = await client.applies(flags.limit);

    // 2. Print them as a table.
    if (flags.json) {
      this.printJson(applies);
      return;
    }
    if (applies.length === 0) {
      this.log(`No applies yet on "${client.target.env}".`);
      return;
    }
    const table = new Table({ head: ["serial", "applied at", "commit", "branch", "author", "+", "~", "-"], style: { head: process.stdout.isTTY ? ["bold"] : [], border: [] } });
    for (const a of applies) {
      table.push([a.serial, a.appliedAt.replace("T", " ").slice(0, 19), `${a.commit?.slice(0, 7) ?? "-"}${a.dirty ? "*" : ""}`, a.branch ?? "-", a.author ?? "-", a.added, a.changed, a.deleted]);
    }
    this.log(table.toString());
    if (applies.some((a) => a.dirty)) this.log("* applied with uncommitted changes");
  }
}
