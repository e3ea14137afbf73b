import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { MkError } from "../../cli/errors.js";
import { renderCampaign } from "../../cli/render.js";
import { sendProofs } from "../../cli/send-test.js";
import { recordingProofClient } from "../helpers/proof-client.js";
import { tempRepo } from "../helpers/temp-repo.js";

/** `mk render` and `mk send test` on a transactional message (cli/message-render.ts), in process. */
let repo: Awaited<ReturnType<typeof tempRepo>>;

const rejectsWith = (code: string, pattern: RegExp) => (error: unknown) => {
  assert.ok(error instanceof MkError, `not an MkError: ${String(error)}`);
  assert.equal(error.code, code);
  assert.match(error.message, pattern);
  return true;
};

before(async () => {
  repo = await tempRepo();
  await repo.write("mk.yaml", `${await readFile(path.join(repo.root, "mk.yaml"), "utf8")}testRecipients: ["@fixture.example"]\n`);
  await repo.write(
    "messages/receipt.yaml",
    'apiVersion: mk/v1\nkind: Message\nsubject: "Your order {{data.orderId}}"\npreheader: "Thanks"\nfrom: "Shop <shop@fixture.example>"\ntemplate: templates/receipt.mjml\ndata:\n  orderId: { type: string }\n  total: { type: number, required: false }\n',
  );
  await repo.write("templates/receipt.mjml", "<mjml><mj-body><mj-section><mj-column><mj-text>Order {{data.orderId}}: {{data.total}} for {{subscriber.email}} ({{message.name}})</mj-text></mj-column></mj-section></mj-body></mjml>\n");
  await repo.write("order.json", JSON.stringify({ orderId: "<A-1>", total: 12.5 }));
  await repo.write("bad.json", JSON.stringify({ total: "12" }));
}, { timeout: 60_000 });
after(() => repo.remove(), { timeout: 60_000 });

describe("a transactional message in mk render and mk send test", { timeout: 180_000 }, () => {
  it("renders the request's data from --data (escaped), sample values without it, and refuses data that does not fit (MK136), a near name or --variant (MK135)", async () => {
    const out = await renderCampaign({ dir: repo.root, campaign: "receipt", dataFile: path.join(repo.root, "order.json") });
    assert.equal(out.subject, "Your order <A-1>");
    assert.match(out.html, /Order &lt;A-1&gt;: 12\.5 for alex\.rivera@example\.com \(receipt\)/);
    assert.equal(out.variant, null);
    const sample = await renderCampaign({ dir: repo.root, campaign: "receipt" });
    assert.match(sample.text, /Order <orderId>: 42/);
    await assert.rejects(renderCampaign({ dir: repo.root, campaign: "receipt", dataFile: path.join(repo.root, "bad.json") }), rejectsWith("MK136", /data\.orderId is required \(string\); data\.total must be a number, not a string/));
    await assert.rejects(renderCampaign({ dir: repo.root, campaign: "reciept" }), rejectsWith("MK135", /did you mean message "receipt"/));
    await assert.rejects(renderCampaign({ dir: repo.root, campaign: "receipt", variant: "a" }), rejectsWith("MK135", /has no variants/));
    assert.equal((await renderCampaign({ dir: repo.root, campaign: "hello" })).campaign, "hello", "campaigns render as before");
  });

  it("mk send test sends the message mk render renders, from the message's sender", async () => {
    const { bodies, client } = recordingProofClient();
    const dataFile = path.join(repo.root, "order.json");
    const [proof] = await sendProofs({ dir: repo.root, target: "receipt", to: ["qa@fixture.example"], dataFile }, async () => client);
    const rendered = await renderCampaign({ dir: repo.root, campaign: "receipt", dataFile });
    assert.equal(proof?.subject, "[Test] Your order <A-1>");
    assert.deepEqual([bodies.length, bodies[0]?.html, bodies[0]?.from, bodies[0]?.campaign], [1, rendered.html, "Shop <shop@fixture.example>", "receipt"]);
  });
});
