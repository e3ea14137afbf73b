import { Flags } from "@oclif/core";
import { formatCount } from "../../plan/render-text.js";
import { BaseCommand } from "../../base-command.js";
import { connect } from "../../connect.js";
import { envFlag, jsonFlag } from "../../flags.js";
import { tamperedLine } from "../../report/render-tax.js";
import { headLines, lostHeadsError, readLedgerHeads } from "../../tax/ledger-heads.js";

export default class TaxVerify extends BaseCommand {
  static override summary = "Walk the tax ledger's hash chains, name the first entry that was changed, removed or inserted behind the database's back, and print each chain's head.";

  static override description =
    "Entries cut from the end of a chain leave the rest of it valid: keep the output of --json (its heads) and pass it to --expect-head later, " +
    "which fails when a chain no longer holds the head recorded then.\n" +
    "Exit codes: 0 every chain holds (and every recorded head is still there); 1 the runtime could not be asked, the heads file cannot be read (MK106), " +
    "or a recorded head is gone (MK105, naming the country and both positions); 3 an entry is wrong (named on stderr).";

  static override examples = [
    "<%= config.bin %> tax verify --env prod",
    "<%= config.bin %> tax verify --country TH",
    "<%= config.bin %> tax verify --env prod --json > heads-2026-10.json",
    "<%= config.bin %> tax verify --env prod --expect-head heads-2026-10.json",
  ];

  static override flags = {
    env: envFlag,
    country: Flags.string({ summary: "Only this country's chain." }),
    "expect-head": Flags.string({ summary: "Heads recorded earlier (the file mk tax verify --json wrote): fail when a chain no longer holds its head (cut short or rewritten)." }),
    json: jsonFlag("the result, { ok, checked, countries, heads: [{ country, seq, hash, keyId }], firstBad?, lostHeads? }"),
  };

  async run(): Promise<void> {
    // 1. The recorded heads, when given; then the chains walked by the runtime.
    const { flags } = await this.parse(TaxVerify);
    const file = flags["expect-head"];
    const country = flags.country?.toUpperCase();
    const expected = file === undefined ? undefined : (await readLedgerHeads(file)).filter((h) => country === undefined || h.country === country);
    const client = await connect(flags.dir, flags.env);
    const result = await client.verifyLedger(country, expected);

    // 2. Say what holds, and each chain's head.
    if (flags.json) this.printJson(result);
    else if (result.ok) {
      this.log(`The tax ledger holds: ${formatCount(result.checked)} entries in ${result.countries.length} ${result.countries.length === 1 ? "chain" : "chains"} (${result.countries.join(", ") || "none"}).`);
      for (const line of headLines(result.heads)) this.log(line);
    }

    // 3. Fail on a wrong entry (exit 3), then on a recorded head that is gone (MK105).
    if (!result.ok) {
      this.logToStderr(tamperedLine(result));
      this.exit(3);
    }
    if (file === undefined || expected === undefined) return;
    if (result.lostHeads && result.lostHeads.length > 0) throw lostHeadsError(file, result.lostHeads);
    if (!flags.json) this.log(`Every head recorded in ${file} is still in its chain (${expected.length} ${expected.length === 1 ? "country" : "countries"}).`);
  }
}
