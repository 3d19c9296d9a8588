//! The patient registration and contact forms (pages and `POST /api/v1/patients`): any form
//! body is read into the page's form and validates into a patient or a list of problems,
//! without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    web::fuzzing::patient_form(data, jiff::civil::date(2026, 12, 2));
});
