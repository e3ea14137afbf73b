import { Flags } from "@oclif/core";
import { TOKEN_SCOPES } from "../../../schemas/tokens.js";
import { BaseCommand } from "../../base-command.js";
import { connect } from "../../connect.js";
import { envFlag, jsonFlag } from "../../flags.js";
import { tokenCreateRequestFromFlags } from "../../tokens/create-request.js";
import { shortTime } from "../../tokens/token-table.js";

const NOT_AGAIN = "This is the only time the token is shown: store it now (as a CI secret, say). It will not be shown again.";

export default class TokensCreate extends BaseCommand {
  static override summary = "Create an API token with one scope; it is printed once.";

  static override description = `Scopes: admin (everything), apply (what plan may, and apply, send, reconcile), plan (read the
state and applies, count audiences: what mk plan, mk status and mk history need), ingest (POST /v1/events only),
report (campaign, sequence and tax reports, tax rates and verify). The runtime keeps only the token's SHA-256.
Needs an admin token (MK_API_TOKEN, or one with scope admin).

Exit codes:
  0  created
  1  the name is taken or not valid, --expires is not a duration (MK095), or the runtime refused`;

  static override examples = [
    "<%= config.bin %> tokens create --scope plan --name pr-previews --env prod",
    "<%= config.bin %> tokens create --scope ingest --name website --expires 90d --env prod --json",
  ];

  static override flags = {
    env: envFlag,
    scope: Flags.string({ summary: "What the token may do.", options: [...TOKEN_SCOPES], required: true }),
    name: Flags.string({ summary: "A name for it, to list and revoke it by: 1 to 64 lower-case letters, digits and dashes.", required: true }),
    expires: Flags.string({ summary: 'How long from now it works: "30m", "12h", "90d", "2w"; by default it never expires.' }),
    json: jsonFlag("{ name, scope, createdAt, expiresAt, revokedAt, lastUsedAt, token }"),
  };

  async run(): Promise<void> {
    // 1. Check the flags, then ask the runtime.
    const { flags } = await this.parse(TokensCreate);
    const request = tokenCreateRequestFromFlags(flags);
    const client = await connect(flags.dir, flags.env);
    const created = await client.createToken(request);

    // 2. Print it, once.
    if (flags.json) {
      this.printJson(created);
      this.logToStderr(NOT_AGAIN);
      return;
    }
    const expiry = created.expiresAt === null ? "it never expires" : `it expires ${shortTime(created.expiresAt)} UTC`;
    this.log(`Created token "${created.name}" with scope ${created.scope} on ${client.target.env}; ${expiry}.`);
    this.log(created.token);
    this.log(NOT_AGAIN);
  }
}
