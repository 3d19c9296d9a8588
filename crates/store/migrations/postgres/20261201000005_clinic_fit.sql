-- Clinic fit (postgres): the patient directory searches a folded copy of each name (lower case,
-- accents removed, computed by the application: `clinical::patient::search_key`) and keeps
-- the contact details front-desk staff edit; staff accounts can be sent to set a new password.
-- Identical on SQLite and PostgreSQL; keep in step with ../sqlite/20261201000005_clinic_fit.sql.

alter table patients add column search_text text not null default '';
alter table patients add column address text;
alter table patients add column emergency_contact_name text;
alter table patients add column emergency_contact_phone text;
alter table patients add column updated_by text references users (id);
create index patients_birth_date_idx on patients (site_id, date_of_birth);

alter table users add column must_change_password integer not null default 0 check (must_change_password in (0, 1));

-- A self-report link can be withdrawn before it is used.
alter table self_report_links add column revoked_at bigint;

-- A second baseline is kept only with the clinician's reason for re-baselining.
alter table assessments add column rebaseline_reason text;
