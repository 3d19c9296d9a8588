-- The patient list is ordered by name without regard to case (lower(family_name),
-- lower(given_name), id). An index in that very order lets the database read a site's
-- patients already sorted and stop at the page's limit, instead of sorting them all for
-- every list; it replaces the case-sensitive name index, which no query could use for that.
drop index patients_name_idx;
create index patients_name_order_idx on patients (site_id, lower(family_name), lower(given_name), id);
