//! Rating-scale answers as typed (`ketaflow score --answers`, the answer forms): the first
//! byte picks the instrument, the rest is the answer text; parsing and scoring never panic, and
//! a score that comes out stays within the instrument's range.
#![no_main]

use clinical::instruments::InstrumentId;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let id = InstrumentId::ALL[usize::from(pick) % InstrumentId::ALL.len()];
    let instrument = id.instrument();
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    if let Ok(answers) = clinical::instruments::parse_answers(instrument, text)
        && let Ok(score) = clinical::instruments::score(id, &answers)
    {
        let n = i32::try_from(instrument.items.len()).unwrap_or(i32::MAX);
        let (low, high) = (
            i32::from(instrument.answer_min) * n,
            i32::from(instrument.answer_max) * n,
        );
        assert!(
            (low..=high).contains(&score.total),
            "{id:?}: {} outside {low}..={high}",
            score.total
        );
    }
});
