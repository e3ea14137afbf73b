import { readFile, writeFile } from "node:fs/promises";
import { canonicalJson, sha256 } from "../../runtime/state/canonical.js";
import type { ApplyRequest } from "../../schemas/api.js";
import { MkError } from "../errors.js";
import type { Plan } from "./make-plan.js";

export const PLAN_FORMAT = "mk-plan/1";

/** What `mk plan --out` writes and `mk apply plan.json` reads. */
export interface PlanFile {
  format: typeof PLAN_FORMAT;
  createdAt: string;
  env: string;
  url: string;
  baseSerial: number;
  summary: { add: number; change: number; delete: number };
  request: ApplyRequest;
  /** SHA-256 of everything above, so an edited file is refused. */
  checksum: string;
}

export async function writePlanFile(file: string, plan: Plan, now = new Date()): Promise<void> {
  const count = (action: string) => plan.changes.filter((c) => c.action === action).length;
  const body: Omit<PlanFile, "checksum"> = {
    format: PLAN_FORMAT,
    createdAt: now.toISOString(),
    env: plan.env,
    url: plan.url,
    baseSerial: plan.baseSerial,
    summary: { add: count("create"), change: count("update"), delete: count("delete") },
    request: plan.request,
  };
  await writeFile(file, `${JSON.stringify({ ...body, checksum: sha256(canonicalJson(body)) })}\n`);
}

/** A plan file, checked: readable, this format, unmodified. */
export async function readPlanFile(file: string): Promise<PlanFile> {
  let data: PlanFile;
  try {
    data = JSON.parse(await readFile(file, "utf8")) as PlanFile;
  } catch (error) {
    throw new MkError("MK078", `${file} is not a plan file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); write one with mk plan --out ${file}`);
  }
  if (data?.format !== PLAN_FORMAT) throw new MkError("MK078", `${file} is not an ${PLAN_FORMAT} plan file; write one with mk plan --out`);
  const { checksum, ...body } = data;
  if (checksum !== sha256(canonicalJson(body))) throw new MkError("MK078", `${file} was changed after mk plan wrote it; plan again`);
  return data;
}
