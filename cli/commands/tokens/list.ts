import { BaseCommand } from "../../base-command.js";
import { connect } from "../../connect.js";
import { envFlag, jsonFlag } from "../../flags.js";
import { tokenTable } from "../../tokens/token-table.js";

export default class TokensList extends BaseCommand {
  static override summary = "List the API tokens (never the tokens themselves): scope, state, created, expires, revoked, last used.";

  static override description = `MK_API_TOKEN, the bootstrap admin, is not listed: it is configuration, not stored. Times are UTC; the
last use is recorded to the minute. Needs an admin token.`;

  static override examples = ["<%= config.bin %> tokens list --env prod", "<%= config.bin %> tokens list --env prod --json"];

  static override flags = {
    env: envFlag,
    json: jsonFlag("the tokens, oldest first (an array of { name, scope, createdAt, expiresAt, revokedAt, lastUsedAt })"),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(TokensList);
    const client = await connect(flags.dir, flags.env);
    const tokens = await client.tokens();
    if (flags.json) return this.printJson(tokens);
    if (tokens.length === 0) return this.log(`No API tokens on ${client.target.env} besides MK_API_TOKEN; mk tokens create makes one.`);
    this.log(tokenTable(tokens, new Date(), { bold: Boolean(process.stdout.isTTY) }));
  }
}
