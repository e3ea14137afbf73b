import { stat } from "node:fs/promises";
import { Args, Flags } from "@oclif/core";
import { SingleBar } from "cli-progress";
import { BaseCommand } from "../../base-command.js";
import { connect } from "../../connect.js";
import { envFlag, jsonFlag } from "../../flags.js";
import { formatCount } from "../../plan/render-text.js";
import { parseColumnMap } from "../../subscribers/formats.js";
import { importSubscribersCsv, type ImportSummary } from "../../subscribers/import.js";

/** Rejected (and skipped) rows listed in the terminal; --json lists them all. */
const SHOW_REJECTED = 20;

export default class SubscribersImport extends BaseCommand {
  static override summary = "Import or update subscribers from a CSV file.";

  static override description = `Columns (header row required; only email is required): email, firstName, lastName, country (ISO
3166-1 alpha-2), timezone (IANA), locale, tags (separated by |), consent (marketing = opted in, empty = not); every
other column becomes attributes.<column> (numbers and true/false typed). Emails are trimmed and lower-cased; an email
already known is updated (cells left empty keep what is stored). Bad rows are reported with their line number and
skipped; the rest are imported. Importing the same file again changes nothing.

The exports of Mailchimp, listmonk, Kit (ConvertKit), Substack and Brevo are recognised by their header row, with
their consent proof (opt-in and confirmation time and IP), country, time zone and tags; --map names the columns of
any other layout. Role addresses (postmaster@, noreply@, …) and disposable-mail domains are reported and skipped
unless --allow-role / --allow-disposable.

Exit codes:
  0  every row imported
  1  the file cannot be read, --map is wrong, or the runtime refused the import
  2  imported, but some rows were rejected or skipped`;

  static override examples = [
    "<%= config.bin %> subscribers import people.csv",
    "<%= config.bin %> subscribers import members_export.csv --env prod --json",
    '<%= config.bin %> subscribers import crm.csv --map "E-mail=email,Land=country,Opt-in=grantedAt"',
  ];

  static override args = {
    file: Args.file({ description: "The CSV file.", required: true }),
  };

  static override flags = {
    env: envFlag,
    map: Flags.string({
      summary: 'Name the columns of a layout mk does not recognise: "Column=field,…", field one of email, firstName, lastName, name, country, timezone, locale, tags, consent, grantedAt, ip, confirmedAt, confirmIp.',
    }),
    "allow-role": Flags.boolean({ summary: "Import role addresses (postmaster@, info@, noreply@, …) instead of skipping them." }),
    "allow-disposable": Flags.boolean({ summary: "Import addresses at disposable-mail domains instead of skipping them." }),
    json: jsonFlag(
      "{ format: { name, title }, rows, inserted, updated, unchanged, rejected: [{ line, reason }], skipped: { role, disposable, rows: [{ line, field, reason }] } }, every rejected and skipped row listed",
    ),
  };

  async run(): Promise<void> {
    // 1. Read --map, connect, and show progress on a terminal.
    const { args, flags } = await this.parse(SubscribersImport);
    const map = flags.map === undefined ? undefined : parseColumnMap(flags.map);
    const client = await connect(flags.dir, flags.env);
    const size = (await stat(args.file)).size;
    const bar = process.stderr.isTTY && !flags.json ? new SingleBar({ format: "Importing [{bar}] {percentage}% | {rows} rows", stream: process.stderr }) : undefined;
    bar?.start(size, 0, { rows: 0 });

    // 2. Import.
    let summary;
    try {
      summary = await importSubscribersCsv(args.file, client, {
        map,
        allowRole: flags["allow-role"],
        allowDisposable: flags["allow-disposable"],
        onProgress: (p) => bar?.update(p.bytes, { rows: formatCount(p.rows) }),
      });
    } finally {
      bar?.stop();
    }

    // 3. Summarise.
    if (flags.json) this.printJson(summary);
    else for (const line of summaryLines(args.file, summary)) this.log(line);
    if (summary.rejected.length > 0 || summary.skipped.rows.length > 0) process.exitCode = 2;
  }
}

/** The text summary: the format, the counts, then the first rejected and skipped rows with file:line. */
export function summaryLines(file: string, summary: ImportSummary): string[] {
  const { skipped } = summary;
  const lines = [
    `Read ${file} as ${summary.format.title}.`,
    `${formatCount(summary.rows)} rows: ${formatCount(summary.inserted)} inserted, ${formatCount(summary.updated)} updated, ` +
      `${formatCount(summary.unchanged)} unchanged, ${formatCount(summary.rejected.length)} rejected, ` +
      `${formatCount(skipped.rows.length)} skipped (${formatCount(skipped.role)} role, ${formatCount(skipped.disposable)} disposable).`,
  ];
  const listed = [
    ...summary.rejected.map((r) => ({ line: r.line, text: r.reason })),
    ...skipped.rows.map((r) => ({ line: r.line, text: `skipped: ${r.field}: ${r.reason}` })),
  ].sort((a, b) => a.line - b.line);
  for (const r of listed.slice(0, SHOW_REJECTED)) lines.push(`  ${file}:${r.line}  ${r.text}`);
  if (listed.length > SHOW_REJECTED) lines.push(`  … and ${listed.length - SHOW_REJECTED} more (--json lists them all)`);
  return lines;
}
