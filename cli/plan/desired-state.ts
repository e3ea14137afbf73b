import type { CompiledTemplateBody, DesiredResource } from "../../schemas/api.js";
import type { Validation } from "../validation.js";

export interface DesiredState {
  resources: DesiredResource[];
  /** Compiled HTML by hash, for every Template resource that was compiled (the runtime holds the others'). */
  templates: CompiledTemplateBody[];
}

/**
 * The state a repository describes, as the runtime stores it: the project
 * (without its environments, which only the CLI uses), each message catalog
 * by locale (its keys flattened), each template with its MJML sources and
 * the hash of its compiled HTML (per-locale override templates too: they are
 * messages' templates), audiences, campaigns and sequences as written
 * (defaults applied). Call it on a validation without errors.
 */
export function desiredState(validation: Validation): DesiredState {
  const { repo, templates } = validation;
  if (!repo?.project) throw new Error("desiredState needs a repository that validated");
  const resources: DesiredResource[] = [];
  const { apiVersion: _a, kind: _k, environments: _e, ...project } = repo.project.spec;
  resources.push({ kind: "Project", name: repo.project.name, spec: { ...project, name: repo.project.name } as DesiredResource["spec"] });
  for (const catalog of [...repo.catalogs].sort((a, b) => (a.code < b.code ? -1 : 1))) resources.push({ kind: "Catalog", name: catalog.code, spec: { messages: catalog.messages } });

  const compiled: CompiledTemplateBody[] = [];
  for (const [path, template] of [...templates].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (template.html !== undefined) compiled.push({ hash: template.hash, html: template.html });
    resources.push({ kind: "Template", name: path, spec: { html: template.hash, files: Object.fromEntries(template.sources) } });
  }
  for (const group of [repo.audiences, repo.campaigns, repo.sequences, repo.messages]) {
    for (const resource of group) {
      const { apiVersion: _v, kind: _kind, name: _name, ...spec } = resource.spec;
      resources.push({ kind: resource.kind, name: resource.name, spec: spec as DesiredResource["spec"] });
    }
  }
  return { resources, templates: compiled };
}
