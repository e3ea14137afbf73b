import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Plan } from "../../../cli/plan/make-plan.js";
import { campaignReach } from "../../../runtime/sending/budget.js";
import { formatUsd, renderPlanText } from "../../../cli/plan/render-text.js";
import { diffState, fieldChanges } from "../../../runtime/state/diff.js";
import { stepChanges } from "../../../cli/plan/sequence-steps.js";
import type { SequenceStep } from "../../../schemas/index.js";

const NO_COLOR = { color: false };

describe("diffState", { timeout: 185_000 }, () => {
  it("orders creates, updates and deletes by kind, then name, with field-level changes", () => {
    const current = [
      { kind: "Campaign" as const, name: "b", spec: { subject: "Old", budget: { maxRecipients: 10 } } },
      { kind: "Campaign" as const, name: "gone", spec: { subject: "Bye" } },
      { kind: "Audience" as const, name: "same", spec: { where: { consent: "marketing" } } },
    ];
    const desired = [
      { kind: "Campaign" as const, name: "b", spec: { subject: "New", budget: { maxRecipients: 10, maxUsd: 5 } } },
      { kind: "Audience" as const, name: "same", spec: { where: { consent: "marketing" } } },
      { kind: "Audience" as const, name: "new", spec: { where: { tag: "x" } } },
      { kind: "Project" as const, name: "p", spec: { currency: "USD" } },
    ];
    const changes = diffState(current, desired);
    assert.deepEqual(
      changes.map((c) => `${c.action} ${c.kind}/${c.name}`),
      ["create Project/p", "create Audience/new", "update Campaign/b", "delete Campaign/gone"],
    );
    assert.deepEqual(changes[2]?.fields, [
      { path: "budget.maxUsd", before: undefined, after: 5 },
      { path: "subject", before: "Old", after: "New" },
    ]);
  });

  it("leaves a campaign's schedule.allowPast out: adding or removing it is no change", { timeout: 5_000 }, () => {
    const sent = { at: "2026-12-01T09:00:00Z", window: "09:00-11:00" };
    const campaign = (schedule: Record<string, unknown>) => [{ kind: "Campaign" as const, name: "sale", spec: { subject: "Sale", schedule } }];
    assert.deepEqual(diffState(campaign(sent), campaign({ ...sent, allowPast: true })), []);
    assert.deepEqual(diffState(campaign({ ...sent, allowPast: true }), campaign(sent)), []);
    assert.deepEqual(diffState(campaign({ ...sent, allowPast: false }), campaign({ ...sent, allowPast: true })), []);
    const moved = diffState(campaign(sent), campaign({ ...sent, at: "2026-12-02T09:00:00Z", allowPast: true }));
    assert.deepEqual(moved.map((c) => [c.action, c.fields]), [["update", [{ path: "schedule.at", before: "2026-12-01T09:00:00Z", after: "2026-12-02T09:00:00Z" }]]]);
    assert.deepEqual(diffState([], campaign({ ...sent, allowPast: true }))[0]?.fields.map((f) => f.path), ["schedule.at", "schedule.window", "subject"]);
  });

  it("compares arrays item by item when their length is the same, as a whole otherwise", () => {
    assert.deepEqual(fieldChanges({ v: [{ w: 50 }, { w: 50 }] }, { v: [{ w: 60 }, { w: 40 }] }), [
      { path: "v[0].w", before: 50, after: 60 },
      { path: "v[1].w", before: 50, after: 40 },
    ]);
    assert.deepEqual(fieldChanges({ v: [1] }, { v: [1, 2] }), [{ path: "v", before: [1], after: [1, 2] }]);
    assert.deepEqual(fieldChanges({ a: { b: 1 } }, { a: { b: 1 } }), []);
  });
});

describe("campaignReach", { timeout: 180_000 }, () => {
  it("caps by maxRecipients and by what maxUsd buys, and prices in micro-dollars", () => {
    assert.deepEqual(campaignReach(12_000, 0.1), { recipients: 12_000, costMicroUsd: 1_200_000 });
    assert.deepEqual(campaignReach(12_000, 0.1, { maxRecipients: 5000 }), { recipients: 5000, costMicroUsd: 500_000, cappedBy: "maxRecipients" });
    assert.deepEqual(campaignReach(12_000, 0.1, { maxRecipients: 5000, maxUsd: 0.25 }), { recipients: 2500, costMicroUsd: 250_000, cappedBy: "maxUsd" });
    assert.deepEqual(campaignReach(10_000, 0.3, { maxUsd: 0.9 }), { recipients: 3000, costMicroUsd: 900_000, cappedBy: "maxUsd" }, "0.9 / 0.3 is 3 exactly");
    assert.equal(formatUsd(1_234_567_890), "$1,234.57");
    assert.equal(formatUsd(4_999), "$0.00");
  });
});

describe("renderPlanText", { timeout: 180_000 }, () => {
  const base = {
    env: "prod",
    url: "https://mk.example",
    baseSerial: 7,
    errors: [],
    audiences: { lapsed: 1200 },
    campaigns: { winback: { recipients: 1200, costMicroUsd: 120_000 } },
    sequences: {},
    request: { baseSerial: 7, resources: [], templates: [], source: { commit: null, author: null, branch: null, dirty: null } },
    fingerprints: [],
  };

  it("prints the Terraform grammar: headers, symbols, field diffs, MJML diffs, the summary", () => {
    const plan: Plan = {
      ...base,
      changes: diffState(
        [
          { kind: "Template", name: "templates/a.mjml", spec: { html: "a".repeat(64), files: { "templates/a.mjml": "<mjml>\n  <mj-text>Hi</mj-text>\n</mjml>\n" } } },
          { kind: "Campaign", name: "winback", spec: { subject: "Old" } },
          { kind: "Sequence", name: "old", spec: { steps: [] } },
        ],
        [
          { kind: "Template", name: "templates/a.mjml", spec: { html: "b".repeat(64), files: { "templates/a.mjml": "<mjml>\n  <mj-text>Hello</mj-text>\n</mjml>\n" } } },
          { kind: "Audience", name: "lapsed", spec: { where: { consent: "marketing" } } },
          { kind: "Campaign", name: "winback", spec: { subject: "New" } },
        ],
      ),
    };
    assert.equal(
      renderPlanText(plan, NO_COLOR),
      `Planned against "prod" (https://mk.example) at serial 7.

mk will perform the following actions:

  # template "templates/a.mjml" will be updated in place
  ~ template "templates/a.mjml"
      ~ html = "aaaaaaaaaaaa" -> "bbbbbbbbbbbb"
      ~ templates/a.mjml
          @@ -1,3 +1,3 @@
           <mjml>
          -  <mj-text>Hi</mj-text>
          +  <mj-text>Hello</mj-text>
           </mjml>

  # audience "lapsed" will be created (1,200 subscribers now)
  + audience "lapsed"
      + where.consent = "marketing"

  # campaign "winback" will be updated in place (1,200 recipients, est. $0.12)
  ~ campaign "winback"
      ~ subject = "Old" -> "New"

  # sequence "old" will be deleted
  - sequence "old"

Plan: 1 to add, 2 to change, 1 to delete.
`,
    );
  });

  it("shows a sequence's change step by step, and what happens to its active enrollments", () => {
    const before: SequenceStep[] = [
      { name: "welcome", send: { template: "templates/a.mjml", subject: "Welcome" } },
      { wait: "2d" },
      { name: "tips", send: { template: "templates/a.mjml", subject: "Tips" } },
    ];
    const after: SequenceStep[] = [
      { name: "welcome", send: { template: "templates/a.mjml", subject: "Welcome, {{subscriber.firstName}}" } },
      { wait: "3d", until: "09:00" },
      { name: "bought", if: { event: "purchase", within: "3d" }, then: "exit" },
      { name: "tips", send: { template: "templates/a.mjml", subject: "Tips" } },
    ];
    const changes = diffState([{ kind: "Sequence", name: "onboarding", spec: { reenter: false, steps: before } }], [{ kind: "Sequence", name: "onboarding", spec: { reenter: "after 30d", steps: after } }]);
    const text = renderPlanText({ ...base, changes, sequences: { onboarding: { active: 42, migrate: false, steps: stepChanges(before, after) } } }, NO_COLOR);
    assert.equal(
      text.split("\n").slice(4, 14).join("\n"),
      `  # sequence "onboarding" will be updated in place (42 active enrollments stay on the version they started; new enrollments start on this one)
  ~ sequence "onboarding"
      ~ reenter = false -> "after 30d"
      ~ step 1 (welcome): send "Welcome, {{subscriber.firstName}}" (templates/a.mjml)
          ~ send.subject = "Welcome" -> "Welcome, {{subscriber.firstName}}"
      ~ step 2: wait 3d until 09:00
          + until = "09:00"
          ~ wait = "2d" -> "3d"
      + step 3 (bought): if {"event":"purchase","within":"3d"} then exit
`,
    );
    const deleting = renderPlanText({ ...base, changes: diffState([{ kind: "Sequence", name: "onboarding", spec: { steps: before } }], []), sequences: { onboarding: { active: 1, migrate: false, steps: [] } } }, NO_COLOR);
    assert.match(deleting, /# sequence "onboarding" will be deleted \(ends 1 active enrollment\)/);
  });

  it("matches steps by name, so a moved named step is not a removal and an addition", () => {
    const a = { name: "a", wait: "1d" } as const;
    const b = { name: "b", wait: "2d" } as const;
    assert.deepEqual(stepChanges([a, b], [a, b]), []);
    assert.deepEqual(stepChanges([a, b], [b]).map((c) => `${c.action} ${c.label}`), ["delete step 1 (a)"]);
    assert.deepEqual(stepChanges([{ wait: "1d" }], [{ wait: "1d" }, { wait: "2d" }]).map((c) => `${c.action} ${c.label}: ${c.summary}`), ["create step 2: wait 2d"]);
    assert.deepEqual(stepChanges([{ wait: "1d" }], [{ send: { template: "t.mjml", subject: "S" } }]).map((c) => c.action), ["delete", "create"]);
  });

  it("says so in a sentence when nothing changes, and lists plan errors", () => {
    assert.equal(renderPlanText({ ...base, changes: [] }, NO_COLOR), 'Planned against "prod" (https://mk.example) at serial 7.\n\nNo changes. The runtime matches the repository.\n');
    const withError = renderPlanText({ ...base, changes: diffState([{ kind: "Campaign", name: "winback", spec: { subject: "Old" } }], []), errors: ['campaign "winback" has started sending'] }, NO_COLOR);
    assert.match(withError, /\nError: campaign "winback" has started sending\n\nPlan: 0 to add, 0 to change, 1 to delete\.\n$/);
  });
});
