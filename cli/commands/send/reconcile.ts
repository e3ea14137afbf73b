import Table from "cli-table3";
import { Flags } from "@oclif/core";
import { BaseCommand } from "../../base-command.js";
import { connect } from "../../connect.js";
import { envFlag, jsonFlag } from "../../flags.js";

export default class SendReconcile extends BaseCommand {
  static override summary = "List sends whose outcome is unknown (ambiguous): handed to the provider, then the worker was lost.";

  static override description = `mk never resends such a message by itself: the provider may have delivered it. A provider event tagged
with the send id (delivery, bounce, complaint) settles the row; until then it is listed here.

Exit codes:
  0  no ambiguous sends
  1  the runtime cannot be reached or refused
  2  some sends are ambiguous (listed)`;

  static override examples = ["<%= config.bin %> send reconcile --env prod", "<%= config.bin %> send reconcile --campaign welcome --json"];

  static override flags = {
    env: envFlag,
    campaign: Flags.string({ summary: "Only this campaign's sends." }),
    json: jsonFlag("the ambiguous sends (an array)"),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(SendReconcile);
    const client = await connect(flags.dir, flags.env);
    const ambiguous = await client.ambiguousSends(flags.campaign);
    if (flags.json) this.printJson(ambiguous);
    else if (ambiguous.length === 0) this.log(`No ambiguous sends on ${client.target.env}.`);
    else {
      const table = new Table({ head: ["send id", "campaign", "recipient", "attempts", "transport", "since", "last error"], style: { head: process.stdout.isTTY ? ["bold"] : [], border: [] } });
      for (const a of ambiguous) table.push([a.id, a.campaign, a.email, a.attempts, a.transport ?? "-", a.since.replace("T", " ").slice(0, 19), a.lastError ?? ""]);
      this.log(table.toString());
      this.log(`${ambiguous.length} ambiguous; a provider event for the send id settles each (never resent automatically).`);
    }
    if (ambiguous.length > 0) process.exitCode = 2;
  }
}
