/**
 * Campaign reports as `GET /v1/reports/campaigns[/:name]` returns them and
 * `mk report` prints them. Money is in integer minor units of its currency;
 * rates are fractions (0.031 = 3.1 %), null when their base is zero.
 */

/** Counts of one slice of a campaign: a variant, a day, a country, or all of it. */
export interface ReportCounts {
  sent: number;
  failed: number;
  delivered: number;
  /** Hard (permanent) bounces, one per recipient. */
  bounced: number;
  complained: number;
  /** Recipients who opened, clicked, unsubscribed, bought: each counted once. */
  opened: number;
  clicked: number;
  unsubscribed: number;
  converted: number;
  /** Every open, repeats included. */
  opens: number;
  /** Links clicked: each (send, link) once, however often it was followed (a recipient who clicked two links counts 2). */
  clicks: number;
  /**
   * Recipients a person's open was seen from, each once: a human open, or a
   * human click (nobody clicks a link unread), so Apple Mail's readers, whose
   * every open is the privacy proxy's, count when they click.
   */
  humanOpened: number;
  /** Recipients with a human click, each once. */
  humanClicked: number;
  /** Opens by people and by machines (privacy proxies' prefetches, scanners), repeats included; the rest of `opens` is unknown. */
  humanOpens: number;
  machineOpens: number;
  /** Links clicked by people and by machines (link scanners), each (send, link) once per actor. */
  humanClicks: number;
  machineClicks: number;
}

export interface ReportRates {
  /** delivered / sent. */
  delivery: number | null;
  /** humanOpened, humanClicked, converted over the base: delivered when delivery reports arrive, else sent. Machine engagement counts in no rate. */
  open: number | null;
  click: number | null;
  conversion: number | null;
  /** humanClicked / humanOpened. */
  clickToOpen: number | null;
  bounce: number | null;
  complaint: number | null;
  unsubscribe: number | null;
}

export interface Money {
  currency: string;
  minor: number;
}

export interface RevenueLine {
  currency: string;
  purchases: number;
  refunds: number;
  revenueMinor: number;
  refundedMinor: number;
  /** Revenue less refunds. */
  netMinor: number;
}

export interface VariantReport extends ReportCounts {
  name: string;
  rates: ReportRates;
  revenue: RevenueLine[];
}

/** What decides an A/B test: conversions, human clicks or human opens (campaign `decideBy`). */
export type DecidingMetric = "conversion" | "click" | "open";

/** A variant against the control (the first variant) by a two-proportion z-test, on human engagement. */
export interface VariantComparison {
  metric: DecidingMetric;
  control: string;
  variant: string;
  controlRate: number | null;
  variantRate: number | null;
  /** Null when there is too little data for the test to mean anything. */
  z: number | null;
  p: number | null;
  significant: boolean;
  verdict: string;
}

/**
 * The A/B test's outcome: the best variant by the deciding metric, tested
 * against the runner-up. Machine opens and clicks never decide it.
 */
export interface AbTestVerdict {
  /** The campaign's decideBy; "auto": conversions when every variant has enough of them, else human clicks. */
  decideBy: "auto" | "conversions" | "clicks" | "opens";
  metric: DecidingMetric;
  /** Null until one variant is significantly ahead of every other. */
  winner: string | null;
  verdict: string;
}

/** Machine engagement of one kind of evidence (runtime/engagement/classify.ts). */
export interface MachineReason {
  reason: string;
  label: string;
  opens: number;
  clicks: number;
}

/** Who opened and clicked: what the rates leave out, and why. */
export interface EngagementReport {
  /** Machine opens and clicks by reason, most first (at most 5). */
  machineReasons: MachineReason[];
  /** Opens neither a person's nor a machine's for sure: recorded before mk classified engagement, or with no evidence. */
  unknownOpens: number;
  /** Machine opens are most of the opens: an open rate of every open would be inflated by privacy proxies. */
  opensInflated: boolean;
  /** What to read the numbers as, in a sentence; null when there is nothing to say. */
  note: string | null;
}

export interface CountryReport {
  country: string;
  sent: number;
  clicked: number;
  /** Recipients with a human click, each once. */
  humanClicked: number;
  converted: number;
}

/** One locale's funnel and money: the recipients who got the campaign in that language (sends.locale). */
export interface LocaleReport {
  /** As mk.yaml's supported list spells it; "unknown" for sends composed before the project had locales. */
  locale: string;
  sent: number;
  delivered: number;
  opened: number;
  clicked: number;
  /** Recipients a person opened (or clicked) and clicked it for, each once (ReportCounts.humanOpened, humanClicked). */
  humanOpened: number;
  humanClicked: number;
  unsubscribed: number;
  converted: number;
  revenue: RevenueLine[];
}

export interface DayReport {
  day: string;
  sent: number;
  opened: number;
  clicked: number;
  /** Recipients a person opened (or clicked) and clicked it for, each once (ReportCounts.humanOpened, humanClicked). */
  humanOpened: number;
  humanClicked: number;
  converted: number;
}

export interface CampaignReport {
  campaign: string;
  startedAt: string;
  /** Recipients in the send ledger when the campaign started. */
  recipients: number;
  /** The project's reporting currency (mk.yaml currency). */
  reportingCurrency: string;
  generatedAt: string;
  /** Whether delivery reports have arrived (SES sends them; the outbox and SMTP do not): rates are of delivered mail if so, else of sent mail. */
  deliveryReported: boolean;
  totals: ReportCounts;
  rates: ReportRates;
  /** Complaint rate at or above Gmail's 0.3 % limit for bulk senders. */
  complaintRateAboveLimit: boolean;
  revenue: RevenueLine[];
  /** The provider's cost of what was sent, at the project's price per 1,000. */
  cost: Money;
  /** Cost per conversion, in the cost's currency. */
  cpa: Money | null;
  /** Net revenue in the cost's currency over the cost; null without both. */
  roas: number | null;
  /** Why ROAS is missing or leaves revenue out (revenue in other currencies has no exchange rate here). */
  roasNote: string | null;
  /** Machine engagement by reason, and whether privacy proxies inflate the opens (absent from a runtime older than classification). */
  engagement?: EngagementReport;
  variants: VariantReport[];
  comparisons: VariantComparison[];
  /** Null without variants (absent from a runtime older than classification). */
  abTest?: AbTestVerdict | null;
  /** Countries by recipients sent, most first (at most 10). */
  topCountries: CountryReport[];
  /** By the locale each recipient got, most sent first; empty when the campaign was sent without locales (absent from a runtime older than locales). */
  locales?: LocaleReport[];
  daily: DayReport[];
}

export interface CampaignSummary {
  campaign: string;
  startedAt: string;
  recipients: number;
  sent: number;
  delivered: number;
  opened: number;
  clicked: number;
  /** Recipients a person opened (or clicked) and clicked it for, each once (ReportCounts.humanOpened, humanClicked). */
  humanOpened: number;
  humanClicked: number;
  converted: number;
  complaintRate: number | null;
  complaintRateAboveLimit: boolean;
  revenue: RevenueLine[];
}

/** One step of one version: how many enrollments reached it, and what its mail did. */
export interface SequenceStepReport {
  version: number;
  /** 1-based, as in the file. */
  step: number;
  name: string | null;
  kind: "send" | "wait" | "if";
  /** What the step is: the subject, the wait, the condition. */
  summary: string;
  reached: number;
  /** `if` steps: how many left the sequence there. */
  exited: number;
  /** `send` steps, from the campaign analytics of the step's ledger key (unique recipients). */
  sent: number;
  delivered: number;
  opened: number;
  clicked: number;
  /** Recipients a person opened (or clicked) and clicked it for, each once (ReportCounts.humanOpened, humanClicked). */
  humanOpened: number;
  humanClicked: number;
  converted: number;
  unsubscribed: number;
  bounced: number;
}

/** `GET /v1/reports/messages/:name` (`mk report message`): a transactional message's requests over all its applied versions. */
export interface MessageReport {
  message: string;
  /** Whether it is applied now (a deleted message's report stays readable). */
  applied: boolean;
  /** Applied versions that were sent (each a ledger key). */
  versions: number;
  firstAt: string | null;
  /** Requests queued in the ledger (a key answered again counts once; refusals count nowhere). */
  requested: number;
  /** Queued or with the transport now. */
  pending: number;
  sent: number;
  failed: number;
  /** Suppressed between the request and its turn (a bounce or complaint meanwhile). */
  suppressed: number;
  ambiguous: number;
  /** From provider events: recipients who are subscribers. */
  delivered: number;
  /** Bounces from events, and hard bounces of recipients who are no subscribers. */
  bounced: number;
  complained: number;
  opened: number;
  clicked: number;
  /** Recipients a person opened (or clicked) and clicked it for, each once (ReportCounts.humanOpened, humanClicked). */
  humanOpened: number;
  humanClicked: number;
}

export interface SequenceReport {
  sequence: string;
  /** The newest version (the one new enrollments start on while the sequence is applied). */
  version: number;
  applied: boolean;
  enrolled: number;
  active: number;
  completed: number;
  failed: number;
  exited: number;
  /** Exits by reason: `condition: step 3 (bought)`, `unsubscribe`, `bounce`, `complaint`, `no-consent`, `sequence-deleted`. */
  exitReasons: Record<string, number>;
  steps: SequenceStepReport[];
}

/** One step an enrollment took, as `enrollment_history` keeps it. */
export interface JourneyStep {
  version: number;
  /** "step 3 (bought)", or the enrollment's end. */
  step: string;
  kind: "send" | "wait" | "if" | "exit" | "complete" | "migrate";
  outcome: string;
  at: string;
}

/** A subscriber's enrollment in a sequence, with its history (`mk report sequence <name> --subscriber <email>`). */
export interface SubscriberJourney {
  id: string;
  version: number;
  status: "active" | "completed" | "exited" | "failed";
  /** For active enrollments: the step that runs next, and when. */
  next: { step: string; at: string } | null;
  exitReason: string | null;
  enrolledAt: string;
  endedAt: string | null;
  /** The idempotency key of the event that enrolled them. */
  trigger: string;
  history: JourneyStep[];
}
