import type pg from "pg";
import { storedProject, type Condition, type StoredProject } from "../../schemas/index.js";
import { STATE_SQL } from "./queries.js";

/** The applied Project, defaults filled in; undefined before the first apply. */
export async function appliedProject(db: pg.Pool | pg.PoolClient): Promise<StoredProject | undefined> {
  const spec = (await db.query<{ spec: unknown }>(STATE_SQL.project)).rows[0]?.spec;
  return spec === undefined ? undefined : storedProject.parse(spec);
}

/** Every applied audience's condition by name (undefined = everyone), as ConditionCompiler takes them. */
export async function appliedAudiences(db: pg.Pool | pg.PoolClient): Promise<Map<string, Condition | undefined>> {
  return new Map((await db.query<{ name: string; spec: { where?: Condition } }>(STATE_SQL.audiences)).rows.map((r) => [r.name, r.spec.where]));
}
