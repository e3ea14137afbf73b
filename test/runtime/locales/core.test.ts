import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isKnownLocale, isRightToLeft, localeChain, resolveLocale } from "../../../runtime/locales/chain.js";
import { withDocumentLocale } from "../../../runtime/locales/document.js";
import { TranslationError } from "../../../runtime/locales/translator.js";
import { translatorFor } from "../../../runtime/templates/personalise.js";

describe("the locale core: fallback chain, direction, translation, document language", { timeout: 30_000 }, () => {
  it("chains the reader's locale, its language and the default, each only when supported, spelled as mk.yaml spells it", { timeout: 5_000 }, () => {
    assert.deepEqual(localeChain("pt-BR", ["en", "pt", "th"], "en"), ["pt", "en"], "pt-BR falls back to pt");
    assert.deepEqual(localeChain("pt-BR", ["en", "pt-BR", "pt"], "en"), ["pt-BR", "pt", "en"]);
    assert.deepEqual(localeChain("xx", ["en", "th"], "en"), ["en"], "an unknown language gets the default");
    assert.deepEqual(localeChain(null, ["en", "th"], "th"), ["th"]);
    assert.deepEqual(localeChain("PT-br", ["en", "pt-br"], "EN"), ["pt-br", "en"], "any case; the supported list's spelling");
    assert.deepEqual(localeChain("zh-Hant-TW", ["en", "zh-Hant", "zh"], "en"), ["zh-Hant", "zh", "en"], "script and region subtags drop one at a time");
    assert.equal(resolveLocale("th-TH", ["en", "th"], "en"), "th");
  });

  it("knows which languages are written right to left and which codes are no language", { timeout: 5_000 }, () => {
    for (const code of ["ar", "he", "fa", "ar-EG", "ur"]) assert.equal(isRightToLeft(code), true, code);
    for (const code of ["th", "ja", "en", "pt-BR", "not a tag"]) assert.equal(isRightToLeft(code), false, code);
    assert.equal(isKnownLocale("th"), true);
    assert.equal(isKnownLocale("pt-BR"), true);
    assert.equal(isKnownLocale("xx"), false);
    assert.equal(isKnownLocale("not a tag"), false);
  });

  it("formats ICU plurals in the reader's language, falls back along the chain, and fails a key no catalog of the chain has", { timeout: 5_000 }, () => {
    const catalogs = { en: { desks: "{count, plural, one {# desk} other {# desks}}", only: "English" }, th: { desks: "{count, plural, other {# โต๊ะ}}" } };
    const th = translatorFor(catalogs, localeChain("th", ["en", "th"], "en"));
    assert.equal(th.translate("desks", { count: 3 }, {}), "3 โต๊ะ");
    assert.equal(th.translate("only", {}, {}), "English", "th lacks it: en has it");
    const en = translatorFor(catalogs, ["en"]);
    assert.equal(en.translate("desks", { count: 1 }, {}), "1 desk");
    assert.equal(en.translate("desks", { count: 1200 }, {}), "1,200 desks");
    assert.throws(() => th.translate("nowhere", {}, {}), (error: unknown) => error instanceof TranslationError && /no catalog of th, en has this key/.test(error.message));
    assert.throws(() => en.translate("desks", {}, {}), TranslationError, "an argument the message needs and was not given");
  });

  it("prints a subscriber's value literally: braces or handlebars in a name neither break the message nor inject one", { timeout: 5_000 }, () => {
    const catalogs = { en: { hello: "Hi {{subscriber.firstName}}, you have {count, plural, one {# desk} other {# desks}}" } };
    const reader = translatorFor(catalogs, ["en"]);
    for (const firstName of ["{count}", "{{x}}", "{count, plural, other {pwned}}", "'{'"]) {
      assert.equal(reader.translate("hello", { count: 2 }, { subscriber: { firstName } }), `Hi ${firstName}, you have 2 desks`, firstName);
    }
  });

  it("sets lang and dir on <html>, replacing MJML's, and wraps a fragment without one", { timeout: 5_000 }, () => {
    const mjml = '<!doctype html>\n<html lang="und" dir="auto" xmlns="http://www.w3.org/1999/xhtml"><body>x</body></html>';
    assert.equal(withDocumentLocale(mjml, "ar"), '<!doctype html>\n<html xmlns="http://www.w3.org/1999/xhtml" lang="ar" dir="rtl"><body>x</body></html>');
    assert.equal(withDocumentLocale(mjml, "th"), '<!doctype html>\n<html xmlns="http://www.w3.org/1999/xhtml" lang="th" dir="ltr"><body>x</body></html>');
    assert.equal(withDocumentLocale("<p>x</p>", "he"), '<html lang="he" dir="rtl"><p>x</p></html>');
  });
});
