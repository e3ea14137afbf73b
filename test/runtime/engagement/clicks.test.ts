import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { stopDatabase } from "../../helpers/database.js";
import { startRuntime, type TestRuntime } from "../../helpers/runtime.js";
import { addSubscribers, applyCampaigns, query } from "../../helpers/sending.js";
import { waitFor } from "../../helpers/wait-for.js";

/**
 * Tracked clicks classified (runtime/engagement/record-click.ts): a click
 * too soon after sending, every link of a message at once, or a HEAD is a
 * machine's, and a burst makes the clicks of it already taken for a
 * person's the machine's too; a person's ordinary click stays human. The
 * redirect is the same whoever clicks.
 */
const LINKS_HTML =
  '<html><body><a href="https://nomaddesk.example/a">A</a><a href="https://nomaddesk.example/b">B</a>' +
  '<a href="https://nomaddesk.example/c">C</a><a href="https://nomaddesk.example/d">D</a><a href="{{unsubscribeUrl}}">Unsubscribe</a></body></html>';
const BROWSER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15";

let rt: TestRuntime;

interface Send {
  id: string;
  /** The tracked links' tokens, by link index. */
  links: string[];
}
/** The send to s<n>@example.test and its click tokens. */
const sendTo = async (n: number): Promise<Send> => {
  const [row] = await query<{ send_id: string; html: string }>(rt.databaseUrl, "select send_id, html from outbox where recipient = $1", [`s${n}@example.test`]);
  assert.ok(row);
  return { id: row.send_id, links: [...row.html.matchAll(/\/c\/([\w-]{54})/g)].map((m) => m[1]!) };
};
const sentAgo = (send: Send, seconds: number) => query(rt.databaseUrl, "update sends set sent_at = now() - make_interval(secs => $2) where id = $1", [send.id, seconds]);
const click = (token: string, method: "GET" | "HEAD" = "GET") =>
  rt.app.inject({ method, url: `/c/${token}`, remoteAddress: "198.51.100.23", headers: { "user-agent": BROWSER } });
interface ClickRow {
  link: number;
  actor: string;
  actor_reason: string;
  ip: string | null;
  data: Record<string, unknown>;
}
const clicksOf = (send: Send) =>
  query<ClickRow>(rt.databaseUrl, "select (data ->> 'link')::int as link, actor, actor_reason, host(ip) as ip, data from events where name = 'click' and send_id = $1 order by id", [send.id]);

before(async () => {
  rt = await startRuntime({ MK_WORKERS: "1" });
  await addSubscribers(rt.databaseUrl, 7);
  await applyCampaigns(rt, [{ name: "links", template: "templates/links.mjml" }], {}, { templates: { "templates/links.mjml": LINKS_HTML } });
  assert.equal((await rt.api("/v1/sends/start", { body: { campaign: "links" } })).status, 200);
  await waitFor(async () => (await query(rt.databaseUrl, "select 1 from outbox")).length === 7);
  assert.equal((await sendTo(1)).links.length, 4);
}, { timeout: 120_000 });
after(async () => {
  await rt.close();
  await stopDatabase();
}, { timeout: 120_000 });

describe("classified clicks", { timeout: 60_000 }, () => {
  it("a click a second after sending is a machine's, and is redirected like any other", async () => {
    const send = await sendTo(1);
    await sentAgo(send, 1);
    const response = await click(send.links[0]!);
    assert.equal(response.statusCode, 302);
    assert.equal(response.headers["location"], "https://nomaddesk.example/a?utm_source=mk&utm_medium=email&utm_campaign=links");
    assert.equal(response.headers["cache-control"], "no-store");
    assert.deepEqual((await clicksOf(send)).map((c) => [c.actor, c.actor_reason]), [["machine", "soon-after-send"]]);
  });

  it("a scanner clicking every link within a second of delivery counts no human click", async () => {
    const send = await sendTo(2);
    await sentAgo(send, 0.5);
    const responses = await Promise.all(send.links.map((token) => click(token)));
    for (const response of responses) assert.equal(response.statusCode, 302);
    const clicks = await clicksOf(send);
    assert.equal(clicks.length, 4);
    assert.deepEqual(clicks.filter((c) => c.actor !== "machine"), []);
  });

  it("a burst long after sending: every click of it a machine's, the first (taken for a person's) reclassified", async () => {
    const send = await sendTo(3);
    await sentAgo(send, 3600);
    await click(send.links[0]!);
    assert.deepEqual((await clicksOf(send)).map((c) => [c.actor, c.actor_reason]), [["human", "ordinary-client"]], "one click alone looks like a person's");
    for (const token of send.links.slice(1)) await click(token);
    const clicks = await clicksOf(send);
    assert.deepEqual(clicks.map((c) => c.link), [0, 1, 2, 3]);
    assert.deepEqual(clicks.filter((c) => c.actor !== "machine"), []);
    assert.deepEqual([clicks[0]!.actor, clicks[0]!.actor_reason], ["machine", "link-burst"]);
  });

  it("a burst of concurrent requests long after sending counts no human click however they interleave", async () => {
    const send = await sendTo(4);
    await sentAgo(send, 3600);
    await Promise.all(send.links.map((token) => click(token)));
    const clicks = await clicksOf(send);
    assert.equal(clicks.length, 4);
    assert.deepEqual(clicks.filter((c) => c.actor !== "machine"), []);
  });

  it("a person's ordinary click, later than a burst of the same message, is human, with the address truncated and the evidence kept", async () => {
    const send = await sendTo(3);
    // The burst of the test before, a minute ago.
    await query(rt.databaseUrl, "update events set occurred_at = occurred_at - interval '1 minute' where send_id = $1", [send.id]);
    const response = await click(send.links[1]!);
    assert.equal(response.statusCode, 302);
    const last = (await clicksOf(send)).at(-1)!;
    assert.deepEqual([last.link, last.actor, last.actor_reason, last.ip], [1, "human", "ordinary-client", "198.51.100.0"]);
    assert.equal(last.data["userAgent"], BROWSER);
    assert.equal(last.data["url"], "https://nomaddesk.example/b?utm_source=mk&utm_medium=email&utm_campaign=links");
    assert.equal(typeof last.data["detail"], "string");
    assert.deepEqual((await clicksOf(send)).filter((c) => c.actor === "human").length, 1, "the burst stays the machine's");
  });

  it("HEAD still redirects, and records a machine's click", async () => {
    const send = await sendTo(5);
    await sentAgo(send, 3600);
    const response = await click(send.links[2]!, "HEAD");
    assert.equal(response.statusCode, 302);
    assert.equal(response.headers["location"], "https://nomaddesk.example/c?utm_source=mk&utm_medium=email&utm_campaign=links");
    assert.deepEqual((await clicksOf(send)).map((c) => [c.actor, c.actor_reason]), [["machine", "head-request"]]);
  });
});
