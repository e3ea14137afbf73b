/**
 * Starts embedded PostgreSQL on the folder in argv[2], prints its URL, and
 * waits to be killed: the left-over-server test SIGKILLs it, as the OOM
 * killer would kill mk up.
 */
import { startEmbeddedPostgres } from "../../runtime/db/embedded.js";

const db = await startEmbeddedPostgres(process.argv[2]!);
process.stdout.write(`${db.url}\n`);
setInterval(() => {}, 60_000);
