import type { Campaign, StoredProject } from "../../schemas/index.js";

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
}

/**
 * Everything about a campaign's send, fixed when it starts (campaign_sends.snapshot):
 * later applies cannot change mail already on its way.
 */
export interface SendSnapshot {
  campaign: string;
  from: string;
  replyTo?: string | undefined;
  transactional: boolean;
  window?: string | undefined;
  project: { name: string; postalAddress?: string | undefined; locale: string; timezone: string };
  provider: ProjectSpec["sending"]["provider"];
  /** The utm_campaign its links carry: events with this UTM campaign are attributed to it. */
  utmCampaign: string;
  configurationSet?: string | undefined;
  variants: SnapshotVariant[];
}
