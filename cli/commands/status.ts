import { BaseCommand } from "../base-command.js";
import { connect } from "../connect.js";
import { envFlag, jsonFlag } from "../flags.js";

export default class Status extends BaseCommand {
  static override summary = "Show the runtime's health, state serial and last apply.";

  static override description = `Exit codes:
  0  the runtime is healthy
  1  it cannot be reached, refuses the token, or is unhealthy`;

  static override examples = ["<%= config.bin %> status", "<%= config.bin %> status --env prod --json"];

  static override flags = {
    env: envFlag,
    json: jsonFlag("{ env, url, status, serial, lastApply }"),
  };

  async run(): Promise<void> {
    // 1. Ask the runtime.
    const { flags } = await this.parse(Status);
    const client = await connect(flags.dir, flags.env);
    const [health, applies] = await Promise.all([client.health(), client.applies(1)]);
    const last = applies[0] ?? null;

    // 2. Print it.
    if (flags.json) {
      this.printJson({ env: client.target.env, url: client.target.url, status: health.status, serial: health.serial, lastApply: last });
      return;
    }
    this.log(`Environment  ${client.target.env} (${client.target.url})`);
    this.log(`Health       ${health.status}`);
    this.log(`Serial       ${health.serial}`);
    this.log(
      last
        ? `Last apply   serial ${last.serial} at ${last.appliedAt} by ${last.author ?? "unknown"} from ${last.branch ?? "?"}@${last.commit?.slice(0, 7) ?? "?"}${last.dirty ? " (dirty)" : ""}`
        : "Last apply   none yet",
    );
  }
}
