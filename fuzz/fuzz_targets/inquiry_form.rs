//! The public inquiry form (`POST /inquiry`, no sign-in): any form body is read as the page
//! reads it and validates into an inquiry or a list of problems, without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    web::fuzzing::inquiry_form(data);
});
