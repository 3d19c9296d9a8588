//! `ketaflow instruments list` and `ketaflow instruments import FILE`.

use anyhow::Context;
use clinical::instruments::content::{ContentInput, ItemInput};
use clinical::instruments::{InstrumentId, LicenceStatus};
use serde::Deserialize;
use store::Actor;

use crate::InputError;
use crate::config::Config;
use crate::serve::open_store;

/// The file format: one instrument's wording in one language.
///
/// ```json
/// {"instrument": "phq9", "language": "en", "instructions": "Over the last 2 weeks ...",
///  "options": ["Not at all", "Several days", "More than half the days", "Nearly every day"],
///  "items": [{"text": "..."}, {"text": "...", "options": ["...", "..."]}]}
/// ```
/// Option texts are listed in the order Ketaflow shows the answers (see `instruments list`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ContentFile {
    instrument: String,
    language: String,
    #[serde(default)]
    instructions: String,
    #[serde(default)]
    options: Vec<String>,
    items: Vec<ItemFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ItemFile {
    text: String,
    #[serde(default)]
    options: Vec<String>,
}

pub(crate) fn list() {
    println!(
        "{:<14} {:<10} {:>5}  {:<9} {:<10} {:<19} licence",
        "id", "name", "items", "answers", "total", "LOINC panel/total"
    );
    for id in InstrumentId::ALL {
        let i = id.instrument();
        let (lo, hi) = i.total_range();
        let loinc = match (i.loinc_panel, i.loinc_total) {
            (Some(p), Some(t)) => format!("{p}/{t}"),
            _ => "none found".into(),
        };
        let licence = match i.licence {
            LicenceStatus::Free => "free",
            LicenceStatus::PublicDomain => "public domain",
            LicenceStatus::PermissionRequired => "permission required",
            LicenceStatus::Unconfirmed => "unconfirmed",
        };
        println!(
            "{:<14} {:<10} {:>5}  {:<9} {:<10} {:<19} {licence}",
            id.code(),
            i.short_name,
            i.items.len(),
            format!("{} to {}", i.answer_min, i.answer_max),
            format!("{lo} to {hi}"),
            loinc,
        );
    }
}

pub(crate) async fn import(config: &Config, path: &std::path::Path) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let file: ContentFile = serde_json::from_str(&text)
        .map_err(|e| anyhow::Error::new(InputError(format!("{}: {e}", path.display()))))?;
    let input = ContentInput {
        instrument: file.instrument,
        language: file.language,
        instructions: file.instructions,
        options: file.options,
        items: file
            .items
            .into_iter()
            .map(|i| ItemInput {
                text: i.text,
                options: i.options,
            })
            .collect(),
    };
    let content = input.validate().map_err(|errors| {
        let list: Vec<String> = errors.iter().map(|e| format!("  - {e}")).collect();
        anyhow::Error::new(InputError(format!(
            "{} does not fit its instrument:\n{}",
            path.display(),
            list.join("\n")
        )))
    })?;
    let store = open_store(config).await?;
    store
        .save_instrument_content(&Actor::system("cli"), &content, jiff::Timestamp::now())
        .await
        .context("saving the wording")?;
    store.close().await;
    println!(
        "Loaded {} wording ({}, {} items).",
        content.instrument().instrument().short_name,
        content.language(),
        content.items().len()
    );
    Ok(())
}
