//! Clinic sites. A database holds one site today; the column exists on every record so that a
//! group of clinics can share one server later without a migration of every table.

use crate::audit::{self, Actor, AuditEvent, AuditOutcome};
use crate::row::{RowReader, SiteId};
use crate::{Store, StoreError, millis};

/// A clinic site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// Identifier.
    pub id: SiteId,
    /// The clinic's name as shown on pages.
    pub name: String,
    /// IANA time zone in which times are shown, such as `America/New_York`: its name.
    pub timezone: String,
    /// That time zone, for the site's days and times. A site whose zone this server does not
    /// know does not decode (a [`StoreError::Corrupt`]): its times are never shown in another
    /// zone.
    pub zone: jiff::tz::TimeZone,
    /// Whether demo seeding made it.
    pub is_demo: bool,
}

/// The one decoder of `sites` rows.
fn site_from_row(row: &sqlx::any::AnyRow) -> Result<Site, StoreError> {
    let r = RowReader::new(row, "sites", "id")?;
    let timezone = r.text("timezone")?;
    let zone = jiff::tz::TimeZone::get(&timezone).map_err(|e| {
        r.corrupt(
            "timezone",
            format!("'{timezone}' is not an IANA time zone this server knows ({e})"),
        )
    })?;
    Ok(Site {
        id: r.id("id", SiteId::parse)?,
        name: r.text("name")?,
        timezone,
        zone,
        is_demo: r.flag("is_demo")?,
    })
}

impl Store {
    /// The first site made, if any.
    #[tracing::instrument(skip_all)]
    pub async fn first_site(&self) -> Result<Option<Site>, StoreError> {
        let row = sqlx::query(
            "select id, name, timezone, is_demo from sites order by created_at, id limit 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(site_from_row).transpose()
    }

    /// Every site, oldest first (the clinic's locations, for the public inquiry page).
    #[tracing::instrument(skip_all)]
    pub async fn sites(&self) -> Result<Vec<Site>, StoreError> {
        let rows = sqlx::query(
            "select id, name, timezone, is_demo from sites order by created_at, id limit 100",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(site_from_row).collect()
    }

    /// One site by id.
    #[tracing::instrument(skip_all)]
    pub async fn site(&self, id: &SiteId) -> Result<Site, StoreError> {
        let row = sqlx::query("select id, name, timezone, is_demo from sites where id = $1")
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound { entity: "site" })?;
        site_from_row(&row)
    }

    /// The existing site, or a new one with this name and time zone when there is none.
    #[tracing::instrument(skip_all)]
    pub async fn ensure_site(
        &self,
        actor: &Actor,
        name: &str,
        timezone: &str,
        now: jiff::Timestamp,
    ) -> Result<Site, StoreError> {
        if let Some(site) = self.first_site().await? {
            return Ok(site);
        }
        self.insert_site(actor, name, timezone, false, now).await
    }

    pub(crate) async fn insert_site(
        &self,
        actor: &Actor,
        name: &str,
        timezone: &str,
        is_demo: bool,
        now: jiff::Timestamp,
    ) -> Result<Site, StoreError> {
        let id = SiteId::new();
        let mut tx = self.pool.begin().await?;
        sqlx::query("insert into sites (id, name, timezone, is_demo, created_at) values ($1, $2, $3, $4, $5)")
            .bind(id.as_str())
            .bind(name)
            .bind(timezone)
            .bind(i64::from(is_demo))
            .bind(millis(now))
            .execute(&mut *tx)
            .await?;
        audit::insert(
            &mut tx,
            now,
            actor,
            &AuditEvent::new("site.create", AuditOutcome::Ok)
                .site(id.as_str())
                .entity("site", id.as_str()),
        )
        .await?;
        tx.commit().await?;
        self.site(&id).await
    }
}
