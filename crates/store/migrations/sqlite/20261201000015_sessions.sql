-- Treatment sessions (sqlite): check-in to the signed lock, with pump events, vitals, the alerts they
-- raise, adverse events, addenda, the REMS Patient Monitoring Form and idempotent device posts.
-- A locked session and its vitals, events and alerts are read-only: triggers refuse changes.
-- Identical on SQLite and PostgreSQL but for the triggers; keep in step with ../postgres/20261201000015_sessions.sql.

-- One session per appointment; the course's order and today's weight give the dose.
create table treatment_sessions (
    id text primary key,
    site_id text not null references sites (id),
    appointment_id text not null references appointments (id),
    patient_id text not null references patients (id),
    course_id text not null references courses (id),
    product text not null,
    status text not null check (status in ('checked_in', 'pre_assessed', 'dose_verified', 'administering', 'paused', 'monitoring', 'discharged', 'locked')),
    checked_in_at bigint not null,
    checked_in_by text references users (id),
    weight_kg double precision,
    escort_confirmed bigint check (escort_confirmed in (0, 1)),
    fasting_confirmed bigint check (fasting_confirmed in (0, 1)),
    pregnancy_test text check (pregnancy_test in ('negative', 'not_applicable')),
    pre_note text,
    order_id text references course_orders (id),
    dose_mg double precision check (dose_mg > 0),
    ordered_mg double precision,
    duration_min double precision,
    rate_ml_per_h double precision,
    dose_rate_mg_per_h double precision,
    stock_mg_per_ml double precision,
    lot text,
    verified_by text references users (id),
    second_verifier text references users (id),
    override_by text references users (id),
    override_reason text,
    verified_at bigint,
    started_at bigint,
    ended_at bigint,
    discharged_at bigint,
    discharged_by text references users (id),
    checklist text,
    locked_at bigint,
    locked_by text references users (id),
    rems_answers text,
    updated_at bigint not null,
    constraint treatment_sessions_appointment_unique unique (appointment_id)
);
create index treatment_sessions_site_idx on treatment_sessions (site_id, status);
create index treatment_sessions_course_idx on treatment_sessions (course_id, checked_in_at);

-- Pump and administration events: start, pause, resume, rate change, stop.
create table session_events (
    id text primary key,
    session_id text not null references treatment_sessions (id),
    at bigint not null,
    kind text not null check (kind in ('start', 'pause', 'resume', 'rate', 'stop')),
    dose_rate_mg_per_h double precision,
    note text,
    recorded_by text references users (id)
);
create index session_events_session_idx on session_events (session_id, at);

create table session_vitals (
    id text primary key,
    session_id text not null references treatment_sessions (id),
    taken_at bigint not null,
    systolic_mmhg bigint,
    diastolic_mmhg bigint,
    heart_rate_bpm bigint,
    spo2_percent bigint,
    respiratory_rate_per_min bigint,
    source text not null check (source in ('hand', 'device')),
    recorded_by text references users (id),
    recorded_at bigint not null
);
create index session_vitals_session_idx on session_vitals (session_id, taken_at);

-- An alert stays open until a clinician acknowledges it with the action taken. At most one
-- open alert of a kind per session (a second breach of the same kind adds nothing new).
create table session_alerts (
    id text primary key,
    session_id text not null references treatment_sessions (id),
    vitals_id text not null references session_vitals (id),
    kind text not null,
    message text not null,
    raised_at bigint not null,
    acknowledged_at bigint,
    acknowledged_by text references users (id),
    action text
);
create index session_alerts_session_idx on session_alerts (session_id, raised_at);

create table adverse_events (
    id text primary key,
    session_id text not null references treatment_sessions (id),
    at bigint not null,
    kind text not null,
    grade bigint not null check (grade between 1 and 5),
    action text,
    serious bigint not null check (serious in (0, 1)),
    note text,
    recorded_by text references users (id)
);
create index adverse_events_session_idx on adverse_events (session_id, at);

create table session_addenda (
    id text primary key,
    session_id text not null references treatment_sessions (id),
    at bigint not null,
    body text not null,
    written_by text not null references users (id)
);
create index session_addenda_session_idx on session_addenda (session_id, at);

-- How and when a session's REMS Patient Monitoring Form was sent: kept apart from the
-- session, since it is recorded after the session is locked.
create table rems_submissions (
    session_id text primary key references treatment_sessions (id),
    submitted_on text not null,
    method text not null check (method in ('online', 'fax')),
    recorded_by text references users (id),
    recorded_at bigint not null
);

-- An Idempotency-Key seen from one caller for one request, and the answer given.
create table idempotency_keys (
    caller text not null,
    key text not null,
    request text not null,
    status bigint not null,
    response text not null,
    created_at bigint not null,
    primary key (caller, key)
);

create trigger treatment_sessions_locked before update on treatment_sessions
when old.status = 'locked'
begin
    select raise(abort, 'a locked session is read-only');
end;

create trigger session_vitals_append_only before update on session_vitals
begin
    select raise(abort, 'session_vitals is append-only');
end;

create trigger session_vitals_no_delete before delete on session_vitals
begin
    select raise(abort, 'session_vitals is append-only');
end;
