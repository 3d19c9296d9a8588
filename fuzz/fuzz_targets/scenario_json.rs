//! The simulation scenario JSON (`POST /api/v1/pk/simulate`, `ketaflow simulate`): any bytes
//! either fail to parse or validate into a scenario or a list of problems, without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(input) = serde_json::from_slice::<web::scenario::ScenarioInput>(data) {
        let _ = input.validate_all(pk::dose::DoseCaps::default());
    }
});
