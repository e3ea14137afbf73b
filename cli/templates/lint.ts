import path from "node:path";
import { Parser } from "htmlparser2";
import { problem, type Location, type Problem } from "../problems.js";
import { toPosix } from "../project/reader.js";
import { tagColumn, type MjmlNode } from "./compile.js";

/** Gmail clips messages whose HTML is larger than this. */
export const GMAIL_CLIP_BYTES = 102 * 1024;

const LINK_ATTRIBUTES = ["href"];
const IMAGE_TAGS = new Set(["mj-image", "mj-carousel-image"]);

/**
 * Deliverability checks on one compiled template that do not depend on who
 * sends it: size, images without alt text, and links.
 */
export function lintCompiled(root: string, template: string, html: string, tree: MjmlNode, texts: ReadonlyMap<string, string>): Problem[] {
  const problems: Problem[] = [];
  const bytes = Buffer.byteLength(html, "utf8");
  if (bytes > GMAIL_CLIP_BYTES) {
    problems.push(
      problem(
        "MK052",
        { file: template, line: 1, col: 1 },
        `compiled HTML is ${(bytes / 1024).toFixed(1)} KB; Gmail clips messages over 102 KB (and hides the unsubscribe link with them)`,
      ),
    );
  }

  const visit = (node: MjmlNode): void => {
    const file = nodeFile(root, template, node);
    const line = node.line ?? 1;
    const at: Location = { file, line, col: tagColumn(texts.get(file), line, node.tagName) };
    const attributes = node.attributes ?? {};
    if (IMAGE_TAGS.has(node.tagName) && !("alt" in attributes)) {
      problems.push(problem("MK053", at, `<${node.tagName}> has no alt text; add alt="…" (or alt="" for a decorative image)`));
    }
    for (const name of LINK_ATTRIBUTES) {
      const value = attributes[name];
      if (typeof value === "string") problems.push(...checkLink(value, at, `<${node.tagName} ${name}>`));
    }
    if (typeof node.content === "string" && node.content.includes("<")) problems.push(...lintContent(node.content, at));
    for (const child of node.children ?? []) visit(child);
  };
  visit(tree);
  return problems;
}

/** mjml gives each node the absolute path of the file it came from. */
function nodeFile(root: string, template: string, node: MjmlNode): string {
  if (!node.absoluteFilePath || !node.absoluteFilePath.endsWith(".mjml")) return template;
  const relative = toPosix(path.relative(root, node.absoluteFilePath));
  return relative.startsWith("..") ? template : relative;
}

/** Raw HTML inside mj-text, mj-raw, mj-button…: its <a> and <img> tags. */
function lintContent(content: string, at: Location): Problem[] {
  const problems: Problem[] = [];
  let line = at.line;
  let offset = 0;
  const parser: Parser = new Parser({
    onopentag(name, attributes) {
      for (let i = content.indexOf("\n", offset); i !== -1 && i < parser.startIndex; i = content.indexOf("\n", i + 1)) line++;
      offset = parser.startIndex;
      const here = { file: at.file, line, col: line === at.line ? at.col : 1 };
      if (name === "a" && attributes["href"] !== undefined) problems.push(...checkLink(attributes["href"], here, "<a href>"));
      if (name === "img") {
        if (attributes["alt"] === undefined) problems.push(problem("MK053", here, '<img> has no alt text; add alt="…" (or alt="" for a decorative image)'));
        if (attributes["src"] !== undefined) problems.push(...checkLink(attributes["src"], here, "<img src>"));
      }
    },
  });
  parser.write(content);
  parser.end();
  return problems;
}

function checkLink(raw: string, at: Location, what: string): Problem[] {
  const value = raw.trim();
  if (value === "" || value.startsWith("{{") || value.startsWith("#")) return [];
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(value.replace(/[\s\u0000-\u001f]/g, ""))?.[1]?.toLowerCase();
  if (scheme === "javascript" || scheme === "vbscript" || scheme === "data" && what.startsWith("<a")) {
    return [problem("MK055", at, `${what} uses a ${scheme}: URL; mail clients block it and spam filters penalise it`)];
  }
  if (scheme === "https" || scheme === "mailto" || scheme === "tel" || scheme === "cid" || scheme === "data") return [];
  const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
  return [problem("MK054", at, `${what} "${shown}" is not https; use an https:// URL`)];
}
