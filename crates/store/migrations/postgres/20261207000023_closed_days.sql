-- Days the clinic is closed (holidays, training days): nothing is proposed or booked on them,
-- and a day with booked appointments is not closed until they are moved or cancelled.
-- Keep in step with ../sqlite/20261207000023_closed_days.sql (a test compares the two).
create table site_closures (
    site_id text not null references sites (id),
    day text not null,
    reason text not null,
    closed_by text references users (id),
    closed_at bigint not null,
    primary key (site_id, day)
);
