//! A clinic's licensed instrument wording (`ketaflow instruments import FILE`), as the file's
//! fields arrive after JSON decoding: any instrument id, language, instructions, options and
//! items either fit the instrument or are refused with the reasons, without a panic.
#![no_main]

use clinical::instruments::content::{ContentInput, ItemInput};
use libfuzzer_sys::fuzz_target;

type Fields = (String, String, String, Vec<String>, Vec<(String, Vec<String>)>);

fuzz_target!(|fields: Fields| {
    let (instrument, language, instructions, options, items) = fields;
    let input = ContentInput {
        instrument,
        language,
        instructions,
        options,
        items: items
            .into_iter()
            .map(|(text, options)| ItemInput { text, options })
            .collect(),
    };
    if let Ok(content) = input.validate() {
        assert!(!content.items().is_empty());
    }
});
