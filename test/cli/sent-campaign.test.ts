import assert from "node:assert/strict";
import { rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { DateTime } from "luxon";
import { initAndUp, type LocalRepository } from "../helpers/local-repository.js";
import { waitFor } from "../helpers/wait-for.js";

/**
 * The GitOps loop past its first scheduled send, on the real clock (nothing
 * injected) and mk up's runtime: a campaign scheduled seconds ahead is applied
 * and sent when its time comes; from then on its file, left as it was sent,
 * plans as no change, other campaigns still plan and apply, allowPast on it
 * changes nothing, and a real change to it is still refused.
 */
let repo: string;
let mk: LocalRepository["mk"];
let api: LocalRepository["api"];
let stop: LocalRepository["stop"] | undefined;
/** flash-sale's schedule.at: seconds ahead when it is applied, with an explicit offset. */
let sendAt: string;

const SOURCE = { commit: null, author: null, branch: null, dirty: null };
const write = (file: string, text: string) => writeFile(path.join(repo, file), text);
const campaign = (name: string, subject: string, at: string, extra = "") =>
  write(
    `campaigns/${name}.yaml`,
    `apiVersion: mk/v1\nkind: Campaign\nsubject: "${subject}"\npreheader: "Today only"\ntemplate: templates/welcome.mjml\naudience: everyone-opted-in\nschedule:\n  at: "${at}"\n${extra}`,
  );
const flashSale = (extra = "", subject = "Flash sale: 20% off desks") => campaign("flash-sale", subject, sendAt, extra);
const outbox = async (name: string): Promise<{ to: string; subject: string }[]> => JSON.parse((await mk("outbox", "list", "--campaign", name, "--json")).stdout);

before(async () => {
  ({ repo, mk, api, stop } = await initAndUp("mk-sent-"));
  const people = ["email,firstName,consent", "ana@example.test,Ana,marketing", "bo@example.test,Bo,marketing", "cy@example.test,Cy,marketing"];
  await write("people.csv", `${people.join("\n")}\n`);
  const imported = await mk("subscribers", "import", path.join(repo, "people.csv"));
  assert.equal(imported.code, 0, imported.stderr + imported.stdout);
}, { timeout: 120_000 });

after(() => stop?.(), { timeout: 60_000 });

describe("a sent campaign never blocks the repository", { timeout: 510_000 }, () => {
  it("applies a campaign scheduled seconds ahead, and mk send --due sends it once its time has come", { timeout: 90_000 }, async () => {
    sendAt = DateTime.now().plus({ seconds: 15 }).startOf("second").setZone("Asia/Bangkok").toISO({ suppressMilliseconds: true })!;
    assert.match(sendAt, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+07:00$/);
    await flashSale();
    const applied = await mk("apply", "--auto-approve");
    assert.equal(applied.code, 0, applied.stderr + applied.stdout);
    assert.match(applied.stdout, /\+ campaign "flash-sale"\n {6}\+ audience = "everyone-opted-in"/);
    assert.match(applied.stdout, /Apply complete! Resources: \d+ added, 0 changed, 0 deleted\./);

    const early = await mk("send", "--due");
    assert.equal(early.code, 0, early.stderr);
    assert.match(early.stdout, /^No campaign is due on local\.\nWaiting: "flash-sale" starts at \S+\.\n$/);

    const wait = Date.parse(sendAt) - Date.now();
    assert.ok(wait > 0, `mk apply took until ${-wait} ms after the campaign was due`);
    await new Promise((resolve) => setTimeout(resolve, wait + 250));
    const due = await mk("send", "--due");
    assert.equal(due.code, 0, due.stderr);
    assert.equal(due.stdout, 'Started "flash-sale": 3 recipients queued.\n');

    await waitFor(async () => (await outbox("flash-sale")).length === 3, 30_000, "flash-sale in the outbox");
    const sent = await outbox("flash-sale");
    assert.deepEqual(sent.map((m) => m.to).sort(), ["ana@example.test", "bo@example.test", "cy@example.test"]);
    assert.ok(sent.every((m) => m.subject === "Flash sale: 20% off desks"));
  });

  it("plans the sent campaign, its time now past, as no change; validate warns and render renders", { timeout: 60_000 }, async () => {
    const plan = await mk("plan", "--detailed-exitcode");
    assert.equal(plan.code, 0, plan.stderr + plan.stdout);
    assert.match(plan.stdout, /No changes\. The runtime matches the repository\./);
    assert.doesNotMatch(plan.stdout + plan.stderr, /MK0\d\d/);

    const validate = await mk("validate");
    assert.equal(validate.code, 0, validate.stdout);
    assert.equal(
      validate.stdout,
      `campaigns/flash-sale.yaml:8:7  warning  MK035  schedule.at ${sendAt} is in the past (${sendAt}); mk plan will refuse it unless the runtime has already started this campaign or holds it at that time: ` +
        "set a future time, or schedule.allowPast: true to send it at the next mk send --due\n⚠ 0 errors, 1 warning\n",
    );
    const render = await mk("render", "flash-sale", "--json");
    assert.equal(render.code, 0, render.stderr);
    assert.equal((JSON.parse(render.stdout) as { subject: string }).subject, "Flash sale: 20% off desks");
  });

  it("plans and applies a change to another campaign and a new one, the sent campaign unchanged", { timeout: 60_000 }, async () => {
    await write(
      "campaigns/welcome.yaml",
      'apiVersion: mk/v1\nkind: Campaign\nsubject: \'Welcome aboard, {{default subscriber.firstName "friend"}}\'\npreheader: "What to expect from us, and how often"\ntemplate: templates/welcome.mjml\naudience: everyone-opted-in\n',
    );
    await campaign("restock", "Desks are back in stock", "2020-06-01T09:00:00Z", "  allowPast: true\n");
    const plan = await mk("plan", "--detailed-exitcode");
    assert.equal(plan.code, 2, plan.stderr + plan.stdout);
    assert.match(plan.stdout, /\+ campaign "restock"\n/);
    assert.match(plan.stdout, /~ campaign "welcome"\n {6}~ subject = "Welcome, .*" -> "Welcome aboard, .*"\n/);
    assert.doesNotMatch(plan.stdout, /flash-sale/);
    assert.match(plan.stdout, /\nPlan: 1 to add, 1 to change, 0 to delete\.\n$/);

    const applied = await mk("apply", "--auto-approve");
    assert.equal(applied.code, 0, applied.stderr + applied.stdout);
    assert.match(applied.stdout, /Apply complete! Resources: 1 added, 1 changed, 0 deleted\./);
    // allowPast on a campaign the runtime has not started: it goes out at the next due send.
    const due = await mk("send", "--due");
    assert.equal(due.stdout, 'Started "restock": 3 recipients queued.\n');
  });

  it("takes adding or removing only allowPast on sent campaigns as no change, in mk plan and in the runtime", { timeout: 60_000 }, async () => {
    await flashSale("  allowPast: true\n");
    await campaign("restock", "Desks are back in stock", "2020-06-01T09:00:00Z");
    const plan = await mk("plan", "--detailed-exitcode");
    assert.equal(plan.code, 0, plan.stderr + plan.stdout);
    assert.match(plan.stdout, /No changes\. The runtime matches the repository\./);
    const apply = await mk("apply", "--auto-approve");
    assert.equal(apply.code, 0, apply.stderr + apply.stdout);
    assert.doesNotMatch(apply.stdout, /Apply complete/);

    const state = (await api("/v1/state")) as { serial: number; resources: { kind: string; name: string; spec: { schedule?: Record<string, unknown> } }[] };
    const toggled = state.resources.map(({ kind, name, spec }) =>
      kind === "Campaign" && spec.schedule ? { kind, name, spec: { ...spec, schedule: { ...spec.schedule, allowPast: !spec.schedule["allowPast"] } } } : { kind, name, spec },
    );
    const response = await api("/v1/apply", { baseSerial: state.serial, resources: toggled, templates: [], source: SOURCE });
    assert.deepEqual(response, { serial: state.serial, added: 0, changed: 0, deleted: 0 });
  });

  it("still refuses a real change to the sent campaign, and a past time for a campaign not sent", { timeout: 60_000 }, async () => {
    await flashSale("  allowPast: true\n", "Flash sale: 30% off desks");
    const refused = 'Error: campaign "flash-sale" has started sending, so it can no longer be changed; put it back as it was and create a new campaign (a new file with a new name) for the change';
    const plan = await mk("plan", "--detailed-exitcode");
    assert.equal(plan.code, 1, plan.stderr + plan.stdout);
    assert.match(plan.stdout, /~ subject = "Flash sale: 20% off desks" -> "Flash sale: 30% off desks"/);
    assert.ok(plan.stdout.includes(refused), plan.stdout);
    const apply = await mk("apply", "--auto-approve");
    assert.equal(apply.code, 1);
    assert.ok(apply.stdout.includes(refused), apply.stdout);

    const state = (await api("/v1/state")) as { serial: number; resources: { kind: string; name: string; spec: Record<string, unknown> }[] };
    const edited = state.resources.map(({ kind, name, spec }) => ({ kind, name, spec: name === "flash-sale" ? { ...spec, subject: "Flash sale: 30% off desks" } : spec }));
    const response = await api("/v1/apply", { baseSerial: state.serial, resources: edited, templates: [], source: SOURCE });
    assert.equal(response.error?.code, "campaign_started");

    await flashSale();
    await campaign("too-late", "Last call", "2020-06-01T09:00:00Z");
    const late = await mk("plan");
    assert.equal(late.code, 1, late.stderr + late.stdout);
    assert.equal(
      late.stdout,
      'campaigns/too-late.yaml:8:7  error    MK026  schedule.at 2020-06-01T09:00:00Z is in the past (2020-06-01T09:00:00Z) and campaign "too-late" has not started sending on "local"; ' +
        "set a future time, or schedule.allowPast: true to send it at the next mk send --due\n✖ 1 error, 0 warnings\n",
    );
    await rm(path.join(repo, "campaigns/too-late.yaml"));
    assert.equal((await mk("plan", "--detailed-exitcode")).code, 0);
  });
});
