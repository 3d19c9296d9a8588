-- Tamper-evident audit trail (SQLite): every event carries its place in one hash chain per
-- database (seq), the SHA-256 of the event before it (prev_hash) and of its own content with
-- that (hash); audit_chain holds the head that every writer of events takes first, so events
-- get consecutive places one writer at a time. The address a request came from is recorded
-- for the privacy officer's "who accessed this record, from where".
-- Keep in step with ../postgres/20261202000018_audit_chain.sql (a test compares the two).

alter table audit_events add column seq bigint;
alter table audit_events add column client_address text;
alter table audit_events add column prev_hash text;
alter table audit_events add column hash text;
create unique index audit_events_seq_key on audit_events (seq);

-- legacy_until: events up to this id were recorded before the chain existed; the store seals
-- them into the chain once, at its next start, and no other change of an event is allowed.
create table audit_chain (
    id bigint primary key check (id = 1),
    seq bigint not null,
    hash text not null,
    legacy_until bigint not null
);
insert into audit_chain (id, seq, hash, legacy_until)
select 1, 0, '0000000000000000000000000000000000000000000000000000000000000000', coalesce(max(id), 0)
  from audit_events;

drop trigger audit_events_no_update;
create trigger audit_events_no_update before update on audit_events
when old.hash is not null
  or old.id > (select legacy_until from audit_chain where id = 1)
  or new.id is not old.id or new.at is not old.at or new.site_id is not old.site_id
  or new.actor_user_id is not old.actor_user_id or new.actor_label is not old.actor_label
  or new.action is not old.action or new.outcome is not old.outcome
  or new.entity_type is not old.entity_type or new.entity_id is not old.entity_id
  or new.patient_id is not old.patient_id or new.detail is not old.detail
  or new.client_address is not old.client_address
begin
    select raise(abort, 'audit_events is append-only');
end;

create trigger audit_events_chained before insert on audit_events
when new.seq is null or new.prev_hash is null or new.hash is null
begin
    select raise(abort, 'audit events are written with their place in the hash chain');
end;
