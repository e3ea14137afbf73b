import path from "node:path";
import { runner } from "node-pg-migrate";
import type pg from "pg";
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

/** The names of the migrations this database has run, oldest first. */
export async function appliedMigrations(client: pg.ClientBase): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>("select name from mk_migrations order by run_on, id");
  return rows.map((r) => r.name);
}
