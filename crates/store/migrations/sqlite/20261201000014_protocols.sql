-- The clinic's own protocol templates (sqlite), beside the built-in library (`clinical::course`):
-- phases as JSON (name, sessions, frequency), the starting dose, and the source the clinic cites.
-- Identical on SQLite and PostgreSQL; keep in step with ../postgres/20261201000014_protocols.sql.

create table protocols (
    id text primary key,
    site_id text not null references sites (id),
    code text not null,
    name text not null,
    product text not null check (product in ('iv_racemic', 'im_racemic', 'esketamine_nasal', 'oral_racemic', 'sublingual_racemic')),
    phases text not null,
    dose_value double precision not null check (dose_value > 0),
    dose_unit text not null check (dose_unit in ('mg_per_kg', 'mg')),
    source text not null,
    created_by text references users (id),
    created_at bigint not null,
    constraint protocols_code_unique unique (site_id, code)
);
