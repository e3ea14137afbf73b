/**
 * Writes one JSON Schema per file kind into schemas/json/ (`npm run schemas`).
 * Editors read them through the `# yaml-language-server: $schema=…` line.
 * The files are committed; a test fails when they are out of date.
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { jsonSchemas } from "./json-schemas.js";

const outDir = fileURLToPath(new URL("./json/", import.meta.url));
for (const [file, schema] of Object.entries(jsonSchemas())) {
  writeFileSync(outDir + file, `${JSON.stringify(schema, null, 2)}\n`);
  console.log(`wrote schemas/json/${file}`);
}
