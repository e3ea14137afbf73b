import { readFile } from "node:fs/promises";
import { Flags } from "@oclif/core";
import { emailAddress } from "../../../schemas/common.js";
import { BaseCommand } from "../../base-command.js";
import { connect } from "../../connect.js";
import { MkError } from "../../errors.js";
import { envFlag, jsonFlag } from "../../flags.js";

/** The addresses of a --file list, one a line; blank lines and # comments skipped. MK112 names the first line that is no address. */
async function addressesIn(file: string): Promise<string[]> {
  const text = await readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
    throw new MkError("MK112", `cannot read ${file}: ${error.code ?? error.message}`);
  });
  const addresses: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    if (!emailAddress.safeParse(line).success) throw new MkError("MK112", `${file}:${i + 1}: "${line.slice(0, 100)}" is not an email address`);
    addresses.push(line);
  });
  return addresses;
}

export default class SubscribersErase extends BaseCommand {
  static override summary = "Erase addresses everywhere (right to erasure): subscriber, events, sends, outbox, dead letters.";

  static override description = `Each address in one transaction: the subscriber and everything that names them (events with
their properties and IPs, sends, outbox messages, enrollments, consent history, suppressions, dead letters that name
the address). Campaign rollups and the tax ledger stay as they are: they hold no personal data. A keyed hash of the
address is kept so that a later import of it is refused, until the person signs up again. Erasing an address that
is unknown or erased already changes nothing and says so. Each request is recorded with the token's name.

Exit codes:
  0  done (each address says whether anything was held)
  1  no address, an unreadable --file or a line that is no address (MK112; nothing erased), or the runtime could not be asked`;

  static override examples = ["<%= config.bin %> subscribers erase ana@example.com", "<%= config.bin %> subscribers erase --file requests.txt --env prod --json"];

  static override strict = false;

  static override flags = {
    env: envFlag,
    file: Flags.string({ summary: "A list of addresses, one a line (blank lines and # comments skipped)." }),
    json: jsonFlag("{ results: [{ email, erased }] }, in the order given"),
  };

  async run(): Promise<void> {
    // 1. Every address, checked before any is erased.
    const { argv, flags } = await this.parse(SubscribersErase);
    const given = (argv as string[]).map((a) => a.trim());
    const bad = given.find((a) => !emailAddress.safeParse(a).success);
    if (bad !== undefined) throw new MkError("MK112", `"${bad.slice(0, 100)}" is not an email address`);
    const addresses = [...given, ...(flags.file === undefined ? [] : await addressesIn(flags.file))];
    if (addresses.length === 0) throw new MkError("MK112", "give the addresses to erase, or --file with one a line");

    // 2. One request (one transaction) per address.
    const client = await connect(flags.dir, flags.env);
    const results: { email: string; erased: boolean }[] = [];
    for (const email of addresses) {
      const { erased } = await client.eraseSubscriber(email);
      results.push({ email, erased });
      if (!flags.json) this.log(`${erased ? "erased" : "nothing held about"} ${email}`);
    }

    // 3. Summarise.
    if (flags.json) return this.printJson({ results });
    const erased = results.filter((r) => r.erased).length;
    this.log(`${erased} erased, ${results.length - erased} with nothing held.`);
  }
}
