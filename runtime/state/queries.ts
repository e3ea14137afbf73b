/** Named SQL for the applied state; parameters only, never built from input. */
export const STATE_SQL = {
  serial: "select serial from state",
  project: "select spec from resources where kind = 'Project'",
  audiences: "select name, spec from resources where kind = 'Audience'",
  lockSerial: "select serial from state for update",
  resources: "select kind, name, spec, spec_hash, started_at from resources order by kind, name",
  templateHashes: "select hash from compiled_templates order by hash",
  storedTemplates: "select hash from compiled_templates where hash = any($1::text[])",
  insertTemplates: `
    insert into compiled_templates (hash, html)
    select * from unnest($1::text[], $2::text[])
    on conflict (hash) do nothing`,
  upsertResources: `
    insert into resources (kind, name, spec, spec_hash, created_serial, updated_serial)
    select kind, name, spec, spec_hash, $5, $5 from unnest($1::text[], $2::text[], $3::jsonb[], $4::text[]) as r (kind, name, spec, spec_hash)
    on conflict (kind, name) do update
      set spec = excluded.spec, spec_hash = excluded.spec_hash, updated_serial = excluded.updated_serial, updated_at = now()`,
  deleteResources: `
    delete from resources r
    using unnest($1::text[], $2::text[]) as d (kind, name)
    where r.kind = d.kind and r.name = d.name`,
  setSerial: "update state set serial = $1, updated_at = now()",
  fingerprints: "select name, fingerprint, html_hash, compiled from template_fingerprints order by name",
  /** The fingerprints an apply sent replace those of the same templates; those of templates no longer applied go. */
  upsertFingerprints: `
    insert into template_fingerprints (name, fingerprint, html_hash, compiled, updated_serial)
    select name, fingerprint, html_hash, compiled, $5 from unnest($1::text[], $2::text[], $3::text[], $4::jsonb[]) as f (name, fingerprint, html_hash, compiled)
    on conflict (name) do update
      set fingerprint = excluded.fingerprint, html_hash = excluded.html_hash, compiled = excluded.compiled, updated_serial = excluded.updated_serial`,
  deleteStaleFingerprints: "delete from template_fingerprints where name not in (select name from resources where kind = 'Template')",
  recordApply: `
    insert into applies (serial, base_serial, commit_sha, author, branch, dirty, added, changed, deleted)
    values ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
  applies: `
    select serial, base_serial, applied_at, commit_sha, author, branch, dirty, added, changed, deleted
    from applies order by serial desc limit $1`,
} as const;
