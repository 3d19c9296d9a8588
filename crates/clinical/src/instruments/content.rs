//! Instrument wording loaded by a clinic.
//!
//! Ketaflow ships definitions and its own short labels; the exact wording of a licensed
//! instrument is content a clinic that holds the licence loads
//! (`ketaflow instruments import FILE`). Here it is checked against the definition.

use super::{Instrument, InstrumentId, ScoreError};

/// Wording as it arrives from a file, before checking.
#[derive(Debug, Clone, Default)]
pub struct ContentInput {
    /// Instrument id, such as `phq9`.
    pub instrument: String,
    /// Language tag, such as `en` or `es-US`.
    pub language: String,
    /// Instructions shown above the items.
    pub instructions: String,
    /// Option texts shared by every item, top to bottom (empty when given per item).
    pub options: Vec<String>,
    /// Items in form order.
    pub items: Vec<ItemInput>,
}

/// One item's wording.
#[derive(Debug, Clone, Default)]
pub struct ItemInput {
    /// The item text.
    pub text: String,
    /// This item's option texts, top to bottom, when they differ between items.
    pub options: Vec<String>,
}

/// Why loaded wording does not fit its instrument.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContentError {
    /// The instrument id is unknown.
    #[error(transparent)]
    Instrument(#[from] ScoreError),
    /// No language tag.
    #[error("language is missing; give a tag such as \"en\"")]
    LanguageMissing,
    /// Wrong number of items.
    #[error("{instrument} has {expected} items, the file has {got}")]
    ItemCount {
        /// Instrument id.
        instrument: &'static str,
        /// Items in the definition.
        expected: usize,
        /// Items in the file.
        got: usize,
    },
    /// An item without text.
    #[error("item {item} has no text")]
    ItemEmpty {
        /// Item number.
        item: usize,
    },
    /// Wrong number of options for an item.
    #[error(
        "item {item} needs {expected} options (one per answer {min} to {max}), the file has {got}"
    )]
    OptionCount {
        /// Item number.
        item: usize,
        /// Options needed.
        expected: usize,
        /// Options given.
        got: usize,
        /// Lowest answer.
        min: i8,
        /// Highest answer.
        max: i8,
    },
}

/// Wording checked against its instrument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstrumentContent {
    instrument: InstrumentId,
    language: String,
    instructions: String,
    items: Vec<(String, Vec<String>)>,
}

impl InstrumentContent {
    /// The instrument.
    pub fn instrument(&self) -> InstrumentId {
        self.instrument
    }
    /// Language tag.
    pub fn language(&self) -> &str {
        &self.language
    }
    /// Instructions.
    pub fn instructions(&self) -> &str {
        &self.instructions
    }
    /// Items in form order: text and option texts, top to bottom.
    pub fn items(&self) -> &[(String, Vec<String>)] {
        &self.items
    }
}

impl ContentInput {
    /// Checks the wording against the definition; reports every problem found.
    pub fn validate(&self) -> Result<InstrumentContent, Vec<ContentError>> {
        let instrument: &Instrument =
            Instrument::get(&self.instrument).map_err(|e| vec![e.into()])?;
        let mut errors = Vec::new();
        if self.language.trim().is_empty() {
            errors.push(ContentError::LanguageMissing);
        }
        if self.items.len() != instrument.items.len() {
            errors.push(ContentError::ItemCount {
                instrument: instrument.id.code(),
                expected: instrument.items.len(),
                got: self.items.len(),
            });
        }
        let expected = (instrument.answer_max - instrument.answer_min + 1) as usize;
        let mut items = Vec::with_capacity(self.items.len());
        for (i, item) in self.items.iter().enumerate() {
            if item.text.trim().is_empty() {
                errors.push(ContentError::ItemEmpty { item: i + 1 });
            }
            let options = if item.options.is_empty() {
                &self.options
            } else {
                &item.options
            };
            // Numeric scales (NRS, MADRS anchors) may come without option texts.
            if !options.is_empty() && options.len() != expected {
                errors.push(ContentError::OptionCount {
                    item: i + 1,
                    expected,
                    got: options.len(),
                    min: instrument.answer_min,
                    max: instrument.answer_max,
                });
            }
            items.push((
                item.text.trim().to_owned(),
                options.iter().map(|o| o.trim().to_owned()).collect(),
            ));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(InstrumentContent {
            instrument: instrument.id,
            language: self.language.trim().to_owned(),
            instructions: self.instructions.trim().to_owned(),
            items,
        })
    }
}
