import assert from "node:assert/strict";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { after, describe, it } from "node:test";
import { stopDatabase } from "../../helpers/database.js";
import { startRuntime } from "../../helpers/runtime.js";
import { startWorkerProcess } from "../../helpers/worker-process.js";
import { addSubscribers, applyCampaigns, query } from "../../helpers/sending.js";

const WORKER = fileURLToPath(new URL("../../helpers/send-worker-process.ts", import.meta.url));
const ROUNDS = Number(process.env["MK_CRASH_ROUNDS"] ?? 5);
const RECIPIENTS = 10_000;

after(() => stopDatabase(), { timeout: 120_000 });

const startWorker = (databaseUrl: string) => startWorkerProcess(WORKER, databaseUrl, { MK_WORKERS: "3" });

async function statuses(databaseUrl: string): Promise<Record<string, number>> {
  const rows = await query<{ status: string; n: number }>(databaseUrl, "select status, count(*)::int as n from sends group by status");
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

describe("crash safety", { timeout: 480_000 }, () => {
  it(`SIGKILLed ${ROUNDS} times during a ${RECIPIENTS.toLocaleString("en")}-recipient send: nothing sent twice, nothing lost`, { timeout: 300_000 }, async (t) => {
    const rt = await startRuntime();
    try {
      await addSubscribers(rt.databaseUrl, RECIPIENTS, { timezones: ["Europe/Lisbon", "Asia/Bangkok", "America/New_York"] });
      // Slow enough that every kill lands mid-send (rounds last 0.3–1.3 s): about half is left for the final worker.
      await applyCampaigns(rt, [{ name: "crash" }], { maxPerSecond: Math.floor(RECIPIENTS / (ROUNDS * 1.5)) });
      assert.equal((await rt.api("/v1/sends/start", { body: { campaign: "crash" } })).body.recipients, RECIPIENTS);

      const progress: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const child = await startWorker(rt.databaseUrl);
        await new Promise((resolve) => setTimeout(resolve, 300 + Math.random() * 1000));
        child.kill("SIGKILL");
        await once(child, "exit");
        progress.push((await statuses(rt.databaseUrl))["sent"] ?? 0);
      }
      t.diagnostic(`sent after each kill: ${progress.join(", ")}`);
      assert.ok(progress.at(-1)! < RECIPIENTS, `the kills landed mid-send (sent after each round: ${progress.join(", ")})`);

      // A last worker finishes; rows the killed ones held come back when their leases run out.
      const child = await startWorker(rt.databaseUrl);
      const deadline = Date.now() + 120_000;
      while (((await statuses(rt.databaseUrl))["sent"] ?? 0) < RECIPIENTS && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250));
      child.kill("SIGKILL");
      await once(child, "exit");

      const final = await statuses(rt.databaseUrl);
      assert.deepEqual(final, { sent: RECIPIENTS }, "every row sent; none ambiguous with the transactional outbox");
      const [outbox] = await query<{ messages: number; recipients: number; orphans: number }>(
        rt.databaseUrl,
        `select count(*)::int as messages, count(distinct recipient)::int as recipients,
           (select count(*)::int from sends s where s.status = 'sent' and not exists (select 1 from outbox o where o.send_id = s.id)) as orphans
         from outbox`,
      );
      assert.deepEqual(outbox, { messages: RECIPIENTS, recipients: RECIPIENTS, orphans: 0 });
    } finally {
      await rt.close();
    }
  });
});
