-- Treatment courses with signed orders, rooms and chairs, appointments, and the Spravato REMS
-- records (sqlite).
-- A course keeps the protocol it was planned from (code, name and source copied, so a later
-- change to a clinic's template does not rewrite it); a change of dose is a new signed order
-- that names the one it replaces. Appointments are never deleted: a cancelled or no-show one
-- keeps its reason and frees its slot. No chair and no patient is double-booked: the booking
-- locks the chair's and the patient's rows and checks for overlap in the same transaction.
-- Identical on SQLite and PostgreSQL; keep in step with ../postgres/20261201000013_courses_scheduling.sql.

create table rooms (
    id text primary key,
    site_id text not null references sites (id),
    name text not null,
    constraint rooms_name_unique unique (site_id, name)
);

create table chairs (
    id text primary key,
    site_id text not null references sites (id),
    room_id text not null references rooms (id),
    name text not null,
    supports text not null,
    open_days text not null,
    opens_min bigint not null check (opens_min between 0 and 1439),
    closes_min bigint not null check (closes_min between 1 and 1440),
    constraint chairs_name_unique unique (room_id, name)
);

create table courses (
    id text primary key,
    patient_id text not null references patients (id),
    diagnosis_code text not null,
    product text not null check (product in ('iv_racemic', 'im_racemic', 'esketamine_nasal', 'oral_racemic', 'sublingual_racemic')),
    protocol_code text not null,
    protocol_name text not null,
    protocol_source text not null,
    phases text not null,
    instrument text not null,
    starts_on text not null,
    status text not null check (status in ('planned', 'active', 'paused', 'completed', 'stopped')),
    status_reason text,
    created_by text references users (id),
    created_at bigint not null,
    updated_by text references users (id),
    updated_at bigint not null
);
create index courses_patient_idx on courses (patient_id, created_at);

create table course_orders (
    id text primary key,
    course_id text not null references courses (id),
    dose_value double precision not null check (dose_value > 0),
    dose_unit text not null check (dose_unit in ('mg_per_kg', 'mg')),
    reason text,
    supersedes text references course_orders (id),
    signed_by text not null references users (id),
    signed_at bigint not null
);
create index course_orders_course_idx on course_orders (course_id, signed_at);

create table appointments (
    id text primary key,
    site_id text not null references sites (id),
    patient_id text not null references patients (id),
    chair_id text not null references chairs (id),
    course_id text references courses (id),
    kind text not null check (kind in ('iv_infusion', 'esketamine', 'im', 'oral', 'intake', 'follow_up')),
    starts_at bigint not null,
    ends_at bigint not null,
    status text not null check (status in ('booked', 'cancelled', 'no_show')),
    status_reason text,
    booked_by text references users (id),
    booked_at bigint not null,
    changed_by text references users (id),
    changed_at bigint,
    check (ends_at > starts_at)
);
create index appointments_chair_idx on appointments (chair_id, starts_at);
create index appointments_patient_idx on appointments (patient_id, starts_at);
create index appointments_site_idx on appointments (site_id, starts_at);

create table site_rems (
    site_id text primary key references sites (id),
    certified_on text not null,
    representative text not null,
    recorded_by text references users (id),
    recorded_at bigint not null
);

create table patient_rems (
    patient_id text primary key references patients (id),
    enrolled_on text not null,
    submitted_by text not null check (submitted_by in ('online', 'fax')),
    recorded_by text references users (id),
    recorded_at bigint not null
);
