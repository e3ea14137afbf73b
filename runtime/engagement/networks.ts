import { open, readFile, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Reader, validate, type Response } from "maxmind";
import { ConfigError } from "../config.js";

/**
 * The network (autonomous system) an IP address belongs to, and whether mk
 * knows its operator as a mail proxy or scanner. The default data is
 * ip-location-db's ASN files shipped with mk (@ip-location-db/asn: RouteViews
 * and DB-IP's IP to ASN Lite, CC BY 4.0). MK_ASN_DB names a directory holding
 * ip-location-db's asn-ipv4-num.csv and/or asn-ipv6-num.csv, a MaxMind
 * GeoLite2-ASN .mmdb file, or "off".
 *
 * The CSV files (33 MB) become sorted typed arrays searched by bisection:
 * IPv4 bounds as 32-bit numbers, IPv6 bounds as their top 64 bits (providers
 * get /32s to /48s, so nothing is lost that decides an operator), and the ASN
 * alongside. Organisation names are kept only for the operators below.
 */
export type NetworkRole = "privacy-proxy" | "image-proxy" | "mail-security" | "mail-provider";
export interface Operator { name: string; role: NetworkRole }
export interface Network { asn: number; organization?: string | undefined; operator?: Operator | undefined }
export type NetworkLookup = (ip: string) => Network | undefined;

/**
 * The operators mk knows, each with the ASNs it announces its machines from.
 * Only networks whose traffic to a pixel or a link is a mail system's own are
 * listed. Left out on purpose: general clouds (AWS, Azure customers' ExpressRoute
 * AS12076, Google Cloud's AS396982 and AS19527, DigitalOcean, Hetzner), Google
 * Fiber (16591, 32381), Google's public Wi-Fi (36492) and office networks
 * (36383, 36384, 36411, 41264, 395973), corporate web proxies (Zscaler,
 * Forcepoint's and Check Point's SSE networks) and VPN hosters: people read
 * mail and click through all of them.
 */
const OPERATOR_TABLE: ReadonlyArray<{ name: string; role: NetworkRole; asns: readonly number[] }> = [
  // Mail Privacy Protection fetches every image of every message on delivery from Apple's own network.
  { name: "Apple", role: "privacy-proxy", asns: [714, 6185] },
  // GoogleImageProxy (Gmail) fetches when the reader opens; the same network runs Gmail's link checks.
  { name: "Google", role: "image-proxy", asns: [15169, 36040] },
  // YahooMailProxy serves Yahoo Mail and AOL Mail (one platform under Oath/Yahoo) when the reader opens.
  {
    name: "Yahoo",
    role: "image-proxy",
    asns: [10310, 26101, 36646, 36647, 7280, 34010, 10229, 23879, 56173, 24506, 7233, 5779, 10880, 14196, 14776, 14777, 14778, 14779, 14780, 16515, 36088, 36229, 36752, 393245],
  },
  // Outlook.com's image proxy fetches on open; Defender for Office 365 Safe Links detonates links from here.
  { name: "Microsoft", role: "mail-provider", asns: [8075, 8068, 8069, 8070, 8071, 3598, 35106] },
  // Mail security gateways: they fetch images and follow every link while deciding whether to deliver.
  { name: "Proofpoint", role: "mail-security", asns: [22843, 26211, 52129, 13916] },
  { name: "Mimecast", role: "mail-security", asns: [30031, 33538, 397726, 42427, 39588, 60492, 208638, 37235, 136792] },
  { name: "Barracuda", role: "mail-security", asns: [15324] },
  { name: "Cisco IronPort", role: "mail-security", asns: [16417, 30238, 30215, 40427] },
  { name: "Trend Micro", role: "mail-security", asns: [16880] },
  { name: "Forcepoint", role: "mail-security", asns: [44444] },
  { name: "Check Point", role: "mail-security", asns: [31997] },
  { name: "Trustwave", role: "mail-security", asns: [33151] },
  { name: "Symantec MessageLabs", role: "mail-security", asns: [7583, 328301] },
  { name: "AppRiver", role: "mail-security", asns: [53780] },
  { name: "Zix", role: "mail-security", asns: [13380, 59519] },
  { name: "Hornetsecurity", role: "mail-security", asns: [401943] },
  { name: "Retarus", role: "mail-security", asns: [48328] },
];

/** The operators mk knows, by ASN: the table a reviewer reads. */
export const OPERATORS: ReadonlyMap<number, Operator> = new Map(
  OPERATOR_TABLE.flatMap(({ name, role, asns }) => {
    const operator: Operator = Object.freeze({ name, role });
    return asns.map((asn) => [asn, operator] as const);
  }),
);

/** Loaded once per process per setting (a cached promise), lazily on first call; undefined when setting is "off". */
export function networkLookup(setting: string | undefined): Promise<NetworkLookup | undefined> {
  if (setting === "off") return Promise.resolve(undefined);
  const key = setting ?? "";
  let loading = loaded.get(key);
  if (!loading) {
    loading = setting === undefined ? loadCsvDirectory(bundledAsnDirectory(), "the bundled ASN data") : loadSetting(setting);
    loaded.set(key, loading);
  }
  return loading;
}

const loaded = new Map<string, Promise<NetworkLookup>>();

function bundledAsnDirectory(): string {
  return dirname(createRequire(import.meta.url).resolve("@ip-location-db/asn/package.json"));
}

const IPV4_FILE = "asn-ipv4-num.csv";
const IPV6_FILE = "asn-ipv6-num.csv";

async function loadSetting(path: string): Promise<NetworkLookup> {
  if (path.endsWith(".mmdb")) return loadMaxMind(path);
  const found = await stat(path).catch((error: Error) => {
    throw new ConfigError([`MK_ASN_DB cannot be read (${path}): ${error.message}`]);
  });
  if (!found.isDirectory()) {
    throw new ConfigError([`MK_ASN_DB must name a directory holding ${IPV4_FILE} and ${IPV6_FILE}, a GeoLite2-ASN .mmdb file, or off (${path})`]);
  }
  return loadCsvDirectory(path, `MK_ASN_DB (${path})`);
}

// ---------------------------------------------------------------- ip-location-db CSV

/** One address family's ranges, sorted and disjoint: bisect `starts`, then check `ends`. */
interface RangeTable<T extends Uint32Array | BigUint64Array> { starts: T; ends: T; asns: Uint32Array }

async function loadCsvDirectory(directory: string, source: string): Promise<NetworkLookup> {
  const v4Path = join(directory, IPV4_FILE);
  const v6Path = join(directory, IPV6_FILE);
  const [has4, has6] = await Promise.all([exists(v4Path), exists(v6Path)]);
  if (!has4 && !has6) throw new ConfigError([`${source} holds neither ${IPV4_FILE} nor ${IPV6_FILE} (${directory})`]);
  const organizations = new Map<number, string>();
  const v4 = has4 ? await readRanges(v4Path, new Ipv4Builder(), organizations) : undefined;
  const v6 = has6 ? await readRanges(v6Path, new Ipv6Builder(), organizations) : undefined;
  const networks = networkCache(organizations);
  return (ip) => {
    const address = parseAddress(ip);
    if (address === undefined) return undefined;
    const asn = typeof address === "number" ? (v4 && find(v4, address)) : (v6 && find(v6, address));
    return asn ? networks(asn) : undefined;
  };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isFile(), () => false);
}

function find<T extends Uint32Array | BigUint64Array>(table: RangeTable<T>, address: T[number]): number | undefined {
  const { starts, ends, asns } = table;
  let low = 0;
  let high = starts.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    if (starts[middle]! <= address) low = middle + 1;
    else high = middle - 1;
  }
  return high >= 0 && address <= ends[high]! ? asns[high] : undefined;
}

/** One Network object per ASN, made on first use: lookups allocate nothing after that. */
function networkCache(organizations: ReadonlyMap<number, string>): (asn: number) => Network {
  const made = new Map<number, Network>();
  return (asn) => {
    let network = made.get(asn);
    if (!network) {
      network = Object.freeze({ asn, organization: organizations.get(asn), operator: OPERATORS.get(asn) });
      made.set(asn, network);
    }
    return network;
  };
}

/** Grows typed arrays as lines arrive and keeps them sorted and disjoint (later overlaps are clipped). */
abstract class RangeBuilder<T extends Uint32Array | BigUint64Array> {
  protected length = 0;
  protected capacity = 1 << 16;
  protected abstract starts: T;
  protected abstract ends: T;
  protected asns = new Uint32Array(this.capacity);
  /** Parses a decimal bound from bytes [from, to); undefined when it is not a number in range. */
  abstract bound(bytes: Buffer, from: number, to: number): T[number] | undefined;
  abstract grow(capacity: number): void;
  abstract next(value: T[number]): T[number];

  /** Returns false when the range comes before the previous one: the file is not sorted. */
  add(start: T[number], end: T[number], asn: number): boolean {
    const last = this.length - 1;
    if (last >= 0) {
      const previousEnd = this.ends[last]!;
      if (start < this.starts[last]!) return false;
      if (start <= previousEnd) {
        if (end <= previousEnd) return true;
        start = this.next(previousEnd);
      }
      if (asn === this.asns[last] && start === this.next(previousEnd)) {
        this.ends[last] = end;
        return true;
      }
    }
    if (this.length === this.capacity) {
      this.capacity *= 2;
      this.grow(this.capacity);
      const asns = new Uint32Array(this.capacity);
      asns.set(this.asns);
      this.asns = asns;
    }
    this.starts[this.length] = start;
    this.ends[this.length] = end;
    this.asns[this.length] = asn;
    this.length += 1;
    return true;
  }

  table(): RangeTable<T> {
    return { starts: this.starts.slice(0, this.length) as T, ends: this.ends.slice(0, this.length) as T, asns: this.asns.slice(0, this.length) };
  }
}

const POWERS_OF_TEN = [1, 10, 100, 1000, 10000];
const TWO_32 = 1n << 32n;

/** A decimal number from bytes [from, to); NaN when empty, too long or not all digits. */
function decimal(bytes: Buffer, from: number, to: number): number {
  if (to <= from || to - from > 10) return Number.NaN;
  let value = 0;
  for (let i = from; i < to; i += 1) {
    const digit = bytes[i]! - 0x30;
    if (digit < 0 || digit > 9) return Number.NaN;
    value = value * 10 + digit;
  }
  return value;
}

class Ipv4Builder extends RangeBuilder<Uint32Array> {
  protected starts = new Uint32Array(this.capacity);
  protected ends = new Uint32Array(this.capacity);
  bound(bytes: Buffer, from: number, to: number): number | undefined {
    const value = decimal(bytes, from, to);
    return value <= 0xffffffff ? value : undefined;
  }
  grow(capacity: number): void {
    const starts = new Uint32Array(capacity);
    starts.set(this.starts);
    this.starts = starts;
    const ends = new Uint32Array(capacity);
    ends.set(this.ends);
    this.ends = ends;
  }
  next(value: number): number {
    return value + 1;
  }
}

class Ipv6Builder extends RangeBuilder<BigUint64Array> {
  protected starts = new BigUint64Array(this.capacity);
  protected ends = new BigUint64Array(this.capacity);
  /**
   * The top 64 bits of a 128-bit decimal, worked out in eight 16-bit limbs
   * four digits at a time, so that every step is exact integer arithmetic
   * (BigInt arithmetic per digit made loading the file three times slower).
   */
  bound(bytes: Buffer, from: number, to: number): bigint | undefined {
    if (to <= from || to - from > 39) return undefined;
    const limbs = this.limbs.fill(0);
    for (let at = from; at < to; ) {
      const step = at === from ? (to - from) % 4 || 4 : 4;
      let chunk = 0;
      for (const stop = at + step; at < stop; at += 1) {
        const digit = bytes[at]! - 0x30;
        if (digit < 0 || digit > 9) return undefined;
        chunk = chunk * 10 + digit;
      }
      let carry = chunk;
      const scale = POWERS_OF_TEN[step]!;
      for (let i = 0; i < 8; i += 1) {
        const product = limbs[i]! * scale + carry;
        limbs[i] = product & 0xffff;
        carry = product >>> 16;
      }
      if (carry !== 0) return undefined;
    }
    return BigInt(((limbs[7]! << 16) | limbs[6]!) >>> 0) * TWO_32 + BigInt(((limbs[5]! << 16) | limbs[4]!) >>> 0);
  }
  private readonly limbs = new Uint32Array(8);
  grow(capacity: number): void {
    const starts = new BigUint64Array(capacity);
    starts.set(this.starts);
    this.starts = starts;
    const ends = new BigUint64Array(capacity);
    ends.set(this.ends);
    this.ends = ends;
  }
  next(value: bigint): bigint {
    return value + 1n;
  }
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const COMMA = 0x2c;
const CHUNK = 1 << 20;

/**
 * Reads `start,end,asn,organization` lines in 1 MiB chunks (a 21 MB file never
 * sits in memory whole) and hands each range to the builder. The organisation
 * is decoded only for an operator's ASN; other lines cost three number parses.
 */
async function readRanges<T extends Uint32Array | BigUint64Array>(path: string, builder: RangeBuilder<T>, organizations: Map<number, string>): Promise<RangeTable<T>> {
  const file = await open(path).catch((error: Error) => {
    throw new ConfigError([`MK_ASN_DB cannot be read (${path}): ${error.message}`]);
  });
  const broken = (line: number, why: string) => new ConfigError([`MK_ASN_DB ${path}:${line}: ${why}; expected ip-location-db's start,end,asn,organization with numeric bounds`]);
  const buffer = Buffer.allocUnsafe(CHUNK);
  let filled = 0;
  let lineNumber = 0;
  let ranges = 0;
  try {
    for (;;) {
      const { bytesRead } = await file.read(buffer, filled, CHUNK - filled, null);
      filled += bytesRead;
      const atEnd = bytesRead === 0;
      let lineStart = 0;
      for (;;) {
        let lineEnd = buffer.indexOf(NEWLINE, lineStart);
        if (lineEnd === -1 || lineEnd >= filled) {
          if (!atEnd || lineStart >= filled) break;
          lineEnd = filled;
        }
        lineNumber += 1;
        const lineStop = lineEnd > lineStart && buffer[lineEnd - 1] === CARRIAGE_RETURN ? lineEnd - 1 : lineEnd;
        const from = lineStart;
        lineStart = lineEnd + 1;
        if (lineStop === from) continue;
        const first = commaBefore(buffer, from, lineStop);
        const second = commaBefore(buffer, first + 1, lineStop);
        if (first === -1 || second === -1) throw broken(lineNumber, "fewer than three fields");
        const third = commaBefore(buffer, second + 1, lineStop);
        const start = builder.bound(buffer, from, first);
        const end = builder.bound(buffer, first + 1, second);
        const asn = decimal(buffer, second + 1, third === -1 ? lineStop : third);
        if (start === undefined || end === undefined || end < start) throw broken(lineNumber, "the range's bounds are not numbers in order");
        if (!(asn <= 0xffffffff)) throw broken(lineNumber, "the ASN is not a number");
        if (!builder.add(start, end, asn)) throw broken(lineNumber, "the ranges are not sorted by their start");
        ranges += 1;
        if (third !== -1 && OPERATORS.has(asn) && !organizations.has(asn)) organizations.set(asn, csvField(buffer.toString("utf8", third + 1, lineStop)));
      }
      if (atEnd) break;
      if (lineStart === 0 && filled === CHUNK) throw broken(lineNumber + 1, "a line longer than 1 MiB");
      buffer.copy(buffer, 0, lineStart, filled);
      filled -= lineStart;
    }
  } finally {
    await file.close();
  }
  if (ranges === 0) throw broken(0, "no ranges");
  return builder.table();
}

function commaBefore(bytes: Buffer, from: number, to: number): number {
  const at = bytes.indexOf(COMMA, from);
  return at !== -1 && at < to ? at : -1;
}

/** The organisation column: bare, or quoted with "" for a quote (DB-IP quotes names with commas). */
function csvField(text: string): string {
  if (!text.startsWith('"')) return text;
  const close = text.lastIndexOf('"');
  return text.slice(1, close > 0 ? close : undefined).replaceAll('""', '"');
}

/**
 * An IPv4 address as its 32-bit number, an IPv6 address as its top 64 bits
 * (IPv4-mapped IPv6 as the IPv4 number), undefined for anything else.
 */
function parseAddress(ip: string): number | bigint | undefined {
  if (ip.includes(":")) return parseIpv6(ip);
  return parseIpv4(ip);
}

function parseIpv4(ip: string): number | undefined {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < ip.length; i += 1) {
    const code = ip.charCodeAt(i);
    if (code === 0x2e) {
      if (digits === 0 || dots === 3) return undefined;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots += 1;
    } else {
      const digit = code - 0x30;
      if (digit < 0 || digit > 9 || digits === 3) return undefined;
      octet = octet * 10 + digit;
      if (octet > 255) return undefined;
      digits += 1;
    }
  }
  return dots === 3 && digits > 0 ? value * 256 + octet : undefined;
}

function parseIpv6(ip: string): number | bigint | undefined {
  const bracketed = ip.startsWith("[") && ip.endsWith("]") ? ip.slice(1, -1) : ip;
  const zone = bracketed.indexOf("%");
  const text = zone === -1 ? bracketed : bracketed.slice(0, zone);
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const compressed = halves.length === 2;
  const head = halves[0] ? halves[0].split(":") : [];
  const tail = compressed && halves[1] ? halves[1].split(":") : [];
  // A dotted IPv4 address may stand for the last two groups (::ffff:192.0.2.1).
  const ending = compressed ? tail : head;
  const dotted = ending[ending.length - 1];
  let embedded: number | undefined;
  if (dotted?.includes(".")) {
    embedded = parseIpv4(dotted);
    if (embedded === undefined) return undefined;
    ending.splice(ending.length - 1, 1, (embedded >>> 16).toString(16), (embedded & 0xffff).toString(16));
  }
  const missing = 8 - head.length - tail.length;
  if (compressed ? missing < 1 : missing !== 0) return undefined;
  const groups = [...head, ...Array<string>(compressed ? missing : 0).fill("0"), ...tail];
  if (!groups.every((group) => /^[0-9a-fA-F]{1,4}$/.test(group))) return undefined;
  const words = groups.map((group) => Number.parseInt(group, 16));
  if (embedded !== undefined && words[5] === 0xffff && words.slice(0, 5).every((word) => word === 0)) return embedded;
  return (BigInt(words[0]!) << 48n) | (BigInt(words[1]!) << 32n) | (BigInt(words[2]!) << 16n) | BigInt(words[3]!);
}

// ---------------------------------------------------------------- MaxMind GeoLite2-ASN

type AsnRecord = Response & { autonomous_system_number?: number; autonomous_system_organization?: string };

async function loadMaxMind(path: string): Promise<NetworkLookup> {
  let reader: Reader<AsnRecord>;
  try {
    reader = new Reader<AsnRecord>(await readFile(path));
  } catch (error) {
    throw new ConfigError([`MK_ASN_DB cannot be read as a MaxMind database (${path}): ${(error as Error).message}`]);
  }
  const organizations = new Map<number, string>();
  const networks = networkCache(organizations);
  return (ip) => {
    if (!validate(ip)) return undefined;
    const found = reader.get(ip);
    const asn = found?.autonomous_system_number;
    if (!asn) return undefined;
    if (found.autonomous_system_organization && OPERATORS.has(asn) && !organizations.has(asn)) organizations.set(asn, found.autonomous_system_organization);
    return networks(asn);
  };
}
