import { firstNotAllowed, PROOF_SUBJECT_PREFIX } from "../runtime/sending/test-recipients.js";
import type { Subscriber } from "../schemas/index.js";
import type { TestSendRequest, TestSendResponse } from "../schemas/test-send.js";
import { MkError } from "./errors.js";
import type { MessageSpec } from "./project/messages.js";
import { suggest } from "./project/zod-problems.js";
import { personalise, readSubscriber, sampleSubscriber, validRepository, type ValidRepository } from "./render.js";
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

  // 2. The messages: the campaign's (one variant, or each) or the sequence step's.
  const messages = proofMessages(validation, options);

  // 3. The subscriber to personalise for.
  const client = await connect();
  const subscriber = options.as !== undefined ? await runtimeSubscriber(client, options.as) : options.dataFile ? await readSubscriber(options.dataFile) : sampleSubscriber(project.defaults);

  // 4. One request per message, each to every recipient.
  const proofs: SentProof[] = [];
  for (const { message, label, sender } of messages) {
    const rendered = personalise(validation, message, subscriber);
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
    const message = validation.messages.find((m) => m.resource === sequence && m.templateAt[1] === index);
    const sendStep = steps[index];
    if (!message || !sendStep || !("send" in sendStep)) {
      const sends = steps.flatMap((s, i) => ("send" in s ? [s.name ?? String(i + 1)] : []));
      throw new MkError("MK060", `sequence "${name}" has no send step "${step}"; its send steps are ${sends.join(", ")} (a name, or a 1-based index)`);
    }
    return [{ message, label: `${name}/${sendStep.name ?? index + 1}`, sender: { from: sendStep.send.from } }];
  }
  const campaign = repo.campaigns.find((c) => c.name === options.target);
  if (!campaign) throw new MkError("MK060", `no campaign "${options.target}"${hint(options.target, repo.campaigns.map((c) => c.name))}`);
  const messages = validation.messages.filter((m) => m.resource === campaign);
  const variants = messages.map((m) => m.variant).filter((v): v is string => v !== null);
  if (options.variant !== undefined || options.allVariants) {
    if (variants.length === 0) throw new MkError("MK060", `campaign "${campaign.name}" has no variants; leave out --variant and --all-variants`);
  }
  const sender = { from: campaign.spec.from, replyTo: campaign.spec.replyTo };
  if (options.allVariants) return messages.map((message) => ({ message, label: campaign.name, sender }));
  const message = options.variant === undefined ? messages[0] : messages.find((m) => m.variant === options.variant);
  if (!message) throw new MkError("MK060", `campaign "${campaign.name}" has no variant "${options.variant}"; variants are ${variants.join(", ")}`);
  return [{ message, label: campaign.name, sender }];
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
