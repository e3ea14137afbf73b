import { stat } from "node:fs/promises";
import { Args } from "@oclif/core";
import { SingleBar } from "cli-progress";
import { BaseCommand } from "../../base-command.js";
import { connect } from "../../connect.js";
import { envFlag, jsonFlag } from "../../flags.js";
import { formatCount } from "../../plan/render-text.js";
import { importSubscribersCsv } from "../../subscribers/import.js";

/** Rejected rows listed in the terminal; --json lists them all. */
const SHOW_REJECTED = 20;

export default class SubscribersImport extends BaseCommand {
  static override summary = "Import or update subscribers from a CSV file.";

  static override description = `Columns (header row required; only email is required): email, firstName, lastName, country (ISO
3166-1 alpha-2), timezone (IANA), locale, tags (separated by |), consent (marketing = opted in, empty = not); every
other column becomes attributes.<column> (numbers and true/false typed). Emails are trimmed and lower-cased; an email
already known is updated (cells left empty keep what is stored). Bad rows are reported with their line number and
skipped; the rest are imported. Importing the same file again changes nothing.

Exit codes:
  0  every row imported
  1  the file cannot be read, or the runtime refused the import
  2  imported, but some rows were rejected`;

  static override examples = ["<%= config.bin %> subscribers import people.csv", "<%= config.bin %> subscribers import people.csv --env prod --json"];

  static override args = {
    file: Args.file({ description: "The CSV file.", required: true }),
  };

  static override flags = {
    env: envFlag,
    json: jsonFlag("{ rows, inserted, updated, unchanged, rejected: [{ line, reason }] }, every rejected row listed"),
  };

  async run(): Promise<void> {
    // 1. Connect, and show progress on a terminal.
    const { args, flags } = await this.parse(SubscribersImport);
    const client = await connect(flags.dir, flags.env);
    const size = (await stat(args.file)).size;
    const bar = process.stderr.isTTY && !flags.json ? new SingleBar({ format: "Importing [{bar}] {percentage}% | {rows} rows", stream: process.stderr }) : undefined;
    bar?.start(size, 0, { rows: 0 });

    // 2. Import.
    let summary;
    try {
      summary = await importSubscribersCsv(args.file, client, (p) => bar?.update(p.bytes, { rows: formatCount(p.rows) }));
    } finally {
      bar?.stop();
    }

    // 3. Summarise.
    if (flags.json) this.printJson(summary);
    else {
      this.log(
        `${formatCount(summary.rows)} rows: ${formatCount(summary.inserted)} inserted, ${formatCount(summary.updated)} updated, ` +
          `${formatCount(summary.unchanged)} unchanged, ${formatCount(summary.rejected.length)} rejected.`,
      );
      for (const r of summary.rejected.slice(0, SHOW_REJECTED)) this.log(`  ${args.file}:${r.line}  ${r.reason}`);
      if (summary.rejected.length > SHOW_REJECTED) this.log(`  … and ${summary.rejected.length - SHOW_REJECTED} more (--json lists them all)`);
    }
    if (summary.rejected.length > 0) process.exitCode = 2;
  }
}
