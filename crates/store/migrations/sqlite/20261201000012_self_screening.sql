-- The candidate's own screening questionnaire (sqlite): single-use links (only the SHA-256 of the
-- secret is kept, like self-report links) and the answers given through them. The answers feed
-- the clinician's screening as "patient-reported", never as confirmed.
-- Identical on SQLite and PostgreSQL; keep in step with ../postgres/20261201000012_self_screening.sql.

create table self_screening_links (
    token_hash text primary key,
    patient_id text not null references patients (id),
    created_by text not null references users (id),
    created_at bigint not null,
    expires_at bigint not null,
    used_at bigint,
    revoked_at bigint
);
create index self_screening_links_patient_idx on self_screening_links (patient_id);

create table self_screenings (
    id text primary key,
    patient_id text not null references patients (id),
    link_hash text not null references self_screening_links (token_hash),
    answered_yes text not null,
    answered_not_sure text not null,
    submitted_at bigint not null
);
create index self_screenings_patient_idx on self_screenings (patient_id, submitted_at);
