import type pg from "pg";
import type { Campaign, Catalogs, LocaleOverrides, StoredProject, Variant } from "../../schemas/index.js";
import { supportedSpelling } from "../../schemas/locales.js";
import { appliedCatalogs, localesOf } from "../locales/applied.js";
import { ApiError } from "../http/errors.js";
import type { IpSetting } from "../engagement/ip-privacy.js";
import { sha256 } from "../state/canonical.js";
import { SEND_SQL } from "./queries.js";
import { prepareLinks } from "./tracked-links.js";

/** A campaign as the runtime stores it (the repository's file without apiVersion, kind, name). */
export type CampaignSpec = Omit<Campaign, "apiVersion" | "kind" | "name">;
/** The project as the runtime stores it, defaults filled in. */
export type ProjectSpec = StoredProject;

/** One variant of a started campaign (a campaign without A/B tests has one, named null). */
export interface SnapshotVariant {
  name: string | null;
  weight: number;
  subject: string;
  preheader?: string | undefined;
  /** Compiled HTML with tracked links in place, by hash in compiled_templates. */
  htmlHash: string;
  /** Tracked link N's URL, UTM included. */
  links: string[];
  data: Record<string, unknown>;
  /** What a per-locale override (`locales: { th: … }`) changes, by locale as mk.yaml's supported list spells it. */
  locales?: Record<string, LocalizedVariant> | undefined;
}

/** A variant as one locale's override has it: its own subject, preheader and template (links prepared) where the override sets them. */
export interface LocalizedVariant {
  subject: string;
  preheader?: string | undefined;
  htmlHash: string;
  links: string[];
}

/** The languages of a send, fixed at its start like its content: a later apply of a catalog changes the next sends, not this one. */
export interface SnapshotLocales {
  default: string;
  supported: string[];
  catalogs: Catalogs;
}

/**
 * What a send tracks besides clicks, fixed at its start: whether its mail
 * carries an open pixel (never in the countries listed), and what its opens
 * and clicks keep of their address. A snapshot from before open tracking
 * has none: no pixel, addresses truncated.
 */
export interface SnapshotTracking {
  opens: boolean;
  ip: IpSetting;
  noOpensIn?: string[] | undefined;
}

/** Whether a send's mail to a subscriber of this country carries the open pixel: opens on, and the country not in noOpensIn. */
export function tracksOpens(tracking: SnapshotTracking | undefined, country: string | null): boolean {
  return Boolean(tracking?.opens) && (country === null || !(tracking?.noOpensIn ?? []).includes(country));
}

/**
 * Everything about a campaign's send, fixed when it starts (campaign_sends.snapshot):
 * later applies cannot change mail already on its way.
 */
export interface SendSnapshot {
  /** The campaign's name; for a sequence's send step, its ledger key (`<sequence>/v<version>/step-<n>`). */
  campaign: string;
  /** Set on a transactional message's version (messages/): its name. */
  message?: string | undefined;
  /** Set on a sequence's send step: which sequence, version and step (1-based) it is. */
  sequence?: { name: string; version: number; step: number; stepName?: string | undefined } | undefined;
  from: string;
  replyTo?: string | undefined;
  transactional: boolean;
  /** The topic it is about: its one-click unsubscribe leaves this topic only (absent: all marketing mail). */
  topic?: string | undefined;
  /** The topic's title when the message was sent (the pages that name it). */
  topicTitle?: string | undefined;
  window?: string | undefined;
  project: { name: string; postalAddress?: string | undefined; locale: string; timezone: string };
  provider: ProjectSpec["sending"]["provider"];
  /** The utm_campaign its links carry: events with this UTM campaign are attributed to it. */
  utmCampaign: string;
  configurationSet?: string | undefined;
  variants: SnapshotVariant[];
  /** Set when the project has `locales:`: each recipient gets the first locale of their chain. */
  locales?: SnapshotLocales | undefined;
  tracking?: SnapshotTracking | undefined;
  /** What decides the campaign's A/B test (its decideBy); absent: conversions when there are enough, else human clicks. */
  decideBy?: Campaign["decideBy"];
}

/** What a snapshot is made of: a campaign, or a sequence's send step dressed as one. */
export type SnapshotSource = Pick<CampaignSpec, "subject" | "preheader" | "from" | "replyTo" | "template" | "variants" | "data" | "utm" | "transactional" | "topic" | "locales"> & Partial<Pick<CampaignSpec, "decideBy">> & {
  schedule?: { window?: string | undefined } | undefined;
};

/** The variants with their HTML (links prepared) stored by hash, and the settings the send keeps. */
export async function snapshotCampaign(client: pg.PoolClient, project: ProjectSpec, name: string, spec: SnapshotSource, label = `campaign "${name}"`): Promise<SendSnapshot> {
  const variants: Array<{ name: string | null; weight: number } & Partial<Pick<Variant, "subject" | "preheader" | "template" | "data">>> = spec.variants ?? [
    { name: null, weight: 100 },
  ];
  const overrides = project.locales ? localizedOverrides(spec.locales, project.locales.supported) : [];
  const paths = [...new Set([...variants.map((v) => v.template ?? spec.template), ...overrides.flatMap(([, o]) => (o.template ? [o.template] : []))])];
  const templates = new Map((await client.query<{ name: string; hash: string; html: string }>(SEND_SQL.templates, [paths])).rows.map((r) => [r.name, r]));
  const utm = { ...project.tracking.utm, campaign: project.tracking.utm.campaign ?? name, ...spec.utm } as Record<string, string>;
  const prepare = async (path: string): Promise<{ htmlHash: string; links: string[] }> => {
    const template = templates.get(path);
    if (!template) throw new ApiError(409, "missing_template", `${label} uses ${path}, which is not applied`);
    const prepared = prepareLinks(template.html, { utm, trackClicks: project.tracking.clicks });
    const htmlHash = sha256(prepared.html);
    await client.query(SEND_SQL.storeTemplate, [htmlHash, prepared.html]);
    return { htmlHash, links: prepared.links };
  };

  const snapshotVariants: SnapshotVariant[] = [];
  for (const v of variants) {
    const path = v.template ?? spec.template;
    const base = { subject: v.subject ?? spec.subject, preheader: v.preheader ?? spec.preheader, ...(await prepare(path)) };
    const localized: Record<string, LocalizedVariant> = {};
    // A locale's override wins over the variant's field it also sets (README, "Locales").
    for (const [code, o] of overrides) {
      const html = o.template !== undefined && o.template !== path ? await prepare(o.template) : { htmlHash: base.htmlHash, links: base.links };
      localized[code] = { subject: o.subject ?? base.subject, preheader: o.preheader ?? base.preheader, ...html };
    }
    snapshotVariants.push({
      name: v.name,
      weight: v.weight,
      ...base,
      data: { ...spec.data, ...v.data },
      ...(overrides.length > 0 ? { locales: localized } : {}),
    });
  }
  return {
    campaign: name,
    from: spec.from ?? project.defaults.from,
    replyTo: spec.replyTo ?? project.defaults.replyTo,
    transactional: spec.transactional,
    ...(spec.topic !== undefined && !spec.transactional ? { topic: spec.topic, topicTitle: project.topics?.find((t) => t.name === spec.topic)?.title } : {}),
    window: spec.schedule?.window,
    project: { name: project.name, postalAddress: project.defaults.postalAddress, locale: project.defaults.locale, timezone: project.defaults.timezone },
    provider: project.sending.provider,
    utmCampaign: utm["campaign"] ?? name,
    configurationSet: project.sending.configurationSet,
    variants: snapshotVariants,
    ...(project.locales ? { locales: { ...localesOf(project), catalogs: await appliedCatalogs(client) } } : {}),
    ...(spec.decideBy ? { decideBy: spec.decideBy } : {}),
    // Transactional mail carries no pixel unless it is a Message that says so (runtime/messages/).
    tracking: { opens: project.tracking.opens && !spec.transactional, ip: project.tracking.ip, ...(project.tracking.noOpensIn ? { noOpensIn: project.tracking.noOpensIn } : {}) },
  };
}

/** The overrides of supported locales, keyed as mk.yaml's supported list spells them (validate refuses the others, MK123). */
function localizedOverrides(overrides: LocaleOverrides | undefined, supported: readonly string[]): [string, LocaleOverrides[string]][] {
  return Object.entries(overrides ?? {}).flatMap(([code, o]) => {
    const known = supportedSpelling(code, supported);
    return known ? [[known, o] as [string, LocaleOverrides[string]]] : [];
  });
}
