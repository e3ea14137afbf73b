import { Flags } from "@oclif/core";
import { BaseCommand } from "../../base-command.js";
import { connect } from "../../connect.js";
import { envFlag, reportFormat, reportFormatFlags } from "../../flags.js";
import { renderSummariesCsv } from "../../report/render-campaign-csv.js";
import { renderSummariesText } from "../../report/render-campaign-text.js";

export default class ReportCampaigns extends BaseCommand {
  static override summary = "List every started campaign with its key figures, newest first.";

  static override examples = ["<%= config.bin %> report campaigns", "<%= config.bin %> report campaigns --env prod --format csv --out campaigns.csv", "<%= config.bin %> report campaigns --json"];

  static override flags = {
    env: envFlag,
    ...reportFormatFlags(["table", "json", "csv"]),
    out: Flags.string({ summary: "Write the list to this file instead of standard output." }),
  };

  async run(): Promise<void> {
    const { flags, metadata } = await this.parse(ReportCampaigns);
    const format = reportFormat(flags, metadata);
    const client = await connect(flags.dir, flags.env);
    const summaries = await client.campaignSummaries();
    if (format === "table" && summaries.length === 0 && !flags.out) return this.log(`No campaign has started on "${client.target.env}" yet.`);
    const color = !flags.out && process.stdout.isTTY === true;
    const text = format === "json" ? JSON.stringify(summaries, null, 2) : format === "csv" ? renderSummariesCsv(summaries) : renderSummariesText(summaries, { color });
    await this.printOrWrite(text, flags.out);
  }
}
