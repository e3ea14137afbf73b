import assert from "node:assert/strict";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { MkError } from "../../../cli/errors.js";
import { RuntimeClient } from "../../../cli/runtime-client.js";
import { sendProofs, type ProofOptions } from "../../../cli/send-test.js";
import { stopDatabase } from "../../helpers/database.js";
import { REPO_ROOT } from "../../helpers/run-mk.js";
import { startRuntime, TOKEN, type TestRuntime } from "../../helpers/runtime.js";
import { addSubscribers, applyCampaigns, query } from "../../helpers/sending.js";

/**
 * Proofs (mk send test, POST /v1/sends/test) on an in-process runtime with
 * the outbox transport: a repository in a temporary folder rendered by the
 * CLI's module, the runtime's allowlist from the applied project, its hourly
 * cap, and nothing of a proof in the ledger, reports or analytics.
 */
const PER_HOUR = 10;
/** Every table a send, a report, a rollup, an event, a consent change or the tax ledger writes. */
const LEDGER_TABLES = [
  "sends", "outbox", "campaign_starts", "campaign_rollup_deltas", "campaign_rollups", "campaign_sends", "campaign_engagements",
  "campaign_link_clicks", "campaign_revenue", "events", "tax_ledger", "tax_daily", "suppressions", "consent_events", "consent_state", "subscribers",
];

const OFFER_MJML =
  '<mjml><mj-body><mj-section><mj-column><mj-text>Offer for {{default subscriber.firstName "you"}} ({{subscriber.attributes.plan}}): <a href="https://nomaddesk.example/offer">see it</a></mj-text>' +
  '<mj-text>{{project.postalAddress}} · <a href="{{unsubscribeUrl}}">Unsubscribe</a> · <a href="{{preferencesUrl}}">Preferences</a></mj-text></mj-column></mj-section></mj-body></mjml>\n';
const LAUNCH_YAML =
  'apiVersion: mk/v1\nkind: Campaign\nsubject: "Not yet applied: {{subscriber.firstName}}"\npreheader: "New desks"\ntemplate: templates/offer.mjml\naudience: everyone\n' +
  'variants:\n  - { name: a, weight: 50 }\n  - { name: b, weight: 50, subject: "Variant b for {{subscriber.firstName}}" }\n';
const ONBOARDING_YAML =
  'apiVersion: mk/v1\nkind: Sequence\nname: onboarding\ntrigger: { event: signup }\naudience: everyone\nsteps:\n' +
  '  - send: { template: templates/hello.mjml, subject: "Welcome", preheader: "Hello" }\n  - wait: 2d\n' +
  '  - name: tips\n    send: { template: templates/offer.mjml, subject: "Tips for {{subscriber.firstName}}", preheader: "Tips" }\n';

let rt: TestRuntime;
let repo: string;

const ledger = async () =>
  Object.fromEntries(await Promise.all(LEDGER_TABLES.map(async (t) => [t, (await query<{ n: number }>(rt.databaseUrl, `select count(*)::int as n from ${t}`))[0]!.n])));
const proofs = (recipient: string) =>
  query<{ id: string; campaign: string; sender: string; subject: string; html: string; text: string; headers: Record<string, string> }>(rt.databaseUrl, "select * from proof_outbox where recipient = $1 order by created_at", [recipient]);
const post = (body: unknown) =>
  rt.app.inject({ method: "POST", url: "/v1/sends/test", headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" }, payload: JSON.stringify(body) });
const proofBody = (to: string[]) => ({ campaign: "launch", variant: null, to, from: "Nomad Desk <hello@nomaddesk.example>", subject: "Hi there", html: "<p>Hi</p>", text: "Hi" });
let connected = 0;
const send = (options: Omit<ProofOptions, "dir">) =>
  sendProofs({ dir: repo, ...options }, async () => {
    connected += 1;
    return new RuntimeClient({ env: "local", url: rt.url, token: TOKEN });
  });

before(async () => {
  rt = await startRuntime({ MK_TEST_SENDS_PER_HOUR: String(PER_HOUR) });
  await addSubscribers(rt.databaseUrl, 3);
  await query(rt.databaseUrl, "update subscribers set first_name = 'Ana', attributes = '{\"plan\":\"pro\"}' where email = 's1@example.test'");
  await applyCampaigns(rt, [{ name: "launch", subject: "Applied subject" }], {}, { project: { testRecipients: ["qa@nomaddesk.example", "@team.nomaddesk.example"] } });
  assert.equal((await rt.api("/v1/sends/start", { body: { campaign: "launch" } })).status, 200);

  repo = await mkdtemp(path.join(tmpdir(), "mk-proofs-"));
  const fixture = path.join(REPO_ROOT, "test/fixtures/valid/minimal");
  for (const part of ["audiences", "templates"]) await cp(path.join(fixture, part), path.join(repo, part), { recursive: true });
  await writeFile(path.join(repo, "mk.yaml"), `${await readFile(path.join(fixture, "mk.yaml"), "utf8")}testRecipients: [qa@nomaddesk.example, "@Team.Nomaddesk.example"]\n`);
  await writeFile(path.join(repo, "templates/offer.mjml"), OFFER_MJML);
  await mkdir(path.join(repo, "campaigns"));
  await mkdir(path.join(repo, "sequences"));
  await writeFile(path.join(repo, "campaigns/launch.yaml"), LAUNCH_YAML);
  await writeFile(path.join(repo, "sequences/onboarding.yaml"), ONBOARDING_YAML);
}, { timeout: 120_000 });

after(async () => {
  await rt.close();
  await rm(repo, { recursive: true, force: true });
  await stopDatabase();
}, { timeout: 120_000 });

describe("proofs: mk send test and POST /v1/sends/test", { timeout: 240_000 }, () => {
  it("delivers the working copy's message, not the applied one, through the outbox transport, subject prefixed [Test], for --as a subscriber", { timeout: 60_000 }, async () => {
    const before = await ledger();
    const [proof, ...more] = await send({ target: "launch", to: ["QA@nomaddesk.example"], as: "s1@example.test" });
    assert.deepEqual(more, []);
    assert.deepEqual(proof!.sent.map((s) => [s.to, s.transport]), [["QA@nomaddesk.example", "outbox"]]);
    assert.equal(proof!.subject, "[Test] Not yet applied: Ana");

    const [stored, ...others] = await proofs("QA@nomaddesk.example");
    assert.deepEqual(others, []);
    assert.equal(stored!.id, proof!.sent[0]!.id);
    assert.equal(stored!.subject, "[Test] Not yet applied: Ana");
    assert.equal(stored!.sender, "Fixture <hello@fixture.example>");
    assert.match(stored!.html, /Offer for Ana \(pro\)/);
    assert.match(stored!.text, /Offer for Ana \(pro\)/);
    assert.deepEqual(stored!.headers, { "X-Mk-Test": "proof", "X-Mk-Campaign": "launch", "X-Mk-Variant": "a" });

    // mk outbox list and show find it; nothing else moved.
    const listed = (await rt.api("/v1/outbox?campaign=launch")).body as { sendId: string; subject: string }[];
    assert.deepEqual(listed.map((m) => [m.sendId, m.subject]), [[stored!.id, stored!.subject]]);
    assert.equal((await rt.api(`/v1/outbox/${stored!.id}`)).body.to, "QA@nomaddesk.example");
    assert.deepEqual(await ledger(), before);
  });

  it("its links do nothing: unsubscribe and preferences are preview links, the others as written, without tracking, UTM or List-Unsubscribe", { timeout: 60_000 }, async () => {
    const [proof] = await send({ target: "launch", to: ["ana@team.nomaddesk.example"], variant: "b" });
    assert.equal(proof!.subject, "[Test] Variant b for Alex");
    const [stored] = await proofs("ana@team.nomaddesk.example");
    const hrefs = [...stored!.html.matchAll(/<a\b[^>]*\shref="([^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(hrefs, ["https://nomaddesk.example/offer", "https://preview.mk.invalid/u/preview", "https://preview.mk.invalid/p/preview"]);
    assert.equal(Object.keys(stored!.headers).some((h) => h.toLowerCase().startsWith("list-unsubscribe")), false);

    // Whoever follows them reaches nothing that counts: the runtime's public links refuse the preview's token.
    const before = await ledger();
    for (const [method, url] of [["GET", "/u/preview"], ["POST", "/u/preview"], ["GET", "/c/preview"], ["GET", "/p/preview"]] as const) {
      const answer = await rt.app.inject({ method, url, ...(method === "POST" ? { headers: { "content-type": "application/x-www-form-urlencoded" }, payload: "List-Unsubscribe=One-Click" } : {}) });
      assert.ok(answer.statusCode >= 400, `${method} ${url} answered ${answer.statusCode}`);
    }
    assert.deepEqual(await ledger(), before);
  });

  it("--all-variants sends one proof per variant; a sequence step goes by 1-based index or by name", { timeout: 60_000 }, async () => {
    const before = await ledger();
    const all = await send({ target: "launch", to: ["qa@nomaddesk.example"], allVariants: true });
    assert.deepEqual(all.map((p) => [p.campaign, p.variant, p.subject]), [["launch", "a", "[Test] Not yet applied: Alex"], ["launch", "b", "[Test] Variant b for Alex"]]);
    const first = await send({ target: "onboarding/1", to: ["qa@nomaddesk.example"] });
    const tips = await send({ target: "onboarding/tips", to: ["qa@nomaddesk.example"] });
    assert.deepEqual([...first, ...tips].map((p) => [p.campaign, p.subject]), [["onboarding/1", "[Test] Welcome"], ["onboarding/tips", "[Test] Tips for Alex"]]);
    assert.deepEqual(await ledger(), before);
    await assert.rejects(send({ target: "onboarding/2", to: ["qa@nomaddesk.example"] }), (e: unknown) => e instanceof MkError && e.code === "MK060" && /its send steps are 1, tips/.test(e.message));
  });

  it("the CLI refuses a recipient mk.yaml's testRecipients lacks before it contacts the runtime (MK117)", { timeout: 60_000 }, async () => {
    const before = connected;
    await assert.rejects(
      send({ target: "launch", to: ["qa@nomaddesk.example", "someone@elsewhere.example"] }),
      (e: unknown) => e instanceof MkError && e.code === "MK117" && e.message.startsWith("someone@elsewhere.example is not in testRecipients of mk.yaml"),
    );
    assert.equal(connected, before);
    assert.deepEqual(await proofs("someone@elsewhere.example"), []);
  });

  it("the runtime refuses, from the applied project, a valid token posting a recipient not on the list: 403 naming it, nothing sent", { timeout: 60_000 }, async () => {
    const before = await ledger();
    const answer = await post(proofBody(["qa@nomaddesk.example", "victim@elsewhere.example"]));
    assert.equal(answer.statusCode, 403);
    const { error } = answer.json() as { error: { code: string; message: string; fields: unknown } };
    assert.equal(error.code, "not_a_test_recipient");
    assert.equal(error.message, "victim@elsewhere.example is not in testRecipients of the applied mk.yaml; add it (or its @domain) there and apply");
    assert.deepEqual(error.fields, [{ path: "to[1]", message: "not in testRecipients" }]);
    // A subdomain is not its parent's @domain.
    assert.equal((await post(proofBody(["x@evil.team.nomaddesk.example"]))).statusCode, 403);
    assert.deepEqual(await proofs("victim@elsewhere.example"), []);
    assert.deepEqual(await ledger(), before);
  });

  it(`answers 429 past MK_TEST_SENDS_PER_HOUR (${PER_HOUR}) proofs, and sends nothing more`, { timeout: 60_000 }, async () => {
    const count = async () => (await query<{ n: number }>(rt.databaseUrl, "select count(*)::int as n from proof_outbox"))[0]!.n;
    const sent = await count();
    assert.ok(sent < PER_HOUR, `the earlier tests sent ${sent}`);
    for (let i = sent; i < PER_HOUR; i += 1) assert.equal((await post(proofBody(["qa@nomaddesk.example"]))).statusCode, 200);
    const refused = await post(proofBody(["qa@nomaddesk.example"]));
    assert.equal(refused.statusCode, 429);
    assert.equal(refused.headers["retry-after"], String(3600 / PER_HOUR));
    assert.equal((refused.json() as { error: { message: string } }).error.message, `more than ${PER_HOUR} proofs this hour (MK_TEST_SENDS_PER_HOUR); try again later`);
    assert.equal(await count(), PER_HOUR);
  });
});
