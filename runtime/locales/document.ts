import { textDirection } from "./chain.js";

const HTML_TAG = /<html\b[^>]*>/i;

/**
 * The document in a language: `lang` and `dir` on its <html> element
 * (replacing what MJML wrote), so mail clients and screen readers read a
 * Thai message as Thai and lay an Arabic one out right to left.
 */
export function withDocumentLocale(html: string, code: string): string {
  const dir = textDirection(code);
  const tag = HTML_TAG.exec(html);
  if (!tag) return `<html lang="${code}" dir="${dir}">${html}</html>`;
  const attributes = tag[0]
    .slice(5, -1)
    .replace(/\s(lang|dir)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)/gi, "");
  return `${html.slice(0, tag.index)}<html${attributes} lang="${code}" dir="${dir}">${html.slice(tag.index + tag[0].length)}`;
}
