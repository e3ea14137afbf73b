/**
 * A runtime's sequence and send workers alone, in their own process, for the
 * sequence crash test: SIGKILLed at random moments and started again. Its
 * clock runs MK_TEST_CLOCK_SPEED times faster than real time from
 * MK_TEST_CLOCK_ORIGIN, the same clock as the test's runtime.
 */
import pg from "pg";
import { Registry } from "prom-client";
import { loadConfig } from "../../runtime/config.js";
import { createSending } from "../../runtime/sending/service.js";
import { createSequences } from "../../runtime/sequences/service.js";
import { fastClock } from "./clock.js";

const config = loadConfig({ ...process.env, MK_TRANSPORT: "outbox" });
const pool = new pg.Pool({ connectionString: config.DATABASE_URL, max: 8 });
const quiet = { info: () => {}, warn: () => {}, error: (object: object, message: string) => process.stderr.write(`${message} ${JSON.stringify(object)}\n`) };
const registry = new Registry();
const clock = fastClock(Number(process.env["MK_TEST_CLOCK_ORIGIN"]), Number(process.env["MK_TEST_CLOCK_SPEED"]));
createSending(config, pool, registry, quiet).start();
createSequences(pool, registry, quiet, clock, config.MK_WORKERS).start();
process.stdout.write("ready\n");
