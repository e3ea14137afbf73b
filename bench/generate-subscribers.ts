import { createWriteStream } from "node:fs";
import { once } from "node:events";

const COUNTRIES = ["TH", "VN", "ID", "MY", "PT", "ES", "MX", "CO", "GE", "DE", "US", "GB"];
const ZONES = ["Asia/Bangkok", "Asia/Ho_Chi_Minh", "Asia/Jakarta", "Europe/Lisbon", "Europe/Madrid", "America/Mexico_City"];

/**
 * A subscribers CSV of `rows` data rows in FORMAT.md's columns plus two
 * custom attributes. Every row whose index is a multiple of `badEvery` is
 * broken in one of four ways (email, country, time zone, consent); returns
 * the line numbers of those rows.
 */
export async function generateSubscribersCsv(file: string, rows: number, badEvery = 100): Promise<number[]> {
  const out = createWriteStream(file);
  const bad: number[] = [];
  out.write("email,firstName,lastName,country,timezone,locale,tags,consent,plan,seats\n");
  for (let i = 1; i <= rows; i++) {
    let email = ` Person.${i}@Example.com `;
    let country = COUNTRIES[i % COUNTRIES.length] as string;
    let zone = ZONES[i % ZONES.length] as string;
    let consent = i % 3 === 0 ? "" : "marketing";
    if (i % badEvery === 0) {
      bad.push(i + 1);
      const kind = (i / badEvery) % 4;
      if (kind === 0) email = `person.${i}.example.com`;
      else if (kind === 1) country = "XX";
      else if (kind === 2) zone = "Mars/Olympus";
      else consent = "yes";
    }
    const line = `${email},Alex${i},"Rivera, ${i}",${country},${zone},en,remote-worker|${i % 2 ? "buyer" : "trial"},${consent},${i % 2 ? "pro" : "trial"},${i % 7}\n`;
    if (!out.write(line)) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
  return bad;
}
