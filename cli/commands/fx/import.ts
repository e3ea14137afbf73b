import path from "node:path";
import { Args } from "@oclif/core";
import { formatCount } from "../../plan/render-text.js";
import { BaseCommand } from "../../base-command.js";
import { connect } from "../../connect.js";
import { envFlag, jsonFlag } from "../../flags.js";
import { readFxFile } from "../../fx/read-fx-file.js";
import { summariseFxRates } from "../../fx/summarise-rates.js";

/** Rates per request: the ECB's full history (~7,000 days × 30 currencies) goes in a dozen requests. */
const BATCH = 20_000;

export default class FxImport extends BaseCommand {
  static override summary = "Import daily exchange rates for tax reports: the ECB's reference rates or a date,base,quote,rate CSV.";

  static override description =
    "The European Central Bank publishes eurofxref.csv (today) and eurofxref-hist.csv (every working day since 1999) at " +
    "https://www.ecb.europa.eu/stats/eurofxref/ (unzip first). Importing a day again replaces its rates.";

  static override examples = ["<%= config.bin %> fx import eurofxref-hist.csv --env prod", "<%= config.bin %> fx import rates.csv --json"];

  static override args = { file: Args.string({ description: "The CSV file.", required: true }) };

  static override flags = {
    env: envFlag,
    json: jsonFlag("{ env, source, rates, pairs, days, from, to } (from and to are null for a file without rates)"),
  };

  async run(): Promise<void> {
    // 1. Read the file, then import it in batches.
    const { args, flags } = await this.parse(FxImport);
    const { format, rates } = await readFxFile(args.file);
    const client = await connect(flags.dir, flags.env);
    const source = `${format} ${path.basename(args.file)}`;
    for (let i = 0; i < rates.length; i += BATCH) await client.importFxRates({ source, rates: rates.slice(i, i + BATCH) });

    // 2. Say what was imported.
    const summary = summariseFxRates(rates);
    if (flags.json) return this.printJson({ env: client.target.env, source, ...summary });
    if (summary.rates === 0) return this.log(`No rates in ${args.file}.`);
    this.log(
      `Imported ${formatCount(summary.rates)} rates (${summary.pairs.length} currency pairs, ${summary.days} days from ${summary.from} to ${summary.to}) into "${client.target.env}".`,
    );
  }
}
