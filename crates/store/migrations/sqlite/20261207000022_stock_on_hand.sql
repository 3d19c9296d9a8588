-- The ledger page lists the stock on hand (containers that still hold drug), not every vial
-- ever received; this index keeps that read proportional to what the clinic holds.
-- Keep in step with ../postgres/20261207000022_stock_on_hand.sql (a test compares the two).
create index cs_containers_held_idx on cs_containers (site_id) where balance_mg > 0;
