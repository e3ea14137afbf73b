import Table from "cli-table3";
import { Flags } from "@oclif/core";
import { BaseCommand } from "../../base-command.js";
import { connect } from "../../connect.js";
import { envFlag, jsonFlag } from "../../flags.js";

export default class TaxRatesCommand extends BaseCommand {
  static override summary = "Print the VAT/GST rates the runtime applies: in force on a day (default today), or their history.";

  static override description =
    "The runtime's shipped rate data (each row with its source) with mk.yaml's tax.rates on top. " +
    "Rows marked unconfirmed are the data's best knowledge that no source confirmed; check them, and override in mk.yaml where needed.";

  static override examples = ["<%= config.bin %> tax rates --country TH", "<%= config.bin %> tax rates --country CA --date 2025-03-31", "<%= config.bin %> tax rates --country TH --history"];

  static override flags = {
    env: envFlag,
    country: Flags.string({ summary: "ISO 3166-1 alpha-2 country code (all countries without it)." }),
    date: Flags.string({ summary: "The day, YYYY-MM-DD (default today).", exclusive: ["history"] }),
    history: Flags.boolean({ summary: "Every period, past and future, not only the one in force." }),
    json: jsonFlag("the rates (an array)"),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(TaxRatesCommand);
    const client = await connect(flags.dir, flags.env);
    const rates = await client.taxRates({ country: flags.country?.toUpperCase(), date: flags.date, history: flags.history });
    if (flags.json) return this.printJson(rates);
    if (rates.length === 0) return this.log(`No rates${flags.country ? ` for ${flags.country.toUpperCase()}` : ""}${flags.history ? "" : ` in force on ${flags.date ?? "today"}`}.`);
    const table = new Table({ head: ["country", "region", "tax", "rate", "since", "until", "from", "source"], style: { head: process.stdout.isTTY ? ["bold"] : [], border: [] } });
    for (const r of rates) {
      table.push([r.country, r.region ?? "", r.type, `${r.rate} %`, r.from, r.to ?? "", r.origin === "mk.yaml" ? `mk.yaml: ${r.note}` : r.reviewed ? "data" : "data (unconfirmed)", r.source]);
    }
    this.log(table.toString());
    const unconfirmed = rates.filter((r) => !r.reviewed);
    for (const r of unconfirmed) this.log(`! ${r.country}${r.region ? `-${r.region}` : ""} ${r.rate} % from ${r.from} is unconfirmed: ${r.note}`);
  }
}
