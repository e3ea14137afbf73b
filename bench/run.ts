/**
 * `npm run bench`: runs every bench/*.bench.ts in turn; each prints one line
 * per figure. Figures that compare sizes are measured side by side in the
 * same run, so the ratios hold on any machine.
 */
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

export interface Figure {
  name: string;
  value: string;
  /** The goal and whether this run met it, when the figure has one. */
  goal?: { text: string; met: boolean };
}

export type Bench = (report: (figure: Figure) => void) => Promise<void>;

const dir = fileURLToPath(new URL(".", import.meta.url));
const only = process.argv[2];
let missed = 0;

for (const file of readdirSync(dir).filter((f) => f.endsWith(".bench.ts")).sort()) {
  if (only && !file.startsWith(only)) continue;
  const bench = ((await import(new URL(file, import.meta.url).href)) as { default: Bench }).default;
  await bench((figure) => {
    const goal = figure.goal ? `  (goal ${figure.goal.text}: ${figure.goal.met ? "met" : "missed"})` : "";
    if (figure.goal && !figure.goal.met) missed++;
    console.log(`${figure.name.padEnd(52)} ${figure.value}${goal}`);
  });
}
if (missed > 0) console.log(`${missed} goal${missed === 1 ? "" : "s"} missed`);
