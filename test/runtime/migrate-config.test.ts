import { readdirSync } from "node:fs";
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import pg from "pg";
import { ConfigError, loadConfig } from "../../runtime/config.js";
import { appliedMigrations, migrate, MIGRATIONS_DIR } from "../../runtime/db/migrate.js";
import { freshDatabase, stopDatabase } from "../helpers/database.js";

after(stopDatabase, { timeout: 120_000 });

describe("migrations", { timeout: 180_000 }, () => {
  it("run once when several replicas start together (advisory lock), and again is a no-op", async () => {
    const url = await freshDatabase();
    // freshDatabase migrated it already; a database at zero needs a new one without that.
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query("drop schema public cascade; create schema public");
      const runs = await Promise.all([migrate(url), migrate(url), migrate(url)]);
      const all = readdirSync(MIGRATIONS_DIR).map((file) => file.replace(/\.sql$/, "")).sort();
      assert.deepEqual(runs.flat(), all, "exactly one replica ran each migration");
      assert.deepEqual(await appliedMigrations(client), all);
      assert.deepEqual(await migrate(url), []);
      const { rows } = await client.query("select serial from state");
      assert.deepEqual(rows, [{ serial: "0" }]);
    } finally {
      await client.end();
    }
  });

  it("store timestamps as timestamptz everywhere", async () => {
    const client = new pg.Client({ connectionString: await freshDatabase() });
    await client.connect();
    try {
      const { rows } = await client.query<{ column: string }>(
        `select table_name || '.' || column_name as column from information_schema.columns
         where table_schema = 'public' and table_name <> 'mk_migrations' -- node-pg-migrate's own table
           and data_type like 'timestamp%' and data_type <> 'timestamp with time zone'`,
      );
      assert.deepEqual(rows, []);
    } finally {
      await client.end();
    }
  });
});

describe("runtime configuration", { timeout: 180_000 }, () => {
  const valid = {
    DATABASE_URL: "postgres://mk:secret@db:5432/mk",
    MK_API_TOKEN: "t".repeat(32),
    MK_SIGNING_SECRET: "s".repeat(32),
  };

  it("reads the environment with defaults", () => {
    const config = loadConfig(valid);
    assert.equal(config.PORT, 4400);
    assert.equal(config.HOST, "0.0.0.0");
    assert.equal(config.MK_DB_WAIT, 60);
    assert.equal(loadConfig({ ...valid, MK_DB_WAIT: "0" }).MK_DB_WAIT, 0);
    assert.equal(loadConfig({ ...valid, PORT: "8080", REDIS_URL: "redis://cache:6379" }).PORT, 8080);
    assert.deepEqual(config.MK_SNS_TOPIC_ARNS, [], "unset: the SES webhook refuses every message");
    assert.equal(config.MK_SNS_MAX_AGE, "6h");
    const topics = "arn:aws:sns:eu-west-1:123456789012:ses-events, arn:aws:sns:ap-southeast-2:210987654321:Bounces_2.fifo,";
    assert.deepEqual(loadConfig({ ...valid, MK_SNS_TOPIC_ARNS: topics, MK_SNS_MAX_AGE: "30m" }).MK_SNS_TOPIC_ARNS, ["arn:aws:sns:eu-west-1:123456789012:ses-events", "arn:aws:sns:ap-southeast-2:210987654321:Bounces_2.fifo"]);
  });

  it("names every missing or invalid variable, and never prints a secret", () => {
    try {
      loadConfig({ DATABASE_URL: "mysql://x", MK_API_TOKEN: "short-secret-value", PORT: "99999", REDIS_URL: "cache:6379", MK_DB_WAIT: "1.5", MK_SNS_TOPIC_ARNS: "arn:aws:sns:eu-west-1:123456789012:ok,arn:aws:sqs:eu-west-1:123456789012:queue", MK_SNS_MAX_AGE: "21600" });
      assert.fail("should throw");
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      const lines = error.problems;
      assert.ok(lines.some((l) => /^DATABASE_URL must be a PostgreSQL connection string/.test(l)), lines.join("\n"));
      assert.ok(lines.some((l) => /^MK_API_TOKEN must be at least 32 characters/.test(l)));
      assert.ok(lines.some((l) => /^MK_SIGNING_SECRET is required/.test(l)));
      assert.ok(lines.some((l) => /^PORT must be between 0 and 65535/.test(l)));
      assert.ok(lines.some((l) => /^REDIS_URL must be a Redis URL/.test(l)));
      assert.ok(lines.some((l) => /^MK_DB_WAIT must be a whole number of seconds/.test(l)));
      assert.ok(lines.includes('MK_SNS_TOPIC_ARNS must be SNS topic ARNs separated by commas, such as arn:aws:sns:eu-west-1:123456789012:ses-events; "arn:aws:sqs:eu-west-1:123456789012:queue" is not one'), lines.join("\n"));
      assert.ok(lines.includes('MK_SNS_MAX_AGE must be a duration such as "30m", "12h", "7d" or "2w"'), lines.join("\n"));
      assert.doesNotMatch(error.message, /short-secret-value/);
    }
  });
});
