import path from "node:path";
import { runner } from "node-pg-migrate";
import pg from "pg";
import type { RuntimeConfig } from "../../schemas/runtime-config.js";
import { PACKAGE_ROOT } from "../package-root.js";

export const MIGRATIONS_DIR = path.join(PACKAGE_ROOT, "runtime", "db", "migrations");

/**
 * Bring the database up to the newest migration (plain SQL files in
 * runtime/db/migrations, never edited once landed). node-pg-migrate holds a
 * Postgres advisory lock while it runs; replicas starting together wait for
 * it in turn, and each finds nothing left to do.
 */
export async function migrate(databaseUrl: string, log: (message: string) => void = () => {}): Promise<string[]> {
  const applied = await runner({
    databaseUrl,
    dir: MIGRATIONS_DIR,
    direction: "up",
    migrationsTable: "mk_migrations",
    checkOrder: true,
    advisoryLockMode: "wait",
    log,
  });
  return applied.map((m) => m.name);
}

const SQL = {
  role: "select current_user as role",
  // mk_grant_runtime_role: migration 000012.
  grant: "select mk_grant_runtime_role($1)",
} as const;

/** The runtime's role could act as the owner anyway (the same role, a member of it, a superuser), or the owner does not own every table. */
export class RuntimeRoleRefused extends Error {
  constructor(message: string) {
    super(`MK_MIGRATION_DATABASE_URL: ${message}`);
    this.name = "RuntimeRoleRefused";
  }
}

/**
 * Migrate as the role that owns the tables: MK_MIGRATION_DATABASE_URL's,
 * then give the runtime's own role (DATABASE_URL's) what it uses and no more
 * (mk_grant_runtime_role: it may only read and append to tax_ledger, and,
 * owning nothing, can never disable its triggers). After every migrate, so
 * tables a later migration adds are granted too; running it again changes
 * nothing. Without MK_MIGRATION_DATABASE_URL, DATABASE_URL's role migrates
 * and owns everything, as before.
 */
export async function migrateAs(config: Pick<RuntimeConfig, "DATABASE_URL" | "MK_MIGRATION_DATABASE_URL">, log?: (message: string) => void): Promise<string[]> {
  const ownerUrl = config.MK_MIGRATION_DATABASE_URL;
  if (ownerUrl === undefined) return migrate(config.DATABASE_URL, log);
  const applied = await migrate(ownerUrl, log);
  const role = await withClient(config.DATABASE_URL, async (client) => (await client.query<{ role: string }>(SQL.role)).rows[0]!.role);
  await withClient(ownerUrl, async (client) => {
    await client.query(SQL.grant, [role]).catch((error: unknown) => {
      throw (error as { code?: string }).code === "0LP01" ? new RuntimeRoleRefused((error as Error).message) : error;
    });
  });
  return applied;
}

async function withClient<T>(databaseUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: "mk-runtime" });
  // A connection that breaks also emits "error"; the query's own promise carries it.
  client.on("error", () => {});
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** The names of the migrations this database has run, oldest first. */
export async function appliedMigrations(client: pg.ClientBase): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>("select name from mk_migrations order by run_on, id");
  return rows.map((r) => r.name);
}
