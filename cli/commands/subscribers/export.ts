import { writeFile } from "node:fs/promises";
import { Args, Flags } from "@oclif/core";
import { BaseCommand } from "../../base-command.js";
import { connect } from "../../connect.js";
import { MkError } from "../../errors.js";
import { envFlag, jsonFlag } from "../../flags.js";

export default class SubscribersExport extends BaseCommand {
  static override summary = "Export everything held about one address (right of access), as one JSON document.";

  static override description = `Profile, consent history and topics, every send (campaign, time, status), the outbox's messages,
events (SES events and clicks among them), sequence enrollments with their steps, links clicked, suppressions, and
dead letters that name the address (in any case). Rows are as stored, with the database's column names. An address
with no subscriber (erased, or never imported) still gets a document: profile null, erasedAt when it was erased.

Exit codes:
  0  exported
  1  the runtime could not be asked, or --out cannot be written (MK113)`;

  static override examples = ["<%= config.bin %> subscribers export ana@example.com --out ana.json", "<%= config.bin %> subscribers export ana@example.com --env prod"];

  static override args = {
    email: Args.string({ description: "The address.", required: true }),
  };

  static override flags = {
    env: envFlag,
    out: Flags.string({ summary: "Write the document to this file instead of stdout." }),
    json: jsonFlag("the export document (the same as without --json; with --out, { email, out, counts })"),
  };

  async run(): Promise<void> {
    // 1. Ask the runtime.
    const { args, flags } = await this.parse(SubscribersExport);
    const client = await connect(flags.dir, flags.env);
    const document = await client.exportSubscriber(args.email);

    // 2. Print it, or write it and say what it holds.
    if (flags.out === undefined) return this.printJson(document);
    await writeFile(flags.out, `${JSON.stringify(document, null, 2)}\n`, { mode: 0o600 }).catch((error: NodeJS.ErrnoException) => {
      throw new MkError("MK113", `cannot write ${flags.out}: ${error.code ?? error.message}`);
    });
    const counts = {
      consent: document.consent.length,
      sends: document.sends.length,
      events: document.events.length,
      enrollments: document.enrollments.length,
      suppressions: document.suppressions.length,
      deadLetters: document.deadLetters.length,
    };
    if (flags.json) return this.printJson({ email: document.email, out: flags.out, counts });
    const held = document.profile === null ? (document.erasedAt ? `no subscriber (erased ${document.erasedAt})` : "no subscriber") : "a subscriber";
    this.log(`${document.email}: ${held}; ${Object.entries(counts).map(([part, n]) => `${n} ${part}`).join(", ")} → ${flags.out}`);
  }
}
