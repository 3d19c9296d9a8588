-- Foundation schema (PostgreSQL): sites, users, login sessions, API tokens, patients, audit trail.
-- Instants are bigint milliseconds since the Unix epoch; flags are integers 0/1 (the sqlx Any
-- driver cannot decode SQLite booleans); ids are text.
-- Keep in step with ../sqlite/20261123000001_foundation.sql (a test compares the two schemas).

create table sites (
    id text primary key,
    name text not null,
    timezone text not null,
    is_demo integer not null default 0 check (is_demo in (0, 1)),
    created_at bigint not null
);

create table users (
    id text primary key,
    site_id text not null references sites (id),
    email text not null,
    display_name text not null,
    role text not null check (role in ('admin', 'prescriber', 'nurse', 'front_desk')),
    password_hash text not null,
    is_demo integer not null default 0 check (is_demo in (0, 1)),
    disabled integer not null default 0 check (disabled in (0, 1)),
    failed_logins bigint not null default 0,
    locked_until bigint,
    created_at bigint not null,
    constraint users_email_key unique (email)
);

create table login_sessions (
    token_hash text primary key,
    user_id text not null references users (id) on delete cascade,
    csrf_token text not null,
    created_at bigint not null,
    last_seen_at bigint not null,
    ended_at bigint
);
create index login_sessions_user_idx on login_sessions (user_id);

create table api_tokens (
    id text primary key,
    user_id text not null references users (id) on delete cascade,
    token_hash text not null,
    label text not null,
    created_at bigint not null,
    last_used_at bigint,
    revoked_at bigint,
    constraint api_tokens_token_hash_key unique (token_hash)
);
create index api_tokens_user_idx on api_tokens (user_id);

create table patients (
    id text primary key,
    site_id text not null references sites (id),
    mrn text not null,
    given_name text not null,
    family_name text not null,
    date_of_birth text not null,
    sex text not null check (sex in ('female', 'male', 'other', 'unknown')),
    phone text,
    email text,
    is_demo integer not null default 0 check (is_demo in (0, 1)),
    created_at bigint not null,
    updated_at bigint not null,
    created_by text references users (id),
    constraint patients_mrn_key unique (site_id, mrn)
);
create index patients_name_idx on patients (site_id, family_name, given_name);

create table audit_events (
    id bigint generated always as identity primary key,
    at bigint not null,
    actor_user_id text references users (id),
    actor_label text not null,
    action text not null,
    outcome text not null check (outcome in ('ok', 'denied', 'failed')),
    entity_type text,
    entity_id text,
    patient_id text,
    detail text
);
create index audit_events_patient_idx on audit_events (patient_id, id);

create function audit_events_refuse_change() returns trigger
language plpgsql as $$
begin
    raise exception 'audit_events is append-only';
end;
$$;

create trigger audit_events_no_update before update or delete on audit_events
for each row execute function audit_events_refuse_change();

create trigger audit_events_no_truncate before truncate on audit_events
for each statement execute function audit_events_refuse_change();
