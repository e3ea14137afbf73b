import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { signLinkToken, verifyLinkToken, type LinkKind } from "../../../runtime/sending/link-tokens.js";
import { prepareLinks } from "../../../runtime/sending/tracked-links.js";

const SECRET = "a-signing-secret-of-at-least-32-characters";
const kinds: LinkKind[] = ["unsubscribe", "click", "view", "preferences", "open"];
const token = fc.record({ kind: fc.constantFrom(...kinds), sendId: fc.uuid(), linkIndex: fc.integer({ min: 0, max: 65_535 }) });

describe("signed link tokens", { timeout: 180_000 }, () => {
  it("round-trip: what is signed verifies to the same send, kind and link", () => {
    fc.assert(
      fc.property(token, (t) => {
        const verified = verifyLinkToken(SECRET, signLinkToken(SECRET, t), t.kind);
        assert.deepEqual(verified && { kind: verified.kind, sendId: verified.sendId, linkIndex: verified.linkIndex }, { ...t });
      }),
    );
  });

  it("any change to a token, any truncation or extension, is refused", () => {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    fc.assert(
      fc.property(token, fc.nat(), fc.nat(), fc.integer({ min: 1, max: 53 }), (t, position, replacement, cut) => {
        const signed = signLinkToken(SECRET, t);
        const at = position % signed.length;
        const swapped = alphabet[replacement % alphabet.length]!;
        if (swapped !== signed[at]) assert.equal(verifyLinkToken(SECRET, signed.slice(0, at) + swapped + signed.slice(at + 1), t.kind), undefined);
        assert.equal(verifyLinkToken(SECRET, signed.slice(0, cut), t.kind), undefined);
        assert.equal(verifyLinkToken(SECRET, `${signed}A`, t.kind), undefined);
      }),
      { numRuns: 500 },
    );
  });

  it("refuses random strings, another kind, and another secret", () => {
    fc.assert(fc.property(fc.string({ maxLength: 80 }), fc.constantFrom(...kinds), (text, kind) => assert.equal(verifyLinkToken(SECRET, text, kind), undefined)));
    fc.assert(
      fc.property(token, (t) => {
        const signed = signLinkToken(SECRET, t);
        for (const other of kinds.filter((k) => k !== t.kind)) assert.equal(verifyLinkToken(SECRET, signed, other), undefined);
        assert.equal(verifyLinkToken(`${SECRET}x`, signed, t.kind), undefined);
      }),
    );
  });

  it("expires click and view links after 400 days; unsubscribe links keep working", () => {
    const issuedAt = new Date("2026-01-01T00:00:00Z");
    const later = new Date("2027-02-10T00:00:00Z");
    const sendId = "5b0e8c1e-1d2f-4a3b-9c4d-5e6f7a8b9c0d";
    for (const kind of ["click", "view"] as const) {
      const signed = signLinkToken(SECRET, { kind, sendId, linkIndex: 0, issuedAt });
      assert.ok(verifyLinkToken(SECRET, signed, kind, new Date("2026-06-01T00:00:00Z")));
      assert.equal(verifyLinkToken(SECRET, signed, kind, later), undefined);
    }
    assert.ok(verifyLinkToken(SECRET, signLinkToken(SECRET, { kind: "unsubscribe", sendId, linkIndex: 0, issuedAt }), "unsubscribe", later));
  });
});

describe("tracked links", { timeout: 180_000 }, () => {
  it("stores only the template's own static http(s) links, so a click can lead nowhere else", () => {
    const href = fc.oneof(fc.webUrl(), fc.constantFrom("mailto:x@example.com", "{{unsubscribeUrl}}", "https://x.example/{{subscriber.email}}", "javascript:alert(1)", "/relative"));
    fc.assert(
      fc.property(fc.array(href, { maxLength: 8 }), (hrefs) => {
        const html = hrefs.map((h) => `<a class="b" href="${h.replace(/&/g, "&amp;")}">x</a>`).join("");
        const { html: rewritten, links } = prepareLinks(html, { utm: { source: "mk" }, trackClicks: true });
        const trackable = hrefs.filter((h) => /^https?:\/\//i.test(h) && !h.includes("{{"));
        assert.equal(links.length, trackable.length);
        links.forEach((link, i) => {
          assert.equal(new URL(link).host, new URL(trackable[i]!).host);
          assert.equal(new URL(link).searchParams.get("utm_source") !== null, true);
        });
        assert.equal((rewritten.match(/\{\{mkTrackedLink \d+\}\}/g) ?? []).length, trackable.length);
      }),
    );
  });
});
