import { Args } from "@oclif/core";
import { BaseCommand } from "../../base-command.js";
import { connect } from "../../connect.js";
import { envFlag, jsonFlag } from "../../flags.js";
import { subscriberProfile } from "../../subscribers/profile.js";

export default class SubscribersGet extends BaseCommand {
  static override summary = "Show one subscriber: profile, topics, and the consent history with its proof.";

  static override description = `The consent history lists every grant and withdrawal, oldest first: topic ((all) = marketing mail as
a whole), source (import, api, form, preference-page, unsubscribe-link, bounce, complaint, migrated), its detail
(the import's file:line, the API token's name, the campaign), IP and user agent where there was one. Times are UTC.
Needs an admin token.

Exit codes:
  0  shown
  1  no subscriber has the address (MK109), or the runtime refused`;

  static override examples = ["<%= config.bin %> subscribers get ana@example.com", "<%= config.bin %> subscribers get ana@example.com --env prod --json"];

  static override args = {
    email: Args.string({ description: "The subscriber's email address (any case).", required: true }),
  };

  static override flags = {
    env: envFlag,
    json: jsonFlag("{ email, firstName, lastName, country, timezone, locale, tags, consent, attributes, createdAt, updatedAt, topics: { topic: granted }, consentHistory: [{ topic, action, source, sourceDetail, occurredAt, ip, userAgent, textHash, evidence }] }"),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(SubscribersGet);
    const client = await connect(flags.dir, flags.env);
    const subscriber = await client.subscriber(args.email);
    if (flags.json) return this.printJson(subscriber);
    this.log(subscriberProfile(subscriber, { bold: Boolean(process.stdout.isTTY) }));
  }
}
