import pg from "pg";
import { sha256 } from "../../runtime/state/canonical.js";
import type { TestRuntime } from "./runtime.js";

export const SENDING_HTML =
  '<html><body><p>Hi {{subscriber.firstName}}</p><a href="https://nomaddesk.example/offer?ref=mail">Offer</a>' +
  '<a href="{{unsubscribeUrl}}">Unsubscribe</a><a href="mailto:help@nomaddesk.example">Help</a></body></html>';

export interface CampaignFixture {
  name: string;
  subject?: string;
  audience?: string;
  /** Default templates/hello.mjml (SENDING_HTML); another needs its HTML in ApplyExtras.templates. */
  template?: string;
  schedule?: Record<string, unknown>;
  variants?: Record<string, unknown>[];
  budget?: Record<string, unknown>;
  geofence?: Record<string, unknown>;
  transactional?: boolean;
}

/** A sequence as applied: the file's fields without apiVersion and kind. */
export interface SequenceFixture {
  name: string;
  trigger: { event: string };
  steps: Record<string, unknown>[];
  [field: string]: unknown;
}

export interface ApplyExtras {
  sequences?: SequenceFixture[];
  /** More templates: path → HTML. */
  templates?: Record<string, string>;
  allowExitActive?: boolean;
  /** More fields of the Project's spec (topics, forms …). */
  project?: Record<string, unknown>;
  /** More resources as applied (catalogs …). */
  resources?: { kind: string; name: string; spec: Record<string, unknown> }[];
}

/**
 * Apply a project, an audience of everyone, a template (plus `extras.templates`),
 * the given campaigns and `extras.sequences`. Throws unless the apply succeeds
 * (use applyRequest for one that should not).
 */
export async function applyCampaigns(
  rt: Pick<TestRuntime, "api">,
  campaigns: CampaignFixture[],
  project: { maxPerSecond?: number; provider?: string; timezone?: string } = {},
  extras: ApplyExtras = {},
): Promise<{ serial: number; sequenceVersions?: Record<string, number>; enrollmentsMigrated?: number; enrollmentsExited?: number }> {
  const result = await applyRequest(rt, campaigns, project, extras);
  if (result.status !== 200) throw new Error(`apply failed: ${JSON.stringify(result.body)}`);
  return result.body;
}

export async function applyRequest(
  rt: Pick<TestRuntime, "api">,
  campaigns: CampaignFixture[],
  project: { maxPerSecond?: number; provider?: string; timezone?: string } = {},
  extras: ApplyExtras = {},
): Promise<{ status: number; body: any }> {
  const { serial } = (await rt.api("/v1/state")).body as { serial: number };
  const extraTemplates = Object.entries(extras.templates ?? {});
  const body = {
    baseSerial: serial,
    source: { commit: "c0ffee", author: "Test <t@example.com>", branch: "main", dirty: false },
    ...(extras.allowExitActive ? { allowExitActive: true } : {}),
    templates: [{ hash: sha256(SENDING_HTML), html: SENDING_HTML }, ...extraTemplates.map(([, html]) => ({ hash: sha256(html), html }))],
    resources: [
      ...extraTemplates.map(([path, html]) => ({ kind: "Template", name: path, spec: { html: sha256(html), files: { [path]: "<mjml/>" } } })),
      ...(extras.sequences ?? []).map(({ name, ...spec }) => ({ kind: "Sequence", name, spec })),
      ...(extras.resources ?? []),
      {
        kind: "Project",
        name: "nomad-desk",
        spec: {
          name: "nomad-desk",
          defaults: { from: "Nomad Desk <hello@nomaddesk.example>", timezone: project.timezone ?? "Europe/Lisbon", postalAddress: "1 Rua, Lisbon" },
          tracking: { clicks: true, utm: { source: "mk", medium: "email" } },
          sending: { provider: project.provider ?? "outbox", maxPerSecond: project.maxPerSecond ?? 1000, pricePer1000Usd: 0.1 },
          ...extras.project,
        },
      },
      { kind: "Template", name: "templates/hello.mjml", spec: { html: sha256(SENDING_HTML), files: { "templates/hello.mjml": "<mjml/>" } } },
      { kind: "Audience", name: "everyone", spec: {} },
      ...campaigns.map(({ name, ...rest }) => ({
        kind: "Campaign",
        name,
        spec: { subject: "Hello {{subscriber.firstName}}", audience: "everyone", template: "templates/hello.mjml", transactional: false, ...rest },
      })),
    ],
  };
  return rt.api("/v1/apply", { body });
}

/**
 * `count` opted-in subscribers (s1@example.test …) straight into the table,
 * spread over the given time zones and countries.
 */
export async function addSubscribers(databaseUrl: string, count: number, options: { timezones?: string[]; countries?: string[]; consent?: boolean } = {}): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(
      `insert into subscribers (email, first_name, timezone, country, consent)
       select 's' || i || '@example.test', 'Name' || i,
         ($2::text[])[1 + (i % cardinality($2::text[]))], ($3::text[])[1 + (i % cardinality($3::text[]))], $4
       from generate_series(1, $1) as i`,
      [count, options.timezones ?? ["Europe/Lisbon"], options.countries ?? ["PT"], options.consent === false ? null : "marketing"],
    );
  } finally {
    await client.end();
  }
}

export async function query<T extends pg.QueryResultRow>(databaseUrl: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}
