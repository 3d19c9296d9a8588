-- A patient's diagnoses (sqlite): ICD-10-CM codes from the built-in list
-- (`clinical::diagnoses`), each with who recorded it and when, and, once no longer current,
-- who ended it and when (kept, never deleted).
-- Identical on SQLite and PostgreSQL; keep in step with ../postgres/20261201000008_diagnoses.sql.

create table patient_diagnoses (
    id text primary key,
    patient_id text not null references patients (id),
    code text not null,
    recorded_by text references users (id),
    recorded_at bigint not null,
    ended_by text references users (id),
    ended_at bigint
);
create index patient_diagnoses_patient_idx on patient_diagnoses (patient_id, recorded_at);
