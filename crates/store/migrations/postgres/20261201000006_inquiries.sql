-- Public inquiries (postgres): what a prospective patient sends from the public page (contact
-- details only, never health information), the front desk's handling of it, and the patient
-- record it became. Purged after the clinic's retention period; the changes go with it.
-- Identical on SQLite and PostgreSQL; keep in step with ../sqlite/20261201000006_inquiries.sql.

create table inquiries (
    id text primary key,
    site_id text not null references sites (id),
    given_name text not null,
    family_name text not null,
    phone text,
    email text,
    contact_times text not null,
    heard_from text,
    question text,
    status text not null check (status in ('new', 'contacted', 'booked_for_intake', 'declined')),
    patient_id text references patients (id),
    created_at bigint not null,
    updated_at bigint not null
);
create index inquiries_site_status_idx on inquiries (site_id, status, created_at);
create index inquiries_created_idx on inquiries (created_at);

create table inquiry_changes (
    id text primary key,
    inquiry_id text not null references inquiries (id) on delete cascade,
    status text not null check (status in ('new', 'contacted', 'booked_for_intake', 'declined')),
    changed_by text references users (id),
    changed_at bigint not null,
    note text
);
create index inquiry_changes_inquiry_idx on inquiry_changes (inquiry_id, changed_at);
