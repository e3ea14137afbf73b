import { writeFile } from "node:fs/promises";
import { Args, Flags } from "@oclif/core";
import { BaseCommand } from "../base-command.js";
import { jsonFlag } from "../flags.js";
import { renderCampaign } from "../render.js";

export default class Render extends BaseCommand {
  static override summary = "Compile and personalise one campaign for a sample or given subscriber.";

  static override description = `Validates the repository, compiles the campaign's MJML template to HTML and fills in its handlebars
expressions for one subscriber, the way the runtime will when it sends. Links to unsubscribe and view in the browser point
at preview.mk.invalid. With mk.yaml locales:, it renders in --locale or the subscriber's locale through the fallback
chain (pt-BR, then pt, then the default): that locale's override, {{t}} from locales/<code>.yaml, lang and dir.
A transactional message (messages/<name>.yaml) renders for --data, a JSON object of its data: fields as
POST /v1/messages takes them (default: a sample value of each field); its fields are checked (MK136).

Exit codes:
  0  rendered
  1  the repository has errors, or the campaign, variant, message (MK135), --locale (MK131) or --data file
     (MK061; MK136 for a message's data) is wrong`;

  static override examples = [
    "<%= config.bin %> render bangkok-coworking-launch --out preview.html",
    "<%= config.bin %> render bangkok-coworking-launch --variant b --data alex.json --text",
    "<%= config.bin %> render bangkok-coworking-launch --locale th --out preview-th.html",
    "<%= config.bin %> render receipt --data order.json --out receipt.html",
  ];

  static override args = {
    campaign: Args.string({ description: "Name of the campaign (or transactional message, messages/) to render.", required: true }),
  };

  static override flags = {
    variant: Flags.string({ summary: "A/B variant to render (default: the first)." }),
    data: Flags.file({ summary: "JSON file with the subscriber: email, firstName, country, timezone, attributes… (for a message: its data).", exists: false }),
    out: Flags.file({ summary: "Write the HTML to this file instead of standard output." }),
    text: Flags.boolean({ summary: "Print the plain-text part instead of the HTML." }),
    locale: Flags.string({ summary: "Render in this locale of mk.yaml's locales.supported (default: the subscriber's, through the fallback chain)." }),
    json: jsonFlag("{ campaign, variant, locale, subject, html, text }", { exclusive: ["out", "text"] }),
  };

  async run(): Promise<void> {
    // 1. Render the campaign for the subscriber.
    const { args, flags } = await this.parse(Render);
    const rendered = await renderCampaign({ dir: flags.dir, campaign: args.campaign, variant: flags.variant, dataFile: flags.data, locale: flags.locale });

    // 2. Write or print what was asked for.
    if (flags.json) {
      const { campaign, variant, locale, subject, html, text } = rendered;
      this.printJson({ campaign, variant, ...(locale === null ? {} : { locale }), subject, html, text });
      return;
    }
    if (flags.out) {
      await writeFile(flags.out, flags.text ? rendered.text : rendered.html);
      this.logToStderr(`Wrote ${flags.out} — subject: ${rendered.subject}`);
      return;
    }
    process.stdout.write(flags.text ? `${rendered.text}\n` : rendered.html);
  }
}
