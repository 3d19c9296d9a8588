//! Tests of demographic validation, table-driven through one `check` helper per parser.

use super::*;

fn date(s: &str) -> Date {
    s.parse().unwrap()
}

const TODAY: &str = "2026-11-23";

fn check_dob(input: &str, expected: Result<&str, &str>) {
    let got = DateOfBirth::parse(input, date(TODAY));
    match (got, expected) {
        (Ok(dob), Ok(want)) => assert_eq!(dob.date(), date(want), "input {input:?}"),
        (Err(e), Err(fragment)) => {
            let msg = e.to_string();
            assert!(
                msg.contains(fragment),
                "input {input:?}: message {msg:?} lacks {fragment:?}"
            );
            assert_eq!(e.field(), "date_of_birth");
        }
        (got, want) => panic!("input {input:?}: got {got:?}, wanted {want:?}"),
    }
}

#[test]
fn birth_dates() {
    check_dob("1980-04-23", Ok("1980-04-23"));
    check_dob("  1980-04-23 ", Ok("1980-04-23"));
    check_dob(TODAY, Ok(TODAY));
    check_dob("2026-11-24", Err("is in the future"));
    check_dob("1905-11-24", Ok("1905-11-24"));
    check_dob("1905-11-23", Err("older than 120"));
    check_dob("23/04/1980", Err("use the form YYYY-MM-DD"));
    check_dob("1980-02-30", Err("use the form YYYY-MM-DD"));
    check_dob("", Err("date of birth is required"));
    check_dob("  ", Err("date of birth is required"));
}

#[test]
fn ages_count_whole_years_and_birthdays() {
    let cases = [
        ("1980-11-23", 46),
        ("1980-11-24", 45),
        ("1980-12-31", 45),
        ("2000-02-29", 26),
        ("2026-11-23", 0),
    ];
    for (born, age) in cases {
        let dob = DateOfBirth::parse(born, date(TODAY)).unwrap();
        assert_eq!(dob.age_on(date(TODAY)), age, "born {born}");
    }
    // A 29 February birthday is reached on 1 March in a common year.
    let leap = DateOfBirth::parse("2000-02-29", date(TODAY)).unwrap();
    assert_eq!(leap.age_on(date("2025-02-28")), 24);
    assert_eq!(leap.age_on(date("2025-03-01")), 25);
}

#[test]
fn names() {
    assert_eq!(
        PersonName::parse("given_name", "  Ada ").unwrap().as_str(),
        "Ada"
    );
    assert_eq!(
        PersonName::parse("given_name", "   "),
        Err(PatientError::NameMissing {
            field: "given_name"
        })
    );
    let long = "x".repeat(MAX_NAME_CHARS + 1);
    assert_eq!(
        PersonName::parse("family_name", &long),
        Err(PatientError::NameTooLong {
            field: "family_name",
            len: MAX_NAME_CHARS + 1
        })
    );
    assert!(PersonName::parse("family_name", &"é".repeat(MAX_NAME_CHARS)).is_ok());
    assert_eq!(
        PersonName::parse("family_name", "Lovelace\nByron"),
        Err(PatientError::NameControlChar {
            field: "family_name"
        })
    );
}

#[test]
fn sex_codes_round_trip() {
    for sex in Sex::ALL {
        assert_eq!(Sex::parse(sex.code()), Ok(sex));
        assert_eq!(Sex::parse(&sex.code().to_uppercase()), Ok(sex));
    }
    assert!(matches!(
        Sex::parse("f"),
        Err(PatientError::SexUnknownCode { .. })
    ));
}

#[test]
fn phones_and_emails() {
    let phones = [
        ("+1 (555) 010-0199", true),
        ("555.010.0199", true),
        ("123456", false),
        ("123456789012345678901", false),
        ("555-CALL-NOW", false),
    ];
    for (input, ok) in phones {
        assert_eq!(Phone::parse(input).is_ok(), ok, "phone {input:?}");
    }
    let emails = [
        ("Ada@Example.org", Some("ada@example.org")),
        ("ada@example", None),
        ("@example.org", None),
        ("ada@.org", None),
        ("ada@example.org.", None),
        ("a da@example.org", None),
        ("ada@ex@ample.org", None),
    ];
    for (input, want) in emails {
        assert_eq!(
            Email::parse(input).ok().as_ref().map(Email::as_str),
            want,
            "email {input:?}"
        );
    }
}

#[test]
fn validate_reports_every_bad_field_at_once() {
    let input = PatientInput {
        given_name: " ".into(),
        family_name: "Lovelace".into(),
        date_of_birth: "2030-01-01".into(),
        sex: "x".into(),
        phone: "".into(),
        email: "nope".into(),
    };
    let errors = input.validate(date(TODAY)).unwrap_err();
    let fields: Vec<_> = errors.iter().map(PatientError::field).collect();
    assert_eq!(fields, ["given_name", "date_of_birth", "sex", "email"]);
}

#[test]
fn validate_accepts_a_complete_record_and_optional_contacts() {
    let input = PatientInput {
        given_name: "Ada".into(),
        family_name: "Lovelace".into(),
        date_of_birth: "1985-12-10".into(),
        sex: "female".into(),
        phone: " ".into(),
        email: "".into(),
    };
    let patient = input.validate(date(TODAY)).unwrap();
    assert_eq!(patient.given_name().as_str(), "Ada");
    assert_eq!(patient.sex(), Sex::Female);
    assert_eq!(patient.phone(), None);
    assert_eq!(patient.email(), None);
    assert_eq!(patient.date_of_birth().age_on(date(TODAY)), 40);
}

#[test]
fn names_need_a_letter_and_no_invisible_marks() {
    use super::{PatientError, PersonName};
    let field = "given_name";
    // "gnp.exe" as shown, "exe.png" as stored: a right-to-left override hides the order.
    for spoof in [
        "\u{202E}gnp.exe",
        "Ada\u{200B}",
        "\u{2066}Ada\u{2069}",
        "Ada\u{200F}",
        "\u{FEFF}Ada",
        "\u{200D}Ada",
    ] {
        assert_eq!(
            PersonName::parse(field, spoof),
            Err(PatientError::NameInvisibleChar { field }),
            "{spoof:?}"
        );
    }
    for no_letter in ["1234", "-", "…", "()"] {
        assert_eq!(
            PersonName::parse(field, no_letter),
            Err(PatientError::NameNoLetter { field }),
            "{no_letter:?}"
        );
    }
    // Names people have: accents, apostrophes, hyphens, other scripts, and a zero-width
    // non-joiner between two Persian letters.
    for name in [
        "Zoë",
        "O'Brien",
        "Nguyễn",
        "Anne-Marie",
        "李",
        "مهر\u{200C}آسا",
    ] {
        assert!(PersonName::parse(field, name).is_ok(), "{name:?}");
    }
    let message = PersonName::parse(field, "\u{202E}gnp.exe")
        .unwrap_err()
        .to_string();
    assert!(
        message.starts_with("given name contains an invisible character"),
        "{message}"
    );
}

#[test]
fn contact_details_are_checked_field_by_field() {
    let ok = ContactInput {
        phone: " 555 0100 200 ".into(),
        email: "Ana@Example.org".into(),
        address: "12 Elm St\r\n\r\n Springfield IL 62701 ".into(),
        emergency_contact_name: "Jo Ortiz (sister)".into(),
        emergency_contact_phone: "+1 555 0100 201".into(),
    }
    .validate()
    .expect("valid details");
    assert_eq!(ok.phone.as_ref().map(Phone::as_str), Some("555 0100 200"));
    assert_eq!(
        ok.email.as_ref().map(Email::as_str),
        Some("ana@example.org")
    );
    assert_eq!(
        ok.address.as_ref().map(Address::as_str),
        Some("12 Elm St\nSpringfield IL 62701")
    );
    assert_eq!(
        ContactInput::default().validate(),
        Ok(ContactDetails::default())
    );

    let errors = ContactInput {
        emergency_contact_phone: "call her".into(),
        address: "a\tb".into(),
        emergency_contact_name: "\u{202E}gnp.exe".into(),
        ..ContactInput::default()
    }
    .validate()
    .expect_err("three problems");
    let fields: Vec<_> = errors.iter().map(PatientError::field).collect();
    assert_eq!(
        fields,
        vec![
            "address",
            "emergency_contact_name",
            "emergency_contact_phone"
        ]
    );
    assert!(
        errors[2]
            .to_string()
            .starts_with("emergency contact phone 'call her'")
    );
    let long = "x".repeat(MAX_ADDRESS_CHARS + 1);
    assert_eq!(
        Address::parse(&long),
        Err(PatientError::AddressTooLong {
            len: MAX_ADDRESS_CHARS + 1
        })
    );
}
