import { Args, Flags } from "@oclif/core";
import { BaseCommand } from "../../base-command.js";
import { connect } from "../../connect.js";
import { envFlag, jsonFlag } from "../../flags.js";
import { sendProofs } from "../../send-test.js";

export default class SendTest extends BaseCommand {
  static override summary = "Send proofs of a campaign or sequence step, as the working copy has it, to addresses of testRecipients.";

  static override description = `Validates the repository, renders the message the way mk render does (for --as, a subscriber of the
runtime; --data, a subscriber in a JSON file; or the sample subscriber) and has the runtime send it through its own
transport, the subject starting "[Test] ". Every --to address must be in mk.yaml's testRecipients (addresses or
@domains), and the runtime checks its applied list again. Proofs count toward no campaign's ledger, report or
analytics; their unsubscribe, preference and browser links point at preview.mk.invalid and their other links are
as written, without tracking or UTM parameters. With mk.yaml locales:, --locale (else the subscriber's locale) picks the
language as mk render --locale does. The runtime sends at most MK_TEST_SENDS_PER_HOUR a hour. For a transactional
message (messages/<name>.yaml), --data holds the request's data (a JSON object of its data: fields) and --as the
subscriber it goes to, as mk render renders it.

Exit codes:
  0  every proof was sent
  1  the repository has errors, a recipient is not in testRecipients (MK117), the campaign, step, variant or
     --locale (MK131) is wrong, or the runtime refused (over the hourly cap, a recipient its applied testRecipients lacks)`;

  static override examples = [
    "<%= config.bin %> send test bangkok-coworking-launch --to me@nomaddesk.example",
    "<%= config.bin %> send test bangkok-coworking-launch --to me@nomaddesk.example,ana@nomaddesk.example --all-variants --env prod",
    "<%= config.bin %> send test welcome/2 --to me@nomaddesk.example --as ana@example.com",
  ];

  static override args = {
    message: Args.string({ description: "A campaign, <sequence>/<step name or 1-based index>, or a transactional message (messages/).", required: true }),
  };

  static override flags = {
    to: Flags.string({ summary: "Comma-separated recipients, each in mk.yaml's testRecipients.", required: true }),
    as: Flags.string({ summary: "Personalise for this subscriber of the runtime (its email address).", exclusive: ["data"] }),
    data: Flags.file({ summary: "JSON file with the subscriber, as mk render --data takes it.", exists: false }),
    variant: Flags.string({ summary: "A/B variant to send (default: the first).", exclusive: ["all-variants"] }),
    "all-variants": Flags.boolean({ summary: "Send one proof of each variant." }),
    locale: Flags.string({ summary: "Render in this locale of mk.yaml's locales.supported (default: the subscriber's, through the fallback chain)." }),
    env: envFlag,
    json: jsonFlag("the proofs: [{ campaign, variant, subject, sent: [{ to, id, transport }] }]"),
  };

  async run(): Promise<void> {
    // 1. Render and send.
    const { args, flags } = await this.parse(SendTest);
    const to = flags.to.split(",").map((address) => address.trim()).filter((address) => address !== "");
    const proofs = await sendProofs(
      { dir: flags.dir, target: args.message, to, as: flags.as, dataFile: flags.data, variant: flags.variant, allVariants: flags["all-variants"], locale: flags.locale },
      () => connect(flags.dir, flags.env),
    );

    // 2. Say what went where.
    if (flags.json) return this.printJson(proofs);
    for (const proof of proofs) {
      const variant = proof.variant === null ? "" : ` (variant ${proof.variant})`;
      this.log(`Sent a proof of "${proof.campaign}"${variant} to ${proof.sent.map((s) => s.to).join(", ")} through ${proof.sent[0]?.transport ?? "the runtime"}: ${proof.subject}`);
    }
  }
}
