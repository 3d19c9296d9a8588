-- The controlled-substance ledger (postgres): locations, lots, containers, the append-only
-- hash-chained ledger and the DEA tasks a loss opens. Identical on SQLite and PostgreSQL but for
-- the triggers; keep in step with ../sqlite/20261202000017_ledger.sql.

-- Where stock is kept at a site (a safe, a locked cabinet).
create table cs_locations (
    id text primary key,
    site_id text not null references sites (id),
    name text not null,
    kind text not null check (kind in ('safe', 'cabinet')),
    created_at bigint not null,
    unique (site_id, name)
);

-- A lot as received: the product, NDC, lot number, expiry and the supplier's record.
create table cs_lots (
    id text primary key,
    site_id text not null references sites (id),
    form text not null check (form in ('vial', 'spravato_device')),
    mg_per_ml bigint check (mg_per_ml in (10, 50, 100)),
    ml double precision check (ml > 0),
    ndc text not null,
    lot text not null,
    expires_on text not null,
    supplier_name text not null,
    supplier_address text not null,
    supplier_dea text not null,
    invoice text not null,
    received_at bigint not null,
    received_by text not null references users (id)
);

-- One vial or device. Its balance is the sum of its ledger entries, kept here in the same
-- transaction as each entry so a check and a take are one statement; ledger verify checks it.
create table cs_containers (
    id text primary key,
    site_id text not null references sites (id),
    lot_id text not null references cs_lots (id),
    number bigint not null check (number >= 1),
    location_id text not null references cs_locations (id),
    full_mg double precision not null check (full_mg > 0),
    balance_mg double precision not null check (balance_mg >= 0),
    updated_at bigint not null,
    unique (lot_id, number)
);
create index cs_containers_site_idx on cs_containers (site_id, location_id);

-- The ledger: append-only, one hash chain per database. Each entry stores the SHA-256 of its
-- content with the previous entry's hash; cs_chain holds the head so two writers take turns.
create table cs_ledger (
    seq bigint primary key,
    id text not null unique,
    site_id text not null references sites (id),
    kind text not null check (kind in ('receipt', 'administration', 'waste', 'transfer_out',
        'transfer_in', 'return', 'breakage', 'loss', 'theft', 'count', 'discrepancy',
        'initial_inventory', 'biennial_inventory', 'correction')),
    container_id text references cs_containers (id),
    location_id text references cs_locations (id),
    amount_mg double precision not null,
    balance_mg double precision not null,
    session_id text references treatment_sessions (id),
    patient_id text references patients (id),
    actor_id text not null references users (id),
    witness_id text references users (id),
    method text,
    explanation text,
    details text,
    corrects_seq bigint,
    at bigint not null,
    prev_hash text not null,
    hash text not null
);
create index cs_ledger_site_idx on cs_ledger (site_id, at);
create index cs_ledger_container_idx on cs_ledger (container_id, seq);

create table cs_chain (
    id bigint primary key check (id = 1),
    seq bigint not null,
    hash text not null
);
insert into cs_chain (id, seq, hash)
values (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- What a theft or significant loss opens: the DEA field division notice (1 business day) and
-- DEA Form 106 (45 days), each done when someone records it.
create table cs_dea_tasks (
    id text primary key,
    site_id text not null references sites (id),
    entry_seq bigint not null references cs_ledger (seq),
    kind text not null check (kind in ('field_division_notice', 'form_106')),
    due_on text not null,
    done_on text,
    done_by text references users (id),
    unique (entry_seq, kind)
);

create function cs_ledger_refuse_change() returns trigger
language plpgsql as $$
begin
    raise exception 'cs_ledger is append-only; write a correction';
end;
$$;

create trigger cs_ledger_append_only before update on cs_ledger
for each row execute function cs_ledger_refuse_change();

create trigger cs_ledger_no_delete before delete on cs_ledger
for each row execute function cs_ledger_refuse_change();

-- The vials or devices a session's verified dose is drawn from (a JSON list of container ids);
-- the session writes their administration entries when administration starts.
alter table treatment_sessions add column cs_containers text;
