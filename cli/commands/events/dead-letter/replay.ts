import { Flags } from "@oclif/core";
import { BaseCommand } from "../../../base-command.js";
import { connect } from "../../../connect.js";
import { envFlag, jsonFlag } from "../../../flags.js";

export default class DeadLetterReplay extends BaseCommand {
  static override summary = "Ingest rejected events again, after fixing what rejected them (a missing subscriber, say).";

  static override description = `Each is validated anew. Accepted and duplicate ones leave the dead-letter list; the others stay, with their
new reason. Replaying again stores nothing twice.

Exit codes:
  0  every replayed event was accepted or was a duplicate
  1  the runtime cannot be reached or refused
  2  some are still rejected (listed)`;

  static override examples = ["<%= config.bin %> events dead-letter replay", "<%= config.bin %> events dead-letter replay --id 12 --id 13"];

  static override flags = {
    env: envFlag,
    id: Flags.integer({ summary: "Replay only this dead letter (repeatable).", multiple: true, min: 1 }),
    json: jsonFlag("the runtime's answer, { replayed, accepted, duplicates, stillRejected: [{ id, reason }] }"),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(DeadLetterReplay);
    const client = await connect(flags.dir, flags.env);
    const result = await client.replayDeadLetters(flags.id);
    if (flags.json) this.printJson(result);
    else {
      this.log(`Replayed ${result.replayed}: ${result.accepted} accepted, ${result.duplicates} duplicates, ${result.stillRejected.length} still rejected.`);
      for (const s of result.stillRejected) this.log(`  #${s.id}: ${s.reason}`);
    }
    if (result.stillRejected.length > 0) process.exitCode = 2;
  }
}
