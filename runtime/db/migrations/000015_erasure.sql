-- Up Migration

-- Addresses erased at their owner's request (right to erasure: mk subscribers
-- erase, DELETE /v1/subscribers/:email), part of the suppression list without
-- naming anyone: only HMAC-SHA-256 of the normalised address is kept, keyed by
-- a key derived from MK_SIGNING_SECRET (HKDF-SHA-256; runtime/subscribers/
-- erase.ts), so the list cannot be checked against guessed addresses without
-- the secret. An import of an address here is refused row by row; a signup by
-- the person clears it.
create table erased_addresses (
  address_hash bytea primary key check (length(address_hash) = 32),
  erased_at timestamptz not null default now()
);

-- Every erasure asked for, whether anything was held or not: the address's
-- hash, when, and the name of the API token that asked.
create table erasures (
  id bigint generated always as identity primary key,
  address_hash bytea not null check (length(address_hash) = 32),
  erased_at timestamptz not null default now(),
  token_name text not null,
  -- Whether anything was held about the address (false: unknown, or erased before).
  found boolean not null
);
create index erasures_address on erasures (address_hash);

-- Down Migration
drop table erasures;
drop table erased_addresses;
