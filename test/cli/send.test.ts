import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { createServer as createHttpServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import selfsigned from "selfsigned";
import { MkError } from "../../cli/errors.js";
import { RuntimeClient } from "../../cli/runtime-client.js";
import { initAndUp, type LocalRepository } from "../helpers/local-repository.js";
import { runMk, STACK_LINE } from "../helpers/run-mk.js";

/**
 * mk init's repository on mk up's runtime, sent with the real binary: the
 * welcome campaign has no schedule, so `mk send welcome` starts it; the
 * outbox transport keeps what was sent.
 */
let repo: string;
let mk: LocalRepository["mk"];
let stop: LocalRepository["stop"];
let api: LocalRepository["api"];

before(async () => {
  ({ repo, mk, stop, api } = await initAndUp("mk-send-"));
  await writeFile(path.join(repo, "mk.yaml"), `${await readFile(path.join(repo, "mk.yaml"), "utf8")}testRecipients: ["@proofs.example"]\n`);
  const apply = await mk("apply", "--auto-approve");
  assert.equal(apply.code, 0, apply.stderr);
  const people = ["email,firstName,consent", ...Array.from({ length: 5 }, (_, i) => `Friend${i}@Example.test,Friend${i},marketing`), "nobody@example.test,No,"];
  await writeFile(path.join(repo, "people.csv"), `${people.join("\n")}\n`);
  const imported = await mk("subscribers", "import", path.join(repo, "people.csv"));
  assert.equal(imported.code, 0, imported.stderr + imported.stdout);
}, { timeout: 120_000 });

after(() => stop(), { timeout: 120_000 });

describe("mk send, mk outbox", { timeout: 180_000 }, () => {
  it("says when nothing is due: the welcome campaign has no schedule", async () => {
    const run = await mk("send", "--due");
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'No campaign is due on local.\n');
  });

  it("starts a campaign by name once; again, and in parallel, it starts nothing twice", async () => {
    const first = await mk("send", "welcome");
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, 'Started "welcome": 5 recipients queued on local.\n');
    const again = await Promise.all([mk("send", "welcome"), mk("send", "welcome"), mk("send", "--due"), mk("send", "--due")]);
    for (const run of again.slice(0, 2)) assert.equal(run.stdout, 'Campaign "welcome" had already started (5 recipients); nothing new was sent.\n');
    for (const run of again.slice(2)) assert.equal(run.stdout, "No campaign is due on local.\n");
  });

  it("--json prints the runtime's answer alone, for a campaign and for --due", async () => {
    const one = await mk("send", "welcome", "--json");
    assert.deepEqual([one.code, one.stderr], [0, ""]);
    assert.deepEqual(JSON.parse(one.stdout), { campaign: "welcome", recipients: 5, alreadyStarted: true });
    const due = await mk("send", "--due", "--json");
    assert.deepEqual([due.code, due.stderr], [0, ""]);
    assert.deepEqual(JSON.parse(due.stdout), { started: [], refused: [], waiting: [] });
  });

  it("lists and shows what the outbox transport kept, one message per recipient", async () => {
    let list: { sendId: string; to: string; subject: string }[] = [];
    for (let i = 0; i < 100 && list.length < 5; i++) {
      list = JSON.parse((await mk("outbox", "list", "--json")).stdout);
      if (list.length < 5) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.deepEqual(list.map((m) => m.to).sort(), ["friend0@example.test", "friend1@example.test", "friend2@example.test", "friend3@example.test", "friend4@example.test"]);
    const message = list.find((m) => m.to === "friend3@example.test")!;
    assert.equal(message.subject, "Welcome, Friend3");

    const show = await mk("outbox", "show", message.sendId);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /^To: friend3@example\.test$/m);
    assert.match(show.stdout, /^List-Unsubscribe: <http:\/\/127\.0\.0\.1:\d+\/u\/[\w-]{54}>, <mailto:unsubscribe@example\.com\?subject=unsubscribe%20[0-9a-f-]{36}>$/m);
    assert.match(show.stdout, /^List-Unsubscribe-Post: List-Unsubscribe=One-Click$/m);
    assert.match(show.stdout, /Hi Friend3/);

    const table = await mk("outbox", "list", "--limit", "2");
    assert.equal(table.stdout.match(/friend\d@example\.test/g)?.length, 2, "two rows");

    const json = await mk("outbox", "show", message.sendId, "--json");
    assert.deepEqual([json.code, json.stderr], [0, ""]);
    const whole = JSON.parse(json.stdout) as { sendId: string; to: string; subject: string; html: string; text: string; headers: Record<string, string> };
    assert.deepEqual([whole.sendId, whole.to, whole.subject], [message.sendId, "friend3@example.test", "Welcome, Friend3"]);
    assert.match(whole.html, /Hi Friend3/);
    assert.match(whole.text, /Hi Friend3/);
    assert.equal(whole.headers["List-Unsubscribe-Post"], "List-Unsubscribe=One-Click");
  });

  it("lists and replays rejected events", async () => {
    assert.equal((await mk("events", "dead-letter", "list")).stdout, "No dead letters on local.\n");
    const event = { idempotencyKey: "order-1", type: "purchase", subscriber: { email: "late@example.test" }, occurredAt: "2026-11-23T10:00:00Z", amount: { value: 100, currency: "USD" } };
    assert.equal(((await api("/v1/events", { events: [event] })) as { rejected: number }).rejected, 1);
    const list = await mk("events", "dead-letter", "list");
    assert.match(list.stdout, /order-1.*subscriber: no subscriber with email late@example\.test/s);
    const replay = await mk("events", "dead-letter", "replay");
    assert.equal(replay.code, 2);
    assert.match(replay.stdout, /^Replayed 1: 0 accepted, 0 duplicates, 1 still rejected\.\n {2}#\d+: subscriber: no subscriber with email late@example\.test\n$/);

    const letters = await mk("events", "dead-letter", "list", "--json");
    assert.deepEqual([letters.code, letters.stderr], [0, ""]);
    const [letter, ...others] = JSON.parse(letters.stdout) as { id: number; idempotencyKey: string; reason: string; payload: unknown }[];
    assert.deepEqual(others, []);
    assert.deepEqual([letter!.idempotencyKey, letter!.reason, letter!.payload], ["order-1", "subscriber: no subscriber with email late@example.test", event]);
    const again = await mk("events", "dead-letter", "replay", "--id", String(letter!.id), "--json");
    assert.equal(again.code, 2, "still rejected, whatever the output");
    assert.equal(again.stderr, "");
    assert.deepEqual(JSON.parse(again.stdout), { replayed: 1, accepted: 0, duplicates: 0, stillRejected: [{ id: letter!.id, reason: letter!.reason }] });
  });

  it("reconcile reports no ambiguous sends for the outbox; errors are one line", async () => {
    const reconcile = await mk("send", "reconcile");
    assert.deepEqual([reconcile.code, reconcile.stdout], [0, "No ambiguous sends on local.\n"]);
    assert.deepEqual(await mk("send", "reconcile", "--campaign", "welcome", "--json"), { code: 0, stdout: "[]\n", stderr: "" });

    const neither = await mk("send");
    assert.equal(neither.code, 1);
    assert.equal(neither.stderr, "Error: MK085 give either --due or a campaign name\n");
    const unknown = await mk("send", "nope");
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^Error: MK076 .*no campaign "nope" is applied; run mk apply first/);
    assert.doesNotMatch(unknown.stderr, STACK_LINE);
    const missing = await mk("outbox", "show", "00000000-0000-4000-8000-000000000000");
    assert.match(missing.stderr, /^Error: MK076 .*no outbox message/);
  });

  it("send test mails the working copy's welcome, not the applied one, to an allowlisted address through mk up's outbox", { timeout: 60_000 }, async () => {
    const file = path.join(repo, "campaigns", "welcome.yaml");
    const applied = await readFile(file, "utf8");
    await writeFile(file, applied.replace(/^subject: .*$/m, 'subject: "Not applied yet, {{default subscriber.firstName \\"friend\\"}}"'));
    try {
      const run = await mk("send", "test", "welcome", "--to", "me@proofs.example");
      assert.deepEqual([run.code, run.stderr], [0, ""]);
      assert.equal(run.stdout, 'Sent a proof of "welcome" to me@proofs.example through outbox: [Test] Not applied yet, Alex\n');
      const proofs = ((await api("/v1/outbox?campaign=welcome")) as { to: string; subject: string }[]).filter((m) => m.to === "me@proofs.example");
      assert.deepEqual(proofs.map((m) => m.subject), ["[Test] Not applied yet, Alex"]);
      assert.deepEqual((await api("/v1/sends?campaign=welcome")).map((p: { recipients: number }) => p.recipients), [5]);
    } finally {
      await writeFile(file, applied);
    }
  });
});

describe("a campaign in each subscriber's language on mk up", { timeout: 240_000 }, () => {
  it("sends th, pt-BR (falls back to pt) and xx (falls back to the default) subscribers their language, the ledger keeps each locale, the report splits by it", { timeout: 180_000 }, async () => {
    const write = (file: string, text: string) => writeFile(path.join(repo, file), text);
    await write("mk.yaml", `${await readFile(path.join(repo, "mk.yaml"), "utf8")}locales:\n  default: en\n  supported: [en, th, pt]\n`);
    await mkdir(path.join(repo, "locales"), { recursive: true });
    await write("locales/en.yaml", 'hello: "Hello {name}, your desk is waiting"\ncta: Book a desk\nfooter:\n  unsubscribe: Unsubscribe\n');
    await write("locales/th.yaml", 'hello: "สวัสดี {name} โต๊ะของคุณรออยู่"\ncta: จองโต๊ะ\nfooter:\n  unsubscribe: ยกเลิกการรับอีเมล\n');
    await write("locales/pt.yaml", 'hello: "Olá {name}, a sua mesa espera por si"\ncta: Reservar uma mesa\nfooter:\n  unsubscribe: Cancelar inscrição\n');
    await write(
      "templates/desk.mjml",
      '<mjml><mj-body><mj-section><mj-column><mj-text>{{t "hello" name=subscriber.firstName}}</mj-text><mj-button href="https://example.com/desks">{{t "cta"}}</mj-button>' +
        '<mj-text>{{project.postalAddress}} <a href="{{unsubscribeUrl}}">{{t "footer.unsubscribe"}}</a></mj-text></mj-column></mj-section></mj-body></mjml>\n',
    );
    await write("campaigns/desk.yaml", 'apiVersion: mk/v1\nkind: Campaign\nsubject: "{{t \\"cta\\"}}, {{subscriber.firstName}}"\ntemplate: templates/desk.mjml\naudience: everyone-opted-in\nlocales:\n  th: { subject: "{{subscriber.firstName}}, จองโต๊ะวันนี้" }\n');
    await write("locales.csv", "email,firstName,locale,consent\nsomchai@example.test,Somchai,th,marketing\nana@example.test,Ana,pt-BR,marketing\nxavier@example.test,Xavier,xx,marketing\n");
    const imported = await mk("subscribers", "import", path.join(repo, "locales.csv"));
    assert.equal(imported.code, 0, imported.stderr + imported.stdout);

    const validate = await mk("validate");
    assert.deepEqual([validate.code, validate.stderr], [0, ""], validate.stdout);
    const applied = await mk("apply", "--auto-approve");
    assert.equal(applied.code, 0, applied.stderr + applied.stdout);
    const started = await mk("send", "desk", "--json");
    assert.equal(started.code, 0, started.stderr);
    const recipients = (JSON.parse(started.stdout) as { recipients: number }).recipients;
    assert.equal(recipients, 8, "the five friends and the three new subscribers");

    let list: { sendId: string; to: string; subject: string }[] = [];
    for (let i = 0; i < 150 && list.length < recipients; i++) {
      list = JSON.parse((await mk("outbox", "list", "--campaign", "desk", "--json")).stdout);
      if (list.length < recipients) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const shown = async (to: string) => JSON.parse((await mk("outbox", "show", list.find((m) => m.to === to)!.sendId, "--json")).stdout) as { subject: string; html: string; headers: Record<string, string> };
    const thai = await shown("somchai@example.test");
    assert.equal(thai.subject, "Somchai, จองโต๊ะวันนี้");
    assert.match(thai.html, /<html[^>]* lang="th" dir="ltr"/);
    assert.match(thai.html, /สวัสดี Somchai โต๊ะของคุณรออยู่/);
    assert.match(thai.html, /ยกเลิกการรับอีเมล/);
    const portuguese = await shown("ana@example.test");
    assert.equal(portuguese.subject, "Reservar uma mesa, Ana");
    assert.match(portuguese.html, /<html[^>]* lang="pt"/);
    assert.match(portuguese.html, /Olá Ana, a sua mesa espera por si/);
    const fallback = await shown("xavier@example.test");
    assert.equal(fallback.subject, "Book a desk, Xavier");
    assert.match(fallback.html, /Hello Xavier, your desk is waiting/);
    assert.equal(fallback.headers["Content-Language"], "en");

    const report = await mk("report", "campaign", "desk", "--json");
    assert.equal(report.code, 0, report.stderr);
    const locales = (JSON.parse(report.stdout) as { locales: { locale: string; sent: number }[] }).locales;
    assert.deepEqual(locales.map((l) => [l.locale, l.sent]), [["en", 6], ["pt", 1], ["th", 1]]);
    const text = await mk("report", "campaign", "desk");
    assert.match(text.stdout, /Locales \(the language each recipient got\)/);
  });
});

describe("mk subscribers import --json", { timeout: 180_000 }, () => {
  it("prints the summary with every rejected row, no progress, and still exits 2 for rejected rows", async () => {
    const file = path.join(repo, "more.csv");
    await writeFile(file, "email,firstName,consent\nfriend0@example.test,Friend0,marketing\nnew@example.test,New,marketing\nnot-an-email,Bad,\n");
    const run = await mk("subscribers", "import", file, "--json");
    assert.deepEqual([run.code, run.stderr], [2, ""]);
    const summary = JSON.parse(run.stdout) as { rows: number; inserted: number; updated: number; unchanged: number; rejected: { line: number; reason: string }[]; format: unknown; skipped: unknown };
    assert.deepEqual({ ...summary, rejected: summary.rejected.map((r) => r.line) }, {
      rows: 3,
      inserted: 1,
      updated: 0,
      unchanged: 1,
      rejected: [4],
      format: { name: "mk", title: "mk subscribers CSV" },
      skipped: { role: 0, disposable: 0, rows: [] },
    });
    assert.match(summary.rejected[0]!.reason, /^email: /);
  });
});

/**
 * Packages a command that only asks the runtime has no use for: each costs tens of milliseconds to load.
 * luxon (mk.yaml's time zones are ICU's answer), simple-git (git ls-files answers whether runtime.json
 * is tracked), i18n-iso-countries (mk.yaml has no country) and fetch (its first call compiles
 * undici's WebAssembly parser, about 0.2 s, where node:http asks the runtime) too.
 */
const HEAVY =
  /\/node_modules\/(mjml|@octokit\/rest|pdfkit|@aws-sdk\/[^/]+|fastify|handlebars|pg|ioredis|nodemailer|piscina|diff|luxon|simple-git|i18n-iso-countries)\/|\/dist\/runtime\/|^node:internal\/deps\/undici$/;
const RECORD_MODULES = fileURLToPath(new URL("../helpers/record-modules.mjs", import.meta.url));

describe("start-up: mk --help, mk status and mk send --due", { timeout: 180_000 }, () => {
  it("load none of the heavy modules (mjml, octokit, pdfkit, the AWS SDK, fastify, handlebars, pg, diff, luxon, simple-git, i18n-iso-countries, fetch, the runtime)", async () => {
    for (const args of [["--help"], ["status", "--dir", repo], ["send", "--due", "--dir", repo]]) {
      const record = path.join(repo, `modules-${args[0]}.txt`);
      const run = await runMk(args, { env: { NODE_OPTIONS: `--import=${RECORD_MODULES}`, MK_RECORD_MODULES: record } });
      assert.deepEqual([run.code, run.stderr], [0, ""], `mk ${args.join(" ")}`);
      const loaded = (await readFile(record, "utf8")).split("\n");
      assert.ok(loaded.some((url) => url.endsWith("/node_modules/@oclif/core/lib/index.js")), "the preload recorded what was loaded");
      assert.deepEqual([...new Set(loaded.filter((url) => HEAVY.test(url)))], [], `mk ${args.join(" ")}`);
    }
  });
});

/** A server on a free port that answers every request with `status` and `body`; its URL. */
async function answering(server: ReturnType<typeof createHttpServer> | ReturnType<typeof createHttpsServer>, scheme: string): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe("the runtime client, through node:http instead of fetch", { timeout: 60_000 }, () => {
  it("sends the token and the JSON body, and fails as it did with fetch: the error's code, the runtime's error, a redirect not followed", async () => {
    const seen: { method?: string; url?: string; authorization?: string; type?: string; body: string }[] = [];
    const server = createHttpServer((request, response) => {
      let body = "";
      request.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
      request.on("end", () => {
        seen.push({ method: request.method, url: request.url, authorization: request.headers.authorization, type: request.headers["content-type"], body });
        if (request.url === "/v1/sends/due") return response.writeHead(200, { "content-type": "application/json" }).end('{"started":[],"refused":[],"waiting":[{"campaign":"é","startsAt":"2099-01-01T00:00:00.000Z"}]}');
        if (request.url === "/healthz") return response.writeHead(302, { location: "http://elsewhere.test/healthz" }).end();
        response.writeHead(404, { "content-type": "application/json" }).end('{"error":{"code":"campaign_not_found","message":"no campaign \\"nope\\""}}');
      });
    });
    const url = await answering(server, "http");
    try {
      const client = new RuntimeClient({ env: "local", url, token: "secret-token" });
      assert.deepEqual(await client.sendDue(), { started: [], refused: [], waiting: [{ campaign: "é", startsAt: "2099-01-01T00:00:00.000Z" }] });
      assert.deepEqual(seen[0], { method: "POST", url: "/v1/sends/due", authorization: "Bearer secret-token", type: "application/json", body: "{}" });
      await assert.rejects(client.startCampaign("nope"), (error: unknown) => error instanceof MkError && error.code === "MK086" && error.message === 'no campaign "nope"');
      await assert.rejects(client.health(), (error: unknown) => error instanceof MkError && error.code === "MK076" && error.message === `the runtime of "local" answered 302: HTTP 302`);
      assert.equal(seen.length, 3, "the redirect was not followed");
    } finally {
      server.close();
    }
    const closed = createHttpServer();
    const nobody = await answering(closed, "http");
    await new Promise((resolve) => closed.close(resolve));
    await assert.rejects(
      new RuntimeClient({ env: "local", url: nobody, token: "t" }).health(),
      (error: unknown) => error instanceof MkError && error.code === "MK073" && error.message === `cannot reach the runtime of "local" at ${nobody} (ECONNREFUSED); is mk up still running?`,
    );
    const pems = await selfsigned.generate([{ name: "commonName", value: "127.0.0.1" }], { notAfterDate: new Date(Date.now() + 86_400_000), keySize: 2048 });
    const tls = createHttpsServer({ key: pems.private, cert: pems.cert }, (_request, response) => response.end("{}"));
    const secure = await answering(tls, "https");
    try {
      await assert.rejects(
        new RuntimeClient({ env: "prod", url: secure, token: "t" }).health(),
        (error: unknown) => error instanceof MkError && error.code === "MK073" && error.message === `cannot reach the runtime of "prod" at ${secure} (DEPTH_ZERO_SELF_SIGNED_CERT); check the environment's url in mk.yaml`,
      );
    } finally {
      tls.close();
    }
  });
});
