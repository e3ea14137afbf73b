import { Args, Flags } from "@oclif/core";
import { BaseCommand } from "../../base-command.js";
import { connect } from "../../connect.js";
import { envFlag, jsonFlag } from "../../flags.js";

export default class OutboxShow extends BaseCommand {
  static override summary = "Show one outbox message: its headers and plain text, or its HTML.";

  static override examples = ["<%= config.bin %> outbox show 5b0e…", "<%= config.bin %> outbox show 5b0e… --html > message.html"];

  static override args = {
    sendId: Args.string({ description: "The message's send id (mk outbox list).", required: true }),
  };

  static override flags = {
    env: envFlag,
    html: Flags.boolean({ summary: "Print the HTML body only.", exclusive: ["json"] }),
    json: jsonFlag("the whole message: headers, text and HTML"),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(OutboxShow);
    const client = await connect(flags.dir, flags.env);
    const message = await client.outboxMessage(args.sendId);
    if (flags.json) return this.printJson(message);
    if (flags.html) return this.log(message.html);
    this.log(`From: ${message.from}`);
    this.log(`To: ${message.to}`);
    this.log(`Subject: ${message.subject}`);
    for (const [name, value] of Object.entries(message.headers)) this.log(`${name}: ${value}`);
    this.log(`Date: ${message.createdAt}`);
    this.log("");
    this.log(message.text);
  }
}
