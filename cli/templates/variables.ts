import { SUBSCRIBER_FIELDS } from "../../schemas/index.js";
import type { MessageDataSchema } from "../../schemas/message.js";
import type { ProblemCode } from "../problems.js";

/** What a template can read where it is used: the sender's `campaign.data` keys. */
export interface VariableContext {
  /** Who uses the template, for messages: `campaign "spring-sale"`. */
  label: string;
  data: Readonly<Record<string, unknown>>;
  /** A form's confirmation email, which alone has {{confirmUrl}}. */
  confirmation?: boolean | undefined;
  /** A transactional message's data fields (messages/): it reads data.<field>, never a campaign's variables. */
  dataSchema?: MessageDataSchema | undefined;
}

const SUBSCRIBER = new Set<string>(SUBSCRIBER_FIELDS);
const CAMPAIGN = new Set(["name", "subject", "data"]);
const PROJECT = new Set(["name", "postalAddress"]);
const LEAVES = new Set(["variant", "locale", "dir", "unsubscribeUrl", "preferencesUrl", "viewInBrowserUrl"]);

/** Why `path` is not provided in that context, or undefined when it is. */
export function unknownVariableReason(path: string, context: VariableContext): string | undefined {
  const [head, second, third] = path.split(/[./]/);
  if (head === undefined) return undefined;
  const list = (set: Set<string>, prefix: string) => [...set].map((k) => `${prefix}.${k}`).join(", ");
  switch (head) {
    case "subscriber":
      if (second === undefined || SUBSCRIBER.has(second)) return undefined;
      return `subscriber has no field "${second}"; fields are ${list(SUBSCRIBER, "subscriber")} (custom fields are subscriber.attributes.<name>)`;
    case "campaign":
      if (second === undefined) return undefined;
      if (!CAMPAIGN.has(second)) return `campaign has no field "${second}"; use ${list(CAMPAIGN, "campaign")}`;
      if (second === "data" && third !== undefined && !Object.hasOwn(context.data, third)) {
        const keys = Object.keys(context.data);
        return `campaign.data.${third} is not set by ${context.label}${keys.length ? ` (its data has ${keys.join(", ")})` : " (it has no data:)"}`;
      }
      return undefined;
    case "project":
      if (second === undefined || PROJECT.has(second)) return undefined;
      return `project has no field "${second}"; use ${list(PROJECT, "project")}`;
    default:
      if (LEAVES.has(head) && second === undefined) return undefined;
      if (head === "confirmUrl" && second === undefined) return context.confirmation ? undefined : "confirmUrl is only set in a form's confirmation email (forms: in mk.yaml)";
      return `no variable "${path}"; templates can use subscriber.*, campaign.name, campaign.subject, campaign.data.*, variant, locale, dir, project.name, project.postalAddress, unsubscribeUrl, preferencesUrl, viewInBrowserUrl`;
  }
}

/** What a transactional message's template reads: who it goes to, its data, the message and the project. */
const MESSAGE = new Set(["name", "subject"]);
const MESSAGE_LEAVES = new Set(["locale", "dir"]);
const CAMPAIGN_ONLY = new Set(["campaign", "variant", "unsubscribeUrl", "preferencesUrl", "viewInBrowserUrl", "confirmUrl"]);

/** The problem of a variable in its context: MK045 for campaigns, sequences and forms; MK133 and MK134 in a message. */
export function variableProblem(path: string, context: VariableContext): { code: ProblemCode; reason: string } | undefined {
  const schema = context.dataSchema;
  if (schema === undefined) {
    const reason = unknownVariableReason(path, context);
    return reason === undefined ? undefined : { code: "MK045", reason };
  }
  const [head, second] = path.split(/[./]/);
  if (head === undefined) return undefined;
  if (head === "data") {
    if (second === undefined || Object.hasOwn(schema, second)) return undefined;
    const fields = Object.keys(schema);
    return { code: "MK133", reason: `data.${second} is not declared by ${context.label}${fields.length ? ` (its data: has ${fields.join(", ")})` : " (it has no data:)"}; add it to data: with its type` };
  }
  if (head === "subscriber" || head === "project") {
    const reason = unknownVariableReason(path, context);
    return reason === undefined ? undefined : { code: "MK045", reason };
  }
  if (head === "message" && (second === undefined || MESSAGE.has(second))) return undefined;
  if (MESSAGE_LEAVES.has(head) && second === undefined) return undefined;
  if (CAMPAIGN_ONLY.has(head)) {
    return { code: "MK134", reason: `${context.label} is a transactional message: it has no ${head}${head === "campaign" ? ".*" : ""} (no unsubscribe footer, no variants); use data.*, message.name, message.subject, subscriber.*, project.*` };
  }
  return { code: "MK045", reason: `no variable "${path}"; a message's templates can use data.*, message.name, message.subject, subscriber.*, project.name, project.postalAddress, locale, dir` };
}
