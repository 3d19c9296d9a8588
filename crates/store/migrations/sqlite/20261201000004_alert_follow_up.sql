-- Safety alerts are closed by a follow-up that leaves a clinical trace: how the patient was
-- reached, what was done (a JSON list of action codes) and the clinician's note.
-- Identical on SQLite and PostgreSQL.

alter table alerts add column follow_up_contact text;
alter table alerts add column follow_up_actions text;
alter table alerts add column follow_up_note text;
