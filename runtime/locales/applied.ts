import type pg from "pg";
import type { Catalogs } from "../../schemas/locales.js";
import type { StoredProject } from "../../schemas/index.js";

const SQL = { catalogs: "select name, spec from resources where kind = 'Catalog' order by name" } as const;

/** The languages of the applied project: the chain's end, the supported list, and every applied catalog by locale. */
export interface AppliedLocales {
  default: string;
  supported: string[];
  catalogs: Catalogs;
}

/** The applied project's locales (a project without `locales:` supports its defaults.locale alone). */
export function localesOf(project: Pick<StoredProject, "defaults" | "locales">): Omit<AppliedLocales, "catalogs"> {
  const fallback = project.locales?.default ?? project.defaults.locale;
  return { default: fallback, supported: project.locales?.supported ?? [fallback] };
}

/** Every applied Catalog resource's messages (spec.messages, dotted keys), by locale. */
export async function appliedCatalogs(db: pg.Pool | pg.PoolClient): Promise<Catalogs> {
  const rows = (await db.query<{ name: string; spec: { messages?: Record<string, string> } }>(SQL.catalogs)).rows;
  return Object.fromEntries(rows.map((r) => [r.name, r.spec.messages ?? {}]));
}
