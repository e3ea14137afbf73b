import Table from "cli-table3";
import { Flags } from "@oclif/core";
import { BaseCommand } from "../../base-command.js";
import { connect } from "../../connect.js";
import { envFlag, jsonFlag } from "../../flags.js";

export default class OutboxList extends BaseCommand {
  static override summary = "List the messages the outbox transport kept (mk up sends there), newest first.";

  static override examples = ["<%= config.bin %> outbox list", "<%= config.bin %> outbox list --campaign welcome --limit 5"];

  static override flags = {
    env: envFlag,
    campaign: Flags.string({ summary: "Only this campaign's messages." }),
    limit: Flags.integer({ summary: "How many to list.", default: 20, min: 1, max: 1000 }),
    json: jsonFlag("the messages, newest first (an array)"),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(OutboxList);
    const client = await connect(flags.dir, flags.env);
    const messages = await client.outbox({ campaign: flags.campaign, limit: flags.limit });
    if (flags.json) return this.printJson(messages);
    if (messages.length === 0) return this.log(`The outbox on ${client.target.env} is empty.`);
    const table = new Table({ head: ["send id", "at", "campaign", "to", "subject"], style: { head: process.stdout.isTTY ? ["bold"] : [], border: [] } });
    for (const m of messages) table.push([m.sendId, m.createdAt.replace("T", " ").slice(0, 19), m.campaign, m.to, m.subject]);
    this.log(table.toString());
  }
}
