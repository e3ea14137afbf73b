import { Args, Flags } from "@oclif/core";
import { formatCount } from "../../output/format-count.js";
import { BaseCommand } from "../../base-command.js";
import { connect } from "../../connect.js";
import { MkError } from "../../errors.js";
import { envFlag, jsonFlag } from "../../flags.js";

export default class Send extends BaseCommand {
  static override summary = "Start campaigns: every scheduled one whose time has come (--due), or one by name now.";

  static override description = `The runtime writes one ledger row per recipient (audience, consent, suppressions, geofence, budget, A/B
variant) and its workers send them, each recipient once, at the scheduled time in their own time zone when the
schedule says timezone: recipient. Running it again, or twice at once, starts nothing twice.

Exit codes:
  0  done (also when nothing was due)
  1  the runtime cannot be reached or refused`;

  static override examples = ["<%= config.bin %> send --due --env prod", "<%= config.bin %> send welcome"];

  static override args = {
    campaign: Args.string({ description: "A campaign to start now (its schedule, if any, is ignored)." }),
  };

  static override flags = {
    env: envFlag,
    due: Flags.boolean({ summary: "Start every scheduled campaign whose time has come." }),
    json: jsonFlag("the runtime's answer: { campaign, recipients, alreadyStarted } for a campaign, { started, refused, waiting } for --due"),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Send);
    if (Boolean(flags.due) === (args.campaign !== undefined)) throw new MkError("MK085", "give either --due or a campaign name");
    const client = await connect(flags.dir, flags.env);

    if (args.campaign !== undefined) {
      const result = await client.startCampaign(args.campaign);
      if (flags.json) return this.printJson(result);
      this.log(
        result.alreadyStarted
          ? `Campaign "${result.campaign}" had already started (${formatCount(result.recipients)} recipients); nothing new was sent.`
          : `Started "${result.campaign}": ${formatCount(result.recipients)} recipients queued on ${client.target.env}.`,
      );
      return;
    }

    const result = await client.sendDue();
    if (flags.json) return this.printJson(result);
    for (const s of result.started) this.log(`Started "${s.campaign}": ${formatCount(s.recipients)} recipients queued.`);
    for (const r of result.refused) process.stderr.write(`Warning: not started "${r.campaign}": ${r.reason}\n`);
    if (result.started.length === 0) this.log(`No campaign is due on ${client.target.env}.`);
    for (const w of result.waiting) this.log(`Waiting: "${w.campaign}" starts at ${w.startsAt}.`);
  }
}
