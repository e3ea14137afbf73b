import { Args, Flags } from "@oclif/core";
import { BaseCommand } from "../../base-command.js";
import { connect } from "../../connect.js";
import { envFlag, reportFormat, reportFormatFlags } from "../../flags.js";
import { MkError } from "../../errors.js";
import { renderJourneysText, renderSequenceHtml, renderSequenceText } from "../../report/render-sequence.js";

export default class ReportSequence extends BaseCommand {
  static override summary = "Report on a sequence: enrollments by status and exit reason, and a funnel per step.";

  static override description =
    "Each step shows how many enrollments reached it; send steps their unique opens, clicks and conversions (attributed to that step's message), " +
    "condition steps how many left there. Steps of every version someone enrolled in are listed. html is one self-contained file.";

  static override examples = [
    "<%= config.bin %> report sequence onboarding",
    "<%= config.bin %> report sequence onboarding --env prod --format html --out onboarding.html",
    "<%= config.bin %> report sequence onboarding --subscriber ana@example.com --json",
  ];

  static override args = { name: Args.string({ description: "The sequence's name.", required: true }) };

  static override flags = {
    env: envFlag,
    ...reportFormatFlags(["table", "json", "html"]),
    out: Flags.string({ summary: "Write the report to this file instead of standard output." }),
    subscriber: Flags.string({ summary: "Instead: this subscriber's enrollments, with every step each took (table or json)." }),
  };

  async run(): Promise<void> {
    const { args, flags, metadata } = await this.parse(ReportSequence);
    const format = reportFormat(flags, metadata);
    const client = await connect(flags.dir, flags.env);
    if (flags.subscriber !== undefined) {
      if (format === "html") throw new MkError("MK092", "--subscriber prints a table or JSON, not html");
      const journeys = await client.subscriberJourneys(args.name, flags.subscriber);
      await this.printOrWrite(format === "json" ? JSON.stringify(journeys, null, 2) : renderJourneysText(args.name, flags.subscriber, journeys), flags.out);
      return;
    }
    const report = await client.sequenceReport(args.name);
    const color = !flags.out && process.stdout.isTTY === true;
    const text = format === "json" ? JSON.stringify(report, null, 2) : format === "html" ? renderSequenceHtml(report) : renderSequenceText(report, { color });
    await this.printOrWrite(text, flags.out);
  }
}
