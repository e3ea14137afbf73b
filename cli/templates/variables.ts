import { SUBSCRIBER_FIELDS } from "../../schemas/index.js";

/** What a template can read where it is used: the sender's `campaign.data` keys. */
export interface VariableContext {
  /** Who uses the template, for messages: `campaign "spring-sale"`. */
  label: string;
  data: Readonly<Record<string, unknown>>;
  /** A form's confirmation email, which alone has {{confirmUrl}}. */
  confirmation?: boolean | undefined;
}

const SUBSCRIBER = new Set<string>(SUBSCRIBER_FIELDS);
const CAMPAIGN = new Set(["name", "subject", "data"]);
const PROJECT = new Set(["name", "postalAddress"]);
const LEAVES = new Set(["variant", "unsubscribeUrl", "preferencesUrl", "viewInBrowserUrl"]);

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
      return `no variable "${path}"; templates can use subscriber.*, campaign.name, campaign.subject, campaign.data.*, variant, project.name, project.postalAddress, unsubscribeUrl, preferencesUrl, viewInBrowserUrl`;
  }
}
