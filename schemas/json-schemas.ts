import { z } from "zod";
import { KINDS } from "./index.js";

/** JSON Schema documents for editors, keyed by file name under schemas/json/. */
export function jsonSchemas(): Record<string, object> {
  const out: Record<string, object> = {};
  for (const [kind, schema] of Object.entries(KINDS)) {
    const file = `${kind.toLowerCase()}.schema.json`;
    out[file] = {
      ...z.toJSONSchema(schema, { io: "input", unrepresentable: "any", target: "draft-7" }),
      title: `mk/v1 ${kind}`,
    };
  }
  return out;
}
