import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import type { CampaignReport } from "../../schemas/report.js";
import { initAndUp, type LocalRepository } from "../helpers/local-repository.js";
import { query } from "../helpers/sending.js";

/**
 * An A/B test on mk up where opens would pick the wrong winner: variant a is
 * opened by Apple Mail Privacy Protection for every recipient (its proxy
 * loads every message's images on delivery, from Apple's network, as
 * "Mozilla/5.0") and clicked by few people; variant b is opened by few and
 * clicked by many, from ordinary browsers. The runtime sits behind a proxy on
 * loopback (MK_TRUST_PROXY), so X-Forwarded-For says where each request came
 * from, as a load balancer would.
 */
const RECIPIENTS = 80;
const APPLE_PROXY = { "user-agent": "Mozilla/5.0", "x-forwarded-for": "17.58.101.7" };
const DESKTOP_CHROME = {
  "user-agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
  "x-forwarded-for": "203.0.113.20",
};
const THUNDERBIRD = { "user-agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.5.0", "x-forwarded-for": "198.51.100.4" };

let up: LocalRepository;

before(async () => {
  up = await initAndUp("mk-engagement-", { MK_TRUST_PROXY: "loopback" });
  const { repo, mk } = up;
  const settings = path.join(repo, "mk.yaml");
  await writeFile(settings, (await readFile(settings, "utf8")).replace("opens: false", "opens: true"));
  const campaign = path.join(repo, "campaigns", "welcome.yaml");
  await writeFile(campaign, `${await readFile(campaign, "utf8")}variants:\n  - { name: a, weight: 50 }\n  - { name: b, weight: 50, subject: "A warm welcome" }\n`);
  assert.equal((await mk("apply", "--auto-approve")).code, 0);
  const people = ["email,firstName,consent,country", ...Array.from({ length: RECIPIENTS }, (_, i) => `reader${i}@example.test,Reader${i},marketing,PT`)];
  await writeFile(path.join(repo, "people.csv"), `${people.join("\n")}\n`);
  assert.equal((await mk("subscribers", "import", path.join(repo, "people.csv"))).code, 0);
  assert.equal((await mk("send", "welcome")).code, 0);
  for (let i = 0; i < 300; i++) {
    const [sent] = await query<{ n: number }>(up.local.databaseUrl, "select count(*)::int as n from sends where campaign = 'welcome' and status = 'sent'");
    if (sent?.n === RECIPIENTS) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // The readers come an hour after the mail went out, long after any scanner.
  await query(up.local.databaseUrl, "update sends set sent_at = sent_at - interval '1 hour' where campaign = 'welcome'");
}, { timeout: 180_000 });

after(() => up.stop(), { timeout: 120_000 });

/** Each message's pixel and first tracked link, by variant. */
async function messages(): Promise<{ variant: string; pixel: string; link: string }[]> {
  const sent = await query<{ id: string; variant: string; html: string }>(
    up.local.databaseUrl,
    "select s.id, s.variant, o.html from sends s join outbox o on o.send_id = s.id where s.campaign = 'welcome' order by s.id",
  );
  return sent.map((s) => {
    const pixel = /<img src="([^"]+\/o\/[A-Za-z0-9_-]+)"/.exec(s.html)?.[1];
    const link = /href="([^"]+\/c\/[A-Za-z0-9_-]+)"/.exec(s.html)?.[1];
    assert.ok(pixel && link, `the message of send ${s.id} carries the pixel and a tracked link`);
    return { variant: s.variant, pixel, link };
  });
}

describe("an A/B test decided by people, not by privacy proxies", { timeout: 180_000 }, () => {
  it("counts a's machine opens and b's human clicks per variant, and picks b", async () => {
    const all = await messages();
    const a = all.filter((m) => m.variant === "a");
    const b = all.filter((m) => m.variant === "b");
    assert.ok(a.length >= 30 && b.length >= 30, `both variants have recipients (${a.length}, ${b.length})`);
    const get = async (url: string, headers: Record<string, string>) => {
      const response = await fetch(url, { headers, redirect: "manual" });
      await response.arrayBuffer();
      return response.status;
    };
    for (const m of a) assert.equal(await get(m.pixel, APPLE_PROXY), 200);
    for (const m of a.slice(0, 3)) assert.equal(await get(m.link, DESKTOP_CHROME), 302);
    for (const m of b.slice(0, 5)) assert.equal(await get(m.pixel, THUNDERBIRD), 200);
    for (const m of b.slice(0, 25)) assert.equal(await get(m.link, DESKTOP_CHROME), 302);

    const run = await up.mk("report", "campaign", "welcome", "--json");
    assert.equal(run.code, 0, run.stderr);
    const report = JSON.parse(run.stdout) as CampaignReport;
    const variant = (name: string) => report.variants.find((v) => v.name === name)!;
    assert.deepEqual(
      { machineOpens: variant("a").machineOpens, humanOpens: variant("a").humanOpens, humanClicked: variant("a").humanClicked },
      { machineOpens: a.length, humanOpens: 0, humanClicked: 3 },
    );
    assert.deepEqual(
      { machineOpens: variant("b").machineOpens, humanOpens: variant("b").humanOpens, humanClicked: variant("b").humanClicked },
      { machineOpens: 0, humanOpens: 5, humanClicked: 25 },
    );
    // A person who clicked opened it: b's 25 clickers include its 5 openers.
    assert.equal(variant("b").humanOpened, 25);
    assert.equal(variant("a").humanOpened, 3);
    assert.equal(report.abTest?.winner, "b");
    assert.equal(report.abTest?.metric, "click");
    assert.match(report.abTest!.verdict, /^b wins: its human click rate beats a's/);
    assert.equal(report.engagement?.opensInflated, true);
    assert.match(report.engagement!.note!, /^Open rate inflated by privacy proxies/);
    assert.equal(report.engagement?.machineReasons[0]?.opens, a.length);

    const text = await up.mk("report", "campaign", "welcome");
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /b wins: its human click rate beats a's/);
    assert.match(text.stdout, /opens\s+│?\s*\d+\s+│?\s*5\s+│?\s*\d+/, "opens by all, people and machines");
  });
});
