-- Current medications, past antidepressant trials, screenings and prescribers' decisions (sqlite).
-- Medications and trials are ended or struck out, never deleted; a screening keeps the input it
-- read and the findings it gave (JSON, checked when read), so a later change of rules or
-- settings never rewrites what the prescriber saw. Decisions are appended; the newest stands.
-- Identical on SQLite and PostgreSQL; keep in step with ../postgres/20261201000010_screening.sql.

create table patient_medications (
    id text primary key,
    patient_id text not null references patients (id),
    name text not null,
    dose text not null,
    class text check (class in ('benzodiazepine', 'non_benzodiazepine_hypnotic', 'lamotrigine', 'maoi', 'psychostimulant', 'opioid', 'naltrexone')),
    recorded_by text references users (id),
    recorded_at bigint not null,
    ended_by text references users (id),
    ended_at bigint
);
create index patient_medications_patient_idx on patient_medications (patient_id, recorded_at);

create table antidepressant_trials (
    id text primary key,
    patient_id text not null references patients (id),
    drug text not null,
    dose text not null,
    weeks bigint check (weeks between 1 and 520),
    response text not null check (response in ('none', 'partial', 'response', 'remission', 'not_tolerated', 'unknown')),
    adequate bigint not null check (adequate in (0, 1)),
    recorded_by text references users (id),
    recorded_at bigint not null,
    struck_by text references users (id),
    struck_at bigint
);
create index antidepressant_trials_patient_idx on antidepressant_trials (patient_id, recorded_at);

create table screenings (
    id text primary key,
    patient_id text not null references patients (id),
    input text not null,
    findings text not null,
    recorded_by text references users (id),
    recorded_at bigint not null
);
create index screenings_patient_idx on screenings (patient_id, recorded_at);

create table screening_decisions (
    id text primary key,
    screening_id text not null references screenings (id),
    decision text not null check (decision in ('eligible', 'not_eligible', 'needs_review')),
    reason text not null,
    justification text,
    decided_by text references users (id),
    decided_at bigint not null
);
create index screening_decisions_screening_idx on screening_decisions (screening_id, decided_at);
