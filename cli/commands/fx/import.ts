import path from "node:path";
import { Args } from "@oclif/core";
import { formatCount } from "../../plan/render-text.js";
import { BaseCommand } from "../../base-command.js";
import { connect } from "../../connect.js";
import { envFlag } from "../../flags.js";
import { readFxFile } from "../../fx/read-fx-file.js";

/** Rates per request: the ECB's full history (~7,000 days × 30 currencies) goes in a dozen requests. */
const BATCH = 20_000;

export default class FxImport extends BaseCommand {
  static override summary = "Import daily exchange rates for tax reports: the ECB's reference rates or a date,base,quote,rate CSV.";

  static override description =
    "The European Central Bank publishes eurofxref.csv (today) and eurofxref-hist.csv (every working day since 1999) at " +
    "https://www.ecb.europa.eu/stats/eurofxref/ (unzip first). Importing a day again replaces its rates.";

  static override examples = ["<%= config.bin %> fx import eurofxref-hist.csv --env prod", "<%= config.bin %> fx import rates.csv"];

  static override args = { file: Args.string({ description: "The CSV file.", required: true }) };

  static override flags = { env: envFlag };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(FxImport);
    const { format, rates } = await readFxFile(args.file);
    const client = await connect(flags.dir, flags.env);
    if (rates.length === 0) return this.log(`No rates in ${args.file}.`);
    const days = new Set<string>();
    for (let i = 0; i < rates.length; i += BATCH) {
      await client.importFxRates({ source: `${format} ${path.basename(args.file)}`, rates: rates.slice(i, i + BATCH) });
    }
    for (const r of rates) days.add(r.day);
    const sorted = [...days].sort();
    const currencies = new Set(rates.map((r) => `${r.base}/${r.quote}`));
    this.log(`Imported ${formatCount(rates.length)} rates (${currencies.size} currency pairs, ${days.size} days from ${sorted[0]} to ${sorted.at(-1)}) into "${client.target.env}".`);
  }
}
