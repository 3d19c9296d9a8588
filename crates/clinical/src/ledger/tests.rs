//! The ledger's rules: every kind moves a balance the right way and never below zero, counts and
//! discrepancies, witnesses, explanations, DEA numbers and the deadlines of a loss.

use super::*;

#[test]
fn every_kind_moves_the_balance_its_own_way_and_never_below_zero() {
    for kind in EntryKind::ALL {
        assert_eq!(EntryKind::parse(kind.code()), Some(kind));
        let after = apply(kind, 100.0, 30.0).unwrap();
        let expected = match kind.direction() {
            1 => 130.0,
            -1 => 70.0,
            _ if matches!(kind, EntryKind::Discrepancy | EntryKind::Correction) => 130.0,
            _ => 100.0,
        };
        assert!((after - expected).abs() < 1e-9, "{kind:?}: {after}");
        if kind.direction() == -1 {
            assert_eq!(
                apply(kind, 20.0, 20.0004),
                Ok(0.0),
                "a rounding crumb is zero"
            );
            assert_eq!(
                apply(kind, 20.0, 25.0),
                Err(LedgerRefusal::BelowZero {
                    balance_mg: 20.0,
                    amount_mg: 25.0
                })
            );
        }
        if kind.direction() != 0 {
            assert_eq!(apply(kind, 20.0, 0.0), Err(LedgerRefusal::Amount));
            assert_eq!(apply(kind, 20.0, -5.0), Err(LedgerRefusal::Amount));
        }
        assert_eq!(apply(kind, 20.0, f64::NAN), Err(LedgerRefusal::Amount));
    }
    // A negative discrepancy larger than the balance is refused too.
    assert!(matches!(
        apply(EntryKind::Discrepancy, 10.0, -12.0),
        Err(LedgerRefusal::BelowZero { .. })
    ));
    assert_eq!(apply(EntryKind::Discrepancy, 10.0, -4.0), Ok(6.0));
}

#[test]
fn a_count_that_differs_is_a_discrepancy_of_the_difference() {
    assert_eq!(count_difference(500.0, 500.0), Ok(None));
    assert_eq!(count_difference(500.0, 500.0002), Ok(None));
    assert_eq!(count_difference(500.0, 480.0), Ok(Some(-20.0)));
    assert_eq!(count_difference(500.0, 510.0), Ok(Some(10.0)));
    assert_eq!(count_difference(500.0, -1.0), Err(LedgerRefusal::Amount));
}

#[test]
fn waste_and_breakage_need_another_person_with_their_password() {
    let (me, other) = ("nurse-1", "nurse-2");
    for kind in EntryKind::ALL {
        let needs = kind.needs_witness();
        assert_eq!(
            check_witness(kind, true, &me, None, false).is_err(),
            needs,
            "{kind:?}"
        );
        // Witnessing switched off (a state that does not ask for it): nothing needed.
        assert_eq!(check_witness(kind, false, &me, None, false), Ok(()));
    }
    let k = EntryKind::Waste;
    assert_eq!(
        check_witness(k, true, &me, None, true),
        Err(LedgerRefusal::WitnessMissing)
    );
    assert_eq!(
        check_witness(k, true, &me, Some(&me), true),
        Err(LedgerRefusal::WitnessIsActor)
    );
    assert_eq!(
        check_witness(k, true, &me, Some(&other), false),
        Err(LedgerRefusal::WitnessPassword)
    );
    assert_eq!(check_witness(k, true, &me, Some(&other), true), Ok(()));
}

#[test]
fn losses_corrections_and_discrepancies_need_an_explanation() {
    for kind in EntryKind::ALL {
        let refused = check_explanation(kind, Some("short")).is_err();
        assert_eq!(refused, kind.needs_explanation(), "{kind:?}");
        assert!(check_explanation(kind, Some("vial dropped on the floor")).is_ok());
    }
    assert_eq!(
        check_explanation(EntryKind::Theft, None),
        Err(LedgerRefusal::ExplanationMissing)
    );
    assert!(EntryKind::Loss.opens_dea_report() && EntryKind::Theft.opens_dea_report());
    assert!(!EntryKind::Breakage.opens_dea_report());
}

#[test]
fn containers_and_dea_numbers() {
    let vial = Form::Vial {
        mg_per_ml: 50,
        ml: 10.0,
    };
    assert_eq!(vial.full_mg(), 500.0);
    assert_eq!(vial.ml_for(40.0), Some(0.8));
    assert_eq!(vial.label(), "ketamine HCl 50 mg/mL, 10 mL vial");
    assert_eq!(Form::SpravatoDevice.full_mg(), 28.0);
    assert_eq!(Form::SpravatoDevice.ml_for(28.0), None);
    assert_eq!(
        Form::Vial {
            mg_per_ml: 25,
            ml: 10.0
        }
        .check(),
        Err(LedgerRefusal::Strength)
    );
    assert_eq!(
        Form::Vial {
            mg_per_ml: 100,
            ml: 0.0
        }
        .check(),
        Err(LedgerRefusal::Volume)
    );
    assert_eq!(check_dea_number(" ab1234563 "), Ok("AB1234563".into()));
    // A registrant known by a business name: 9 in second place.
    assert_eq!(check_dea_number("F91234563"), Ok("F91234563".into()));
    // The published worked example: 5 + 3 + 7 = 15, 2 × (8 + 6 + 2) = 32, 47 → 7.
    assert_eq!(check_dea_number("AP5836727"), Ok("AP5836727".into()));
    for typo in ["AB1234564", "AB2134563", "AP5836772"] {
        assert_eq!(
            check_dea_number(typo),
            Err(LedgerRefusal::DeaCheckDigit),
            "{typo}"
        );
    }
    for bad in [
        "A1234563",
        "AB123456",
        "AB12345678",
        "1B1234563",
        "AB12345X3",
        "A81234563",
    ] {
        assert_eq!(
            check_dea_number(bad),
            Err(LedgerRefusal::DeaNumber),
            "{bad}"
        );
    }
}

#[test]
fn a_loss_opens_a_notice_by_the_next_business_day_and_form_106_in_45_days() {
    let d = |s: &str| s.parse::<Date>().unwrap();
    // Wednesday → Thursday; Friday and Saturday → Monday.
    assert_eq!(
        dea_deadlines(d("2026-12-02")),
        (d("2026-12-03"), d("2027-01-16"))
    );
    assert_eq!(dea_deadlines(d("2026-12-04")).0, d("2026-12-07"));
    assert_eq!(dea_deadlines(d("2026-12-05")).0, d("2026-12-07"));
}

#[test]
fn ndcs_are_digits_in_their_published_layouts() {
    for good in [
        "0143-9508-10",
        "50458-028-02",
        "67457-1080-1",
        "50458-0028-02",
        "123456-789-01",
        "123456-7890-12",
        " 0143950810 ",
        "50458002802",
        "501458002802",
    ] {
        assert_eq!(check_ndc(good), Ok(good.trim()), "{good}");
    }
    for bad in [
        "",
        "Probe text",
        "0143-9508",
        "0143-9508-1",
        "01439508-10",
        "0143-9508-10-1",
        "014395081",
        "5014580028021",
        "1234567-890-12",
        "123456-78901-2",
        "0143 9508 10",
        "0143-95O8-10",
        "-0143950810",
    ] {
        assert_eq!(check_ndc(bad), Err(LedgerRefusal::Ndc), "{bad:?}");
    }
}

#[test]
fn texts_are_given_bounded_and_readable_and_say_which_is_wrong() {
    assert_eq!(TextField::Lot.required(" 24A117 "), Ok("24A117"));
    let missing = TextField::SupplierName.required(" ").unwrap_err();
    assert_eq!(missing.to_string(), "give the supplier's name");
    let long = TextField::Lot.required(&"7".repeat(41)).unwrap_err();
    assert_eq!(
        long.to_string(),
        "the lot number is longer than 40 characters; shorten it"
    );
    let pasted = TextField::Invoice.required("INV\u{1b}[2J-88").unwrap_err();
    assert!(
        pasted
            .to_string()
            .starts_with("the invoice or packing slip number holds a control character")
    );
    assert_eq!(TextField::Method.optional(None), Ok(None));
    assert_eq!(TextField::Method.optional(Some("  ")), Ok(None));
    assert!(TextField::Method.optional(Some("down\nthe sink")).is_err());
    assert_eq!(
        TextField::Explanation.optional(Some("Vial dropped.\nGlass swept up.")),
        Ok(Some("Vial dropped.\nGlass swept up."))
    );
    assert!(
        TextField::Explanation
            .optional(Some(&"x".repeat(2001)))
            .is_err()
    );
}

#[test]
fn a_place_has_a_readable_name_and_is_a_safe_or_a_cabinet() {
    let place = NewPlace::parse("  Safe, Room A ", "safe").unwrap();
    assert_eq!(
        (place.name(), place.kind()),
        ("Safe, Room A", PlaceKind::Safe)
    );
    assert_eq!(
        NewPlace::parse("Cabinet", "cabinet").map(|p| p.kind()),
        Ok(PlaceKind::Cabinet)
    );
    let both = NewPlace::parse(" ", "drawer").unwrap_err();
    assert_eq!(
        both,
        [
            LedgerRefusal::Text {
                field: TextField::PlaceName,
                problem: TextProblem::Empty
            },
            LedgerRefusal::PlaceKind
        ]
    );
    assert_eq!(both[0].to_string(), "give the place's name");
    for bad in ["Safe\u{1b}[2J", "Safe \u{202E}A moor", "Safe\nRoom A"] {
        assert!(
            matches!(
                NewPlace::parse(bad, "safe").unwrap_err()[..],
                [LedgerRefusal::Text {
                    problem: TextProblem::Unreadable,
                    ..
                }]
            ),
            "{bad:?}"
        );
    }
    assert!(NewPlace::parse(&"x".repeat(101), "safe").is_err());
}

#[test]
fn stock_is_usable_through_its_expiry_date_and_not_after() {
    let expires = jiff::civil::date(2026, 11, 30);
    assert!(!expired(expires, jiff::civil::date(2026, 11, 29)));
    assert!(!expired(expires, expires));
    assert!(expired(expires, jiff::civil::date(2026, 12, 1)));
    assert!(expired(expires, jiff::civil::date(2027, 1, 1)));
}

#[test]
fn the_biennial_inventory_is_due_two_years_after_the_last() {
    let d = jiff::civil::date;
    assert_eq!(next_inventory_due(d(2026, 11, 6)), d(2028, 11, 6));
    assert_eq!(next_inventory_due(d(2028, 2, 29)), d(2030, 2, 28));
}

#[test]
fn an_opened_vial_is_used_for_28_days_from_its_first_entry() {
    let d = jiff::civil::date;
    let zone = jiff::tz::TimeZone::get("America/New_York").unwrap();
    let rule = |today| StockRule {
        today,
        zone: zone.clone(),
        opened_vial_days: OPENED_VIAL_DAYS,
    };
    // Opened at 22:30 in New York on 1 November: 2 November in UTC, 1 November at the clinic.
    let opened: jiff::Timestamp = "2026-11-02T03:30:00Z".parse().unwrap();
    let expires = d(2028, 1, 31);
    assert_eq!(rule(d(2026, 11, 28)).check(expires, Some(opened)), Ok(()));
    assert_eq!(
        rule(d(2026, 11, 29)).check(expires, Some(opened)),
        Err(Unusable::BeyondUse {
            opened_on: d(2026, 11, 1),
            from: d(2026, 11, 29)
        })
    );
    assert_eq!(
        rule(d(2030, 1, 1)).check(expires, None),
        Err(Unusable::Expired { on: expires })
    );
    assert_eq!(
        rule(d(2026, 12, 30)).check(expires, None),
        Ok(()),
        "never opened"
    );
    let single_use = StockRule {
        opened_vial_days: 0,
        ..rule(d(2026, 11, 1))
    };
    assert!(
        single_use.check(expires, Some(opened)).is_err(),
        "0 days: single use"
    );
}
