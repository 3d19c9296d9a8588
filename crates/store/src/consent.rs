//! Versioned consent documents and signatures. Publishing takes the site's row first, so two
//! administrators publishing at once get consecutive versions; signing checks, in the same
//! statement that writes, that the version signed is still the current one.

use clinical::consent::ConsentText;

use crate::audit::{self, Actor, AuditEvent, AuditOutcome};
use crate::row::{PatientId, RowReader, SiteId};
use crate::{Store, StoreError, millis};

/// A published consent document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentDocument {
    /// Identifier.
    pub id: String,
    /// Version number at the site, from 1.
    pub version: i64,
    /// Its text.
    pub text: ConsentText,
    /// Who published it.
    pub published_by: Option<String>,
    /// When.
    pub published_at: jiff::Timestamp,
}

/// A patient's signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentSignature {
    /// The version signed.
    pub version: i64,
    /// The title of that version.
    pub title: String,
    /// The name the patient typed.
    pub signed_name: String,
    /// Who witnessed it.
    pub witness: Option<String>,
    /// When.
    pub signed_at: jiff::Timestamp,
}

/// Where a patient stands with consent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentStatus {
    /// The site's current document; `None` until one is published.
    pub current: Option<ConsentDocument>,
    /// Every signature of the patient, newest first.
    pub signatures: Vec<ConsentSignature>,
}

impl ConsentStatus {
    /// Whether the newest signature is of the current version (what a first session needs).
    pub fn signed_current(&self) -> bool {
        match (&self.current, self.signatures.first()) {
            (Some(doc), Some(sig)) => sig.version == doc.version,
            _ => false,
        }
    }
}

fn document(r: &RowReader<'_>) -> Result<ConsentDocument, StoreError> {
    Ok(ConsentDocument {
        id: r.text("id")?,
        version: r.int("version")?,
        text: ConsentText {
            title: r.text("title")?,
            body: r.text("body")?,
        },
        published_by: r.opt_text("display_name")?,
        published_at: r.instant("published_at")?,
    })
}

const DOCUMENT_COLUMNS: &str = "d.id, d.version, d.title, d.body, d.published_at, u.display_name";

impl Store {
    /// Publishes a new version of the site's consent document and returns its number.
    #[tracing::instrument(skip_all)]
    pub async fn publish_consent(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        text: &ConsentText,
        now: jiff::Timestamp,
    ) -> Result<i64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let locked = sqlx::query("update sites set name = name where id = $1")
            .bind(site_id.as_str())
            .execute(&mut *tx)
            .await?;
        if locked.rows_affected() != 1 {
            return Err(StoreError::NotFound { entity: "site" });
        }
        let row = sqlx::query(
            "select coalesce(max(version), 0) + 1 as next from consent_documents where site_id = $1",
        )
        .bind(site_id.as_str())
        .fetch_one(&mut *tx)
        .await?;
        let version = RowReader::new(&row, "consent_documents", "next")?.int("next")?;
        let id = crate::new_id();
        sqlx::query(
            "insert into consent_documents (id, site_id, version, title, body, published_by,
                                            published_at)
             values ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id.as_str())
        .bind(site_id.as_str())
        .bind(version)
        .bind(text.title.as_str())
        .bind(text.body.as_str())
        .bind(actor.user_id())
        .bind(millis(now))
        .execute(&mut *tx)
        .await?;
        let event = AuditEvent::new("consent.publish", AuditOutcome::Ok)
            .site(site_id.as_str())
            .entity("consent_document", &id)
            .detail(format!("version={version}"));
        audit::insert(&mut tx, now, actor, &event).await?;
        tx.commit().await?;
        Ok(version)
    }

    /// Every version of the site's consent document, newest first.
    #[tracing::instrument(skip_all)]
    pub async fn consent_documents(
        &self,
        site_id: &SiteId,
    ) -> Result<Vec<ConsentDocument>, StoreError> {
        let rows = sqlx::query(&format!(
            "select {DOCUMENT_COLUMNS} from consent_documents d
               left join users u on u.id = d.published_by
              where d.site_id = $1 order by d.version desc"
        ))
        .bind(site_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| document(&RowReader::new(row, "consent_documents", "id")?))
            .collect()
    }

    /// A patient's consent: the site's current document and the patient's signatures; audited
    /// as a read.
    #[tracing::instrument(skip_all)]
    pub async fn consent_status(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        patient_id: &PatientId,
        now: jiff::Timestamp,
    ) -> Result<ConsentStatus, StoreError> {
        let row = sqlx::query(&format!(
            "select {DOCUMENT_COLUMNS} from consent_documents d
               left join users u on u.id = d.published_by
              where d.site_id = $1 order by d.version desc limit 1"
        ))
        .bind(site_id.as_str())
        .fetch_optional(&self.pool)
        .await?;
        let current = match row {
            Some(row) => Some(document(&RowReader::new(&row, "consent_documents", "id")?)?),
            None => None,
        };
        let rows = sqlx::query(
            "select s.id, d.version, d.title, s.signed_name, s.signed_at, u.display_name
               from consent_signatures s
               join consent_documents d on d.id = s.document_id
               join patients p on p.id = s.patient_id
               left join users u on u.id = s.witness_id
              where p.site_id = $1 and s.patient_id = $2
              order by s.signed_at desc, s.id desc",
        )
        .bind(site_id.as_str())
        .bind(patient_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        let signatures = rows
            .iter()
            .map(|row| {
                let r = RowReader::new(row, "consent_signatures", "id")?;
                Ok(ConsentSignature {
                    version: r.int("version")?,
                    title: r.text("title")?,
                    signed_name: r.text("signed_name")?,
                    witness: r.opt_text("display_name")?,
                    signed_at: r.instant("signed_at")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let event = AuditEvent::new("consent.read", AuditOutcome::Ok)
            .site(site_id.as_str())
            .patient(patient_id.as_str());
        self.audit(actor, event, now).await?;
        Ok(ConsentStatus {
            current,
            signatures,
        })
    }

    /// Records a patient's signature of version `version`, witnessed by the actor; `false`
    /// when that version is no longer the current one (or the patient is not of the site), so
    /// nobody signs a text that was replaced while they read it.
    #[tracing::instrument(skip_all)]
    pub async fn sign_consent(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        patient_id: &PatientId,
        version: i64,
        signed_name: &str,
        now: jiff::Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let saved = sqlx::query(
            "insert into consent_signatures (id, patient_id, document_id, signed_name, witness_id,
                                             signed_at)
             select $1, p.id, d.id, $4, $5, $6
               from consent_documents d
               join patients p on p.site_id = d.site_id
              where d.site_id = $2 and p.id = $3 and d.version = $7
                and d.version = (select max(version) from consent_documents where site_id = $2)",
        )
        .bind(crate::new_id())
        .bind(site_id.as_str())
        .bind(patient_id.as_str())
        .bind(signed_name)
        .bind(actor.user_id())
        .bind(millis(now))
        .bind(version)
        .execute(&mut *tx)
        .await?;
        if saved.rows_affected() != 1 {
            return Ok(false);
        }
        let event = AuditEvent::new("consent.sign", AuditOutcome::Ok)
            .site(site_id.as_str())
            .patient(patient_id.as_str())
            .detail(format!("version={version}"));
        audit::insert(&mut tx, now, actor, &event).await?;
        tx.commit().await?;
        Ok(true)
    }
}
