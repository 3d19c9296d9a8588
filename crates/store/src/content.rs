//! Instrument wording loaded by a clinic (`ketaflow instruments import`).

use clinical::instruments::InstrumentId;
use clinical::instruments::content::{ContentInput, InstrumentContent, ItemInput};
use jiff::Timestamp;
use sqlx::Row;

use crate::audit::{self, Actor, AuditEvent, AuditOutcome};
use crate::{Store, StoreError, millis};

impl Store {
    /// Stores wording, replacing any earlier wording of the same instrument and language.
    #[tracing::instrument(skip_all)]
    pub async fn save_instrument_content(
        &self,
        actor: &Actor,
        content: &InstrumentContent,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let code = content.instrument().code();
        let mut tx = self.pool.begin().await?;
        for table in ["instrument_content_items", "instrument_content"] {
            sqlx::query(&format!(
                "delete from {table} where instrument = $1 and language = $2"
            ))
            .bind(code)
            .bind(content.language())
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("insert into instrument_content (instrument, language, instructions, imported_at) values ($1, $2, $3, $4)")
            .bind(code)
            .bind(content.language())
            .bind(content.instructions())
            .bind(millis(now))
            .execute(&mut *tx)
            .await?;
        for (i, (text, options)) in content.items().iter().enumerate() {
            sqlx::query(
                "insert into instrument_content_items (instrument, language, number, text, options) values ($1, $2, $3, $4, $5)",
            )
            .bind(code)
            .bind(content.language())
            .bind(i as i64 + 1)
            .bind(text)
            .bind(options.join("\n"))
            .execute(&mut *tx)
            .await?;
        }
        let event = AuditEvent::new("instrument_content.import", AuditOutcome::Ok)
            .detail(format!("instrument={code} language={}", content.language()));
        audit::insert(&mut tx, now, actor, &event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The wording loaded for an instrument in a language, if any.
    #[tracing::instrument(skip_all)]
    pub async fn instrument_content(
        &self,
        instrument: InstrumentId,
        language: &str,
    ) -> Result<Option<InstrumentContent>, StoreError> {
        let instructions: Option<String> = sqlx::query_scalar(
            "select instructions from instrument_content where instrument = $1 and language = $2",
        )
        .bind(instrument.code())
        .bind(language)
        .fetch_optional(&self.pool)
        .await?;
        let Some(instructions) = instructions else {
            return Ok(None);
        };
        let rows = sqlx::query(
            "select text, options from instrument_content_items where instrument = $1 and language = $2 order by number",
        )
        .bind(instrument.code())
        .bind(language)
        .fetch_all(&self.pool)
        .await?;
        let mut items = Vec::with_capacity(rows.len());
        for row in &rows {
            let options: String = row.try_get("options")?;
            items.push(ItemInput {
                text: row.try_get("text")?,
                options: options
                    .split('\n')
                    .filter(|o| !o.is_empty())
                    .map(str::to_owned)
                    .collect(),
            });
        }
        let input = ContentInput {
            instrument: instrument.code().to_owned(),
            language: language.to_owned(),
            instructions,
            options: Vec::new(),
            items,
        };
        // Stored content was validated on the way in; a row edited by hand into an invalid
        // shape is treated as absent rather than shown wrongly.
        Ok(input.validate().ok())
    }
}
