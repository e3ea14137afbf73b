import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type pg from "pg";
import { desiredState } from "../../../cli/plan/desired-state.js";
import { validRepository } from "../../../cli/render.js";
import { MessageComposer, type Recipient } from "../../../runtime/sending/compose.js";
import { readDkimKey } from "../../../runtime/sending/dkim.js";
import { SEND_SQL } from "../../../runtime/sending/queries.js";
import { snapshotCampaign, type CampaignSpec } from "../../../runtime/sending/snapshot.js";
import { smtpTransport } from "../../../runtime/sending/transports/smtp.js";
import type { RemoteTransport } from "../../../runtime/sending/transports/transport.js";
import { storedProject } from "../../../schemas/api.js";
import { dkimTestKey } from "../../helpers/dkim-keys.js";
import { captureSmtp, type SmtpCapture } from "../../helpers/smtp-capture.js";

const EXAMPLES = fileURLToPath(new URL("../../../example-campaigns/", import.meta.url));
const run = promisify(execFile);

/** Under this every example campaign's message must score (SpamAssassin's spam threshold is 5.0). */
const MAX_SCORE = 1.0;

interface Outbound {
  label: string;
  signed: boolean;
  raw: Buffer;
}

interface Score {
  score: number;
  rules: string[];
}

/**
 * The repository's messages as the runtime builds them: the apply payload
 * mk plan sends (desiredState), each campaign's snapshot made by the
 * runtime's own snapshotCampaign (its two queries answered from that
 * payload, no database), personalised by MessageComposer for a subscriber
 * who may get each, unsubscribe links and List-Unsubscribe headers signed.
 */
async function outboundMessages(dir: string): Promise<{ label: string; compose: () => ReturnType<MessageComposer["compose"]> }[]> {
  const validation = await validRepository({ dir });
  const state = desiredState(validation);
  const html = new Map(state.templates.map((t) => [t.hash, t.html]));
  const templates = state.resources.filter((r) => r.kind === "Template").map((r) => ({ name: r.name, hash: (r.spec as { html: string }).html, html: html.get((r.spec as { html: string }).html)! }));
  const stored = new Map<string, string>();
  const client = {
    query: async (sql: string, params: unknown[]) => {
      if (sql === SEND_SQL.templates) return { rows: templates.filter((t) => (params[0] as string[]).includes(t.name)) };
      if (sql === SEND_SQL.storeTemplate) return (stored.set(params[0] as string, params[1] as string), { rows: [] });
      throw new Error(`the test answers no query but the snapshot's two: ${sql}`);
    },
  } as unknown as pg.PoolClient;
  const project = storedProject.parse(state.resources.find((r) => r.kind === "Project")!.spec);
  const composer = new MessageComposer({ publicUrl: "https://mk.nomaddesk.example", signingSecret: "spam-score-signing-secret-0123456789-abcdef" }, async (hash) => stored.get(hash)!);
  const sample = validation.repo.project.spec.defaults;
  const messages: { label: string; compose: () => ReturnType<MessageComposer["compose"]> }[] = [];
  for (const resource of state.resources.filter((r) => r.kind === "Campaign")) {
    const snapshot = await snapshotCampaign(client, project, resource.name, resource.spec as CampaignSpec);
    for (const [i, variant] of snapshot.variants.entries()) {
      const recipient: Recipient = {
        sendId: `00000000-0000-4000-8000-00000000000${i}`,
        email: "alex.rivera@example.com",
        variant: variant.name,
        subscriber: { firstName: "Alex", lastName: "Rivera", country: "TH", timezone: sample.timezone, locale: sample.locale, tags: ["remote-worker"], consent: "marketing", attributes: { plan: "pro" } },
      };
      messages.push({ label: `${resource.name}${variant.name === null ? "" : ` (variant ${variant.name})`}`, compose: () => composer.compose(snapshot, recipient, new Date("2027-01-05T09:00:00Z")) });
    }
  }
  return messages;
}

/** The messages as one mbox (LF line ends, as a mail store keeps them; "From " lines in bodies quoted). */
function mbox(messages: readonly Outbound[]): string {
  return messages
    .map((m) => `From mk@example.test Tue Jan  5 09:00:00 2027\n${m.raw.toString("latin1").replaceAll("\r\n", "\n").replace(/^(>*From )/gm, ">$1")}\n`)
    .join("");
}

/**
 * SpamAssassin's verdict on each message, in order: one process for all of
 * them (--mbox), local tests only (-L: no DNS blocklists, no network), no
 * Bayes or auto-welcomelist, its home in a temporary folder.
 */
async function spamScores(messages: readonly Outbound[], home: string): Promise<Score[]> {
  const args = ["-L", "-x", "--mbox", "--cf=use_bayes 0", "--cf=bayes_auto_learn 0", "--cf=use_auto_welcomelist 0", "--cf=report_safe 0"];
  const child = run("spamassassin", args, { env: { PATH: process.env["PATH"], HOME: home, LANG: "C" }, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
  child.child.stdin!.end(mbox(messages), "latin1");
  const { stdout } = await child;
  const statuses = [...stdout.replace(/,\n[ \t]+/g, ",").replace(/\n[ \t]+/g, " ").matchAll(/^X-Spam-Status: \w+, score=(-?[\d.]+) required=[\d.]+ tests=(\S*)/gm)];
  assert.equal(statuses.length, messages.length, `SpamAssassin returned ${statuses.length} verdicts for ${messages.length} messages`);
  return statuses.map(([, score, tests]) => ({ score: Number(score), rules: tests === "none" || !tests ? [] : tests.split(",") }));
}

describe("SpamAssassin: every example campaign's message as the SMTP transport writes it", { timeout: 180_000 }, () => {
  let smtp: SmtpCapture;
  let home: string;
  let unsigned: RemoteTransport;
  let signed: RemoteTransport;

  before(async () => {
    smtp = await captureSmtp();
    home = await mkdtemp(path.join(tmpdir(), "mk-spamassassin-"));
    const key = readDkimKey({ domain: "nomaddesk.example", selector: "mk2026", privateKeyEnv: "MK_DKIM_PRIVATE_KEY" }, { MK_DKIM_PRIVATE_KEY: dkimTestKey().privateKeyPem });
    unsigned = smtpTransport(smtp.url);
    signed = smtpTransport(smtp.url, { dkim: async () => key });
  }, { timeout: 30_000 });
  after(async () => {
    await Promise.all([unsigned.close(), signed.close()]);
    await smtp.close();
    await rm(home, { recursive: true, force: true });
  }, { timeout: 30_000 });

  it(`scores each under ${MAX_SCORE} points with local tests, none worse for its DKIM signature`, { timeout: 150_000 }, async (t) => {
    const outbound: Outbound[] = [];
    for (const { label, compose } of await outboundMessages(EXAMPLES)) {
      for (const [transport, isSigned] of [[unsigned, false], [signed, true]] as const) {
        await transport.send(await compose());
        outbound.push({ label, signed: isSigned, raw: smtp.received.at(-1)!.raw });
      }
    }
    assert.ok(outbound.length >= 8, `only ${outbound.length / 2} example campaign messages`);
    assert.ok(outbound.filter((m) => m.signed).every((m) => /^DKIM-Signature:/im.test(m.raw.toString("latin1"))));

    const scores = await spamScores(outbound, home);
    for (const [i, m] of outbound.entries()) {
      t.diagnostic(`${m.label}${m.signed ? ", DKIM-signed" : ""}: ${scores[i]!.score} points (${scores[i]!.rules.join(", ") || "no rule hit"})`);
    }
    for (const [i, m] of outbound.entries()) {
      const { score, rules } = scores[i]!;
      assert.ok(score < MAX_SCORE, `${m.label}${m.signed ? " (signed)" : ""} scores ${score}: ${rules.join(", ")}`);
      // White hidden preheader text on the white SpamAssassin assumes behind it (MJML's <mj-preview>, mk's preheader: until now): 0.7 points.
      assert.ok(!rules.includes("HTML_FONT_LOW_CONTRAST"), `${m.label}: ${rules.join(", ")}`);
      assert.ok(!rules.some((r) => /^(T_)?DKIM_INVALID/.test(r)), `${m.label}: ${rules.join(", ")}`);
      if (m.signed) assert.ok(score <= scores[i - 1]!.score, `${m.label}: signed ${score} > unsigned ${scores[i - 1]!.score}`);
    }
  });
});
