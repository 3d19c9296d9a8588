-- Measurement-based care: assessments, patient self-report links, safety alerts, and the
-- instrument wording a clinic loads. Identical on SQLite and PostgreSQL.

create table assessments (
    id text primary key,
    patient_id text not null references patients (id),
    instrument text not null,
    time_point text not null,
    administered_at bigint not null,
    -- Answers as given on the form, comma-separated, and the result computed from them.
    answers text not null,
    total bigint not null,
    severity text,
    flags text not null,
    scoring_version text not null,
    entered_by_user_id text references users (id),
    entered_by_patient integer not null default 0 check (entered_by_patient in (0, 1)),
    created_at bigint not null
);
create index assessments_patient_idx on assessments (patient_id, instrument, administered_at);

-- Only the SHA-256 of a link's secret is kept.
create table self_report_links (
    token_hash text primary key,
    patient_id text not null references patients (id),
    instrument text not null,
    time_point text not null,
    created_by text not null references users (id),
    created_at bigint not null,
    expires_at bigint not null,
    used_at bigint,
    assessment_id text references assessments (id)
);
create index self_report_links_patient_idx on self_report_links (patient_id);

create table alerts (
    id text primary key,
    site_id text not null references sites (id),
    patient_id text not null references patients (id),
    kind text not null check (kind in ('safety')),
    message text not null,
    assessment_id text references assessments (id),
    created_at bigint not null,
    acknowledged_at bigint,
    acknowledged_by text references users (id)
);
create index alerts_site_open_idx on alerts (site_id, acknowledged_at, created_at);

create table instrument_content (
    instrument text not null,
    language text not null,
    instructions text not null,
    imported_at bigint not null,
    primary key (instrument, language)
);

create table instrument_content_items (
    instrument text not null,
    language text not null,
    number bigint not null,
    text text not null,
    -- Option texts, top to bottom, joined by line feeds; empty for numeric scales.
    options text not null,
    primary key (instrument, language, number)
);
