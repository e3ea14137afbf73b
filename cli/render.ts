import { readFile } from "node:fs/promises";
import { compileMessage, type PersonalisedMessage } from "../runtime/templates/personalise.js";
import { subscriber as subscriberSchema, type Subscriber } from "../schemas/index.js";
import { MkError } from "./errors.js";
import { countBySeverity } from "./problems.js";
import { suggest } from "./project/zod-problems.js";
import type { MessageSpec } from "./project/messages.js";
import type { Repository } from "./project/reader.js";
import { validateRepository, type Validation } from "./validation.js";

export interface RenderOptions {
  dir: string;
  campaign: string;
  /** Variant name; default: the campaign's first variant. */
  variant?: string | undefined;
  /** JSON file with the subscriber to personalise for; default: a sample subscriber. */
  dataFile?: string | undefined;
  now?: Date;
}

export interface RenderedCampaign extends PersonalisedMessage {
  campaign: string;
  variant: string | null;
  subscriber: Subscriber;
}

/** Where links point in a preview: the reserved .invalid domain, so nothing real is hit. */
const PREVIEW_BASE = "https://preview.mk.invalid";

/**
 * `mk render`: one campaign (one variant) compiled and personalised for a
 * sample or given subscriber, exactly as the runtime will personalise it.
 */
export async function renderCampaign(options: RenderOptions): Promise<RenderedCampaign> {
  // 1. Validate first: rendering a repository with errors would show a lie.
  const validation = await validRepository(options);
  const { repo } = validation;

  // 2. Find the campaign and the variant's message.
  const names = repo.campaigns.map((c) => c.name);
  const campaign = repo.campaigns.find((c) => c.name === options.campaign);
  if (!campaign) {
    const hint = suggest(options.campaign, names);
    throw new MkError("MK060", `no campaign "${options.campaign}"${hint ? `; did you mean "${hint}"?` : `; campaigns are ${names.join(", ") || "(none)"}`}`);
  }
  const messages = validation.messages.filter((m) => m.resource === campaign);
  const variants = messages.map((m) => m.variant).filter((v): v is string => v !== null);
  const message = options.variant === undefined ? messages[0] : messages.find((m) => m.variant === options.variant);
  if (!message || (options.variant !== undefined && variants.length === 0)) {
    throw new MkError(
      "MK060",
      variants.length === 0
        ? `campaign "${campaign.name}" has no variants; leave out --variant`
        : `campaign "${campaign.name}" has no variant "${options.variant}"; variants are ${variants.join(", ")}`,
    );
  }

  // 3. Personalise for the subscriber.
  const subscriber = options.dataFile ? await readSubscriber(options.dataFile) : sampleSubscriber(repo.project.spec.defaults);
  return { ...personalise(validation, message, subscriber), campaign: campaign.name, variant: message.variant, subscriber };
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
export function personalise(validation: ValidRepository, message: MessageSpec, subscriber: Subscriber): PersonalisedMessage {
  const { repo } = validation;
  const project = repo.project.spec;
  const compiled = validation.templates.get(message.template);
  if (compiled?.html === undefined) throw new MkError("MK062", `template ${message.template} did not compile; run mk validate`);
  const render = compileMessage({ subject: message.subject, html: compiled.html, preheader: message.preheader });
  return render({
    subscriber,
    campaign: { name: message.resource.name, subject: message.subject, data: message.data },
    variant: message.variant,
    project: { name: project.name ?? repo.root, postalAddress: project.defaults.postalAddress, locale: project.defaults.locale, timezone: project.defaults.timezone },
    unsubscribeUrl: `${PREVIEW_BASE}/u/preview`,
    preferencesUrl: `${PREVIEW_BASE}/p/preview`,
    viewInBrowserUrl: `${PREVIEW_BASE}/v/preview`,
  });
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
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new MkError("MK061", `${file}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? "error"})`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new MkError("MK061", `${file}: not valid JSON (${(error as Error).message})`);
  }
  const result = subscriberSchema.safeParse(data);
  if (!result.success) {
    const details = result.error.issues.map((i) => `${i.path.join(".") || "(top level)"}: ${i.message}`).join("; ");
    throw new MkError("MK061", `${file}: not a subscriber: ${details}`);
  }
  return result.data;
}
