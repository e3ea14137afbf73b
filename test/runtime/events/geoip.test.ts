import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ConfigError } from "../../../runtime/config.js";
import { openCountryLookup } from "../../../runtime/events/geoip.js";
import { stopDatabase } from "../../helpers/database.js";
import { startRuntime, type TestRuntime } from "../../helpers/runtime.js";
import { query } from "../../helpers/sending.js";

after(() => stopDatabase(), { timeout: 120_000 });

describe("IP geolocation", { timeout: 180_000 }, () => {
  it("finds the country of IPv4 and IPv6 addresses in the bundled DB-IP database", () => {
    const countryOf = openCountryLookup(undefined)!;
    assert.equal(countryOf("203.150.0.1"), "TH");
    assert.equal(countryOf("1.1.1.1"), "AU");
    assert.equal(countryOf("8.8.8.8"), "US");
    assert.equal(countryOf("2001:4860:4860::8888"), countryOf("2001:4860:4860::8844"));
    assert.equal(countryOf("127.0.0.1"), undefined, "private and loopback addresses have no country");
    assert.equal(countryOf("not an ip"), undefined);
  });

  it("is off when MK_GEOIP_DB=off, and a file that is not a MaxMind database stops the runtime at start", () => {
    assert.equal(openCountryLookup("off"), undefined);
    assert.throws(() => openCountryLookup("/nonexistent/GeoLite2-Country.mmdb"), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /MK_GEOIP_DB cannot be read as a MaxMind database \(\/nonexistent\/GeoLite2-Country\.mmdb\)/);
      return true;
    });
    assert.throws(() => openCountryLookup(new URL(import.meta.url).pathname), ConfigError);
  });
});

describe("an event's country: its own, else the subscriber's, else its IP's", { timeout: 180_000 }, () => {
  let rt: TestRuntime;
  before(async () => {
    rt = await startRuntime();
    await query(rt.databaseUrl, "insert into subscribers (email, country) values ('nomad@example.test', null), ('home@example.test', 'PT')");
  }, { timeout: 120_000 });
  after(() => rt.close(), { timeout: 120_000 });

  it("tags each stored event", async () => {
    const event = (key: string, email: string, extra: object) => ({ idempotencyKey: key, type: "signup", subscriber: { email }, occurredAt: "2026-11-20T03:00:00Z", ...extra });
    const response = await rt.api("/v1/events", {
      body: {
        events: [
          event("own", "nomad@example.test", { country: "MX", ip: "203.150.0.1" }),
          event("subscriber", "home@example.test", { ip: "203.150.0.1" }),
          event("ip", "nomad@example.test", { ip: "203.150.0.1" }),
          event("none", "nomad@example.test", { ip: "10.0.0.1" }),
        ],
      },
    });
    assert.equal(response.body.accepted, 4);
    const rows = await query<{ idempotency_key: string; country: string | null }>(rt.databaseUrl, "select idempotency_key, country from events order by idempotency_key");
    assert.deepEqual(Object.fromEntries(rows.map((r) => [r.idempotency_key, r.country])), { own: "MX", subscriber: "PT", ip: "TH", none: null });
  });
});
