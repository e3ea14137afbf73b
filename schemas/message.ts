import { z } from "zod";
import { apiVersion, emailAddress, jsonValue, locale, mailbox, resourceName, templatePath } from "./common.js";

/** The types a message's data field may have (JSON's, without null). */
export const MESSAGE_DATA_TYPES = ["string", "number", "boolean", "object", "array"] as const;

/** A data field's name: what `{{data.<name>}}` reads, so a plain identifier. */
const DATA_FIELD_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
/** The most data fields one message declares. */
const MAX_DATA_FIELDS = 100;

const dataField = z.strictObject({
  type: z.enum(MESSAGE_DATA_TYPES, { error: `must be one of ${MESSAGE_DATA_TYPES.join(", ")}` }),
  required: z.boolean().default(true).meta({ description: "Whether every request must give it (default true)." }),
  description: z.string().max(500).optional(),
});

/** `data:` of a Message: each field the request's data may (or must) have, by name. */
export const messageDataSchema = z
  .record(z.string(), dataField)
  .superRefine((fields, ctx) => {
    const names = Object.keys(fields);
    for (const name of names) {
      if (!DATA_FIELD_PATTERN.test(name)) {
        ctx.addIssue({ code: "custom", path: [name], message: `"${name}" is not a data field name: letters, digits and _ (at most 64), not starting with a digit`, params: { code: "MK132" } });
      }
    }
    if (names.length > MAX_DATA_FIELDS) ctx.addIssue({ code: "custom", message: `declares ${names.length} data fields; at most ${MAX_DATA_FIELDS}`, params: { code: "MK132" } });
  })
  .meta({ description: "The data each request gives: { <field>: { type: string|number|boolean|object|array, required?: true } }." });
export type MessageDataSchema = z.infer<typeof messageDataSchema>;

/** messages/<name>.yaml: one transactional message (a receipt, a password reset), sent by POST /v1/messages/<name>. */
export const message = z.strictObject({
  apiVersion,
  kind: z.literal("Message"),
  name: resourceName.optional(),
  template: templatePath,
  subject: z.string().min(1),
  from: mailbox.optional(),
  replyTo: emailAddress.optional(),
  preheader: z.string().optional(),
  data: messageDataSchema.default({}),
  configurationSet: z.string().min(1).optional().meta({ description: "SES configuration set of this message (default sending.transactional.configurationSet, then sending.configurationSet)." }),
  tracking: z
    .strictObject({
      clicks: z.boolean().default(false).meta({ description: "Track clicks on its links (default false)." }),
      opens: z.boolean().default(false).meta({ description: "Carry an open pixel (default false): a transactional message has one only when it says so." }),
    })
    .optional(),
});
export type Message = z.infer<typeof message>;
/** A message as the runtime stores it (the file without apiVersion, kind, name). */
export type MessageSpec = Omit<Message, "apiVersion" | "kind" | "name">;

/** The longest Idempotency-Key header: a UUID fits many times over. */
export const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9._:-]{1,200}$/;

/** The data of one request, at most 64 KiB as JSON (the route's body limit). */
const requestData = z.record(z.string(), jsonValue);

/** `POST /v1/messages/:name`: to an address (`to`), or to a subscriber by address (`subscriber`), with the message's data. */
export const messageSendRequest = z.union(
  [
    z.strictObject({ to: emailAddress, data: requestData.default({}), locale: locale.optional() }),
    z.strictObject({ subscriber: emailAddress, data: requestData.default({}), locale: locale.optional() }),
  ],
  { error: "give to: <address>, or subscriber: <a subscriber's address>, with data:" },
);
export type MessageSendRequest = z.infer<typeof messageSendRequest>;

/** The answer to `POST /v1/messages/:name` (202): the ledger row it queued. The same key answers the same again. */
export interface MessageSendResponse {
  id: string;
  message: string;
  status: "queued";
}

/**
 * Why `data` does not fit the message's schema, field by field (`data.orderId
 * is required`, `data.total must be a number`); empty when it fits. Fields the
 * schema does not declare are refused too: a template could not read them.
 */
export function dataProblems(schema: MessageDataSchema, data: Readonly<Record<string, unknown>>): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  for (const [name, field] of Object.entries(schema)) {
    const value = Object.hasOwn(data, name) ? data[name] : undefined;
    if (value === undefined || value === null) {
      if (field.required) problems.push({ path: `data.${name}`, message: `data.${name} is required (${field.type})` });
      continue;
    }
    if (jsonType(value) !== field.type) problems.push({ path: `data.${name}`, message: `data.${name} must be ${article(field.type)} ${field.type}, not ${article(jsonType(value))} ${jsonType(value)}` });
  }
  for (const name of Object.keys(data)) {
    if (!Object.hasOwn(schema, name)) {
      const declared = Object.keys(schema);
      problems.push({ path: `data.${name}`, message: `data.${name} is not a field of this message (${declared.length ? `its fields are ${declared.join(", ")}` : "it declares no data"})` });
    }
  }
  return problems;
}

function jsonType(value: unknown): string {
  if (Array.isArray(value)) return "array";
  return value === null ? "null" : typeof value;
}

function article(word: string): string {
  return /^[aeiou]/.test(word) ? "an" : "a";
}
