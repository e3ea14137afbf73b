import { withDocumentLocale } from "../runtime/locales/document.js";
import { compileMessage, translatorFor, type PersonalisedMessage } from "../runtime/templates/personalise.js";
import { subscriber as subscriberSchema, type Subscriber } from "../schemas/index.js";
import { MkError } from "./errors.js";
import { findMessage, renderMessage } from "./message-render.js";
import { countBySeverity } from "./problems.js";
import { readJsonFile } from "./read-json-file.js";
import { suggest } from "./project/zod-problems.js";
import type { MessageSpec } from "./project/messages.js";
import type { Repository, Resource } from "./project/reader.js";
import { localizedMessage, readerLocale, repositoryCatalogs, type ReaderLocale } from "./reader-locale.js";
import { validateRepository, type Validation } from "./validation.js";

export interface RenderOptions {
  dir: string;
  campaign: string;
  /** Variant name; default: the campaign's first variant. */
  variant?: string | undefined;
  /** JSON file with the subscriber to personalise for; default: a sample subscriber. */
  dataFile?: string | undefined;
  /** The locale to render in (one of mk.yaml's locales.supported); default: the subscriber's, through the fallback chain. */
  locale?: string | undefined;
  now?: Date;
}

export interface RenderedCampaign extends PersonalisedMessage {
  campaign: string;
  variant: string | null;
  /** The locale it was rendered in; null for a project without locales:. */
  locale: string | null;
  subscriber: Subscriber;
}

/** Where links point in a preview: the reserved .invalid domain, so nothing real is hit. */
const PREVIEW_BASE = "https://preview.mk.invalid";

/**
 * `mk render`: one campaign (one variant) compiled and personalised for a
 * sample or given subscriber, exactly as the runtime will personalise it:
 * with mk.yaml locales:, in the reader's locale (its override's subject,
 * preheader and template, `{{t}}` from the catalogs, lang and dir).
 */
export async function renderCampaign(options: RenderOptions): Promise<RenderedCampaign> {
  // 1. Validate first: rendering a repository with errors would show a lie.
  const validation = await validRepository(options);
  const { repo } = validation;

  // A transactional message (messages/) renders for a request's data: --data holds that data.
  const transactional = findMessage(validation, options.campaign, { variant: options.variant });
  if (transactional) {
    const { message, ...rendered } = await renderMessage(validation, transactional, { dataFile: options.dataFile, locale: options.locale });
    return { ...rendered, campaign: message, variant: null };
  }

  // 2. Find the campaign and the variant's message.
  const { campaign, messages } = campaignMessages(validation, options.campaign, { variant: options.variant });
  const message = messages[0]!;

  // 3. The subscriber, and the locale to render in: --locale, else the subscriber's through the fallback chain.
  const subscriber = options.dataFile ? await readSubscriber(options.dataFile) : sampleSubscriber(repo.project.spec.defaults);
  const locale = readerLocale(repo.project.spec, options.locale, subscriber.locale);

  // 4. Personalise that locale's message for the subscriber.
  const rendered = personalise(validation, locale ? localizedMessage(validation.messages, message, locale.locale) : message, subscriber, locale);
  return { ...rendered, campaign: campaign.name, variant: message.variant, locale: locale?.locale ?? null, subscriber };
}

/**
 * A campaign of the repository and its messages every locale gets: the
 * variant asked for, each variant (`allVariants`), or the first; MK060
 * naming what there is when the campaign or variant does not exist.
 */
export function campaignMessages(
  validation: ValidRepository,
  name: string,
  options: { variant?: string | undefined; allVariants?: boolean | undefined },
): { campaign: Resource<"Campaign">; messages: MessageSpec[] } {
  const { repo } = validation;
  const names = repo.campaigns.map((c) => c.name);
  const campaign = repo.campaigns.find((c) => c.name === name);
  if (!campaign) {
    const hint = suggest(name, names);
    throw new MkError("MK060", `no campaign "${name}"${hint ? `; did you mean "${hint}"?` : `; campaigns are ${names.join(", ") || "(none)"}`}`);
  }
  const messages = validation.messages.filter((m) => m.resource === campaign && m.locale === null);
  const variants = messages.map((m) => m.variant).filter((v): v is string => v !== null);
  const flags = options.allVariants ? "--variant and --all-variants" : "--variant";
  if ((options.variant !== undefined || options.allVariants) && variants.length === 0) throw new MkError("MK060", `campaign "${campaign.name}" has no variants; leave out ${flags}`);
  if (options.allVariants) return { campaign, messages };
  const message = options.variant === undefined ? messages[0] : messages.find((m) => m.variant === options.variant);
  if (!message) throw new MkError("MK060", `campaign "${campaign.name}" has no variant "${options.variant}"; variants are ${variants.join(", ")}`);
  return { campaign, messages: [message] };
}

/** A validation without errors: its repository has a project. */
export type ValidRepository = Validation & { repo: Repository & { project: NonNullable<Repository["project"]> } };

/** The repository validated, or MK062 when it has errors. */
export async function validRepository(options: { dir: string; now?: Date | undefined }): Promise<ValidRepository> {
  const validation = await validateRepository({ dir: options.dir, ...(options.now ? { now: options.now } : {}) });
  const { errors } = countBySeverity(validation.problems);
  if (errors > 0 || !validation.repo?.project) {
    throw new MkError("MK062", `the repository has ${errors} ${errors === 1 ? "error" : "errors"}; run mk validate and fix them first`);
  }
  return validation as ValidRepository;
}

/**
 * One message of a valid repository compiled and personalised for a
 * subscriber, exactly as the runtime personalises it, its links to
 * unsubscribe, the preference page and the browser view pointing at
 * preview.mk.invalid and its other links as written (no UTM, no tracking).
 */
export function personalise(validation: ValidRepository, message: MessageSpec, subscriber: Subscriber, reader?: ReaderLocale): PersonalisedMessage {
  const { repo } = validation;
  const project = repo.project.spec;
  const compiled = validation.templates.get(message.template);
  if (compiled?.html === undefined) throw new MkError("MK062", `template ${message.template} did not compile; run mk validate`);
  const render = compileMessage({ subject: message.subject, html: compiled.html, preheader: message.preheader });
  const rendered = render({
    subscriber,
    campaign: { name: message.resource.name, subject: message.subject, data: message.data },
    variant: message.variant,
    project: { name: project.name ?? repo.root, postalAddress: project.defaults.postalAddress, locale: project.defaults.locale, timezone: project.defaults.timezone },
    unsubscribeUrl: `${PREVIEW_BASE}/u/preview`,
    preferencesUrl: `${PREVIEW_BASE}/p/preview`,
    viewInBrowserUrl: `${PREVIEW_BASE}/v/preview`,
    ...(reader ? { locale: reader.locale, dir: reader.dir, i18n: translatorFor(repositoryCatalogs(repo), reader.chain) } : {}),
  });
  return reader ? { ...rendered, html: withDocumentLocale(rendered.html, reader.locale) } : rendered;
}

export function sampleSubscriber(defaults: { locale: string; timezone: string }): Subscriber {
  return {
    email: "alex.rivera@example.com",
    firstName: "Alex",
    lastName: "Rivera",
    country: "TH",
    timezone: defaults.timezone,
    locale: defaults.locale,
    tags: ["remote-worker"],
    consent: "marketing",
    attributes: { plan: "pro" },
  };
}

export async function readSubscriber(file: string): Promise<Subscriber> {
  const data = await readJsonFile(file, "MK061");
  const result = subscriberSchema.safeParse(data);
  if (!result.success) {
    const details = result.error.issues.map((i) => `${i.path.join(".") || "(top level)"}: ${i.message}`).join("; ");
    throw new MkError("MK061", `${file}: not a subscriber: ${details}`);
  }
  return result.data;
}
