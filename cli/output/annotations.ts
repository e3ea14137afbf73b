import path from "node:path";
import type { Problem } from "../problems.js";

/**
 * Problems as GitHub Actions workflow commands, so they show on the changed
 * lines of a pull request: `::error file=…,line=…,col=…,title=MK011::message`.
 * Paths are made relative to the checkout (GITHUB_WORKSPACE), since the
 * campaigns repository may be a folder of it.
 */
export function githubAnnotations(problems: readonly Problem[], root: string, workspace: string): string[] {
  return problems.map((p) => {
    const properties = `file=${property(workspacePath(p.file, root, workspace))},line=${p.line},col=${p.col},title=${property(`${p.code}`)}`;
    return `::${p.severity === "error" ? "error" : "warning"} ${properties}::${data(p.message)}`;
  });
}

/** A problem's file (relative to the campaigns repository's root) as GitHub wants it: relative to the checkout, with forward slashes. */
export function workspacePath(file: string, root: string, workspace: string): string {
  return path.relative(workspace, path.join(root, file)).split(path.sep).join("/");
}

/** Escaping GitHub's runner applies to a command's message. */
function data(text: string): string {
  return text.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

/** …and to its properties, where `:` and `,` separate. */
function property(text: string): string {
  return data(text).replace(/:/g, "%3A").replace(/,/g, "%2C");
}
