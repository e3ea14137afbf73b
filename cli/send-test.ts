import { firstNotAllowed, PROOF_SUBJECT_PREFIX } from "../runtime/sending/test-recipients.js";
import type { Subscriber } from "../schemas/index.js";
import type { TestSendRequest, TestSendResponse } from "../schemas/test-send.js";
import { MkError } from "./errors.js";
import { findMessage, renderMessage } from "./message-render.js";
import type { MessageSpec } from "./project/messages.js";
import { suggest } from "./project/zod-problems.js";
import { localizedMessage, readerLocale } from "./reader-locale.js";
import { campaignMessages, personalise, readSubscriber, sampleSubscriber, validRepository, type ValidRepository } from "./render.js";
import type { RuntimeClient } from "./runtime-client.js";

export interface ProofOptions {
  dir: string;
  /** A campaign's name, or `<sequence>/<step name or 1-based index>`. */
  target: string;
  to: readonly string[];
  /** Personalise for this subscriber of the runtime (else --data, else the sample subscriber). */
  as?: string | undefined;
  dataFile?: string | undefined;
  variant?: string | undefined;
  allVariants?: boolean | undefined;
  /** The locale to render in, as mk render --locale; default: the subscriber's through the fallback chain. */
  locale?: string | undefined;
  now?: Date | undefined;
}

export interface SentProof {
  campaign: string;
  variant: string | null;
  /** As the recipients get it, "[Test] " first. */
  subject: string;
  sent: TestSendResponse["sent"];
}

/**
 * `mk send test`: the working copy's message (each variant's with
 * allVariants) rendered as `mk render` renders it and sent as proofs through
 * the runtime. Nothing reaches the runtime before the repository validated
 * and every recipient is in mk.yaml's testRecipients; the runtime checks its
 * applied list again.
 */
export async function sendProofs(options: ProofOptions, connect: () => Promise<Pick<RuntimeClient, "subscriber" | "sendTest">>): Promise<SentProof[]> {
  // 1. Validate, and refuse recipients the working copy's allowlist does not name.
  const validation = await validRepository(options);
  const project = validation.repo.project.spec;
  const refused = firstNotAllowed(project.testRecipients ?? [], options.to);
  if (refused !== undefined) {
    throw new MkError("MK117", `${refused} is not in testRecipients of mk.yaml; add it (or its @domain) there and apply before sending it proofs`);
  }

  // A transactional message (messages/): one proof for --data (the request's data), personalised for --as when given.
  const transactional = findMessage(validation, options.target, options);
  if (transactional) {
    const client = await connect();
    const subscriber = options.as !== undefined ? await runtimeSubscriber(client, options.as) : undefined;
    const rendered = await renderMessage(validation, transactional, { dataFile: options.dataFile, locale: options.locale, subscriber });
    const body: TestSendRequest = { campaign: transactional.name, variant: null, to: [...options.to], from: rendered.from, ...(rendered.replyTo ? { replyTo: rendered.replyTo } : {}), subject: rendered.subject, html: rendered.html, text: rendered.text };
    const { sent } = await client.sendTest(body);
    return [{ campaign: transactional.name, variant: null, subject: `${PROOF_SUBJECT_PREFIX}${rendered.subject}`, sent }];
  }

  // 2. The messages: the campaign's (one variant, or each) or the sequence step's; a --locale the project does not support is MK131.
  const messages = proofMessages(validation, options);
  if (options.locale !== undefined) readerLocale(project, options.locale, undefined);

  // 3. The subscriber to personalise for, and the locale: --locale, else theirs through the fallback chain.
  const client = await connect();
  const subscriber = options.as !== undefined ? await runtimeSubscriber(client, options.as) : options.dataFile ? await readSubscriber(options.dataFile) : sampleSubscriber(project.defaults);
  const reader = readerLocale(project, options.locale, subscriber.locale);

  // 4. One request per message (in that locale), each to every recipient.
  const proofs: SentProof[] = [];
  for (const { message: base, label, sender } of messages) {
    const message = reader ? localizedMessage(validation.messages, base, reader.locale) : base;
    const rendered = personalise(validation, message, subscriber, reader);
    // Who it is from, as the runtime's snapshot of the campaign or step says.
    const from = sender.from ?? project.defaults.from;
    const replyTo = sender.replyTo ?? project.defaults.replyTo;
    const body: TestSendRequest = { campaign: label, variant: message.variant, to: [...options.to], from, ...(replyTo ? { replyTo } : {}), subject: rendered.subject, html: rendered.html, text: rendered.text };
    const { sent } = await client.sendTest(body);
    proofs.push({ campaign: label, variant: message.variant, subject: `${PROOF_SUBJECT_PREFIX}${rendered.subject}`, sent });
  }
  return proofs;
}

interface ProofMessage {
  message: MessageSpec;
  /** The campaign, or "sequence/step" as the command line named it. */
  label: string;
  sender: { from?: string | undefined; replyTo?: string | undefined };
}

function proofMessages(validation: ValidRepository, options: ProofOptions): ProofMessage[] {
  const { repo } = validation;
  const slash = options.target.indexOf("/");
  if (slash >= 0) {
    if (options.variant !== undefined || options.allVariants) throw new MkError("MK060", "sequence steps have no variants; leave out --variant and --all-variants");
    const [name, step] = [options.target.slice(0, slash), options.target.slice(slash + 1)];
    const sequence = repo.sequences.find((s) => s.name === name);
    if (!sequence) throw new MkError("MK060", `no sequence "${name}"${hint(name, repo.sequences.map((s) => s.name))}`);
    const steps = sequence.spec.steps;
    const index = /^[1-9][0-9]*$/.test(step) ? Number(step) - 1 : steps.findIndex((s) => s.name === step);
    const message = validation.messages.find((m) => m.resource === sequence && m.locale === null && m.templateAt[1] === index);
    const sendStep = steps[index];
    if (!message || !sendStep || !("send" in sendStep)) {
      const sends = steps.flatMap((s, i) => ("send" in s ? [s.name ?? String(i + 1)] : []));
      throw new MkError("MK060", `sequence "${name}" has no send step "${step}"; its send steps are ${sends.join(", ")} (a name, or a 1-based index)`);
    }
    return [{ message, label: `${name}/${sendStep.name ?? index + 1}`, sender: { from: sendStep.send.from } }];
  }
  const { campaign, messages } = campaignMessages(validation, options.target, options);
  const sender = { from: campaign.spec.from, replyTo: campaign.spec.replyTo };
  return messages.map((message) => ({ message, label: campaign.name, sender }));
}

function hint(name: string, names: readonly string[]): string {
  const close = suggest(name, names);
  return close ? `; did you mean "${close}"?` : `; there are ${names.join(", ") || "none"}`;
}

/** A subscriber of the runtime as templates see one (MK109 when the runtime has no such address). */
async function runtimeSubscriber(client: Pick<RuntimeClient, "subscriber">, email: string): Promise<Subscriber> {
  const s = await client.subscriber(email);
  return {
    email: s.email,
    ...(s.firstName === null ? {} : { firstName: s.firstName }),
    ...(s.lastName === null ? {} : { lastName: s.lastName }),
    ...(s.country === null ? {} : { country: s.country }),
    ...(s.timezone === null ? {} : { timezone: s.timezone }),
    ...(s.locale === null ? {} : { locale: s.locale }),
    tags: s.tags,
    ...(s.consent === null ? {} : { consent: s.consent }),
    attributes: s.attributes as Subscriber["attributes"],
  };
}
