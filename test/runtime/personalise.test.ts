import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { compileMessage, htmlToText, withPreheader, type MessageContext } from "../../runtime/templates/personalise.js";

const context = (subscriber: Partial<MessageContext["subscriber"]> = {}): MessageContext => ({
  subscriber: { email: "alex@example.com", firstName: "Alex", locale: "en-GB", timezone: "Asia/Bangkok", ...subscriber },
  campaign: { name: "launch", subject: "", data: { price: 129900, currency: "THB" } },
  variant: null,
  project: { name: "nomad-desk", postalAddress: "1 Test Rd", locale: "en", timezone: "UTC" },
  unsubscribeUrl: "https://u.example/x",
  preferencesUrl: "https://p.example/x",
  viewInBrowserUrl: "https://v.example/x",
});

/** ICU puts no-break spaces between amount and currency; the tests compare plain spaces. */
const render = (html: string, ctx = context()) => compileMessage({ subject: "s", html })(ctx).html.replace(/[\u00a0\u202f]/g, " ");

describe("formatMoney", { timeout: 180_000 }, () => {
  it("formats integer minor units in the currency's own exponent", () => {
    assert.equal(render('{{formatMoney 129900 "THB"}}'), "THB 1,299.00");
    assert.equal(render('{{formatMoney 1299 "JPY"}}'), "JP¥1,299");
    assert.equal(render('{{formatMoney 1299 "KWD"}}'), "KWD 1.299");
    assert.equal(render('{{formatMoney -5 "EUR"}}'), "-€0.05");
    assert.equal(render('{{formatMoney campaign.data.price campaign.data.currency locale="de-DE"}}'), "1.299,00 ฿");
  });

  it("never drifts like float division would", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (minor) => {
        const out = render('{{formatMoney n "USD" locale="en-US"}}', { ...context(), n: minor } as MessageContext);
        const cents = String(minor).padStart(3, "0");
        assert.equal(out.replace(/[$,]/g, ""), `${cents.slice(0, -2)}.${cents.slice(-2)}`);
      }),
    );
  });
});

describe("formatDate", { timeout: 180_000 }, () => {
  it("uses the subscriber's time zone and locale unless told otherwise", () => {
    const at = "2026-12-31T20:00:00Z";
    assert.equal(render(`{{formatDate "${at}" "long"}}`), "1 January 2027");
    assert.equal(render(`{{formatDate "${at}" "long" timezone="America/New_York" locale="en-US"}}`), "December 31, 2026");
    assert.equal(render(`{{formatDate "${at}" "long"}}`, context({ timezone: undefined, locale: undefined })), "December 31, 2026");
    assert.equal(render('{{formatDate "not a date"}}'), "");
  });
});

describe("default", { timeout: 180_000 }, () => {
  it("falls back only when the value is empty", () => {
    assert.equal(render('{{default subscriber.firstName "there"}}'), "Alex");
    assert.equal(render('{{default subscriber.firstName "there"}}', context({ firstName: "" })), "there");
    assert.equal(render('{{default subscriber.lastName "there"}}'), "there");
  });
});

describe("compileMessage", { timeout: 180_000 }, () => {
  it("escapes values in HTML, not in the subject, and renders the subject into campaign.subject", () => {
    const message = compileMessage({ subject: "Hi {{subscriber.firstName}} & co", html: "<p>{{campaign.subject}} {{subscriber.firstName}}</p>" });
    const out = message(context({ firstName: "<Mai>" }));
    assert.equal(out.subject, "Hi <Mai> & co");
    assert.equal(out.html, "<p>Hi &lt;Mai&gt; &amp; co &lt;Mai&gt;</p>");
  });

  it("does not expose prototype properties to templates", () => {
    assert.equal(render("{{subscriber.constructor.name}}|{{subscriber.__proto__}}"), "|");
  });
});

describe("the plain-text part", { timeout: 180_000 }, () => {
  const templates = [
    '<html><body><h1>Hi {{subscriber.firstName}}</h1><p>{{#if campaign.data.vip}}VIP <b>{{campaign.data.code}}</b>{{else}}Welcome{{/if}}</p><a href="https://x.example/{{subscriber.email}}">Your page</a></body></html>',
    '<html><body><p class="{{#if campaign.data.vip}}vip{{/if}}">Hello {{default subscriber.firstName "there"}}, this line is long enough that it will have to wrap somewhere along the way.</p></body></html>',
    "<html><body><table><tr><td>{{formatMoney 129900 \"THB\"}}</td><td>{{campaign.name}}</td></tr></table><p>{{{campaign.data.raw}}}</p></body></html>",
  ];
  const subscriber = fc.record({ email: fc.emailAddress(), firstName: fc.string({ maxLength: 20 }).filter((t) => !/[<>&{}\[\]]/.test(t) && t.trim() === t) });
  const data = fc.record({ vip: fc.boolean(), code: fc.stringMatching(/^[A-Z0-9]{0,8}$/), raw: fc.constant("plain") });

  it("is the same words as converting each rendered message, for any recipient", () => {
    fc.assert(
      fc.property(fc.constantFrom(...templates), subscriber, data, (html, s, campaignData) => {
        const message = compileMessage({ subject: "s", html })({ ...context(s), campaign: { name: "launch", subject: "s", data: campaignData } });
        const words = (text: string) => text.toLowerCase().split(/\s+/).filter(Boolean);
        assert.deepEqual(words(message.text), words(htmlToText(message.html)));
      }),
      { numRuns: 200 },
    );
  });
});

describe("withPreheader", { timeout: 180_000 }, () => {
  it("puts the hidden preheader first in the body and keeps it out of the text part", () => {
    const html = withPreheader('<html><body class="x"><p>Body</p></body></html>', "Save <20%> & more {{subscriber.firstName}}");
    assert.match(html, /^<html><body class="x"><div class="mk-preheader" style="display:none;[^"]*">Save &lt;20%&gt; &amp; more \{\{subscriber\.firstName\}\}<\/div><p>Body/);
    assert.equal(htmlToText(html), "Body");
  });
});
