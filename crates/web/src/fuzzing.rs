//! Entry points for the fuzz targets (`fuzz/`): untrusted form bodies read by the pages' own
//! form types, as the pages read them, and validated by the domain. A fuzz target that calls
//! these exercises the fields the page reads rather than a copy of their names (which can drift:
//! the inquiry target once fed a `contact_time` field that the page never reads).

use clinical::patient::PatientInput;

use crate::pages::inquiry::PublicForm;
use crate::pages::patients::PatientForm;

/// A body of `POST /inquiry` (urlencoded), read as the public form reads it (the allow-listed
/// fields, repeated `contact_times`) and validated into an inquiry or its problems.
pub fn inquiry_form(body: &[u8]) {
    let Ok(pairs) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(body) else {
        return;
    };
    let _ = PublicForm::from_pairs(&pairs).input().validate();
}

/// A body of the patient registration form (urlencoded), read into the page's form and
/// validated into a patient or its problems as of `today`.
pub fn patient_form(body: &[u8], today: jiff::civil::Date) {
    let Ok(form) = serde_urlencoded::from_bytes::<PatientForm>(body) else {
        return;
    };
    let _ = PatientInput::from(&form).validate(today);
}
