import { Args, Flags } from "@oclif/core";
import { BaseCommand } from "../../base-command.js";
import { connect } from "../../connect.js";
import { envFlag, reportFormat, reportFormatFlags } from "../../flags.js";
import { renderMessageText } from "../../report/render-message.js";

export default class ReportMessage extends BaseCommand {
  static override summary = "Report on a transactional message: its requests by outcome, delivery, bounces and engagement.";

  static override description =
    "Counts every request of the message (POST /v1/messages/<name>) over all its applied versions: pending, sent, failed, suppressed " +
    "and ambiguous from the send ledger (exact), delivered, bounced, complained, opened and clicked from provider events.";

  static override examples = ["<%= config.bin %> report message receipt", "<%= config.bin %> report message receipt --env prod --json"];

  static override args = { name: Args.string({ description: "The message's name (messages/<name>.yaml).", required: true }) };

  static override flags = {
    env: envFlag,
    ...reportFormatFlags(["table", "json"]),
    out: Flags.string({ summary: "Write the report to this file instead of standard output." }),
  };

  async run(): Promise<void> {
    // 1. Ask the runtime.
    const { args, flags, metadata } = await this.parse(ReportMessage);
    const format = reportFormat(flags, metadata);
    const report = await (await connect(flags.dir, flags.env)).messageReport(args.name);

    // 2. Print it.
    const text = format === "json" ? JSON.stringify(report, null, 2) : renderMessageText(report, { color: !flags.out && process.stdout.isTTY === true });
    await this.printOrWrite(text, flags.out);
  }
}
