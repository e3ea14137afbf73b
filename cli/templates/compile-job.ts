import type { Problem } from "../problems.js";
import { compileMjml, type MjmlNode } from "./compile.js";
import { lintCompiled } from "./lint.js";

/** One template to compile: everything a worker thread needs, as plain data. */
export interface CompileJob {
  root: string;
  template: string;
  /** The template and every file it includes, by repository-relative path. */
  texts: [file: string, text: string][];
}

export interface CompileResult {
  /** Null when MJML could not compile it (null, not undefined: results are stored as JSON). */
  html: string | null;
  /** Has an <mj-preview> (a preheader of its own). */
  hasPreview: boolean;
  problems: Problem[];
}

/**
 * Compile one template with MJML and lint the result (size, alt text,
 * links). Input and output are plain data so that it runs the same in this
 * thread or in a worker.
 */
export async function compileJob(job: CompileJob): Promise<CompileResult> {
  const texts = new Map(job.texts);
  const [output, problems] = await compileMjml(job.root, job.template, texts);
  if (!output) return { html: null, hasPreview: false, problems };
  problems.push(...lintCompiled(job.root, job.template, output.html, output.tree, texts));
  return { html: output.html, hasPreview: hasTag(output.tree, "mj-preview"), problems };
}

function hasTag(node: MjmlNode, tagName: string): boolean {
  return node.tagName === tagName || (node.children ?? []).some((child) => hasTag(child, tagName));
}
