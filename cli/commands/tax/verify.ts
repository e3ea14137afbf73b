import { Flags } from "@oclif/core";
import { formatCount } from "../../plan/render-text.js";
import { BaseCommand } from "../../base-command.js";
import { connect } from "../../connect.js";
import { envFlag, jsonFlag } from "../../flags.js";
import { tamperedLine } from "../../report/render-tax.js";

export default class TaxVerify extends BaseCommand {
  static override summary = "Walk the tax ledger's hash chains and name the first entry that was changed, removed or inserted behind the database's back.";

  static override description = "Exit codes: 0 every chain holds; 1 the runtime could not be asked; 3 an entry is wrong (named on stderr).";

  static override examples = ["<%= config.bin %> tax verify --env prod", "<%= config.bin %> tax verify --country TH"];

  static override flags = {
    env: envFlag,
    country: Flags.string({ summary: "Only this country's chain." }),
    json: jsonFlag("the result, { ok, checked, countries, firstBad? }"),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(TaxVerify);
    const client = await connect(flags.dir, flags.env);
    const result = await client.verifyLedger(flags.country?.toUpperCase());
    if (flags.json) this.printJson(result);
    else if (result.ok) this.log(`The tax ledger holds: ${formatCount(result.checked)} entries in ${result.countries.length} ${result.countries.length === 1 ? "chain" : "chains"} (${result.countries.join(", ") || "none"}).`);
    if (!result.ok) {
      this.logToStderr(tamperedLine(result));
      this.exit(3);
    }
  }
}
