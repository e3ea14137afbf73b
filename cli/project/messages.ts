import type { LocaleOverrides } from "../../schemas/locales.js";
import type { MessageDataSchema } from "../../schemas/message.js";
import type { Repository, Resource } from "./reader.js";
import type { PathSegment } from "./yaml-source.js";

/**
 * One email a repository can send: a campaign (or one of its A/B variants)
 * or a sequence's send step, with the fields a variant overrides already
 * applied and the YAML paths where each was written.
 */
export interface MessageSpec {
  resource: Resource<"Campaign"> | Resource<"Sequence"> | Resource<"Project"> | Resource<"Message">;
  /** For messages: `campaign "spring-sale" (variant b)`. */
  label: string;
  variant: string | null;
  template: string;
  templateAt: PathSegment[];
  subject: string;
  subjectAt: PathSegment[];
  preheader: string | undefined;
  /** Where the preheader is written (where it would be, when it is not). */
  preheaderAt: PathSegment[];
  data: Record<string, unknown>;
  /** Marketing mail needs consent, an unsubscribe link and a postal address. */
  marketing: boolean;
  /** A form's confirmation email: it may (and must) use {{confirmUrl}}. */
  confirmation?: boolean;
  /** A transactional message (messages/): its template reads data.<field> of these fields, and no campaign's variables. */
  dataSchema?: MessageDataSchema;
  /**
   * The locale of a per-locale override (`locales: { th: … }`), with that
   * override's subject, preheader and template applied; null for the
   * message every other locale gets. A locale's override wins over a
   * variant's field it also sets.
   */
  locale: string | null;
}

export function messagesOf(repo: Repository): MessageSpec[] {
  const messages: MessageSpec[] = [];
  for (const campaign of repo.campaigns) {
    const c = campaign.spec;
    const base = {
      locale: null,
      resource: campaign,
      template: c.template,
      templateAt: ["template"],
      subject: c.subject,
      subjectAt: ["subject"],
      preheader: c.preheader,
      preheaderAt: ["preheader"],
      data: c.data ?? {},
      marketing: !c.transactional,
    };
    if (!c.variants) {
      messages.push({ ...base, label: `campaign "${campaign.name}"`, variant: null });
      messages.push(...localized(messages.at(-1)!, c.locales, []));
      continue;
    }
    const variants = c.variants.map((v, i): MessageSpec => ({
        ...base,
        label: `campaign "${campaign.name}" (variant ${v.name})`,
        variant: v.name,
        template: v.template ?? c.template,
        templateAt: v.template ? ["variants", i, "template"] : ["template"],
        subject: v.subject ?? c.subject,
        subjectAt: v.subject ? ["variants", i, "subject"] : ["subject"],
        preheader: v.preheader ?? c.preheader,
        preheaderAt: v.preheader !== undefined ? ["variants", i, "preheader"] : ["preheader"],
        data: { ...base.data, ...v.data },
    }));
    messages.push(...variants, ...variants.flatMap((v) => localized(v, c.locales, [])));
  }
  for (const sequence of repo.sequences) {
    sequence.spec.steps.forEach((step, i) => {
      if (!("send" in step)) return;
      const message: MessageSpec = {
        locale: null,
        resource: sequence,
        label: `sequence "${sequence.name}" step ${i + 1}`,
        variant: null,
        template: step.send.template,
        templateAt: ["steps", i, "send", "template"],
        subject: step.send.subject,
        subjectAt: ["steps", i, "send", "subject"],
        preheader: step.send.preheader,
        preheaderAt: ["steps", i, "send", "preheader"],
        data: step.send.data ?? {},
        marketing: !sequence.spec.transactional,
      };
      messages.push(message, ...localized(message, step.send.locales, ["steps", i, "send"]));
    });
  }
  const project = repo.project;
  project?.spec.forms?.forEach((form, i) => {
    if (form.template === undefined) return;
    messages.push({
      locale: null,
      resource: project,
      label: `form "${form.name}"`,
      variant: null,
      template: form.template,
      templateAt: ["forms", i, "template"],
      subject: form.subject,
      subjectAt: form.subject === undefined ? ["forms", i] : ["forms", i, "subject"],
      preheader: undefined,
      preheaderAt: ["forms", i],
      data: {},
      marketing: false,
      confirmation: true,
    });
  });
  for (const m of repo.messages) {
    messages.push({
      locale: null,
      resource: m,
      label: `message "${m.name}"`,
      variant: null,
      template: m.spec.template,
      templateAt: ["template"],
      subject: m.spec.subject,
      subjectAt: ["subject"],
      preheader: m.spec.preheader,
      preheaderAt: ["preheader"],
      data: {},
      marketing: false,
      dataSchema: m.spec.data,
    });
  }
  return messages;
}

/** The message of each locale override, after the messages every locale gets; `at` is where the overrides' `locales:` sits. */
function localized(message: MessageSpec, overrides: LocaleOverrides | undefined, at: PathSegment[]): MessageSpec[] {
  return Object.entries(overrides ?? {}).map(([code, o]) => {
    const where = [...at, "locales", code];
    return {
      ...message,
      label: message.label.endsWith(")") ? `${message.label.slice(0, -1)}, ${code})` : `${message.label} (${code})`,
      locale: code,
      template: o.template ?? message.template,
      templateAt: o.template !== undefined ? [...where, "template"] : message.templateAt,
      subject: o.subject ?? message.subject,
      subjectAt: o.subject !== undefined ? [...where, "subject"] : message.subjectAt,
      preheader: o.preheader ?? message.preheader,
      preheaderAt: o.preheader !== undefined ? [...where, "preheader"] : message.preheaderAt,
    };
  });
}
