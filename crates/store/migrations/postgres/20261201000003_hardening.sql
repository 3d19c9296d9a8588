-- Hardening (PostgreSQL): every audit event names its site, so an administrator reads only
-- their own site's trail; details lose the instrument and flag codes that hinted at a
-- diagnosis; answers and flags become JSON arrays instead of comma-joined text.
-- Keep in step with ../sqlite/20261201000003_hardening.sql (a test compares the two schemas).

alter table audit_events add column site_id text references sites (id);

-- The one sanctioned change of recorded events: filling the new column and removing clinical
-- hints, with the append-only trigger lifted for the length of this migration only.
alter table audit_events disable trigger audit_events_no_update;
update audit_events set site_id = (select u.site_id from users u where u.id = audit_events.actor_user_id)
 where actor_user_id is not null;
update audit_events set site_id = (select p.site_id from patients p where p.id = audit_events.patient_id)
 where site_id is null and patient_id is not null;
update audit_events set detail = null
 where action in ('assessment.create', 'self_report_link.create', 'alert.raise');
alter table audit_events enable trigger audit_events_no_update;

create index audit_events_site_idx on audit_events (site_id, id);

update assessments set answers = '[' || answers || ']';
update assessments set flags = case when flags = '' then '[]'
                                    else '["' || replace(flags, ',', '","') || '"]' end;
