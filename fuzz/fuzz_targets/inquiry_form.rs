//! The public inquiry form (`POST /inquiry`, no sign-in): any form body decodes into fields,
//! and the fields validate into an inquiry or a list of problems, without a panic.
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
    let input = clinical::inquiry::InquiryInput {
        given_name: get("given_name"),
        family_name: get("family_name"),
        phone: get("phone"),
        email: get("email"),
        contact_times: fields
            .iter()
            .filter(|(k, _)| k == "contact_time")
            .map(|(_, v)| v.clone())
            .collect(),
        heard_from: get("heard_from"),
        question: get("question"),
    };
    let _ = input.validate();
});
