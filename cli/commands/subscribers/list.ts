import { Flags } from "@oclif/core";
import { BaseCommand } from "../../base-command.js";
import { connect } from "../../connect.js";
import { envFlag } from "../../flags.js";
import { subscriberLine, subscriberPages } from "../../subscribers/profile.js";

export default class SubscribersList extends BaseCommand {
  static override summary = "List subscribers, in an applied audience or with a tag, streamed page by page.";

  static override description = `One subscriber a line: email, consent, country, tags (tab-separated), in the order they were added.
Pages are fetched as they are printed, so a large list starts at once and never sits in memory. Needs an admin token.

Exit codes:
  0  listed
  1  no applied audience of that name (MK109), or the runtime refused`;

  static override examples = [
    "<%= config.bin %> subscribers list --audience vip",
    "<%= config.bin %> subscribers list --tag beta --env prod --json",
  ];

  static override flags = {
    env: envFlag,
    audience: Flags.string({ summary: "Only subscribers in this applied audience." }),
    tag: Flags.string({ summary: "Only subscribers with this tag." }),
    json: Flags.boolean({ summary: "Print one JSON object a line (NDJSON) on stdout and nothing else there: each as mk subscribers get --json shows it, without consentHistory." }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(SubscribersList);
    const client = await connect(flags.dir, flags.env);
    for await (const page of subscriberPages(client, { audience: flags.audience, tag: flags.tag })) {
      for (const subscriber of page) this.log(flags.json ? JSON.stringify(subscriber) : subscriberLine(subscriber));
    }
  }
}
