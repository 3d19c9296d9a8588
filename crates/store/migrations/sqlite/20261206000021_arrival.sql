-- The front desk marks a booked patient as arrived (in the waiting room) on the day list, so
-- the nurses see who is here before they check them in. Null: not marked; the instant in
-- milliseconds, like every other instant. Who marked it is in the audit trail
-- (appointment.arrived).
alter table appointments add column arrived_at bigint;
