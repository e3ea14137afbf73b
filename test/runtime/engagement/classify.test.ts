import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BURST_SECONDS, classify, REASONS, type Actor, type EngagementEvidence, type ReasonCode } from "../../../runtime/engagement/classify.js";
import { OPERATORS, type Network } from "../../../runtime/engagement/networks.js";

/*
 * Sources. Every user agent below is copied verbatim from one of these files:
 *
 * [isbot-browsers] isbot's fixtures of real browsers and mail clients (isbot's own tests require them not to be bots):
 *   https://github.com/omrilotan/isbot/blob/344052da664bde49579e21f1e62349280791efb3/fixtures/browsers.yml
 * [isbot-crawlers] isbot's fixtures of real crawlers:
 *   https://github.com/omrilotan/isbot/blob/344052da664bde49579e21f1e62349280791efb3/fixtures/crawlers.yml
 * [isbot-uanet] user-agents.net's bot list as isbot downloads it:
 *   https://github.com/omrilotan/isbot/blob/344052da664bde49579e21f1e62349280791efb3/fixtures/downloaded/user-agents.net.json
 * [matomo-bots] Matomo device-detector's bot fixtures:
 *   https://github.com/matomo-org/device-detector/blob/3856a28692d45317d3f15f6f81ca31a06067182a/Tests/fixtures/bots.yml
 * [matomo-pim] Matomo device-detector's mail client (PIM) fixtures:
 *   https://github.com/matomo-org/device-detector/blob/3856a28692d45317d3f15f6f81ca31a06067182a/Tests/Parser/Client/fixtures/pim.yml
 *
 * Networks are given as the ASN that announces an address in the vendor's
 * published range (networks.test.ts checks that the bundled data agrees):
 *   Apple 17.0.0.0/8, Apple's own allocation (ARIN), AS714.
 *   Google 66.249.80.0/20, in Google's own ranges (https://www.gstatic.com/ipranges/goog.json), AS15169.
 *   Microsoft Exchange Online Protection 40.107.0.0/16 and 2a01:111:f400::/48
 *     (https://learn.microsoft.com/en-us/microsoft-365/enterprise/urls-and-ip-address-ranges), AS8075.
 *   Proofpoint 148.163.128.0/19 and 67.231.144.0/20 (https://help.proofpoint.com, "IP addresses to allow"), AS13916 and AS26211.
 *   Mimecast 205.139.110.0/24 and 207.211.30.0/24 (https://community.mimecast.com/s/article/Mimecast-Data-Centers-and-URLs), AS30031.
 *   Barracuda Email Security Service 64.235.144.0/20 and 209.222.80.0/21
 *     (https://campus.barracuda.com, "Barracuda Email Security Service IP ranges"), AS15324.
 *   Yahoo's mail proxies (https://senders.yahooinc.com/mail-proxy-servers) are on Yahoo's networks, e.g. AS26101.
 *   Ordinary people: Comcast AS7922 (73.0.0.0/8), Deutsche Telekom AS3320, T-Mobile US AS21928.
 */

const on = (asn: number): Network => ({ asn, operator: OPERATORS.get(asn) });
const APPLE = on(714);
const GOOGLE = on(15169);
const MICROSOFT = on(8075);
const PROOFPOINT = on(26211);
const PROOFPOINT_ESSENTIALS = on(13916);
const MIMECAST = on(30031);
const BARRACUDA = on(15324);
const YAHOO = on(26101);
const COMCAST = on(7922);
const TELEKOM = on(3320);
const T_MOBILE = on(21928);

const MINUTE = 60;
const HOUR = 3600;

const UA = {
  /**
   * Apple publishes no user agent for Mail Privacy Protection; ESPs report its
   * fetches as a bare "Mozilla/5.0" from Apple's network. The rule rests on the
   * network (SocketLabs, https://help.socketlabs.com/docs/identifying-apple-mpp-opens-in-notification-api-events:
   * Apple downloads every image of a new message through its proxies when Mail fetches it).
   */
  appleMpp: "Mozilla/5.0",
  /** [isbot-browsers] "Webkit": Apple Mail on macOS (WebKit without a Safari token). */
  appleMailMac: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_5) AppleWebKit/605.1.15 (KHTML, like Gecko)",
  /** [isbot-browsers] "Webkit": Mail on iPhone. */
  iphoneMail: "Mozilla/5.0 (iPhone; CPU iPhone OS 12_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
  /** [isbot-crawlers] and [matomo-bots] "Gmail Image Proxy"; Google: https://support.google.com/mail/answer/145919. */
  googleImageProxy: "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
  /** [matomo-bots] "Yahoo! Mail Proxy"; the URL in it is Yahoo's own page about the proxy. */
  yahooMailProxy: "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html",
  /** [isbot-uanet]: the agent as Yahoo sends it now, naming senders.yahooinc.com. */
  yahooMailProxyNow: "YahooMailProxy; https://senders.yahooinc.com/mail-proxy-servers",
  /** [matomo-bots] "Barracuda Sentinel" (https://sentinel.barracudanetworks.com/). */
  barracudaSentinel: "Barracuda Sentinel (EE)",
  /** [isbot-uanet]: Office's probe of a link before it opens it. */
  officeExistenceDiscovery: "Microsoft Office Existence Discovery",
  /** [isbot-browsers] "Outlook": Outlook 2010 on Windows. */
  outlookDesktop: "Microsoft Office/14.0 (Windows NT 6.1; Microsoft Outlook 14.0.7143; Pro)",
  /** [matomo-pim]: Outlook 2016+ on Windows. */
  outlook2016: "Microsoft Office/16.0 (Microsoft Outlook 16.0.12329; Pro), Mozilla/4.0 (compatible; ms-office; MSOffice 16)",
  /** [isbot-browsers] "Outlook": Outlook for iOS. */
  outlookIos: "Outlook-iOS/709.2189947.prod.iphone (3.24.0)",
  /** [isbot-browsers] "Thunderbird". */
  thunderbird: "Mozilla/5.0 (Windows NT 10.0; WOW64; rv:60.0) Gecko/20100101 Thunderbird/60.7.0 Lightning/6.2.7",
  /** [isbot-browsers] "Safari": Safari on iPhone. */
  iphoneSafari: "Mozilla/5.0 (iPhone; CPU iPhone OS 13_2_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.0.3 Mobile/15E148 Safari/604.1",
  /** [isbot-browsers] "Google Pixel": Chrome on Android. */
  androidChrome: "Mozilla/5.0 (Linux; Android 13; Pixel 6) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/104.0.0.0 Mobile Safari/537.36",
  /** [matomo-pim] "Gmail": the Gmail app on Android. */
  gmailApp: "Android-Gmail/64562652 (sw411dp; 420dpi) (r7 TP1A.220624.014)",
  /** [isbot-browsers] "Chrome": Chrome on Windows, the agent Safe Links' and gateways' sandboxes present too. */
  windowsChrome: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/74.0.3729.169 Safari/537.36",
  /** [isbot-browsers] "Firefox". */
  windowsFirefox: "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:100.0) Gecko/20100101 Firefox/100.0",
  /** [isbot-browsers] "Edge". */
  windowsEdge: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/81.0.4044.113 Safari/537.36 Edg/81.0.416.62",
  /** [isbot-crawlers]: a headless browser. */
  headlessChrome: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/100.0.4896.88 Safari/537.36",
  /** [isbot-crawlers]: an HTTP library. */
  curl: "curl/7.64.1",
  /** [matomo-pim] mail clients isbot takes for bots (an app's HTTP library, "Yahoo", no "Mozilla"). */
  yahooMailIos: "Yahoo%20Mail/49268 CFNetwork/1121.2.2 Darwin/19.3.0",
  outlookMacCfNetwork: "Outlook/16.16.18071205 CFNetwork/902.1 Darwin/17.7.0 (x86_64)",
  emClient: "eMClient/9.3.6041.0",
  mailspring: "Mozilla/5.0 (Windows NT 10.0; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Mailspring/1.7.4 Chrome/69.0.3497.128 Electron/4.2.2 Safari/537.36",
  /** [isbot-crawlers] a script's HTTP library. */
  pythonRequests: "python-requests/2.31.0",
  /** [isbot-browsers] "ABrowse": a real browser mk does not name. */
  abrowse: "Mozilla/5.0 (compatible; U; ABrowse 0.6; Syllable) AppleWebKit/420+ (KHTML, like Gecko)",
} as const;

interface Case {
  name: string;
  evidence: EngagementEvidence;
  actor: Actor;
  reason: ReasonCode;
  /** What the detail line must say. */
  detail?: RegExp;
}

const open = (userAgent: string | undefined, network: Network | undefined, secondsAfterSend: number | undefined, extra: Partial<EngagementEvidence> = {}): EngagementEvidence => ({
  kind: "open",
  method: "GET",
  userAgent,
  hasAddress: network !== undefined,
  network,
  secondsAfterSend,
  ...extra,
});
const click = (userAgent: string | undefined, network: Network | undefined, secondsAfterSend: number | undefined, extra: Partial<EngagementEvidence> = {}): EngagementEvidence => ({
  ...open(userAgent, network, secondsAfterSend),
  kind: "click",
  otherLinksInBurst: 0,
  clickedBeforeOpen: false,
  ...extra,
});

const FINGERPRINTS: Case[] = [
  // Apple Mail Privacy Protection
  { name: "MPP's prefetch on delivery", evidence: open(UA.appleMpp, APPLE, 2.5), actor: "machine", reason: "apple-privacy-proxy", detail: /^Apple's network \(AS714\) with its bare "Mozilla\/5\.0" agent, 2\.5 s after it was sent$/ },
  { name: "MPP fetching again hours later", evidence: open(UA.appleMpp, APPLE, 3 * HOUR), actor: "machine", reason: "apple-privacy-proxy" },
  { name: "an open from Apple's network with Apple Mail's own agent", evidence: open(UA.appleMailMac, APPLE, 40 * MINUTE), actor: "machine", reason: "apple-privacy-proxy" },
  { name: "Apple Mail on macOS with MPP off", evidence: open(UA.appleMailMac, COMCAST, 40 * MINUTE), actor: "human", reason: "ordinary-client", detail: /^Apple Mail, 40 min after it was sent$/ },
  { name: "iPhone Mail with MPP off", evidence: open(UA.iphoneMail, T_MOBILE, 2 * HOUR), actor: "human", reason: "ordinary-client", detail: /^iPhone Mail, 2\.0 h/ },
  // Gmail
  { name: "Gmail's proxy when the reader opens", evidence: open(UA.googleImageProxy, GOOGLE, 35 * MINUTE), actor: "human", reason: "image-proxy-open", detail: /^Gmail's image proxy \(GoogleImageProxy\), 35 min after it was sent$/ },
  { name: "Gmail's proxy on delivery", evidence: open(UA.googleImageProxy, GOOGLE, 1.5), actor: "machine", reason: "image-proxy-prefetch", detail: /before anyone could open it/ },
  { name: "Gmail's proxy agent with the address unknown (an SES open)", evidence: open(UA.googleImageProxy, undefined, 6 * HOUR), actor: "human", reason: "image-proxy-open" },
  { name: "a click from Google's network (Gmail's link check)", evidence: click(UA.windowsChrome, GOOGLE, 30), actor: "machine", reason: "provider-link-check", detail: /^clicked from Google's network \(AS15169\)/ },
  // Yahoo
  { name: "Yahoo's proxy when the reader opens", evidence: open(UA.yahooMailProxy, YAHOO, 2 * HOUR), actor: "human", reason: "image-proxy-open", detail: /^Yahoo Mail's image proxy \(YahooMailProxy\)/ },
  { name: "Yahoo's proxy, current agent, on delivery", evidence: open(UA.yahooMailProxyNow, YAHOO, 0.8), actor: "machine", reason: "image-proxy-prefetch" },
  // Microsoft
  { name: "Safe Links detonating a link on delivery", evidence: click(UA.windowsChrome, MICROSOFT, 3), actor: "machine", reason: "provider-link-check", detail: /^clicked from Microsoft's network \(AS8075\), 3\.0 s after it was sent$/ },
  { name: "Safe Links re-checking a link hours later", evidence: click(UA.windowsEdge, MICROSOFT, 5 * HOUR), actor: "machine", reason: "provider-link-check" },
  // Outlook.com's proxy publishes no agent: an open from Microsoft's network with none cannot be told from a script in Azure.
  { name: "an open from Microsoft's network with no user agent", evidence: open(undefined, MICROSOFT, 20 * MINUTE), actor: "unknown", reason: "no-user-agent", detail: /^no user agent, from AS8075/ },
  { name: "an open from Microsoft's network with a mail client's agent", evidence: open(UA.outlookDesktop, MICROSOFT, 20 * MINUTE), actor: "human", reason: "image-proxy-open", detail: /^Microsoft's image proxy network \(AS8075\)/ },
  { name: "Defender rendering the message on delivery", evidence: open(UA.windowsChrome, MICROSOFT, 2), actor: "machine", reason: "image-proxy-prefetch" },
  { name: "Office probing a link", evidence: click(UA.officeExistenceDiscovery, COMCAST, 4 * HOUR), actor: "machine", reason: "security-scanner-agent", detail: /^Microsoft Office's link probe/ },
  // Mail security gateways
  { name: "Proofpoint following a link", evidence: click(UA.windowsChrome, PROOFPOINT, 4), actor: "machine", reason: "security-scanner-network", detail: /^from Proofpoint's network \(AS26211\), 4\.0 s after it was sent$/ },
  { name: "Proofpoint Essentials loading the pixel", evidence: open(UA.windowsChrome, PROOFPOINT_ESSENTIALS, 12), actor: "machine", reason: "security-scanner-network" },
  { name: "Mimecast re-scanning a link at a person's pace", evidence: click(UA.windowsFirefox, MIMECAST, 20 * MINUTE), actor: "machine", reason: "security-scanner-network", detail: /^from Mimecast's network/ },
  { name: "Mimecast loading the pixel", evidence: open(UA.windowsChrome, MIMECAST, 3), actor: "machine", reason: "security-scanner-network" },
  { name: "Barracuda's network", evidence: click(UA.windowsChrome, BARRACUDA, 6), actor: "machine", reason: "security-scanner-network", detail: /^from Barracuda's network \(AS15324\)/ },
  { name: "Barracuda Sentinel by its agent, network unknown", evidence: click(UA.barracudaSentinel, undefined, 90), actor: "machine", reason: "security-scanner-agent", detail: /^Barracuda Sentinel, 90 s after it was sent$/ },
  // People's clients, at a person's pace
  { name: "Outlook on Windows", evidence: open(UA.outlookDesktop, TELEKOM, 25 * MINUTE), actor: "human", reason: "ordinary-client", detail: /^Outlook, 25 min after it was sent$/ },
  { name: "Outlook 2016", evidence: open(UA.outlook2016, COMCAST, 3 * HOUR), actor: "human", reason: "ordinary-client", detail: /^Outlook, / },
  { name: "Outlook for iOS", evidence: open(UA.outlookIos, T_MOBILE, 50 * MINUTE), actor: "human", reason: "ordinary-client", detail: /^Outlook mobile, / },
  { name: "Thunderbird", evidence: open(UA.thunderbird, TELEKOM, 8 * HOUR), actor: "human", reason: "ordinary-client", detail: /^Thunderbird, 8\.0 h after it was sent$/ },
  { name: "the Gmail app", evidence: open(UA.gmailApp, T_MOBILE, 15 * MINUTE), actor: "human", reason: "ordinary-client", detail: /^Gmail app, / },
  { name: "a click in Safari on iPhone", evidence: click(UA.iphoneSafari, T_MOBILE, 12 * MINUTE), actor: "human", reason: "ordinary-client", detail: /^Safari on iOS, 12 min after it was sent$/ },
  { name: "a click in Chrome on Android", evidence: click(UA.androidChrome, T_MOBILE, 3 * 86_400), actor: "human", reason: "ordinary-client", detail: /^Chrome on Android, 3 d after it was sent$/ },
  { name: "a click in Chrome on Windows", evidence: click(UA.windowsChrome, COMCAST, 45 * MINUTE), actor: "human", reason: "ordinary-client", detail: /^Chrome, / },
  { name: "a click in Edge", evidence: click(UA.windowsEdge, TELEKOM, 2 * HOUR), actor: "human", reason: "ordinary-client", detail: /^Edge, / },
  { name: "a click in Firefox", evidence: click(UA.windowsFirefox, COMCAST, 2 * HOUR), actor: "human", reason: "ordinary-client", detail: /^Firefox, / },
  // Bots isbot knows
  { name: "a headless browser", evidence: click(UA.headlessChrome, COMCAST, 2 * HOUR), actor: "machine", reason: "bot-user-agent", detail: /^the user agent matches isbot's "Headless"/ },
  { name: "an HTTP library", evidence: click(UA.curl, COMCAST, 2 * HOUR), actor: "machine", reason: "bot-user-agent", detail: /"curl\/7\.64\.1"/ },
];

const TIMING: Case[] = [
  { name: "a HEAD request for a link", evidence: click(UA.windowsChrome, COMCAST, 2 * HOUR, { method: "HEAD" }), actor: "machine", reason: "head-request", detail: /^a HEAD request, 2\.0 h after it was sent$/ },
  { name: "a HEAD request for the pixel", evidence: open(UA.outlookDesktop, COMCAST, 2 * HOUR, { method: "HEAD" }), actor: "machine", reason: "head-request" },
  { name: "a browser click 2.1 s after the send", evidence: click(UA.windowsChrome, COMCAST, 2.1), actor: "machine", reason: "soon-after-send", detail: /^clicked 2\.1 s after it was sent$/ },
  { name: "a click just under 10 s", evidence: click(UA.iphoneSafari, T_MOBILE, 9.9), actor: "machine", reason: "soon-after-send" },
  { name: "a click at 10 s", evidence: click(UA.iphoneSafari, T_MOBILE, 10), actor: "human", reason: "ordinary-client" },
  { name: "a click stamped before the send (clocks differ)", evidence: click(UA.windowsChrome, COMCAST, -0.4), actor: "machine", reason: "soon-after-send", detail: /^clicked 0\.0 s after it was sent$/ },
  { name: "a client's open 3 s after the send", evidence: open(UA.outlookDesktop, TELEKOM, 3), actor: "machine", reason: "soon-after-send", detail: /^opened 3\.0 s after it was sent$/ },
  { name: "a client's open at 6 s", evidence: open(UA.outlookDesktop, TELEKOM, 6), actor: "human", reason: "ordinary-client" },
  { name: "a second link within the burst", evidence: click(UA.windowsChrome, COMCAST, 40, { otherLinksInBurst: 1 }), actor: "machine", reason: "link-burst", detail: new RegExp(`^clicked with 1 other link of the message within ${BURST_SECONDS} s, 40 s after it was sent$`) },
  { name: "every link of a message", evidence: click(UA.windowsChrome, COMCAST, 3 * HOUR, { otherLinksInBurst: 4 }), actor: "machine", reason: "link-burst", detail: /with 4 other links/ },
  { name: "a click before any open, a minute after the send", evidence: click(UA.windowsChrome, COMCAST, 60, { clickedBeforeOpen: true }), actor: "machine", reason: "click-before-open", detail: /^clicked 60 s after it was sent with no open before it$/ },
  { name: "a click before any open, hours later (images blocked)", evidence: click(UA.outlookDesktop, COMCAST, 3 * HOUR, { clickedBeforeOpen: true }), actor: "human", reason: "ordinary-client" },
  { name: "a click a minute after the send in a message with no pixel", evidence: click(UA.windowsChrome, COMCAST, 60, { clickedBeforeOpen: undefined }), actor: "human", reason: "ordinary-client" },
  { name: "a person's later click after a scanner's burst", evidence: click(UA.windowsChrome, COMCAST, 2 * HOUR), actor: "human", reason: "ordinary-client", detail: /^Chrome, 2\.0 h after it was sent$/ },
  { name: "neither user agent nor address", evidence: click(undefined, undefined, undefined), actor: "unknown", reason: "no-evidence", detail: /^no user agent and no address$/ },
  { name: "an address but no user agent", evidence: click(undefined, COMCAST, 2 * HOUR), actor: "unknown", reason: "no-user-agent", detail: /^no user agent, from AS7922, 2\.0 h after it was sent$/ },
  { name: "an address outside the ASN data and no user agent", evidence: { kind: "open", method: "GET", hasAddress: true }, actor: "unknown", reason: "no-user-agent" },
  { name: "your system's click, posted with neither", evidence: { ...click(undefined, undefined, undefined), reported: true }, actor: "human", reason: "reported", detail: /^posted to POST \/v1\/events with no user agent$/ },
  { name: "your system's click from a security gateway's address", evidence: { ...click(undefined, PROOFPOINT, HOUR), reported: true }, actor: "machine", reason: "security-scanner-network" },
  { name: "your system's click with a bot's user agent", evidence: { ...click("python-requests/2.32.3", undefined, undefined), reported: true }, actor: "machine", reason: "bot-user-agent" },
  { name: "a user agent, no address, no send time (an ingested event)", evidence: click(UA.androidChrome, undefined, undefined, { otherLinksInBurst: undefined, clickedBeforeOpen: undefined }), actor: "human", reason: "ordinary-client", detail: /^Chrome on Android$/ },
  { name: "an unrecognised but ordinary agent", evidence: click(UA.abrowse, COMCAST, HOUR), actor: "human", reason: "ordinary-client", detail: /^an unrecognised client, / },
  { name: "a click 3 s after a transactional message was sent (a sign-in link)", evidence: click(UA.windowsChrome, COMCAST, 3, { transactional: true }), actor: "human", reason: "ordinary-client" },
  { name: "a click before any open of a transactional message, a minute after", evidence: click(UA.windowsChrome, COMCAST, 60, { clickedBeforeOpen: true, transactional: true }), actor: "human", reason: "ordinary-client" },
  { name: "a script in Microsoft's cloud fetching the pixel", evidence: open(UA.pythonRequests, MICROSOFT, HOUR), actor: "machine", reason: "bot-user-agent" },
  { name: "a bare request from Google's network", evidence: open(undefined, GOOGLE, HOUR), actor: "unknown", reason: "no-user-agent" },
  { name: "Yahoo Mail's iOS app", evidence: open(UA.yahooMailIos, T_MOBILE, HOUR), actor: "human", reason: "ordinary-client", detail: /^Yahoo Mail app/ },
  { name: "Outlook for Mac's CFNetwork agent", evidence: click(UA.outlookMacCfNetwork, COMCAST, HOUR), actor: "human", reason: "ordinary-client", detail: /^Outlook,/ },
  { name: "eM Client", evidence: open(UA.emClient, TELEKOM, HOUR), actor: "human", reason: "ordinary-client", detail: /^eM Client,/ },
  { name: "Mailspring", evidence: open(UA.mailspring, TELEKOM, HOUR), actor: "human", reason: "ordinary-client", detail: /^Mailspring,/ },
];

describe("classify: real request fingerprints", { timeout: 10_000 }, () => {
  for (const c of FINGERPRINTS) {
    it(`${c.name} → ${c.actor} (${c.reason})`, { timeout: 5_000 }, () => check(c));
  }
});

describe("classify: timing, bursts, HEAD and missing evidence", { timeout: 10_000 }, () => {
  for (const c of TIMING) {
    it(`${c.name} → ${c.actor} (${c.reason})`, { timeout: 5_000 }, () => check(c));
  }
});

describe("classify: what a request can make it cost", { timeout: 10_000 }, () => {
  it("reads at most 512 characters of a user agent, so 15 KB built to make the patterns backtrack costs what a real one does", { timeout: 5_000 }, () => {
    const started = performance.now();
    for (let i = 0; i < 20; i++) classify(click(`${i}${"iPhoneAppleWebKit".repeat(900)}Safari/`, COMCAST, HOUR));
    assert.ok(performance.now() - started < 500, `20 crafted agents took ${(performance.now() - started).toFixed(0)} ms`);
  });
});

describe("classify: the reasons", { timeout: 10_000 }, () => {
  it("every reason is reached by some case, and each has its own label", { timeout: 5_000 }, () => {
    const reached = new Set([...FINGERPRINTS, ...TIMING].map((c) => classify(c.evidence).reason));
    assert.deepEqual([...reached].sort(), Object.keys(REASONS).sort());
    const labels = Object.values(REASONS).map((r) => r.label);
    assert.equal(new Set(labels).size, labels.length);
  });

  it("the networks these cases use are the operators the table names", { timeout: 5_000 }, () => {
    assert.deepEqual(
      [APPLE, GOOGLE, MICROSOFT, PROOFPOINT, PROOFPOINT_ESSENTIALS, MIMECAST, BARRACUDA, YAHOO].map((n) => `${n.operator?.name}:${n.operator?.role}`),
      ["Apple:privacy-proxy", "Google:image-proxy", "Microsoft:mail-provider", "Proofpoint:mail-security", "Proofpoint:mail-security", "Mimecast:mail-security", "Barracuda:mail-security", "Yahoo:image-proxy"],
    );
    assert.deepEqual([COMCAST, TELEKOM, T_MOBILE].map((n) => n.operator), [undefined, undefined, undefined]);
  });
});

function check(c: Case): void {
  const result = classify(c.evidence);
  assert.deepEqual({ actor: result.actor, reason: result.reason }, { actor: c.actor, reason: c.reason }, result.detail);
  assert.equal(REASONS[result.reason].actor, result.actor);
  if (c.detail) assert.match(result.detail, c.detail);
}
