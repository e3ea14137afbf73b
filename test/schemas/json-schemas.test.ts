import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { Ajv } from "ajv";
import { parse } from "yaml";
import { jsonSchemas } from "../../schemas/json-schemas.js";
import { REPO_ROOT } from "../helpers/run-mk.js";

const JSON_DIR = path.join(REPO_ROOT, "schemas", "json");
const EXAMPLE = path.join(REPO_ROOT, "example-campaigns");

function exampleFiles(): string[] {
  const files = ["mk.yaml"];
  for (const folder of ["audiences", "campaigns", "sequences"]) {
    for (const name of readdirSync(path.join(EXAMPLE, folder))) files.push(`${folder}/${name}`);
  }
  return files;
}

describe("JSON Schemas for editors", { timeout: 180_000 }, () => {
  it("are up to date with the zod schemas (run npm run schemas)", () => {
    const generated = jsonSchemas();
    assert.deepEqual(readdirSync(JSON_DIR).sort(), Object.keys(generated).sort());
    for (const [file, schema] of Object.entries(generated)) {
      assert.equal(readFileSync(path.join(JSON_DIR, file), "utf8"), `${JSON.stringify(schema, null, 2)}\n`, `${file} is stale`);
    }
  });

  it("accept every example file, which names its schema on the first line", () => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    for (const file of exampleFiles()) {
      const text = readFileSync(path.join(EXAMPLE, file), "utf8");
      const ref = /^# yaml-language-server: \$schema=(\S+)\n/.exec(text)?.[1];
      assert.ok(ref, `${file} has no yaml-language-server line`);
      const schema = JSON.parse(readFileSync(path.resolve(path.dirname(path.join(EXAMPLE, file)), ref), "utf8")) as object;
      const validate = ajv.compile(schema);
      assert.ok(validate(parse(text)), `${file}: ${ajv.errorsText(validate.errors)}`);
    }
  });

  it("reject an unknown key, as mk validate does", () => {
    const ajv = new Ajv({ strict: false });
    const schema = JSON.parse(readFileSync(path.join(JSON_DIR, "campaign.schema.json"), "utf8")) as object;
    const validate = ajv.compile(schema);
    assert.equal(validate({ apiVersion: "mk/v1", kind: "Campaign", subject: "s", template: "templates/a.mjml", audience: "a", subjct: "x" }), false);
    assert.equal(validate({ apiVersion: "mk/v1", kind: "Campaign", subject: "s", template: "templates/a.mjml", audience: "a" }), true);
  });
});
