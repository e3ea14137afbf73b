import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { ConfigError } from "../../../runtime/config.js";
import { networkLookup, OPERATORS, type NetworkLookup } from "../../../runtime/engagement/networks.js";

describe("networks: the bundled ip-location-db ASN data", { timeout: 60_000 }, () => {
  let lookup: NetworkLookup;
  before(async () => {
    lookup = (await networkLookup(undefined))!;
  }, { timeout: 30_000 });

  // The addresses are in each vendor's published range (see classify.test.ts for the sources).
  it("finds Apple, Google, Microsoft and the mail security vendors by their published addresses", { timeout: 5_000 }, () => {
    const seen = (ip: string) => {
      const network = lookup(ip);
      return network && `AS${network.asn} ${network.operator?.name}/${network.operator?.role}`;
    };
    assert.equal(seen("17.58.1.1"), "AS714 Apple/privacy-proxy");
    assert.equal(lookup("17.58.1.1")?.organization, "Apple Inc.");
    assert.equal(seen("66.249.84.10"), "AS15169 Google/image-proxy");
    assert.equal(seen("40.107.1.1"), "AS8075 Microsoft/mail-provider");
    assert.equal(seen("148.163.129.1"), "AS13916 Proofpoint/mail-security");
    assert.equal(seen("67.231.145.1"), "AS26211 Proofpoint/mail-security");
    assert.equal(seen("205.139.110.1"), "AS30031 Mimecast/mail-security");
    assert.equal(seen("207.211.30.1"), "AS30031 Mimecast/mail-security");
    assert.equal(seen("64.235.150.1"), "AS15324 Barracuda/mail-security");
    assert.equal(seen("209.222.80.1"), "AS15324 Barracuda/mail-security");
    assert.equal(lookup("209.222.80.1")?.organization, "Barracuda Networks, Inc.", "a quoted organisation with a comma");
  });

  it("reads IPv6 and IPv4-mapped addresses", { timeout: 5_000 }, () => {
    assert.equal(lookup("2a01:111:f400::1")?.operator?.name, "Microsoft", "Exchange Online Protection's IPv6 range");
    assert.equal(lookup("2620:149:a44::1")?.asn, 714);
    assert.equal(lookup("2a00:1450:4001:82b::200e")?.asn, 15169);
    assert.equal(lookup("::ffff:17.1.2.3")?.asn, 714);
    assert.equal(lookup("[2a01:111:f400::1]")?.asn, 8075);
  });

  it("gives an ordinary network its ASN and no operator, and nothing for what is not a public address", { timeout: 5_000 }, () => {
    assert.deepEqual({ ...lookup("73.12.3.4") }, { asn: 7922, organization: undefined, operator: undefined }, "Comcast");
    for (const garbage of ["", "not an ip", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1..2.3", "2001:db8::g", "1::2::3", "10.0.0.1", "127.0.0.1", "::1"]) {
      assert.equal(lookup(garbage), undefined, garbage);
    }
  });

  it("is loaded once: the same promise, and the same Network object for an ASN", { timeout: 5_000 }, async () => {
    assert.equal(networkLookup(undefined), networkLookup(undefined));
    assert.equal(await networkLookup(undefined), lookup);
    assert.equal(lookup("17.58.1.1"), lookup("17.1.1.1"));
  });

  it("does not list generic clouds, web proxies, VPN hosters or Google's consumer networks as operators", { timeout: 5_000 }, () => {
    // AWS, Google Cloud (two), DigitalOcean, Hetzner, OVH, Zscaler, M247, Datacamp, Google Fiber, Google Wi-Fi, Cloudflare.
    for (const asn of [16509, 14618, 396982, 19527, 14061, 24940, 16276, 53813, 9009, 60068, 16591, 36492, 13335]) {
      assert.equal(OPERATORS.get(asn), undefined, `AS${asn}`);
    }
  });
});

describe("networks: MK_ASN_DB", { timeout: 60_000 }, () => {
  let scratch: string;
  before(async () => {
    scratch = await mkdtemp(path.join(tmpdir(), "mk-asn-"));
  }, { timeout: 5_000 });
  after(() => rm(scratch, { recursive: true, force: true }), { timeout: 5_000 });

  const directory = async (name: string, files: Record<string, string>) => {
    const dir = path.join(scratch, name);
    await mkdir(dir);
    for (const [file, text] of Object.entries(files)) await writeFile(path.join(dir, file), text);
    return dir;
  };
  const rejectsWith = (setting: string, message: RegExp) =>
    assert.rejects(networkLookup(setting), (error: unknown) => {
      assert.ok(error instanceof ConfigError, String(error));
      assert.match(error.message, message);
      return true;
    });

  it("is off when set to off", { timeout: 5_000 }, async () => {
    assert.equal(await networkLookup("off"), undefined);
  });

  it("reads a directory of ip-location-db -num files, with CRLF lines and no final newline", { timeout: 5_000 }, async () => {
    const dir = await directory("v4-only", {
      // 17.0.0.0-17.255.255.255, 73.0.0.0-73.255.255.255
      "asn-ipv4-num.csv": '285212672,301989887,714,"Apple, Inc."\r\n1224736768,1241513983,7922,Comcast Cable Communications\r\n1241513984,1241514239,7922,Comcast Cable Communications',
    });
    const lookup = (await networkLookup(dir))!;
    assert.deepEqual({ ...lookup("17.1.2.3") }, { asn: 714, organization: "Apple, Inc.", operator: OPERATORS.get(714) });
    assert.equal(lookup("74.0.0.1")?.asn, 7922, "adjacent ranges of one ASN are merged");
    assert.equal(lookup("74.0.1.0"), undefined);
    assert.equal(lookup("2620:149:a44::1"), undefined, "no IPv6 file, no IPv6 networks");
  });

  it("reads an IPv6 file on its own", { timeout: 5_000 }, async () => {
    // 2620:149::/32
    const dir = await directory("v6-only", { "asn-ipv6-num.csv": "50676843405365384847424712449147797504,50676843484593547361689050042691747839,714,Apple Inc.\n" });
    const lookup = (await networkLookup(dir))!;
    assert.equal(lookup("2620:149:a44::1")?.operator?.name, "Apple");
    assert.equal(lookup("2620:14a::1"), undefined);
    assert.equal(lookup("17.1.2.3"), undefined);
  });

  it("reads a MaxMind GeoLite2-ASN database", { timeout: 5_000 }, async () => {
    const file = path.join(scratch, "GeoLite2-ASN.mmdb");
    await writeFile(file, asnDatabase([[17, 714, "APPLE-ENGINEERING"], [73, 7922, "COMCAST-7922"]]));
    const lookup = (await networkLookup(file))!;
    assert.deepEqual({ ...lookup("17.1.2.3") }, { asn: 714, organization: "APPLE-ENGINEERING", operator: OPERATORS.get(714) });
    assert.deepEqual({ ...lookup("73.1.2.3") }, { asn: 7922, organization: undefined, operator: undefined });
    assert.equal(lookup("18.1.2.3"), undefined);
    assert.equal(lookup("not an ip"), undefined);
  });

  it("stops with a ConfigError naming the path for a missing, broken or wrong file", { timeout: 5_000 }, async () => {
    await rejectsWith("/nonexistent/asn", /MK_ASN_DB cannot be read \(\/nonexistent\/asn\)/);
    await rejectsWith("/nonexistent/GeoLite2-ASN.mmdb", /MK_ASN_DB cannot be read as a MaxMind database \(\/nonexistent\/GeoLite2-ASN\.mmdb\)/);
    const notMaxMind = path.join(scratch, "broken.mmdb");
    await writeFile(notMaxMind, "not a database");
    await rejectsWith(notMaxMind, /cannot be read as a MaxMind database \(.*broken\.mmdb\)/);
    const plainFile = path.join(scratch, "asn.csv");
    await writeFile(plainFile, "1,2,3,x\n");
    await rejectsWith(plainFile, /MK_ASN_DB must name a directory holding asn-ipv4-num\.csv and asn-ipv6-num\.csv, a GeoLite2-ASN \.mmdb file, or off \(.*asn\.csv\)/);
    const empty = await directory("empty", {});
    await rejectsWith(empty, /holds neither asn-ipv4-num\.csv nor asn-ipv6-num\.csv/);
    const textBounds = await directory("text-bounds", { "asn-ipv4-num.csv": "16777216,16777471,13335,Cloudflare\n1.0.4.0,1.0.7.255,38803,Gtelecom\n" });
    await rejectsWith(textBounds, /MK_ASN_DB .*text-bounds\/asn-ipv4-num\.csv:2: the range's bounds are not numbers in order/);
    const unsorted = await directory("unsorted", { "asn-ipv4-num.csv": "300,400,1,a\n100,200,2,b\n" });
    await rejectsWith(unsorted, /unsorted\/asn-ipv4-num\.csv:2: the ranges are not sorted/);
    const short = await directory("short", { "asn-ipv6-num.csv": "1,2\n" });
    await rejectsWith(short, /short\/asn-ipv6-num\.csv:1: fewer than three fields/);
    const blank = await directory("blank", { "asn-ipv4-num.csv": "\n" });
    await rejectsWith(blank, /blank\/asn-ipv4-num\.csv:0: no ranges/);
  });
});

/**
 * A MaxMind DB (https://maxmind.github.io/MaxMind-DB/) mapping whole IPv4 /8s
 * to GeoLite2-ASN's two fields: 24-bit records, one tree node per bit.
 */
function asnDatabase(entries: Array<[firstOctet: number, asn: number, organization: string]>): Buffer {
  const records = entries.map(([, asn, organization]) => map({ autonomous_system_number: uint(6, asn, 4), autonomous_system_organization: text(organization) }));
  const nodes: Array<[number | string, number | string]> = [["empty", "empty"]];
  entries.forEach(([octet], index) => {
    let node = 0;
    for (let depth = 0; depth < 8; depth += 1) {
      const side = (octet >> (7 - depth)) & 1;
      if (depth === 7) nodes[node]![side] = `data:${index}`;
      else {
        if (nodes[node]![side] === "empty") {
          nodes.push(["empty", "empty"]);
          nodes[node]![side] = nodes.length - 1;
        }
        node = nodes[node]![side] as number;
      }
    }
  });
  const offsets = records.map((_, i) => records.slice(0, i).reduce((sum, r) => sum + r.length, 0));
  const value = (slot: number | string) =>
    typeof slot === "number" ? slot : slot === "empty" ? nodes.length : nodes.length + 16 + offsets[Number(slot.slice(5))]!;
  const tree = Buffer.concat(nodes.map(([left, right]) => Buffer.from([...uint24(value(left)), ...uint24(value(right))])));
  const metadata = map({
    node_count: uint(6, nodes.length, 4),
    record_size: uint(5, 24, 2),
    ip_version: uint(5, 4, 2),
    database_type: text("GeoLite2-ASN"),
    languages: Buffer.from([0x00, 0x04]),
    binary_format_major_version: uint(5, 2, 2),
    binary_format_minor_version: uint(5, 0, 2),
    build_epoch: Buffer.from([0x04, 0x02, 0x65, 0x00, 0x00, 0x00]),
    description: Buffer.from([0xe0]),
  });
  return Buffer.concat([tree, Buffer.alloc(16), ...records, Buffer.from("abcdef4d61784d696e642e636f6d", "hex"), metadata]);
}

function uint24(n: number): number[] {
  return [(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
}
function uint(type: 5 | 6, n: number, bytes: number): Buffer {
  const value = Buffer.alloc(bytes);
  value.writeUIntBE(n, 0, bytes);
  return Buffer.concat([Buffer.from([(type << 5) | bytes]), value]);
}
/** A UTF-8 string; from 29 bytes on, the size goes in a second byte (minus 29). */
function text(s: string): Buffer {
  const size = Buffer.byteLength(s);
  const control = size < 29 ? [(2 << 5) | size] : [(2 << 5) | 29, size - 29];
  return Buffer.concat([Buffer.from(control), Buffer.from(s)]);
}
function map(fields: Record<string, Buffer>): Buffer {
  return Buffer.concat([Buffer.from([(7 << 5) | Object.keys(fields).length]), ...Object.entries(fields).flatMap(([key, value]) => [text(key), value])]);
}
