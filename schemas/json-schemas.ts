import { z } from "zod";
import { event } from "./event.js";
import { KINDS } from "./index.js";

/** JSON Schema documents for editors (and the event API), keyed by file name under schemas/json/. */
export function jsonSchemas(): Record<string, object> {
  const out: Record<string, object> = {};
  for (const [kind, schema] of Object.entries(KINDS)) {
    const file = `${kind.toLowerCase()}.schema.json`;
    out[file] = {
      ...z.toJSONSchema(schema, { io: "input", unrepresentable: "any", target: "draft-7" }),
      title: `mk/v1 ${kind}`,
    };
  }
  // Not a file kind: one event of POST /v1/events, for the people who send them.
  out["event.schema.json"] = { ...z.toJSONSchema(event, { io: "input", unrepresentable: "any", target: "draft-7" }), title: "mk event (POST /v1/events)" };
  return out;
}
