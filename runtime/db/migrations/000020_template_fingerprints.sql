-- Up Migration

-- What compiling each applied template gave, by the fingerprint of its
-- inputs (the template and every file it includes, the mk and mjml
-- versions): the hash of its HTML and what the CLI's lint found. `mk plan`
-- compiles only templates whose fingerprint is not here. Beside the Template
-- resource, not in its spec, so plans diff exactly what they did before.
-- Written by applies that send fingerprints; one row per template path.
create table template_fingerprints (
  name text primary key,
  fingerprint text not null check (fingerprint ~ '^[0-9a-f]{64}$'),
  html_hash text not null references compiled_templates (hash),
  compiled jsonb not null check (jsonb_typeof(compiled) = 'object'),
  updated_serial bigint not null
);

-- Down Migration

drop table template_fingerprints;
