-- Versioned consent documents and patients' signatures (postgres). A document is never changed:
-- the clinic publishes a new version (numbered per site, unique), and a signature names the
-- version signed, the name the patient typed and the staff member who witnessed it.
-- Identical on SQLite and PostgreSQL; keep in step with ../sqlite/20261201000011_consent.sql.

create table consent_documents (
    id text primary key,
    site_id text not null references sites (id),
    version bigint not null check (version >= 1),
    title text not null,
    body text not null,
    published_by text references users (id),
    published_at bigint not null,
    constraint consent_documents_version_unique unique (site_id, version)
);

create table consent_signatures (
    id text primary key,
    patient_id text not null references patients (id),
    document_id text not null references consent_documents (id),
    signed_name text not null,
    witness_id text references users (id),
    signed_at bigint not null
);
create index consent_signatures_patient_idx on consent_signatures (patient_id, signed_at);
