import type { FastifyRequest } from "fastify";
import type { CountryLookup } from "../events/geoip.js";
import type { Classification, EngagementEvidence } from "./classify.js";
import { storedAddress, validAddress, type IpSetting } from "./ip-privacy.js";
import type { Network, NetworkLookup } from "./networks.js";

/** Where the pixel and the click routes look an address up: its network (MK_ASN_DB) and its country (MK_GEOIP_DB). */
export interface AddressLookups {
  /** The ASN lookup, read once per process (runtime/engagement/networks.ts); undefined when MK_ASN_DB is off. */
  networks: () => Promise<NetworkLookup | undefined>;
  countryOf?: CountryLookup | undefined;
}

/** The most of a user agent an event keeps in its data; the classification reads all of it. */
const USER_AGENT_CHARS = 512;

/** A user agent as an open's or click's event keeps it. */
export function storedUserAgent(userAgent: string | undefined): string | undefined {
  return userAgent?.slice(0, USER_AGENT_CHARS);
}

/** What an open's or click's request shows of whoever sent it. */
export interface RequestSeen {
  method: "GET" | "HEAD";
  userAgent?: string | undefined;
  /** The client's address (request.ip: the socket's peer, or X-Forwarded-For from an MK_TRUST_PROXY peer). */
  ip?: string | undefined;
  network?: Network | undefined;
}

export async function requestSeen(request: FastifyRequest, lookups: AddressLookups): Promise<RequestSeen> {
  const ip = validAddress(request.ip);
  const networks = await lookups.networks();
  const userAgent = request.headers["user-agent"];
  return { method: request.method === "HEAD" ? "HEAD" : "GET", userAgent: userAgent === "" ? undefined : userAgent, ip, network: ip === undefined ? undefined : networks?.(ip) };
}

/** The evidence classify() weighs: the request's, and what the send's history adds. */
export function evidenceOf(
  kind: EngagementEvidence["kind"],
  seen: RequestSeen,
  history: Pick<EngagementEvidence, "secondsAfterSend" | "otherLinksInBurst" | "clickedBeforeOpen">,
): EngagementEvidence {
  return { kind, method: seen.method, userAgent: seen.userAgent, hasAddress: seen.ip !== undefined, network: seen.network, ...history };
}

/**
 * The columns an open or click event stores of its request: the address as
 * `tracking.ip` says, the country (the subscriber's, else the whole
 * address's, looked up before it is truncated or dropped), the actor and
 * what told it.
 */
export function engagementColumns(seen: RequestSeen, classification: Classification, setting: IpSetting, subscriberCountry: string | null, lookups: AddressLookups): EngagementColumns {
  return {
    ip: storedAddress(seen.ip, setting),
    country: subscriberCountry ?? (seen.ip === undefined ? null : (lookups.countryOf?.(seen.ip) ?? null)),
    actor: classification.actor,
    reason: classification.reason,
    data: { userAgent: storedUserAgent(seen.userAgent), asn: seen.network?.asn, detail: classification.detail },
  };
}

export interface EngagementColumns {
  ip: string | null;
  country: string | null;
  actor: Classification["actor"];
  reason: Classification["reason"];
  /** Merged into the event's data; undefined fields are left out. */
  data: { userAgent?: string | undefined; asn?: number | undefined; detail: string };
}
