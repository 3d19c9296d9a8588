-- A session may end before any drug is given: the pre-session assessment finds a blood
-- pressure too high to dose or a positive pregnancy test, there is no escort home, the patient
-- declines. The session is then discharged with why it ended undosed; who ended it and when
-- are its discharged_by and discharged_at. Null: the session was not ended that way.
-- Such a session does not count as one of its course's sessions, and needs no REMS form.
-- Keep in step with ../sqlite/20261207000024_not_given.sql (a test compares the two).
alter table treatment_sessions add column not_given text
    check (not_given in ('vitals', 'pregnancy_test', 'no_escort', 'not_fasting',
                         'clinical_judgement', 'declined', 'other'));
alter table treatment_sessions add column not_given_note text;
