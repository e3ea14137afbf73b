import Table from "cli-table3";
import { Flags } from "@oclif/core";
import { BaseCommand } from "../../../base-command.js";
import { connect } from "../../../connect.js";
import { envFlag, jsonFlag } from "../../../flags.js";

export default class DeadLetterList extends BaseCommand {
  static override summary = "List events the runtime rejected (not yet replayed), with why.";

  static override examples = ["<%= config.bin %> events dead-letter list --env prod", "<%= config.bin %> events dead-letter list --json > rejected.json"];

  static override flags = {
    env: envFlag,
    limit: Flags.integer({ summary: "How many to list, oldest first.", default: 100, min: 1, max: 10_000 }),
    json: jsonFlag("the dead letters, payloads included (an array)"),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(DeadLetterList);
    const client = await connect(flags.dir, flags.env);
    const letters = await client.deadLetters(flags.limit);
    if (flags.json) return this.printJson(letters);
    if (letters.length === 0) return this.log(`No dead letters on ${client.target.env}.`);
    const table = new Table({ head: ["id", "received", "key", "reason"], style: { head: process.stdout.isTTY ? ["bold"] : [], border: [] }, wordWrap: true, colWidths: [null, null, null, 70] });
    for (const d of letters) table.push([d.id, d.receivedAt.replace("T", " ").slice(0, 19), d.idempotencyKey ?? "-", d.reason]);
    this.log(table.toString());
  }
}
