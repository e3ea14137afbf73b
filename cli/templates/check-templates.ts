import { groupBy } from "../../runtime/group-by.js";
import { sha256 } from "../../runtime/state/canonical.js";
import type { TemplateFingerprint } from "../../schemas/api.js";
import { localeProblems, type MessageTranslations } from "../project/locale-checks.js";
import type { MessageSpec } from "../project/messages.js";
import type { Repository } from "../project/reader.js";
import { ParseCache } from "../project/parse-cache.js";
import { locate } from "../project/yaml-source.js";
import { problem, type Location, type Problem } from "../problems.js";
import type { CompileCache } from "./compile-cache.js";
import type { CompileJob, CompileResult } from "./compile-job.js";
import { compileAll } from "./compile-pool.js";
import { templateFingerprint } from "./fingerprint.js";
import { scanHandlebars, type HandlebarsScan, type TranslationUse, type VariableUse } from "./handlebars-check.js";
import { subjectProblem } from "./subject-lint.js";
import { TemplateFiles, type TemplateFile } from "./source-files.js";
import { variableProblem } from "./variables.js";

/** A template compiled to HTML (still holding its handlebars expressions). */
export interface CompiledTemplate {
  template: string;
  /** The SHA-256 of its HTML. */
  hash: string;
  /** Undefined when it was not compiled: the runtime holds the HTML under `hash` and recorded this fingerprint. */
  html: string | undefined;
  /** Has an <mj-preview> (a preheader of its own). */
  hasPreview: boolean;
  /** The template and every file it includes, with their text. */
  sources: [file: string, text: string][];
  /** Of its inputs (templateFingerprint). */
  fingerprint: string;
  /** What compiling and linting it found (not the checks that depend on who sends it). */
  problems: Problem[];
}

/** What the runtime recorded of compiling each applied template, by path (see makePlan). */
export type RecordedTemplates = ReadonlyMap<string, Omit<TemplateFingerprint, "problems"> & { problems: Problem[] }>;

/** How many templates MJML compiled, and how many it did not have to because the runtime recorded their fingerprint. */
export interface TemplateWork {
  compiled: number;
  recorded: number;
}

interface TemplateResult {
  compiled: CompiledTemplate | undefined;
  variables: VariableUse[];
  translations: TranslationUse[];
  texts: Map<string, string>;
  /** Every file of the template parsed as handlebars. */
  parsed: boolean;
}

/**
 * Check every template the repository's messages use: includes, handlebars
 * syntax and variables, MJML, and deliverability lint. Each template is
 * compiled once however many messages use it, and not at all when `recorded`
 * (asked once the files are read, with the problems found so far) holds its
 * fingerprint: then that record is what compiling it gives.
 */
export async function checkTemplates(
  repo: Repository,
  messages: readonly MessageSpec[],
  options: {
    cache?: CompileCache | undefined;
    parsed?: ParseCache | undefined;
    recorded?: ((problems: readonly Problem[]) => Promise<RecordedTemplates>) | undefined;
  } = {},
): Promise<[Map<string, CompiledTemplate>, Problem[], TemplateWork]> {
  const parsed = options.parsed ?? ParseCache.none();
  const files = new TemplateFiles(repo.root, parsed);
  const scanFile = (file: string, text: string) => parsed.get("handlebars", file, text, () => scanHandlebars(file, text));
  const scans = new Map<string, HandlebarsScan>();
  const problems: Problem[] = [];

  // 1. Includes and handlebars, file by file (each shared partial once).
  const templates = [...new Set(messages.map((m) => m.template))].sort();
  const results = new Map<string, TemplateResult>();
  const jobs: CompileJob[] = [];
  const graphs = await Promise.all(templates.map((template) => files.graph(template)));
  templates.forEach((template, t) => {
    const [graph, graphProblems] = graphs[t] as [TemplateFile[], Problem[]];
    problems.push(...graphProblems);
    const result: TemplateResult = { compiled: undefined, variables: [], translations: [], texts: new Map(graph.map((f) => [f.file, f.text])), parsed: true };
    for (const file of graph) {
      let scan = scans.get(file.file);
      if (!scan) {
        scan = scanFile(file.file, file.text);
        scans.set(file.file, scan);
        problems.push(...scan.problems);
      }
      if (scan.problems.some((p) => p.code === "MK044")) result.parsed = false;
      result.variables.push(...scan.variables);
      result.translations.push(...scan.translations);
    }
    results.set(template, result);
    if (graphProblems.length === 0) jobs.push({ root: repo.root, template, texts: [...result.texts] });
  });

  // 2. MJML and the lint of its output, on every core for large repositories; none for what the runtime recorded.
  const recorded = (await options.recorded?.(problems)) ?? new Map();
  const fingerprints = jobs.map((job) => templateFingerprint(job));
  const toCompile = jobs.flatMap((job, i) => (recorded.get(job.template)?.fingerprint === fingerprints[i] ? [] : [i]));
  const batch = await compileAll(toCompile.map((i) => jobs[i] as CompileJob), options.cache);
  const outputs = new Map(toCompile.map((jobIndex, n) => [jobIndex, batch.results[n] as CompileResult]));
  jobs.forEach((job, i) => {
    const result = results.get(job.template) as TemplateResult;
    const fingerprint = fingerprints[i] as string;
    const output = outputs.get(i);
    if (!output) {
      const record = recorded.get(job.template)!;
      problems.push(...record.problems);
      result.compiled = { template: job.template, hash: record.html, html: undefined, hasPreview: record.hasPreview, sources: job.texts, fingerprint, problems: record.problems };
      return;
    }
    problems.push(...output.problems);
    if (output.html !== null) {
      const compiled = { hash: sha256(output.html), html: output.html, hasPreview: output.hasPreview, fingerprint, problems: output.problems };
      result.compiled = { template: job.template, sources: job.texts, ...compiled };
    }
  });

  // 3. What depends on who sends each template, and in which languages.
  const translations: MessageTranslations[] = [];
  for (const message of messages) {
    const result = results.get(message.template);
    if (!result) continue;
    const [messageFound, uses] = messageProblems(message, result, scanFile);
    problems.push(...messageFound);
    translations.push({ message, uses });
  }
  problems.push(...complianceProblems(repo, messages, results), ...localeProblems(repo, translations));

  const compiled = new Map<string, CompiledTemplate>();
  for (const [template, result] of results) if (result.compiled) compiled.set(template, result.compiled);
  return [compiled, problems, { compiled: batch.compiled, recorded: jobs.length - toCompile.length }];
}

/**
 * Checks that depend on who sends the template: variables, preheader,
 * subject; and the message's `{{t}}` calls (its template's, its subject's
 * and its preheader's, those at the field in its YAML). Positions in its
 * YAML are found only for a problem or a `{{t}}`.
 */
function messageProblems(message: MessageSpec, result: TemplateResult, scanFile: (file: string, text: string) => HandlebarsScan): [Problem[], TranslationUse[]] {
  const problems: Problem[] = [];
  const context = { label: message.label, data: message.data, confirmation: message.confirmation, dataSchema: message.dataSchema };
  for (const use of result.variables) {
    const found = variableProblem(use.path, context);
    if (found) problems.push(problem(found.code, use.at, found.reason));
  }
  let located: Location | undefined;
  const subjectAt = () => (located ??= locate(message.resource.source, message.subjectAt));
  const file = message.resource.source.file;
  const subject = scanFile(file, message.subject);
  for (const p of subject.problems) problems.push({ ...p, line: subjectAt().line, col: subjectAt().col, message: `subject: ${p.message}` });
  for (const use of subject.variables) {
    const found = variableProblem(use.path, context);
    if (found) problems.push(problem(found.code, subjectAt(), `subject: ${found.reason}`));
  }
  const translations = [...result.translations, ...subject.translations.map((use) => ({ ...use, at: subjectAt() }))];
  if (message.preheader?.includes("{{")) {
    const preheaderAt = locate(message.resource.source, message.preheaderAt);
    translations.push(...scanFile(file, message.preheader).translations.map((use) => ({ ...use, at: preheaderAt })));
  }
  if (message.confirmation && !result.variables.some((v) => v.path === "confirmUrl")) {
    problems.push(problem("MK116", locate(message.resource.source, message.templateAt), `${message.label}'s confirmation template ${message.template} has no {{confirmUrl}} link; add <a href="{{confirmUrl}}">Confirm</a>`));
  }
  const tooLong = subjectProblem(message.subject, subjectAt);
  if (tooLong) problems.push(tooLong);
  if (!message.confirmation && message.preheader === undefined && result.compiled && !result.compiled.hasPreview) {
    problems.push(
      problem(
        "MK056",
        subjectAt(),
        `${message.label} has no preheader; set preheader: or add <mj-preview> to ${message.template} (otherwise inboxes show the first text of the email)`,
      ),
    );
  }
  return [problems, translations];
}

/**
 * Marketing mail must carry an unsubscribe link and the sender's postal
 * address (CAN-SPAM, GDPR/ePrivacy, Gmail and Yahoo bulk-sender rules).
 * Reported once per template, naming the messages that send it. A template
 * that does not parse, or a project file that did not load, has already been
 * reported; checking it here would only add noise.
 */
function complianceProblems(repo: Repository, messages: readonly MessageSpec[], results: ReadonlyMap<string, TemplateResult>): Problem[] {
  const problems: Problem[] = [];
  const address = repo.project?.spec.defaults.postalAddress;
  const byTemplate = groupBy(messages.filter((m) => m.marketing), (m) => m.template);

  for (const [template, senders] of byTemplate) {
    const result = results.get(template);
    if (!result?.parsed) continue;
    const first = (senders[0] as MessageSpec).label;
    const who = senders.length === 1 ? `${first} sends` : `${first} and ${senders.length - 1} more send`;
    const start = { file: template, line: 1, col: 1 };
    if (!result.variables.some((v) => v.path === "unsubscribeUrl")) {
      problems.push(
        problem("MK050", start, `no {{unsubscribeUrl}} link, but ${who} it as marketing mail; add <a href="{{unsubscribeUrl}}">Unsubscribe</a> to the footer`),
      );
    }
    const addressUse = result.variables.find((v) => v.path === "project.postalAddress");
    if (!repo.project) continue;
    if (addressUse && address === undefined) {
      problems.push(problem("MK051", addressUse.at, "{{project.postalAddress}} renders empty: set defaults.postalAddress in mk.yaml"));
    } else if (!addressUse && !(address !== undefined && [...result.texts.values()].some((t) => t.includes(address)))) {
      problems.push(
        problem("MK051", start, `no postal address in the footer, but ${who} it as marketing mail; add {{project.postalAddress}} (set in mk.yaml defaults.postalAddress)`),
      );
    }
  }
  return problems;
}
