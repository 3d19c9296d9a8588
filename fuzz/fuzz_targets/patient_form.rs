//! The patient registration and contact forms (pages and `POST /api/v1/patients`): any form
//! body's fields validate into a patient or a list of problems, without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(fields) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(data) else {
        return;
    };
    let get = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let input = clinical::patient::PatientInput {
        given_name: get("given_name"),
        family_name: get("family_name"),
        date_of_birth: get("date_of_birth"),
        sex: get("sex"),
        phone: get("phone"),
        email: get("email"),
    };
    let today = jiff::civil::date(2026, 12, 2);
    let _ = input.validate(today);
});
