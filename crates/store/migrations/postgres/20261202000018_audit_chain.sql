-- Tamper-evident audit trail (PostgreSQL): every event carries its place in one hash chain per
-- database (seq), the SHA-256 of the event before it (prev_hash) and of its own content with
-- that (hash); audit_chain holds the head that every writer of events takes first, so events
-- get consecutive places one writer at a time. The address a request came from is recorded
-- for the privacy officer's "who accessed this record, from where".
-- Keep in step with ../sqlite/20261202000018_audit_chain.sql (a test compares the two).

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

drop trigger audit_events_no_update on audit_events;

create function audit_events_guard() returns trigger
language plpgsql as $$
begin
    if tg_op = 'UPDATE' and old.hash is null
       and old.id <= (select legacy_until from audit_chain where id = 1)
       and (new.id, new.at, new.site_id, new.actor_user_id, new.actor_label, new.action,
            new.outcome, new.entity_type, new.entity_id, new.patient_id, new.detail,
            new.client_address)
           is not distinct from
           (old.id, old.at, old.site_id, old.actor_user_id, old.actor_label, old.action,
            old.outcome, old.entity_type, old.entity_id, old.patient_id, old.detail,
            old.client_address) then
        return new;
    end if;
    raise exception 'audit_events is append-only';
end;
$$;

create trigger audit_events_no_update before update or delete on audit_events
for each row execute function audit_events_guard();

create function audit_events_require_chain() returns trigger
language plpgsql as $$
begin
    if new.seq is null or new.prev_hash is null or new.hash is null then
        raise exception 'audit events are written with their place in the hash chain';
    end if;
    return new;
end;
$$;

create trigger audit_events_chained before insert on audit_events
for each row execute function audit_events_require_chain();
