import { readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Parser } from "htmlparser2";
import { Engine } from "mrml";
import { compileMjml } from "../cli/templates/compile.js";
import { TemplateFiles } from "../cli/templates/source-files.js";
import type { Bench } from "./run.js";

const EXAMPLE = fileURLToPath(new URL("../example-campaigns/", import.meta.url));
const CORPUS = fileURLToPath(new URL("../test/fixtures/invalid/", import.meta.url));
const RUNS = 5;

interface Template {
  root: string;
  template: string;
  texts: Map<string, string>;
}

/** Every top-level template of the example and of each corpus repository whose includes resolve. */
async function templates(): Promise<{ example: Template[]; corpus: Template[] }> {
  const load = async (root: string): Promise<Template[]> => {
    const dir = path.join(root, "templates");
    let names: string[];
    try {
      names = readdirSync(dir).filter((name) => name.endsWith(".mjml"));
    } catch {
      return [];
    }
    const files = new TemplateFiles(root);
    const found: Template[] = [];
    for (const name of names) {
      const [graph, problems] = await files.graph(`templates/${name}`);
      if (problems.length === 0) found.push({ root, template: `templates/${name}`, texts: new Map(graph.map((f) => [f.file, f.text])) });
    }
    return found;
  };
  const corpus = (await Promise.all(readdirSync(CORPUS).sort().map((name) => load(path.join(CORPUS, name))))).flat();
  return { example: await load(EXAMPLE), corpus };
}

/** mrml with the template's includes in memory, under each way mj-include may name them. */
function mrmlEngine(template: Template): Engine {
  const content: Record<string, string> = {};
  for (const [file, text] of template.texts) {
    const relative = path.posix.relative(path.posix.dirname(template.template), file);
    for (const key of [file, relative, `./${relative}`]) content[key] = text;
  }
  const engine = new Engine();
  engine.setParserOptions({ includeLoader: { type: "memory", content } });
  return engine;
}

/**
 * The HTML as a list of what a browser builds from it: elements with their
 * attributes sorted (style declarations and class names sorted, whitespace
 * collapsed) and text with whitespace collapsed (around CSS punctuation too);
 * comments (Outlook conditionals) left out.
 */
function normalisedDom(html: string): string[] {
  const out: string[] = [];
  const squash = (text: string) => text.replace(/\s+/g, " ").trim();
  const css = (text: string) => squash(text).replace(/\s*([:;{},])\s*/g, "$1").replace(/;}/g, "}");
  const normalise = (key: string, value: string) =>
    key === "style" ? value.split(";").map(css).filter(Boolean).sort().join(";") : key === "class" ? squash(value).split(" ").sort().join(" ") : squash(value);
  const parser = new Parser({
    onopentag(name, attributes) {
      const attrs = Object.entries(attributes)
        .map(([key, value]) => [key, normalise(key, value)])
        .sort(([a], [b]) => ((a as string) < (b as string) ? -1 : 1))
        .map(([key, value]) => `${key}="${value}"`);
      out.push(`<${name} ${attrs.join(" ")}>`);
    },
    ontext(text) {
      const squashed = css(text);
      if (squashed) out.push(squashed);
    },
    onclosetag(name) {
      out.push(`</${name}>`);
    },
  });
  parser.write(html);
  parser.end();
  return out;
}

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
}

/**
 * The MJML compiler side by side (issue 19): mjml, which mk uses, against
 * the mrml WebAssembly build on the example's and the error corpus's
 * templates — time per template, whether the HTML is the same DOM once
 * normalised, and whether the templates mjml reports errors in get any
 * error or warning from mrml (which has no file:line, only a byte span).
 */
const bench: Bench = async (report) => {
  const { example, corpus } = await templates();
  const all = [...example, ...corpus];
  const mjmlTimes: number[] = [];
  const mrmlTimes: number[] = [];
  let sameDom = 0;
  let sameDomExample = 0;
  let mjmlErrors = 0;
  let mrmlFlagged = 0;
  await compileMjml(all[0]!.root, all[0]!.template, all[0]!.texts);
  for (const template of all) {
    const engine = mrmlEngine(template);
    const times = { mjml: [] as number[], mrml: [] as number[] };
    let mjmlHtml = "";
    let mjmlProblems = 0;
    let mrmlResult: ReturnType<Engine["toHtml"]> | undefined;
    for (let i = 0; i < RUNS; i++) {
      let start = performance.now();
      const [compiled, problems] = await compileMjml(template.root, template.template, template.texts);
      times.mjml.push(performance.now() - start);
      mjmlHtml = compiled?.html ?? "";
      mjmlProblems = problems.length;
      start = performance.now();
      mrmlResult = engine.toHtml(template.texts.get(template.template)!);
      times.mrml.push(performance.now() - start);
    }
    engine.free();
    mjmlTimes.push(median(times.mjml));
    mrmlTimes.push(median(times.mrml));
    const mrmlHtml = mrmlResult?.type === "success" ? mrmlResult.content : "";
    const same = mjmlHtml !== "" && normalisedDom(mjmlHtml).join("\n") === normalisedDom(mrmlHtml).join("\n");
    if (same) sameDom++;
    if (same && example.includes(template)) sameDomExample++;
    if (mjmlProblems > 0) {
      mjmlErrors++;
      if (mrmlResult?.type === "error" || (mrmlResult?.type === "success" && mrmlResult.warnings.length > 0)) mrmlFlagged++;
    }
  }
  const total = (times: number[]) => times.reduce((a, b) => a + b, 0);
  report({ name: "mjml, ms per template (example + corpus)", value: `${(total(mjmlTimes) / all.length).toFixed(2)} ms (${all.length} templates)` });
  report({ name: "mrml (WebAssembly), ms per template", value: `${(total(mrmlTimes) / all.length).toFixed(2)} ms (${(total(mjmlTimes) / total(mrmlTimes)).toFixed(1)}× faster)` });
  report({
    name: "mrml HTML = mjml HTML (normalised DOM)",
    value: `${sameDom} of ${all.length} templates (example: ${sameDomExample} of ${example.length})`,
    goal: { text: "all, to adopt mrml", met: sameDom === all.length },
  });
  report({
    name: "mrml flags the templates mjml reports (MK040)",
    value: `${mrmlFlagged} of ${mjmlErrors}, with a byte span, not file:line`,
    goal: { text: "all, with file:line, to adopt mrml", met: false },
  });
};

export default bench;
