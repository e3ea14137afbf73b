import { Args } from "@oclif/core";
import { BaseCommand } from "../../base-command.js";
import { connect } from "../../connect.js";
import { envFlag, jsonFlag } from "../../flags.js";
import { shortTime } from "../../tokens/token-table.js";

export default class TokensRevoke extends BaseCommand {
  static override summary = "Revoke an API token: every replica refuses it (401) from the next request on.";

  static override description = `A revoked token stays listed, and its name is not given to another token. Revoking it again changes
nothing. Needs an admin token.

Exit codes:
  0  revoked (now, or before)
  1  no token of that name (MK096), or the runtime refused`;

  static override examples = ["<%= config.bin %> tokens revoke pr-previews --env prod"];

  static override args = {
    name: Args.string({ description: "The token's name (mk tokens list).", required: true }),
  };

  static override flags = {
    env: envFlag,
    json: jsonFlag("{ name, scope, createdAt, expiresAt, revokedAt, lastUsedAt, alreadyRevoked }"),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TokensRevoke);
    const client = await connect(flags.dir, flags.env);
    const revoked = await client.revokeToken(args.name);
    if (flags.json) return this.printJson(revoked);
    this.log(
      revoked.alreadyRevoked
        ? `Token "${revoked.name}" was revoked already, at ${shortTime(revoked.revokedAt)} UTC.`
        : `Revoked token "${revoked.name}" (scope ${revoked.scope}) on ${client.target.env}: requests with it are refused from now on.`,
    );
  }
}
