import { z } from "zod";
import { consentProof, importedSubscriber, SUBSCRIBER_IMPORT_BATCH_LIMIT, subscriberImportRequest, type ImportedSubscriber } from "./api.js";
import { subscriberAttributes, subscriberTags } from "./subscriber.js";

/**
 * An import batch as `mk subscribers import` sends it: each subscriber one
 * array of cells in this order instead of an object, which is some 40% less
 * JSON for the CSV's rows and far less for the runtime to parse and check.
 * A cell is null where the row leaves the field out (the stored value
 * stays); `consent` is "marketing" (granted), "none" (withdrawn: the CSV's
 * empty cell) or null. The same rules as `subscribers`, field by field.
 */
export const IMPORT_ROW_COLUMNS = [
  "email", "firstName", "lastName", "country", "timezone", "locale", "tags", "consent", "attributes", "line", "consentProof",
] as const;

const field = importedSubscriber.shape;

export const importRow = z.tuple([
  field.email,
  field.firstName.unwrap().nullable(),
  field.lastName.unwrap().nullable(),
  field.country.unwrap().nullable(),
  field.timezone.unwrap().nullable(),
  field.locale.unwrap().nullable(),
  subscriberTags.nullable(),
  z.enum(["marketing", "none"]).nullable(),
  subscriberAttributes.nullable(),
  field.line.unwrap().nullable(),
  consentProof.nullable(),
]);
export type ImportRow = z.infer<typeof importRow>;

/** `POST /v1/subscribers/import` with `rows` instead of `subscribers`: at most as many, the same `file`. */
export const importRowsRequest = z.strictObject({
  rows: z.array(importRow).max(SUBSCRIBER_IMPORT_BATCH_LIMIT),
  file: subscriberImportRequest.shape.file,
});
export type ImportRowsRequest = z.infer<typeof importRowsRequest>;

/** A subscriber of an import as one row of cells. */
export function importRowOf(s: ImportedSubscriber): ImportRow {
  return [
    s.email,
    s.firstName ?? null,
    s.lastName ?? null,
    s.country ?? null,
    s.timezone ?? null,
    s.locale ?? null,
    s.tags ?? null,
    s.consent === undefined ? null : s.consent === null ? "none" : s.consent,
    s.attributes ?? null,
    s.line ?? null,
    s.consentProof ?? null,
  ];
}

/** A row back as the subscriber it stands for: the fields it gives, no others. */
export function subscriberOfRow(row: ImportRow): ImportedSubscriber {
  const [email, firstName, lastName, country, timezone, locale, tags, consent, attributes, line, proof] = row;
  const s: ImportedSubscriber = { email };
  if (line !== null) s.line = line;
  if (firstName !== null) s.firstName = firstName;
  if (lastName !== null) s.lastName = lastName;
  if (country !== null) s.country = country;
  if (timezone !== null) s.timezone = timezone;
  if (locale !== null) s.locale = locale;
  if (tags !== null) s.tags = tags;
  if (consent !== null) s.consent = consent === "none" ? null : consent;
  if (attributes !== null) s.attributes = attributes;
  if (proof !== null) s.consentProof = proof;
  return s;
}
