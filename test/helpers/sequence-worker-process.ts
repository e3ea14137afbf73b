/**
 * A runtime's sequence and send workers alone, in their own process, for the
 * sequence crash test: SIGKILLed at random moments and started again. Its
 * clock is the test's FileClock in MK_TEST_CLOCK_FILE.
 */
import pg from "pg";
import { Registry } from "prom-client";
import { loadConfig } from "../../runtime/config.js";
import { createSending } from "../../runtime/sending/service.js";
import { createSequences } from "../../runtime/sequences/service.js";
import { FileClock } from "./clock.js";

const config = loadConfig({ ...process.env, MK_TRANSPORT: "outbox" });
const pool = new pg.Pool({ connectionString: config.DATABASE_URL, max: 8 });
const quiet = { info: () => {}, warn: () => {}, error: (object: object, message: string) => process.stderr.write(`${message} ${JSON.stringify(object)}\n`) };
const registry = new Registry();
const clock = new FileClock(process.env["MK_TEST_CLOCK_FILE"]!).now;
createSending(config, pool, registry, quiet).start();
createSequences(pool, registry, quiet, clock, config.MK_WORKERS).start();
process.stdout.write("ready\n");
