import { execFileSync } from "node:child_process";
import puppeteer, { type Browser } from "puppeteer-core";

export type { Browser };

/** Debian's chromium (.ci/run installs it), else a Chrome or Chromium on PATH. */
function chromiumPath(): string {
  for (const name of ["chromium", "chromium-browser", "google-chrome"]) {
    try {
      return execFileSync("/bin/sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).trim();
    } catch {
      // not this one
    }
  }
  throw new Error("no chromium on PATH: install Debian's chromium, fonts-noto-cjk and fonts-thai-tlwg (.ci/run does)");
}

/** Headless Chromium through puppeteer-core, every step under a timeout; without its sandbox only as root, which it refuses otherwise. */
export function launchChromium(): Promise<Browser> {
  const root = process.getuid?.() === 0;
  return puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true,
    timeout: 30_000,
    protocolTimeout: 30_000,
    args: [...(root ? ["--no-sandbox"] : []), "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"],
  });
}
