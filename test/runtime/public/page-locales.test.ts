import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { PAGE_STRINGS } from "../../../runtime/locales/page-strings.js";
import { acceptedLanguages, pageChain } from "../../../runtime/public/page-language.js";
import { signLinkToken } from "../../../runtime/sending/link-tokens.js";
import { stopDatabase } from "../../helpers/database.js";
import { SIGNING_SECRET, startRuntime, type TestRuntime } from "../../helpers/runtime.js";
import { applyCampaigns, query } from "../../helpers/sending.js";
import { launchChromium, type Browser } from "../../helpers/chromium.js";

/**
 * The public pages in the subscriber's language (issue 20, item 3): the
 * unsubscribe and preference pages follow the subscriber's locale along its
 * chain (pt-BR → pt → the project's default → en), the project's catalogs
 * override any string as plain text, and a page that shows no subscriber
 * (an invalid link's) never depends on whose link it might have been.
 */
const SUBSCRIBERS = { th: "som@example.test", "ja-JP": "yui@example.test", "pt-BR": "rui@example.test", xx: "xan@example.test", "ar-EG": "amal@example.test", fr: "fleur@example.test", ja: "ren@example.test" } as const;
const TOPICS = [{ name: "guides", title: "City guides", default: "opt-out" }];
const PROJECT = {
  topics: TOPICS,
  locales: { default: "es", supported: ["es", "th", "ja", "pt-BR"] },
  forms: [{ name: "join", topics: ["guides"], doubleOptIn: false, subject: "unused", redirect: {}, allowedOrigins: [] }],
};
const FORM = "application/x-www-form-urlencoded";

let rt: TestRuntime;
const sendOf = new Map<string, string>();
const tokenOf = (kind: "unsubscribe" | "preferences", locale: keyof typeof SUBSCRIBERS) => signLinkToken(SIGNING_SECRET, { kind, sendId: sendOf.get(SUBSCRIBERS[locale])!, linkIndex: 0 });
const get = (url: string, headers: Record<string, string> = {}) => rt.app.inject({ method: "GET", url, headers });
const langOf = (html: string) => /<html lang="([^"]*)" dir="([^"]*)">/.exec(html)?.slice(1, 3);
const titleOf = (html: string) => /<h1>([^<]*)<\/h1>/.exec(html)?.[1];
const apply = (catalogs: Record<string, Record<string, string>> = {}) =>
  applyCampaigns(rt, [{ name: "spring" }], {}, { project: PROJECT, resources: Object.entries(catalogs).map(([name, messages]) => ({ kind: "Catalog", name, spec: { messages } })) });

before(async () => {
  rt = await startRuntime({ MK_FORM_RATE_PER_IP: "1" });
  const imported = await rt.api("/v1/subscribers/import", {
    body: { subscribers: Object.entries(SUBSCRIBERS).map(([locale, email]) => ({ email, firstName: email.split("@")[0], locale, consent: "marketing" })) },
  });
  assert.equal(imported.status, 200, JSON.stringify(imported.body));
  await apply();
  assert.equal((await rt.api("/v1/sends/start", { body: { campaign: "spring" } })).body.recipients, Object.keys(SUBSCRIBERS).length);
  for (const row of await query<{ id: string; email: string }>(rt.databaseUrl, "select id, email from sends where campaign = 'spring'")) sendOf.set(row.email, row.id);
}, { timeout: 120_000 });
after(async () => {
  await rt?.close();
  await stopDatabase();
}, { timeout: 120_000 });

describe("public pages in the subscriber's language", { timeout: 120_000 }, () => {
  it("the unsubscribe and preference pages are in Thai and Japanese for subscribers in th and ja-JP", async () => {
    const thPrefs = await get(`/p/${tokenOf("preferences", "th")}`);
    assert.equal(thPrefs.statusCode, 200);
    assert.deepEqual(langOf(thPrefs.body), ["th", "ltr"]);
    assert.equal(titleOf(thPrefs.body), "การตั้งค่าอีเมล");
    assert.match(thPrefs.body, /<p>อีเมลจาก nomad-desk ถึง <strong>som@example\.test<\/strong><\/p>/);
    assert.match(thPrefs.body, /คุณกำลังรับอีเมลจากเราในหัวข้อที่เลือกไว้ด้านล่าง/, "the plural's other branch: one topic");
    assert.match(thPrefs.body, /<button type="submit">บันทึกตัวเลือก<\/button>/);
    assert.doesNotMatch(thPrefs.body, /Email preferences|Save my choices|Topics/);

    const thUnsubscribe = await get(`/u/${tokenOf("unsubscribe", "th")}`);
    assert.deepEqual(langOf(thUnsubscribe.body), ["th", "ltr"]);
    assert.equal(titleOf(thUnsubscribe.body), "ยกเลิกการรับอีเมล");
    assert.match(thUnsubscribe.body, /ต้องการหยุดรับอีเมลทั้งหมดจาก nomad-desk ที่ <strong>som@example\.test<\/strong> ใช่หรือไม่/);

    const jaPrefs = await get(`/p/${tokenOf("preferences", "ja-JP")}`);
    assert.deepEqual(langOf(jaPrefs.body), ["ja", "ltr"], "ja-JP falls back to ja");
    assert.equal(titleOf(jaPrefs.body), "メール配信設定");
    assert.match(jaPrefs.body, /<legend>トピック<\/legend>/);
    assert.match(jaPrefs.body, /<strong>すべての配信を停止する<\/strong>/);

    const jaUnsubscribe = await get(`/u/${tokenOf("unsubscribe", "ja-JP")}`);
    assert.equal(titleOf(jaUnsubscribe.body), "配信停止");
    assert.match(jaUnsubscribe.body, /nomad-deskから<strong>yui@example\.test<\/strong>へのメールをすべて停止しますか？/);
    const left = await rt.app.inject({ method: "POST", url: `/u/${tokenOf("unsubscribe", "ja")}`, headers: { "content-type": FORM }, payload: "List-Unsubscribe=One-Click" });
    assert.equal(left.statusCode, 200);
    assert.equal(titleOf(left.body), "配信を停止しました");
    assert.match(left.body, /今後、ren@example\.testにnomad-deskからのメールは届きません。/);
    const after = await get(`/p/${tokenOf("preferences", "ja")}`, { "accept-language": "en" });
    assert.match(after.body, /nomad-deskからのメールはすべて配信停止になっています。/, "the subscriber's locale wins over the request's");
  });

  it("pt-BR falls back to pt, ar is laid out right to left, and an unknown locale gets the project's default (es)", async () => {
    const pt = await get(`/p/${tokenOf("preferences", "pt-BR")}`);
    assert.deepEqual(langOf(pt.body), ["pt", "ltr"]);
    assert.equal(titleOf(pt.body), "Preferências de e-mail");
    const ar = await get(`/u/${tokenOf("unsubscribe", "ar-EG")}`);
    assert.deepEqual(langOf(ar.body), ["ar", "rtl"]);
    assert.equal(titleOf(ar.body), "إلغاء الاشتراك");
    for (const response of [await get(`/p/${tokenOf("preferences", "xx")}`), await get(`/p/${tokenOf("preferences", "xx")}`, { "accept-language": "th" })]) {
      assert.deepEqual(langOf(response.body), ["es", "ltr"]);
      assert.equal(titleOf(response.body), "Preferencias de correo");
    }
    // A language mk.yaml does not list still gets its page: the pages' languages are their own.
    assert.equal(titleOf((await get(`/p/${tokenOf("preferences", "fr")}`)).body), "Préférences d’e-mail");
  });

  it("an override in an applied catalog wins for its locale, as escaped text; a malformed one and other locales keep the shipped strings", async () => {
    await apply({
      th: {
        "mk.pages.preferences.title": "ตั้งค่า <b>อีเมล</b>",
        "mk.pages.preferences.everythingDetail": "ไม่มีอีเมลจาก {project} อีก <script>x</script>",
        "mk.pages.preferences.save": "{broken",
        "mk.pages.preferences.topics": "{unknownArgument} หัวข้อ",
        "welcome.title": "not a page string",
      },
      "pt-BR": { "mk.pages.preferences.save": "Salvar preferências" },
    });
    const th = await get(`/p/${tokenOf("preferences", "th")}`);
    assert.equal(titleOf(th.body), "ตั้งค่า &#60;b&#62;อีเมล&#60;/b&#62;");
    assert.match(th.body, /<title>ตั้งค่า &#60;b&#62;อีเมล&#60;\/b&#62;<\/title>/);
    assert.match(th.body, /<span>ไม่มีอีเมลจาก nomad-desk อีก &#60;script&#62;x&#60;\/script&#62;<\/span>/, "its ICU arguments filled in, its markup text");
    assert.match(th.body, /<button type="submit">บันทึกตัวเลือก<\/button>/, "a malformed override falls back to the shipped string");
    assert.match(th.body, /<legend>หัวข้อ<\/legend>/, "so does one that needs an argument the page has not");

    const pt = await get(`/p/${tokenOf("preferences", "pt-BR")}`);
    assert.deepEqual(langOf(pt.body), ["pt-BR", "ltr"], "a catalog's locale with page strings is a page language");
    assert.match(pt.body, /<button type="submit">Salvar preferências<\/button>/);
    assert.equal(titleOf(pt.body), "Preferências de e-mail", "the rest from pt");
    assert.equal(titleOf((await get(`/p/${tokenOf("preferences", "xx")}`)).body), "Preferencias de correo", "other locales untouched");

    await apply();
    assert.equal(titleOf((await get(`/p/${tokenOf("preferences", "th")}`)).body), "การตั้งค่าอีเมล", "the next apply's catalogs count at once");
  });

  it("an invalid, forged or orphaned token's page ignores whose it might be: the same bytes as any, in the request's Accept-Language or the default", async () => {
    const real = { unsubscribe: tokenOf("unsubscribe", "th"), preferences: tokenOf("preferences", "th") };
    const forged = (token: string) => `${token.slice(0, 30)}${token[30] === "A" ? "B" : "A"}${token.slice(31)}`;
    const orphan = (kind: "unsubscribe" | "preferences") => signLinkToken(SIGNING_SECRET, { kind, sendId: "00000000-0000-4000-8000-000000000000", linkIndex: 0 });
    for (const [prefix, kind, status, title] of [["/u/", "unsubscribe", 400, "Enlace no válido"], ["/p/", "preferences", 404, "Página no encontrada"]] as const) {
      const bodies = new Set<string>();
      for (const token of [forged(real[kind]), orphan(kind), "x", tokenOf(kind === "unsubscribe" ? "preferences" : "unsubscribe", "th")]) {
        const response = await get(`${prefix}${token}`);
        assert.equal(response.statusCode, status, `${prefix}${token}`);
        assert.deepEqual(langOf(response.body), ["es", "ltr"], "the project's default, not the subscriber's th");
        assert.equal(titleOf(response.body), title);
        bodies.add(response.body);
        const asked = await get(`${prefix}${token}`, { "accept-language": "de-CH, ja;q=0.9, *;q=0.1" });
        assert.deepEqual(langOf(asked.body), ["de", "ltr"]);
        bodies.add(asked.body);
      }
      assert.equal(bodies.size, 2, `${prefix}: one page per Accept-Language, whatever the token`);
    }
  });

  it("signup answers follow the post's locale or Accept-Language (the rate limit's page too); confirmation links the Accept-Language", async () => {
    const post = (payload: string, headers: Record<string, string>, remoteAddress: string) =>
      rt.app.inject({ method: "POST", url: "/f/join", remoteAddress, headers: { "content-type": FORM, ...headers }, payload });
    const thai = await post("email=new@example.test&locale=th", { accept: "text/html", "accept-language": "de" }, "192.0.2.1");
    assert.equal(thai.statusCode, 200);
    assert.deepEqual(langOf(thai.body), ["th", "ltr"]);
    assert.equal(titleOf(thai.body), "กรุณาตรวจสอบกล่องจดหมาย");
    const limited = await post("email=other@example.test&locale=th", { accept: "text/html" }, "192.0.2.1");
    assert.equal(limited.statusCode, 429);
    assert.equal(titleOf(limited.body), "มีการสมัครมากเกินไป");
    const json = await rt.app.inject({ method: "POST", url: "/f/join", remoteAddress: "192.0.2.2", headers: { "content-type": "application/json", "accept-language": "fr-CA" }, payload: { email: "third@example.test" } });
    assert.equal(json.statusCode, 202);
    assert.equal(JSON.parse(json.body).message, PAGE_STRINGS["fr"]!["signup.checkInbox"], "plain text in JSON");
    const badLocale = await post("email=fourth@example.test&locale=not_a_tag", {}, "192.0.2.3");
    assert.equal(badLocale.statusCode, 400);
    assert.equal(JSON.parse(badLocale.body).error.fields[0].path, "locale");

    const confirm = await get(`/f/confirm/${"A".repeat(39)}`, { "accept-language": "ja-JP" });
    assert.equal(confirm.statusCode, 400);
    assert.deepEqual(langOf(confirm.body), ["ja", "ltr"]);
    assert.equal(titleOf(confirm.body), "無効なリンク");
  });

  it("Accept-Language is read by weight, bounded, and matched to the pages' languages along localeChain", () => {
    assert.deepEqual(acceptedLanguages("fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5"), ["fr-CH", "fr", "en", "de"]);
    assert.deepEqual(acceptedLanguages("de;q=0, ja;q=0.2, th"), ["th", "ja"]);
    assert.deepEqual(acceptedLanguages("<script>, ja;q=abc, , th"), ["th"]);
    assert.equal(acceptedLanguages(`${"xx,".repeat(1000)}th`).length, 20);
    const settings = { defaultLocale: "pt-BR", overrides: {} };
    assert.deepEqual(pageChain(["xx", "ja-JP"], settings), ["ja", "pt", "en"]);
    assert.deepEqual(pageChain(["en", "th"], settings), ["en", "pt"], "the first language that matches, even the last resort");
    assert.deepEqual(pageChain([], { defaultLocale: "nl", overrides: { "nl-BE": { "preferences.title": "Voorkeuren" } } }), ["en"]);
    assert.deepEqual(pageChain(["nl-BE"], { defaultLocale: "nl", overrides: { "nl-BE": { "preferences.title": "Voorkeuren" } } }), ["nl-BE", "en"]);
  });
});

const ARTIFACTS = fileURLToPath(new URL("../../../test-artifacts/", import.meta.url));

describe("the Thai and Japanese preference pages in headless Chromium", { timeout: 120_000 }, () => {
  let browser: Browser | undefined;
  before(async () => {
    browser = await launchChromium();
  }, { timeout: 60_000 });
  after(async () => {
    await browser?.close();
  }, { timeout: 30_000 });

  it("renders them with lang on the document, its stylesheet, and every glyph of the heading from a Thai or CJK font; keeps a screenshot of each", async (t) => {
    await mkdir(ARTIFACTS, { recursive: true });
    const pages = [
      ["th", "การตั้งค่าอีเมล", /Tlwg|Loma|Garuda|Kinnari|Norasi|Sawasdee|Umpush|Waree|Purisa|Laksaman|Noto (Sans|Serif) Thai/],
      ["ja-JP", "メール配信設定", /Noto (Sans|Serif) CJK/],
    ] as const;
    for (const [locale, heading, family] of pages) {
      const page = await browser!.newPage();
      page.setDefaultTimeout(20_000);
      page.setDefaultNavigationTimeout(20_000);
      const response = await page.goto(`${rt.url}/p/${tokenOf("preferences", locale)}`, { waitUntil: "load" });
      assert.equal(response?.status(), 200);
      // Run in the page, so written as its source (this project's TypeScript has no DOM types).
      const seen = (await page.evaluate(
        `({ lang: document.documentElement.lang, heading: document.querySelector("h1").textContent, width: document.querySelector("h1").getBoundingClientRect().width, maxWidth: getComputedStyle(document.body).maxWidth })`,
      )) as { lang: string; heading: string; width: number; maxWidth: string };
      assert.deepEqual({ ...seen, width: seen.width > 0 }, { lang: locale.slice(0, 2), heading, width: true, maxWidth: "512px" }, "lang, the text, a rendered width, and the stylesheet its CSP allows");
      // The fonts Chromium drew the heading with: a face for the script, not a fallback's missing-glyph boxes.
      const cdp = await page.createCDPSession();
      await cdp.send("DOM.enable");
      await cdp.send("CSS.enable");
      const { root } = await cdp.send("DOM.getDocument");
      const { nodeId } = await cdp.send("DOM.querySelector", { nodeId: root.nodeId, selector: "h1" });
      const { fonts } = await cdp.send("CSS.getPlatformFontsForNode", { nodeId });
      assert.ok(fonts.length > 0 && fonts.every((f) => family.test(f.familyName)), `the heading drawn in a ${locale} font only: ${JSON.stringify(fonts)}`);
      assert.ok(fonts.reduce((n, f) => n + f.glyphCount, 0) > 0);
      const file = path.join(ARTIFACTS, `preferences-${locale}.png`);
      await page.screenshot({ path: file, fullPage: true });
      t.diagnostic(`screenshot: ${path.relative(process.cwd(), file)}`);
      await page.close();
    }
  });
});
