-- Up Migration

-- Two more kinds of applied resource: a message catalog (locales/<code>.yaml,
-- named by its locale) and a transactional message (messages/<name>.yaml).
alter table resources drop constraint resources_kind_check;
alter table resources add constraint resources_kind_check
  check (kind in ('Project', 'Audience', 'Campaign', 'Sequence', 'Template', 'Catalog', 'Message'));

-- The locale each recipient got (the first of its fallback chain when the
-- message was composed), null for sends from before locales and for a
-- project without them. Nullable without a default: adding it rewrites nothing.
alter table sends add column locale text;

-- Down Migration

alter table sends drop column locale;
delete from resources where kind in ('Catalog', 'Message');
alter table resources drop constraint resources_kind_check;
alter table resources add constraint resources_kind_check
  check (kind in ('Project', 'Audience', 'Campaign', 'Sequence', 'Template'));
