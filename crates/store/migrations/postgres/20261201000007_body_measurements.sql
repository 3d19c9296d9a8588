-- Weight and height history (postgres): each measurement with the date it was taken, in whole grams
-- and millimetres (exact on both databases), who recorded it and when.
-- Identical on SQLite and PostgreSQL; keep in step with ../sqlite/20261201000007_body_measurements.sql.

create table body_measurements (
    id text primary key,
    patient_id text not null references patients (id),
    measured_on text not null,
    weight_g bigint check (weight_g is null or weight_g > 0),
    height_mm bigint check (height_mm is null or height_mm > 0),
    recorded_by text references users (id),
    recorded_at bigint not null,
    check (weight_g is not null or height_mm is not null)
);
create index body_measurements_patient_idx on body_measurements (patient_id, measured_on);
