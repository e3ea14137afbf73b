import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { SequenceReport } from "../../../schemas/report.js";
import { stopDatabase } from "../../helpers/database.js";
import { startRuntime, type TestRuntime } from "../../helpers/runtime.js";
import { addSubscribers, applyCampaigns, query, type SequenceFixture } from "../../helpers/sending.js";
import { waitFor } from "../../helpers/wait-for.js";

/**
 * A sequence's first mail reaches a mailbox behind a security gateway, which
 * follows every link of it within a second of delivery, in parallel, through
 * the real /c/ links. The journey's `if: { event: click, within: 1d } then:
 * exit` must not take that for interest: the subscriber gets the follow-up.
 * A person's click later, twice on one link, counts once.
 */
const LINKS_HTML =
  '<html><body><a href="https://nomaddesk.example/rooms">Rooms</a><a href="https://nomaddesk.example/prices">Prices</a>' +
  '<a href="https://nomaddesk.example/visa">Visa</a><a href="{{unsubscribeUrl}}">Unsubscribe</a></body></html>';
const GATEWAY = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
const READER = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1";
const DAY = 86_400_000;

const welcome: SequenceFixture = {
  name: "welcome",
  trigger: { event: "signup" },
  audience: "everyone",
  steps: [
    { name: "hello", send: { template: "templates/links.mjml", subject: "Your desk in Lisbon" } },
    { name: "pause", wait: "1d" },
    { name: "clicked", if: { event: "click", within: "1d" }, then: "exit" },
    { name: "follow-up", send: { template: "templates/links.mjml", subject: "Still looking for a desk?" } },
  ],
};

let rt: TestRuntime;
let now = new Date();

before(async () => {
  rt = await startRuntime({ MK_WORKERS: "1" }, undefined, { clock: () => now });
  await addSubscribers(rt.databaseUrl, 1);
  await applyCampaigns(rt, [], {}, { sequences: [welcome], templates: { "templates/links.mjml": LINKS_HTML } });
}, { timeout: 120_000 });
after(async () => {
  await rt.close();
  await stopDatabase();
}, { timeout: 120_000 });

describe("a security gateway's burst of clicks", { timeout: 120_000 }, () => {
  it("counts no human click and does not end the journey; a person's later click counts once", async () => {
    const signup = { idempotencyKey: "signup-s1", type: "signup", subscriber: { email: "s1@example.test" }, occurredAt: now.toISOString() };
    assert.equal((await rt.api("/v1/events", { body: { events: [signup] } })).body.accepted, 1);
    await waitFor(async () => (await query(rt.databaseUrl, "select 1 from outbox")).length === 1, 30_000, "the first mail");
    const [mail] = await query<{ send_id: string; html: string }>(rt.databaseUrl, "select send_id, html from outbox");
    const links = [...mail!.html.matchAll(/\/c\/([\w-]{54})/g)].map((m) => m[1]!);
    assert.equal(links.length, 3);

    // Every link at once, from the gateway, within a second of delivery.
    const burst = await Promise.all(links.map((token) => rt.app.inject({ method: "GET", url: `/c/${token}`, remoteAddress: "198.51.100.77", headers: { "user-agent": GATEWAY } })));
    assert.deepEqual(burst.map((r) => r.statusCode), [302, 302, 302]);
    const [timing] = await query<{ seconds: number }>(
      rt.databaseUrl,
      "select extract(epoch from max(e.occurred_at) - s.sent_at)::float8 as seconds from events e join sends s on s.id = e.send_id where e.name = 'click' group by s.sent_at",
    );
    assert.ok(timing!.seconds < 1, `the burst came ${timing!.seconds} s after delivery`);
    assert.deepEqual(await query(rt.databaseUrl, "select actor, count(*)::int as n from events where name = 'click' group by actor"), [{ actor: "machine", n: 3 }]);

    // A day later the journey asks whether they clicked: nobody did, so the follow-up goes out.
    now = new Date(now.getTime() + DAY + 60_000);
    await waitFor(async () => (await query(rt.databaseUrl, "select 1 from outbox")).length === 2, 30_000, "the follow-up");
    assert.deepEqual(await query(rt.databaseUrl, "select status, exit_reason from enrollments"), [{ status: "completed", exit_reason: null }]);

    // The reader opens the first mail hours after it came (the mail and the burst moved 3 hours back) and taps the prices link, then again.
    await query(rt.databaseUrl, "update sends set sent_at = sent_at - interval '3 hours' where id = $1", [mail!.send_id]);
    await query(rt.databaseUrl, "update events set occurred_at = occurred_at - interval '3 hours' where send_id = $1", [mail!.send_id]);
    for (let i = 0; i < 2; i++) {
      const reply = await rt.app.inject({ method: "GET", url: `/c/${links[1]}`, remoteAddress: "203.0.113.50", headers: { "user-agent": READER } });
      assert.equal(reply.statusCode, 302);
    }
    const report = (await rt.api("/v1/reports/sequences/welcome")).body as SequenceReport;
    const hello = report.steps.find((s) => s.name === "hello")!;
    assert.deepEqual({ clicked: hello.clicked, humanClicked: hello.humanClicked, humanOpened: hello.humanOpened }, { clicked: 1, humanClicked: 1, humanOpened: 1 });
    const [counts] = await query<{ human_clicks: number; machine_clicks: number; clicks: number }>(
      rt.databaseUrl,
      "select sum(human_clicks)::int as human_clicks, sum(machine_clicks)::int as machine_clicks, sum(clicks)::int as clicks from campaign_counts where campaign = (select campaign from sends where id = $1)",
      [mail!.send_id],
    );
    assert.deepEqual(counts, { human_clicks: 1, machine_clicks: 3, clicks: 3 });
  });
});
