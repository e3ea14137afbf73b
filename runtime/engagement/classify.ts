import { isbotMatch } from "isbot";
import { LRUCache } from "lru-cache";
import type { Network, Operator } from "./networks.js";

/**
 * Whether an open or a click was a person's or a machine's, and why. Every
 * rule, threshold and the order they are tried in is in this file: RULES
 * below is read top to bottom and the first rule that applies decides.
 */
export type Actor = "human" | "machine" | "unknown";
export interface EngagementEvidence {
  kind: "open" | "click";
  /** "HEAD" for a HEAD request; "GET" otherwise (also for SES's and ingested events). */
  method: "GET" | "HEAD";
  userAgent?: string | undefined;
  /** Whether the request's IP address was known at all. */
  hasAddress: boolean;
  /** The address's network when the lookup knows it. */
  network?: Network | undefined;
  /** Seconds from the send (sends.sent_at) to this request; undefined when unknown. */
  secondsAfterSend?: number | undefined;
  /** Clicks: how many OTHER links of the same send were clicked within BURST_SECONDS before this click. */
  otherLinksInBurst?: number | undefined;
  /** Clicks: true when the message carried an open pixel and no open was recorded before this click; undefined when it carried none. */
  clickedBeforeOpen?: boolean | undefined;
  /** An open or click your own system posted to POST /v1/events (not a request mk or SES saw): its word counts when nothing contradicts it. */
  reported?: boolean | undefined;
  /** Of a transactional message (a receipt, a password reset, a sign-in link): people act on those within seconds, so timing proves nothing. */
  transactional?: boolean | undefined;
}
export type ReasonCode =
  | "head-request"
  | "security-scanner-network"
  | "security-scanner-agent"
  | "apple-privacy-proxy"
  | "image-proxy-prefetch"
  | "image-proxy-open"
  | "provider-link-check"
  | "bot-user-agent"
  | "soon-after-send"
  | "link-burst"
  | "click-before-open"
  | "reported"
  | "no-evidence"
  | "no-user-agent"
  | "ordinary-client";
export interface Classification { actor: Actor; reason: ReasonCode; /** One line a reviewer reads: what was seen, e.g. "clicked 2.1 s after it was sent". */ detail: string }

/** Each reason's actor and its label in reports ("Apple Mail Privacy Protection"). */
export const REASONS: Readonly<Record<ReasonCode, { actor: Actor; label: string }>> = {
  "head-request": { actor: "machine", label: "HEAD request (link checker)" },
  "security-scanner-network": { actor: "machine", label: "Mail security gateway" },
  "security-scanner-agent": { actor: "machine", label: "Link scanner (user agent)" },
  "apple-privacy-proxy": { actor: "machine", label: "Apple Mail Privacy Protection" },
  "image-proxy-prefetch": { actor: "machine", label: "Image proxy fetch on delivery" },
  "image-proxy-open": { actor: "human", label: "Opened through a mail provider's image proxy" },
  "provider-link-check": { actor: "machine", label: "Mail provider's link check (Safe Links, Gmail)" },
  "bot-user-agent": { actor: "machine", label: "Bot user agent" },
  "soon-after-send": { actor: "machine", label: "Sooner after sending than a person could" },
  "link-burst": { actor: "machine", label: "Several links clicked at once" },
  "click-before-open": { actor: "machine", label: "Clicked before opened, soon after sending" },
  reported: { actor: "human", label: "Reported by your system (POST /v1/events), nothing to check" },
  "no-evidence": { actor: "unknown", label: "No user agent and no address" },
  "no-user-agent": { actor: "unknown", label: "No user agent" },
  "ordinary-client": { actor: "human", label: "Mail client or browser" },
};

/**
 * Two different links of one message within 2 s is a machine: each click
 * takes a person to a page, and coming back to the message and aiming at the
 * next link takes longer. Scanners fetch every link of a message in well
 * under a second.
 */
export const BURST_SECONDS = 2;

/**
 * A person needs the message to arrive (SES to the mailbox: about 1 to 3 s),
 * to notice it and to tap it before the pixel loads. Image proxies and
 * gateways that fetch on delivery do so within that time.
 */
const OPEN_PREFETCH_SECONDS = 5;
/** A click also needs the message read: 10 s is less than anyone takes, and gateways click within it. */
const CLICK_SCAN_SECONDS = 10;
/**
 * A click with no open before it is a scanner when it comes soon after the
 * send. Later it is usually a person whose client blocks images (Outlook on
 * Windows does by default), so the rule stops after 2 minutes.
 */
const CLICK_BEFORE_OPEN_SECONDS = 120;

/** User agents mail systems publish or are known by: matched before isbot, which calls the proxies bots too. */
const KNOWN_AGENTS: ReadonlyArray<{ pattern: RegExp; name: string; kind: "image-proxy" | "scanner" }> = [
  // Gmail fetches images through this proxy when the reader opens the message (support.google.com/mail/answer/145919).
  { pattern: /GoogleImageProxy/, name: "Gmail's image proxy (GoogleImageProxy)", kind: "image-proxy" },
  // Yahoo Mail and AOL Mail's proxy (senders.yahooinc.com/mail-proxy-servers) fetches on open.
  { pattern: /YahooMailProxy/, name: "Yahoo Mail's image proxy (YahooMailProxy)", kind: "image-proxy" },
  // Barracuda's email protection follows links with this agent (listed in Matomo's bot list).
  { pattern: /Barracuda Sentinel/, name: "Barracuda Sentinel", kind: "scanner" },
  // Office probes a link before opening it; no person is involved yet.
  { pattern: /Microsoft Office Existence Discovery/, name: "Microsoft Office's link probe", kind: "scanner" },
];

/**
 * Mail clients whose user agents isbot takes for bots (an app's HTTP library
 * name, "Yahoo", no "Mozilla"): a person reading mail, whatever isbot says.
 */
const MAIL_CLIENTS: readonly RegExp[] = [
  /Outlook-(?:iOS|Android)\//,
  /^Outlook\/[\d.]+ CFNetwork\//,
  /Yahoo%20Mail\/|YahooMobileMail|jp\.co\.yahoo\.ymail\//,
  /Mailspring\//,
  /eM ?Client\//,
  /BlueMail\//,
  /Foxmail\//,
  /Mailbird\//,
  /WindowsMail\//,
  /FairEmail/,
];

/** What a user agent says, worked out once per distinct string. */
interface AgentFacts {
  known: (typeof KNOWN_AGENTS)[number] | undefined;
  /** The part isbot matched, null when it sees no bot. */
  bot: string | null;
  family: string;
}

/**
 * isbot's pattern takes about 5 µs on a long browser agent; a campaign's
 * traffic comes from a few thousand distinct agents, so they are remembered.
 * Agents longer than any real client's are worked out each time instead, so
 * that a sender of odd headers cannot fill the cache.
 */
const agentFacts = new LRUCache<string, AgentFacts>({ max: 5_000 });
/**
 * What of a user agent the rules read: no client's is longer, and a request
 * with 16 KB of one must cost what a real one costs (the patterns' work grows
 * with the length), so the rest is never looked at.
 */
const AGENT_LENGTH = 512;

function factsOf(fullAgent: string): AgentFacts {
  const userAgent = fullAgent.slice(0, AGENT_LENGTH);
  let facts = agentFacts.get(userAgent);
  if (!facts) {
    const mailClient = MAIL_CLIENTS.some((pattern) => pattern.test(userAgent));
    facts = { known: KNOWN_AGENTS.find(({ pattern }) => pattern.test(userAgent)), bot: mailClient ? null : isbotMatch(userAgent), family: clientFamily(userAgent) };
    agentFacts.set(userAgent, facts);
  }
  return facts;
}

/** What classify looks at, worked out once per call. */
interface Seen {
  evidence: EngagementEvidence;
  operator: Operator | undefined;
  agent: AgentFacts | undefined;
  /** Through a mail provider's image proxy: by its user agent or its network. */
  proxy: string | undefined;
}

interface Rule {
  reason: ReasonCode;
  /** The detail line when the rule applies, undefined when it does not. */
  test: (seen: Seen) => string | undefined;
}

const RULES: readonly Rule[] = [
  // No mail client or browser sends HEAD for an image or a link; link checkers do, to see whether it exists.
  { reason: "head-request", test: ({ evidence }) => (evidence.method === "HEAD" ? `a HEAD request${after(evidence)}` : undefined) },
  // The address is a mail security vendor's (Proofpoint, Mimecast, Barracuda…): its gateway fetches and follows everything.
  {
    reason: "security-scanner-network",
    test: ({ evidence, operator }) => (operator?.role === "mail-security" ? `from ${operator.name}'s network (${asName(evidence.network!)})${after(evidence)}` : undefined),
  },
  // A scanner that names itself in its user agent.
  {
    reason: "security-scanner-agent",
    test: ({ evidence, agent }) => (agent?.known?.kind === "scanner" ? `${agent.known.name}${after(evidence)}` : undefined),
  },
  // Apple's network on an open is Mail Privacy Protection: it loads every message's images on delivery, read or not.
  {
    reason: "apple-privacy-proxy",
    test: ({ evidence, operator }) =>
      evidence.kind === "open" && operator?.role === "privacy-proxy"
        ? `${operator.name}'s network (${asName(evidence.network!)})${evidence.userAgent === "Mozilla/5.0" ? ' with its bare "Mozilla/5.0" agent' : ""}${after(evidence)}`
        : undefined,
  },
  // An image proxy fetching within seconds of the send did so on delivery, not because someone opened the message.
  {
    reason: "image-proxy-prefetch",
    test: ({ evidence, proxy }) =>
      evidence.kind === "open" && proxy && isWithin(evidence, OPEN_PREFETCH_SECONDS) ? `${proxy}${after(evidence)}, before anyone could open it` : undefined,
  },
  // Gmail's, Yahoo's and Outlook.com's proxies fetch the pixel when the reader opens the message: a person's open.
  { reason: "image-proxy-open", test: ({ evidence, proxy }) => (evidence.kind === "open" && proxy ? `${proxy}${after(evidence)}` : undefined) },
  // A click from inside Microsoft's or Google's network is Safe Links detonating the link or Gmail checking it;
  // a person's click comes from their own connection, even when Safe Links rewrote the link.
  {
    reason: "provider-link-check",
    test: ({ evidence, operator }) =>
      evidence.kind === "click" && (operator?.role === "mail-provider" || operator?.role === "image-proxy")
        ? `clicked from ${operator.name}'s network (${asName(evidence.network!)})${after(evidence)}`
        : undefined,
  },
  // Crawlers, HTTP libraries and headless browsers, as the isbot package knows them.
  {
    reason: "bot-user-agent",
    test: ({ evidence, agent }) => (agent?.bot == null ? undefined : `the user agent matches isbot's "${agent.bot}"${after(evidence)}`),
  },
  // Sooner after the send than a person could have opened the message, or read it and clicked.
  {
    reason: "soon-after-send",
    test: ({ evidence }) =>
      !evidence.transactional && isWithin(evidence, evidence.kind === "click" ? CLICK_SCAN_SECONDS : OPEN_PREFETCH_SECONDS)
        ? `${evidence.kind === "click" ? "clicked" : "opened"} ${sinceSend(evidence)}`
        : undefined,
  },
  // Another link of the same message was clicked within BURST_SECONDS: a scanner walking the links.
  {
    reason: "link-burst",
    test: ({ evidence }) => {
      const others = evidence.kind === "click" ? (evidence.otherLinksInBurst ?? 0) : 0;
      return others >= 1 ? `clicked with ${others} other link${others === 1 ? "" : "s"} of the message within ${BURST_SECONDS} s${after(evidence)}` : undefined;
    },
  },
  // The message carried a pixel, nothing opened it, and the click came within minutes of the send.
  {
    reason: "click-before-open",
    test: ({ evidence }) =>
      evidence.kind === "click" && !evidence.transactional && evidence.clickedBeforeOpen === true && isWithin(evidence, CLICK_BEFORE_OPEN_SECONDS)
        ? `clicked ${sinceSend(evidence)} with no open before it`
        : undefined,
  },
  // Your own system (a shop's or app's tracking) says a person opened or clicked, and sent no user agent to check:
  // the ingest token is yours, so its word stands, as it did before mk classified anything.
  {
    reason: "reported",
    test: ({ evidence }) => (evidence.reported && !evidence.userAgent ? `posted to POST /v1/events with no user agent${evidence.network ? `, from ${asName(evidence.network)}` : ""}${after(evidence)}` : undefined),
  },
  // Nothing to go on (a request or provider event with neither).
  { reason: "no-evidence", test: ({ evidence }) => (!evidence.userAgent && !evidence.hasAddress ? `no user agent and no address${after(evidence)}` : undefined) },
  // Every browser and mail client sends a user agent; a request without one is most likely a script, but nothing proves it.
  {
    reason: "no-user-agent",
    test: ({ evidence }) => (!evidence.userAgent ? `no user agent${evidence.network ? `, from ${asName(evidence.network)}` : ""}${after(evidence)}` : undefined),
  },
  // None of the above: a mail client or browser, at a person's pace.
  { reason: "ordinary-client", test: ({ evidence, agent }) => `${agent!.family}${after(evidence)}` },
];

export function classify(evidence: EngagementEvidence): Classification {
  const operator = evidence.network?.operator;
  const agent = evidence.userAgent ? factsOf(evidence.userAgent) : undefined;
  // A proxy by its own agent, or by its network when what comes from there looks like one (a bot or a bare request from
  // Google's or Microsoft's network is someone's script in their cloud, not the proxy).
  const proxy =
    agent?.known?.kind === "image-proxy"
      ? agent.known.name
      : (operator?.role === "image-proxy" || operator?.role === "mail-provider") && agent !== undefined && agent.bot === null
        ? `${operator.name}'s image proxy network (${asName(evidence.network!)})`
        : undefined;
  const seen: Seen = { evidence, operator, agent, proxy };
  for (const rule of RULES) {
    const detail = rule.test(seen);
    if (detail !== undefined) return { actor: REASONS[rule.reason].actor, reason: rule.reason, detail };
  }
  throw new Error("classify: the last rule always applies");
}

function isWithin(evidence: EngagementEvidence, seconds: number): boolean {
  return evidence.secondsAfterSend !== undefined && evidence.secondsAfterSend < seconds;
}

function asName(network: Network): string {
  return `AS${network.asn}`;
}

/** ", 2.1 s after it was sent": the timing every detail ends with when it is known. */
function after(evidence: EngagementEvidence): string {
  return evidence.secondsAfterSend === undefined ? "" : `, ${sinceSend(evidence)}`;
}

/** "2.1 s after it was sent"; a request a little before the send (clocks differ) reads as 0.0 s. */
function sinceSend(evidence: EngagementEvidence): string {
  return `${duration(Math.max(0, evidence.secondsAfterSend ?? 0))} after it was sent`;
}

function duration(seconds: number): string {
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${(seconds / 3600).toFixed(1)} h`;
  return `${Math.round(seconds / 86_400)} d`;
}

/**
 * Client families by user agent, most specific first (Outlook's agents also
 * say "Mozilla", Chrome's say "Safari"). No pattern backtracks: "does not say
 * Safari" is a separate test, not a lookahead behind a `.*`.
 */
const CLIENT_FAMILIES: ReadonlyArray<[RegExp | ((userAgent: string) => boolean), string]> = [
  [/Outlook-(?:iOS|Android)/, "Outlook mobile"],
  [/Microsoft Outlook|MacOutlook|ms-office|MSOffice/, "Outlook"],
  [/Thunderbird\//, "Thunderbird"],
  [/Android-Gmail/, "Gmail app"],
  [/Yahoo%20Mail|YahooMobileMail|jp\.co\.yahoo\.ymail/, "Yahoo Mail app"],
  [/eM ?Client\//, "eM Client"],
  [/Mailspring\//, "Mailspring"],
  [/BlueMail\//, "BlueMail"],
  [/^Outlook\/[\d.]+ CFNetwork\//, "Outlook"],
  [/Edg(?:e|A|iOS)?\//, "Edge"],
  [/OPR\/|Opera/, "Opera"],
  [/SamsungBrowser\//, "Samsung Internet"],
  [/Firefox\/|FxiOS\//, "Firefox"],
  [/Chrome\/|CriOS\//, "Chrome"],
  [(ua) => /iPhone|iPad/.test(ua) && ua.includes("AppleWebKit") && !ua.includes("Safari/"), "iPhone Mail"],
  [(ua) => ua.includes("Macintosh") && ua.includes("AppleWebKit") && !/(?:Safari|Chrome|Firefox)\//.test(ua), "Apple Mail"],
  [/Version\/[\d.]+.*Safari\//, "Safari"],
];

function clientFamily(userAgent: string): string {
  const family = CLIENT_FAMILIES.find(([pattern]) => (typeof pattern === "function" ? pattern(userAgent) : pattern.test(userAgent)))?.[1];
  if (!family) return "an unrecognised client";
  if ((family === "Chrome" || family === "Firefox") && /Android/.test(userAgent)) return `${family} on Android`;
  if (family === "Safari" || family === "Chrome") return /iPhone|iPad/.test(userAgent) ? `${family} on iOS` : family;
  return family;
}
