import { Flags } from "@oclif/core";
import Table from "cli-table3";
import { formatCount } from "../../plan/render-text.js";
import { BaseCommand } from "../../base-command.js";
import { connect } from "../../connect.js";
import { envFlag, reportFormat, reportFormatFlags } from "../../flags.js";
import { renderTaxCsv, tamperedLine, taxHeadline, taxNotes, taxSections } from "../../report/render-tax.js";
import { MkError } from "../../errors.js";

export default class ReportTax extends BaseCommand {
  static override summary = "The VAT/GST a country is owed for a period, from the tax ledger: totals in its reporting currency, per currency, rate, month and campaign.";

  static override description =
    "Each line is converted at the exchange rate of its date (or the latest earlier one, flagged); import rates with mk fx import. " +
    "A country with no sales gives an empty report. --verify walks the ledger's hash chains first and fails (exit 3) when an entry was tampered with.";

  static override examples = [
    "<%= config.bin %> report tax --country TH --period 2026-Q3",
    "<%= config.bin %> report tax --country TH --period 2026-10 --format pdf --out th-2026-10.pdf --env prod",
    "<%= config.bin %> report tax --country DE --from 2026-07-01 --to 2026-09-30 --format csv",
    "<%= config.bin %> report tax --country TH --period 2026-Q3 --json",
    "<%= config.bin %> report tax --verify",
  ];

  static override flags = {
    env: envFlag,
    country: Flags.string({ summary: "ISO 3166-1 alpha-2 country code, e.g. TH." }),
    period: Flags.string({ summary: "A month (2026-10), a quarter (2026-Q3) or a year (2026).", exclusive: ["from", "to"] }),
    from: Flags.string({ summary: "First day, YYYY-MM-DD (with --to)." }),
    to: Flags.string({ summary: "Last day, YYYY-MM-DD (with --from)." }),
    ...reportFormatFlags(["table", "json", "csv", "pdf"]),
    out: Flags.string({ summary: "Write the report to this file (required for pdf)." }),
    verify: Flags.boolean({
      summary: "Check the ledger's hash chains (of --country, or all) before reporting; without --country and --period, only verify (--json: the result, as mk tax verify --json).",
    }),
  };

  async run(): Promise<void> {
    // 1. Verify the chains when asked.
    const { flags, metadata } = await this.parse(ReportTax);
    const format = reportFormat(flags, metadata);
    const client = await connect(flags.dir, flags.env);
    const country = flags.country?.toUpperCase();
    if (flags.verify) {
      const result = await client.verifyLedger(country);
      if (!country && format === "json") this.printJson(result);
      if (!result.ok) {
        this.logToStderr(tamperedLine(result));
        this.exit(3);
      }
      this.logToStderr(`Ledger verified: ${formatCount(result.checked)} entries in ${result.countries.length} chain(s) hold.`);
      if (!country) return;
    }
    if (!country) throw new MkError("MK089", "give --country (e.g. --country TH) and --period, or --verify alone");
    if (format === "pdf" && !flags.out) throw new MkError("MK089", "--format pdf needs --out <file.pdf>");

    // 2. The report, rendered.
    const report = await client.taxReport({ country, period: flags.period, from: flags.from, to: flags.to });
    if (format === "pdf") {
      // pdfkit and its fonts load only for a PDF: every other mk command starts faster without them.
      const { renderTaxPdf } = await import("../../report/render-tax-pdf.js");
      return this.printOrWrite(await renderTaxPdf(report), flags.out);
    }
    const text = format === "json" ? JSON.stringify(report, null, 2) : format === "csv" ? renderTaxCsv(report) : this.table(report);
    await this.printOrWrite(text, flags.out);
  }

  private table(report: Parameters<typeof taxSections>[0]): string {
    const color = process.stdout.isTTY === true;
    const out = [...taxHeadline(report), ""];
    for (const note of taxNotes(report)) out.push(note);
    for (const section of taxSections(report)) {
      const table = new Table({ head: section.head, style: { head: color ? ["bold"] : [], border: [] } });
      table.push(...section.rows);
      out.push("", section.title, table.toString());
    }
    return out.join("\n");
  }
}
