/**
 * A runtime's send workers alone, in their own process, for the crash test:
 * it is SIGKILLed at random moments and started again.
 */
import pg from "pg";
import { Registry } from "prom-client";
import { loadConfig } from "../../runtime/config.js";
import { createSending } from "../../runtime/sending/service.js";

const config = loadConfig({ ...process.env, MK_TRANSPORT: "outbox" });
const pool = new pg.Pool({ connectionString: config.DATABASE_URL, max: 8 });
const quiet = { info: () => {}, warn: () => {}, error: (object: object, message: string) => process.stderr.write(`${message} ${JSON.stringify(object)}\n`) };
const sending = createSending(config, pool, new Registry(), quiet);
sending.start();
process.stdout.write("ready\n");
