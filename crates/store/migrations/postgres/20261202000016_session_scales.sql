-- In-session scales and the REMS setting's address (postgres). Each dissociation (CADSS-6) or sedation (MOAA/S) rating taken in the
-- chair is an ordinary assessment of the patient, linked here to its session and the set time
-- (minutes from the start of dosing, 0 before the first dose) it answers. One rating per
-- instrument and set time. Identical on SQLite and PostgreSQL.
create table session_scales (
    session_id text not null references treatment_sessions (id),
    assessment_id text not null unique references assessments (id),
    instrument text not null check (instrument in ('cadss6', 'moaas')),
    minute bigint not null check (minute between 0 and 1440),
    primary key (session_id, instrument, minute)
);

-- The setting's address and telephone, as the REMS Patient Monitoring Form asks for them (the
-- monitoring provider is reached at the setting's telephone). Null for a certification
-- recorded before they were asked; all five are set together.
alter table site_rems add column street text;
alter table site_rems add column city text;
alter table site_rems add column state text;
alter table site_rems add column postal_code text;
alter table site_rems add column phone text;
