import { withDocumentLocale } from "../runtime/locales/document.js";
import { compileMessage, translatorFor, type PersonalisedMessage } from "../runtime/templates/personalise.js";
import { dataProblems, type MessageDataSchema } from "../schemas/message.js";
import type { Subscriber } from "../schemas/index.js";
import { MkError } from "./errors.js";
import { readJsonFile } from "./read-json-file.js";
import type { MessageSpec } from "./project/messages.js";
import type { Resource } from "./project/reader.js";
import { suggest } from "./project/zod-problems.js";
import { readerLocale, repositoryCatalogs } from "./reader-locale.js";
import type { ValidRepository } from "./render.js";

/** A transactional message (messages/) rendered as the runtime sends it for one request's data. */
export interface RenderedMessage extends PersonalisedMessage {
  message: string;
  locale: string | null;
  data: Record<string, unknown>;
  /** Its sender, as the runtime's snapshot of it has it. */
  from: string;
  replyTo: string | undefined;
  subscriber: Subscriber;
}

/**
 * The transactional message `name` of the repository, or undefined when
 * `name` is a campaign's (campaigns win: `mk render` and `mk send test` have
 * always named campaigns) or nothing's. MK135 when a campaign-only flag is
 * given for a message, or `name` is neither but close to a message's name.
 */
export function findMessage(validation: ValidRepository, name: string, flags: { variant?: string | undefined; allVariants?: boolean | undefined }): Resource<"Message"> | undefined {
  const { repo } = validation;
  if (repo.campaigns.some((c) => c.name === name)) return undefined;
  const message = repo.messages.find((m) => m.name === name);
  if (message && (flags.variant !== undefined || flags.allVariants)) throw new MkError("MK135", `message "${name}" has no variants; leave out --variant and --all-variants`);
  if (message || name.includes("/")) return message;
  const hint = suggest(name, repo.messages.map((m) => m.name));
  if (hint && !suggest(name, repo.campaigns.map((c) => c.name))) throw new MkError("MK135", `no campaign or message "${name}"; did you mean message "${hint}"?`);
  return undefined;
}

/**
 * One message personalised for `data` (a --data file holding the request's
 * data object, else sample values of its fields) and `subscriber` (the
 * recipient's fields when the address is a subscriber's), in the reader's
 * locale with mk.yaml locales:. MK136 when the data does not fit its schema.
 */
export async function renderMessage(
  validation: ValidRepository,
  resource: Resource<"Message">,
  options: { dataFile?: string | undefined; locale?: string | undefined; subscriber?: Subscriber | undefined },
): Promise<RenderedMessage> {
  const { repo } = validation;
  const project = repo.project.spec;
  const spec = validation.messages.find((m) => m.resource === resource) as MessageSpec;
  const data = options.dataFile === undefined ? sampleData(resource.spec.data) : await readData(options.dataFile, resource.spec.data);
  const subscriber: Subscriber = options.subscriber ?? { email: "alex.rivera@example.com", tags: [], attributes: {} };
  const reader = readerLocale(project, options.locale, subscriber.locale);
  const compiled = validation.templates.get(spec.template);
  if (compiled?.html === undefined) throw new MkError("MK062", `template ${spec.template} did not compile; run mk validate`);
  const render = compileMessage({ subject: spec.subject, html: compiled.html, preheader: spec.preheader });
  const rendered = render({
    subscriber,
    data,
    message: { name: resource.name, subject: spec.subject },
    campaign: { name: resource.name, subject: spec.subject, data: {} },
    variant: null,
    project: { name: project.name ?? repo.root, postalAddress: project.defaults.postalAddress, locale: project.defaults.locale, timezone: project.defaults.timezone },
    unsubscribeUrl: "",
    preferencesUrl: "",
    viewInBrowserUrl: "",
    ...(reader ? { locale: reader.locale, dir: reader.dir, i18n: translatorFor(repositoryCatalogs(repo), reader.chain) } : {}),
  });
  return {
    ...(reader ? { ...rendered, html: withDocumentLocale(rendered.html, reader.locale) } : rendered),
    message: resource.name,
    locale: reader?.locale ?? null,
    data,
    from: resource.spec.from ?? project.defaults.from,
    replyTo: resource.spec.replyTo ?? project.defaults.replyTo,
    subscriber,
  };
}

/** A value of each field's type, named for the field, so a preview shows where each goes. */
function sampleData(schema: MessageDataSchema): Record<string, unknown> {
  const sample = { string: (name: string) => `<${name}>`, number: () => 42, boolean: () => true, object: () => ({}), array: () => [] };
  return Object.fromEntries(Object.entries(schema).map(([name, field]) => [name, sample[field.type](name)]));
}

async function readData(file: string, schema: MessageDataSchema): Promise<Record<string, unknown>> {
  const data = await readJsonFile(file, "MK136");
  if (data === null || typeof data !== "object" || Array.isArray(data)) throw new MkError("MK136", `${file}: not the message's data: write a JSON object of its fields, as POST /v1/messages takes in data`);
  const problems = dataProblems(schema, data as Record<string, unknown>);
  if (problems.length > 0) throw new MkError("MK136", `${file}: ${problems.map((p) => p.message).join("; ")}`);
  return data as Record<string, unknown>;
}
