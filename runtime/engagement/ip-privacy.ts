import { isIP } from "node:net";
import type { Project } from "../../schemas/project.js";

/** What is stored of an open's or click's address (mk.yaml `tracking.ip`), once it was classified and its country found. */
export type IpSetting = Project["tracking"]["ip"];

/** The text when it is an IPv4 or IPv6 address, else undefined. */
export function validAddress(text: string | undefined): string | undefined {
  return text !== undefined && isIP(text) !== 0 ? text : undefined;
}

/** An IPv4 address as an IPv6 socket reports it (`::ffff:192.0.2.1`). */
const MAPPED_IPV4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/**
 * The address as events.ip keeps it: all of it, its /24 (IPv4) or /48
 * (IPv6) network, the prefixes that still tell the network and the country
 * but no longer a household, or nothing. Undefined or unparsable: nothing.
 */
export function storedAddress(ip: string | undefined, setting: IpSetting): string | null {
  if (ip === undefined || setting === "drop") return null;
  const address = ip.replace(/%.*$/, "");
  const ipv4 = MAPPED_IPV4.exec(address)?.[1] ?? (isIP(address) === 4 ? address : undefined);
  if (ipv4 !== undefined) return isIP(ipv4) === 4 ? (setting === "keep" ? ipv4 : ipv4.replace(/\.\d+$/, ".0")) : null;
  if (isIP(address) !== 6) return null;
  return setting === "keep" ? address : `${hextets(address).slice(0, 3).map((group) => parseInt(group, 16).toString(16)).join(":")}::`;
}

/** The eight groups of a valid IPv6 address, "::" expanded and a trailing dotted quad as two groups. */
function hextets(address: string): string[] {
  const dotted = /^(.*:)(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(address);
  const text = dotted ? `${dotted[1]}${((Number(dotted[2]) << 8) | Number(dotted[3])).toString(16)}:${((Number(dotted[4]) << 8) | Number(dotted[5])).toString(16)}` : address;
  const [head = "", tail] = text.split("::");
  const first = head === "" ? [] : head.split(":");
  const last = tail === undefined || tail === "" ? [] : tail.split(":");
  return [...first, ...Array<string>(tail === undefined ? 0 : 8 - first.length - last.length).fill("0"), ...last];
}
