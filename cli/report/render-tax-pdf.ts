import PDFDocument from "pdfkit";
import type { TaxReport } from "../../schemas/tax.js";
import { taxHeadline, taxNotes, taxSections } from "./render-tax.js";

/**
 * The tax report as an A4 PDF (pdfkit, its built-in Helvetica): headline,
 * notes, then each section as a table. One to two pages for a quarter.
 */
export function renderTaxPdf(report: TaxReport): Promise<Buffer> {
  const doc = new PDFDocument({ size: "A4", margin: 40, info: { Title: `Tax report ${report.country} ${report.period.label}`, Producer: "mk", Creator: "mk report tax" } });
  const chunks: Buffer[] = [];
  doc.on("data", (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<Buffer>((resolve) => doc.on("end", () => resolve(Buffer.concat(chunks))));

  const [title, generated] = taxHeadline(report);
  doc.font("Helvetica-Bold").fontSize(14).text(title!);
  doc.font("Helvetica").fontSize(8).fillColor("#555555").text(generated!).fillColor("black").moveDown(0.6);
  for (const note of taxNotes(report)) doc.fontSize(9).text(note).moveDown(0.2);
  for (const section of taxSections(report)) {
    doc.moveDown(0.6).font("Helvetica-Bold").fontSize(10).text(section.title).font("Helvetica").moveDown(0.2);
    doc.fontSize(7.5).table({
      rowStyles: (i) => (i === 0 ? { backgroundColor: "#eeeeee" } : {}),
      data: [section.head, ...section.rows],
    });
  }
  doc.end();
  return done;
}
