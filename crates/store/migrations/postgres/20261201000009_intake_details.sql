-- Intake details (postgres), one row per patient, updated as they change: allergies (a JSON list,
-- or none known, or not asked), the referring clinician, pregnancy status. Every change is in
-- the audit trail with who and when; the row keeps the last.
-- Identical on SQLite and PostgreSQL; keep in step with ../sqlite/20261201000009_intake_details.sql.

create table intake_details (
    patient_id text primary key references patients (id),
    allergies text not null check (allergies in ('not_asked', 'none_known', 'listed')),
    allergy_list text not null,
    referrer_name text,
    referrer_practice text,
    referrer_phone text,
    pregnancy text not null check (pregnancy in ('not_asked', 'not_applicable', 'not_pregnant', 'pregnant', 'breastfeeding')),
    updated_by text references users (id),
    updated_at bigint not null
);
