import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { freshDatabase, stopDatabase } from "../../helpers/database.js";
import { query } from "../../helpers/sending.js";

/**
 * The rollups' human and machine counts (migration 000025), straight on the
 * database: opens and clicks stored with their actor, then classified again
 * as the /c/ handler does when a burst of links shows the first click was a
 * scanner's. Every figure is read before and after the deltas are folded.
 */
after(() => stopDatabase(), { timeout: 120_000 });

type Counts = Record<"opened" | "clicked" | "opens" | "clicks" | "human_opened" | "human_clicked" | "human_opens" | "machine_opens" | "human_clicks" | "machine_clicks", number>;

describe("human and machine engagement in the campaign rollups", { timeout: 120_000 }, () => {
  let url: string;
  const counts = async (): Promise<Counts> =>
    (
      await query<Counts>(
        url,
        `select coalesce(sum(opened), 0)::int as opened, coalesce(sum(clicked), 0)::int as clicked, coalesce(sum(opens), 0)::int as opens, coalesce(sum(clicks), 0)::int as clicks,
           coalesce(sum(human_opened), 0)::int as human_opened, coalesce(sum(human_clicked), 0)::int as human_clicked, coalesce(sum(human_opens), 0)::int as human_opens,
           coalesce(sum(machine_opens), 0)::int as machine_opens, coalesce(sum(human_clicks), 0)::int as human_clicks, coalesce(sum(machine_clicks), 0)::int as machine_clicks
         from campaign_counts where campaign = 'launch'`,
      )
    )[0]!;
  const reasons = () => query<{ reason: string; opens: number; clicks: number }>(url, "select reason, sum(opens)::int as opens, sum(clicks)::int as clicks from campaign_reasons where campaign = 'launch' group by reason order by reason");
  /** An event of subscriber n's send: actor and reason as the classifier gave them. */
  const event = (n: number, name: "open" | "click", actor: string | null, reason: string | null, link?: number, at = "2026-12-01T10:00:00Z") =>
    query(
      url,
      `insert into events (subscriber_id, name, occurred_at, send_id, data, campaign, variant, country, actor, actor_reason)
       select s.subscriber_id, $2, $6, s.id, $5, 'launch', s.variant, 'TH', $3, $4 from sends s where s.email = $1`,
      [`p${n}@example.test`, name, actor, reason, JSON.stringify(link === undefined ? {} : { link }), at],
    );
  const fold = () => query(url, "select mk_fold_campaign_rollups(100000)");

  before(async () => {
    url = await freshDatabase();
    await query(url, "insert into subscribers (email, country) select 'p' || i || '@example.test', 'TH' from generate_series(1, 4) i");
    await query(url, "insert into campaign_sends (campaign, started_serial, snapshot, recipients) values ('launch', 1, '{}', 4)");
    await query(url, "insert into sends (campaign, subscriber_id, email, timezone, due_at) select 'launch', id, email, 'UTC', now() from subscribers");
  }, { timeout: 60_000 });

  it("counts people's and machines' opens and clicks apart, a person's click as their open, and machines by reason", async () => {
    // 1: Apple's proxy opens twice, then the reader clicks a link. 2: a scanner clicks two links, no person. 3: a person opens. 4: nobody can tell.
    await event(1, "open", "machine", "apple-privacy-proxy");
    await event(1, "open", "machine", "apple-privacy-proxy");
    await event(1, "click", "human", "ordinary-client", 0, "2026-12-01T11:00:00Z");
    await event(2, "click", "machine", "security-scanner-network", 0);
    await event(2, "click", "machine", "security-scanner-network", 1);
    await event(3, "open", "human", "ordinary-client");
    await event(4, "open", null, null);
    const expected: Counts = { opened: 3, clicked: 2, opens: 4, clicks: 3, human_opened: 2, human_clicked: 1, human_opens: 1, machine_opens: 2, human_clicks: 1, machine_clicks: 2 };
    assert.deepEqual(await counts(), expected);
    const byReason = [
      { reason: "apple-privacy-proxy", opens: 2, clicks: 0 },
      { reason: "security-scanner-network", opens: 0, clicks: 2 },
    ];
    assert.deepEqual(await reasons(), byReason);
    await fold();
    assert.equal((await query<{ n: number }>(url, "select count(*)::int as n from campaign_rollup_deltas"))[0]!.n, 0);
    assert.deepEqual(await counts(), expected, "the same once folded");
    assert.deepEqual(await reasons(), byReason);
  });

  it("takes back a person's click found to be a scanner's, unless another of theirs still stands", async () => {
    // 3 clicks link 0 as a person, then a second human click on link 1 arrives; both turn out to be one burst.
    await event(3, "click", "human", "ordinary-client", 0, "2026-12-01T12:00:00Z");
    await event(3, "click", "human", "ordinary-client", 1, "2026-12-01T12:00:01Z");
    const before = await counts();
    assert.equal(before.human_clicked, 2);
    await query(url, "update events set actor = 'machine', actor_reason = 'link-burst' where name = 'click' and subscriber_id = (select id from subscribers where email = 'p3@example.test')");
    const after = await counts();
    // Their human open still stands for the open; the clicks are now the machine's.
    assert.deepEqual(
      { human_clicked: after.human_clicked, human_opened: after.human_opened, human_clicks: after.human_clicks, machine_clicks: after.machine_clicks, clicks: after.clicks, clicked: after.clicked },
      { human_clicked: before.human_clicked - 1, human_opened: before.human_opened, human_clicks: before.human_clicks - 2, machine_clicks: before.machine_clicks + 2, clicks: before.clicks, clicked: before.clicked },
    );
    assert.deepEqual((await reasons()).find((r) => r.reason === "link-burst"), { reason: "link-burst", opens: 0, clicks: 2 });

    // 1's only human sign is their click: taken back, they are no longer a person who opened.
    await query(url, "update events set actor = 'machine', actor_reason = 'link-burst' where name = 'click' and subscriber_id = (select id from subscribers where email = 'p1@example.test')");
    const last = await counts();
    assert.deepEqual([last.human_opened, last.human_clicked], [after.human_opened - 1, after.human_clicked - 1]);
    await fold();
    assert.deepEqual(await counts(), last, "the same once folded");
    // An update that changes no actor leaves every count alone.
    await query(url, "update events set data = data || '{\"seen\": true}' where name = 'click'");
    assert.deepEqual(await counts(), last);
  });
});
