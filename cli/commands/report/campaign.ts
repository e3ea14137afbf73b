import { Args, Flags } from "@oclif/core";
import { BaseCommand } from "../../base-command.js";
import { connect } from "../../connect.js";
import { envFlag, reportFormat, reportFormatFlags } from "../../flags.js";
import { renderCampaignCsv } from "../../report/render-campaign-csv.js";
import { renderCampaignHtml } from "../../report/render-campaign-html.js";
import { renderCampaignText } from "../../report/render-campaign-text.js";

export default class ReportCampaign extends BaseCommand {
  static override summary = "Report on a campaign: funnel, deliverability, revenue, cost, variants, countries, days.";

  static override description =
    "Figures come from the runtime's rollups and are exact at the moment of the report (the runtime caches a report for MK_REPORT_CACHE_SECONDS). " +
    "html is one self-contained file with charts; csv is one tidy table (section, key, metric, value).";

  static override examples = [
    "<%= config.bin %> report campaign bangkok-coworking-launch",
    "<%= config.bin %> report campaign bangkok-coworking-launch --env prod --format html --out launch.html",
    "<%= config.bin %> report campaign bangkok-coworking-launch --format csv > launch.csv",
    "<%= config.bin %> report campaign bangkok-coworking-launch --json",
  ];

  static override args = { name: Args.string({ description: "The campaign's name.", required: true }) };

  static override flags = {
    env: envFlag,
    ...reportFormatFlags(["table", "json", "csv", "html"]),
    out: Flags.string({ summary: "Write the report to this file instead of standard output." }),
  };

  async run(): Promise<void> {
    // 1. Fetch the report.
    const { args, flags, metadata } = await this.parse(ReportCampaign);
    const format = reportFormat(flags, metadata);
    const client = await connect(flags.dir, flags.env);
    const report = await client.campaignReport(args.name);

    // 2. Render it in the asked format, to the file or the terminal.
    const color = !flags.out && process.stdout.isTTY === true;
    const text =
      format === "json"
        ? JSON.stringify(report, null, 2)
        : format === "csv"
          ? renderCampaignCsv(report)
          : format === "html"
            ? renderCampaignHtml(report)
            : renderCampaignText(report, { color });
    await this.printOrWrite(text, flags.out);
  }
}
