//! The session's state machine (every pair tried), vital-sign checks, each alert rule at its
//! threshold, due checks, the discharge checklist and the REMS form's completeness.

use super::*;

/// The transitions the lifecycle allows, written out independently of `check_step`.
fn allowed(from: SessionStatus, step: Step, d: Delivery) -> Option<SessionStatus> {
    use SessionStatus as S;
    let infusion = d == Delivery::Infusion;
    match (from, step) {
        (S::CheckedIn, Step::PreAssess) => Some(S::PreAssessed),
        (S::PreAssessed, Step::PreAssess) => Some(S::PreAssessed),
        (S::PreAssessed, Step::VerifyDose) => Some(S::DoseVerified),
        (S::DoseVerified, Step::VerifyDose) => Some(S::DoseVerified),
        (S::DoseVerified, Step::Start) => Some(S::Administering),
        (S::Administering, Step::Pause) if infusion => Some(S::Paused),
        (S::Administering, Step::ChangeRate) if infusion => Some(S::Administering),
        (S::Paused, Step::Resume) if infusion => Some(S::Administering),
        (S::Administering, Step::Stop) => Some(S::Monitoring),
        (S::Paused, Step::Stop) => Some(S::Monitoring),
        (S::Monitoring, Step::Discharge) => Some(S::Discharged),
        (S::Discharged, Step::Lock) => Some(S::Locked),
        (S::CheckedIn | S::PreAssessed | S::DoseVerified, Step::EndUndosed) => Some(S::Discharged),
        _ => None,
    }
}

#[test]
fn every_transition_is_allowed_or_refused_with_what_comes_first() {
    let mut refused = 0;
    for d in [Delivery::Infusion, Delivery::Observed] {
        for from in SessionStatus::ALL {
            for step in Step::ALL {
                match (check_step(from, step, d), allowed(from, step, d)) {
                    (Ok(to), Some(want)) => assert_eq!(to, want, "{from:?} {step:?} {d:?}"),
                    (Err(e), None) => {
                        refused += 1;
                        let text = e.to_string();
                        assert!(text.contains(from.label()), "{text}");
                        assert!(!e.first.is_empty());
                    }
                    (got, want) => panic!("{from:?} {step:?} {d:?}: got {got:?}, want {want:?}"),
                }
            }
        }
    }
    // 8 statuses × 10 steps × 2 deliveries, less the 15 + 12 allowed pairs.
    assert_eq!(refused, 8 * 10 * 2 - 15 - 12);
}

#[test]
fn refusals_say_what_must_happen_first() {
    let e = check_step(SessionStatus::CheckedIn, Step::Start, Delivery::Infusion).unwrap_err();
    assert!(e.first.contains("pre-session assessment"), "{e}");
    let e = check_step(SessionStatus::PreAssessed, Step::Start, Delivery::Infusion).unwrap_err();
    assert!(e.first.contains("verify the dose"), "{e}");
    let e = check_step(SessionStatus::Locked, Step::PreAssess, Delivery::Observed).unwrap_err();
    assert!(e.first.contains("addendum"), "{e}");
    let e = check_step(
        SessionStatus::Administering,
        Step::Pause,
        Delivery::Observed,
    )
    .unwrap_err();
    assert!(e.first.contains("only an IV infusion"), "{e}");
    let e = check_step(SessionStatus::Monitoring, Step::Lock, Delivery::Infusion).unwrap_err();
    assert!(e.first.contains("discharge checklist"), "{e}");
    // Once anything is given, the session ends through monitoring and the checklist.
    for from in [
        SessionStatus::Administering,
        SessionStatus::Paused,
        SessionStatus::Monitoring,
    ] {
        let e = check_step(from, Step::EndUndosed, Delivery::Infusion).unwrap_err();
        assert!(e.first.contains("discharge with the checklist"), "{e}");
    }
    let e = check_step(
        SessionStatus::Discharged,
        Step::EndUndosed,
        Delivery::Observed,
    )
    .unwrap_err();
    assert!(e.first.contains("ended already"), "{e}");
}

#[test]
fn a_session_ends_undosed_only_before_anything_is_given() {
    for from in [
        SessionStatus::CheckedIn,
        SessionStatus::PreAssessed,
        SessionStatus::DoseVerified,
    ] {
        assert_eq!(
            check_step(from, Step::EndUndosed, Delivery::Infusion),
            Ok(SessionStatus::Discharged)
        );
    }
    for r in NotGivenReason::ALL {
        assert_eq!(NotGivenReason::parse(r.code()), Some(r));
        assert!(!r.label().is_empty());
    }
    assert_eq!(NotGivenReason::parse("positive"), None);
    let noted: Vec<_> = NotGivenReason::ALL
        .into_iter()
        .filter(|r| r.needs_note())
        .collect();
    assert_eq!(
        noted,
        [NotGivenReason::ClinicalJudgement, NotGivenReason::Other]
    );
}

#[test]
fn codes_round_trip() {
    for s in SessionStatus::ALL {
        assert_eq!(SessionStatus::parse(s.code()), Some(s));
    }
    for s in Step::ALL {
        assert_eq!(Step::parse(s.code()), Some(s));
    }
    for k in AlertKind::ALL {
        assert_eq!(AlertKind::parse(k.code()), Some(k));
    }
    for k in AdverseKind::ALL {
        assert_eq!(AdverseKind::parse(k.code()), Some(k));
    }
    assert_eq!(SessionStatus::parse("done"), None);
}

fn bp(s: u16, d: u16) -> Vitals {
    Vitals {
        systolic_mmhg: Some(s),
        diastolic_mmhg: Some(d),
        ..Vitals::default()
    }
}

#[test]
fn impossible_readings_are_refused_at_their_field() {
    assert_eq!(Vitals::default().check(), vec![VitalsError::Empty]);
    let e = bp(80, 90).check();
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].field(), "systolic_mmhg");
    assert!(e[0].to_string().contains("higher than the diastolic"));
    let e = Vitals {
        spo2_percent: Some(101),
        ..Vitals::default()
    }
    .check();
    assert_eq!(e[0].field(), "spo2_percent");
    assert!(e[0].to_string().contains("from 50 to 100"), "{}", e[0]);
    let e = Vitals {
        systolic_mmhg: Some(120),
        ..Vitals::default()
    }
    .check();
    assert_eq!(e[0].field(), "diastolic_mmhg");
    assert!(bp(120, 80).check().is_empty());
    assert!(
        Vitals {
            heart_rate_bpm: Some(72),
            ..Vitals::default()
        }
        .check()
        .is_empty()
    );
}

#[test]
fn the_vitals_before_dosing_hold_a_blood_pressure() {
    let pulse_only = Vitals {
        heart_rate_bpm: Some(72),
        spo2_percent: Some(98),
        ..Vitals::default()
    };
    assert!(pulse_only.check().is_empty(), "fine during a session");
    let before = pulse_only.check_before_dosing();
    assert_eq!(before, vec![VitalsError::NoPressureBeforeDosing]);
    assert_eq!(before[0].field(), "systolic_mmhg");
    assert!(bp(124, 78).check_before_dosing().is_empty());
    // Other problems are said first and alone: one half of a pressure is that half missing.
    let half = Vitals {
        systolic_mmhg: Some(124),
        ..Vitals::default()
    };
    assert_eq!(
        half.check_before_dosing(),
        vec![VitalsError::HalfPressure {
            field: "diastolic_mmhg"
        }]
    );
    assert_eq!(
        Vitals::default().check_before_dosing(),
        vec![VitalsError::NoPressureBeforeDosing]
    );
}

fn kinds(v: &Vitals, base: Option<&Vitals>) -> Vec<AlertKind> {
    evaluate(v, base, &AlertSettings::default())
        .into_iter()
        .map(|f| f.kind)
        .collect()
}

#[test]
fn blood_pressure_alerts_fire_at_their_thresholds() {
    assert_eq!(kinds(&bp(179, 109), None), vec![]);
    assert_eq!(kinds(&bp(180, 100), None), vec![AlertKind::SystolicHigh]);
    assert_eq!(kinds(&bp(170, 110), None), vec![AlertKind::DiastolicHigh]);
    let base = bp(120, 70);
    assert_eq!(kinds(&bp(159, 94), Some(&base)), vec![]);
    assert_eq!(
        kinds(&bp(160, 94), Some(&base)),
        vec![AlertKind::SystolicRise]
    );
    assert_eq!(
        kinds(&bp(150, 95), Some(&base)),
        vec![AlertKind::DiastolicRise]
    );
    let found = evaluate(&bp(186, 94), Some(&base), &AlertSettings::default());
    assert_eq!(
        found.iter().map(|f| f.kind).collect::<Vec<_>>(),
        vec![AlertKind::SystolicHigh, AlertKind::SystolicRise]
    );
    assert!(found[0].message.contains("186/94"), "{}", found[0].message);
    assert!(
        found[1].message.contains("risen 66"),
        "{}",
        found[1].message
    );
}

#[test]
fn other_alerts_fire_at_their_thresholds() {
    let one = |f: fn(u16) -> Vitals, v| kinds(&f(v), None);
    let hr = |v| Vitals {
        heart_rate_bpm: Some(v),
        ..Vitals::default()
    };
    let o2 = |v| Vitals {
        spo2_percent: Some(v),
        ..Vitals::default()
    };
    let rr = |v| Vitals {
        respiratory_rate_per_min: Some(v),
        ..Vitals::default()
    };
    assert_eq!(one(hr, 100), vec![]);
    assert_eq!(one(hr, 101), vec![AlertKind::HeartRateHigh]);
    assert_eq!(one(hr, 60), vec![]);
    assert_eq!(one(hr, 59), vec![AlertKind::HeartRateLow]);
    assert_eq!(one(o2, 90), vec![]);
    assert_eq!(one(o2, 89), vec![AlertKind::Spo2Low]);
    assert_eq!(one(rr, 12), vec![]);
    assert_eq!(one(rr, 11), vec![AlertKind::RespiratoryRateLow]);
}

#[test]
fn a_clinic_can_move_a_threshold() {
    let s = AlertSettings {
        systolic_max: 160,
        ..AlertSettings::default()
    };
    assert!(s.check().is_ok());
    assert_eq!(
        evaluate(&bp(165, 90), None, &s)[0].kind,
        AlertKind::SystolicHigh
    );
    let bad = AlertSettings {
        spo2_min: 120,
        ..AlertSettings::default()
    };
    assert!(bad.check().unwrap_err().contains("spo2_min"));
    let crossed = AlertSettings {
        heart_rate_min: 120,
        ..AlertSettings::default()
    };
    assert!(crossed.check().is_err());
    assert!(AlertSettings::default().check().is_ok());
}

fn at(min: i64) -> Timestamp {
    Timestamp::from_second(1_800_000_000).unwrap() + SignedDuration::from_mins(min)
}

#[test]
fn infusion_checks_are_due_every_ten_minutes_then_fifteen() {
    let mut c = CheckClock {
        delivery: Delivery::Infusion,
        esketamine: false,
        status: SessionStatus::Administering,
        started_at: Some(at(0)),
        last_vitals_at: Some(at(-5)),
        has_forty_minute_reading: false,
        has_discharge_reading: false,
    };
    assert_eq!(next_check(&c).unwrap().at, at(10));
    c.last_vitals_at = Some(at(12));
    assert_eq!(next_check(&c).unwrap().at, at(22));
    c.status = SessionStatus::Monitoring;
    assert_eq!(next_check(&c).unwrap().at, at(27));
    c.status = SessionStatus::Discharged;
    assert_eq!(next_check(&c), None);
    // Before dosing the pre-assessment takes the vitals; no check is due (never "overdue since
    // 1970" for a session without readings).
    c.status = SessionStatus::CheckedIn;
    c.last_vitals_at = None;
    assert_eq!(next_check(&c), None);
}

#[test]
fn esketamine_checks_are_at_forty_minutes_and_before_discharge() {
    let mut c = CheckClock {
        delivery: Delivery::Observed,
        esketamine: true,
        status: SessionStatus::Monitoring,
        started_at: Some(at(0)),
        last_vitals_at: Some(at(20)),
        has_forty_minute_reading: false,
        has_discharge_reading: false,
    };
    let due = next_check(&c).unwrap();
    assert_eq!(due.at, at(40));
    assert!(due.what.contains("40-minute"));
    c.has_forty_minute_reading = true;
    let due = next_check(&c).unwrap();
    assert_eq!(due.at, at(120));
    assert!(due.what.contains("before discharge"));
    // Taken, it is no longer due (it stayed overdue until discharge).
    c.has_discharge_reading = true;
    assert_eq!(next_check(&c), None);
}

#[test]
fn esketamine_may_be_discharged_two_hours_after_dosing_began() {
    let mut c = CheckClock {
        delivery: Delivery::Observed,
        esketamine: true,
        status: SessionStatus::Administering,
        started_at: Some(at(0)),
        last_vitals_at: None,
        has_forty_minute_reading: false,
        has_discharge_reading: false,
    };
    assert_eq!(earliest_discharge(&c), Some(at(120)));
    c.status = SessionStatus::Monitoring;
    assert_eq!(earliest_discharge(&c), Some(at(120)));
    // Before dosing and after discharge, no time is set.
    c.status = SessionStatus::Discharged;
    assert_eq!(earliest_discharge(&c), None);
    c.status = SessionStatus::DoseVerified;
    c.started_at = None;
    assert_eq!(earliest_discharge(&c), None);
    // Ketamine's discharge follows the checklist, with no time of its own.
    c.esketamine = false;
    c.delivery = Delivery::Infusion;
    c.status = SessionStatus::Monitoring;
    c.started_at = Some(at(0));
    assert_eq!(earliest_discharge(&c), None);
}

fn facts() -> DischargeFacts {
    DischargeFacts {
        open_alerts: 0,
        last_reading_alerts: false,
        vitals_after_administration: true,
        minutes_since_start: 130,
        esketamine: true,
    }
}

const ALL_TICKED: Checklist = Checklist {
    alert_and_oriented: true,
    no_active_nausea: true,
    escort_present: true,
    vitals_near_baseline: true,
};

#[test]
fn discharge_needs_every_item_and_no_open_alert() {
    assert!(check_discharge(&ALL_TICKED, &facts()).is_empty());
    let missing = check_discharge(&Checklist::default(), &facts());
    assert_eq!(
        missing.iter().map(|m| m.0).collect::<Vec<_>>(),
        vec![
            "alert_and_oriented",
            "no_active_nausea",
            "escort_present",
            "vitals_near_baseline"
        ]
    );
    let open = DischargeFacts {
        open_alerts: 2,
        ..facts()
    };
    assert!(
        check_discharge(&ALL_TICKED, &open)[0]
            .1
            .contains("2 alerts are still open")
    );
    let short = DischargeFacts {
        minutes_since_start: 119,
        ..facts()
    };
    let m = check_discharge(&ALL_TICKED, &short);
    assert_eq!(m[0].0, "monitoring");
    assert!(m[0].1.contains("119 so far"));
    let iv = DischargeFacts {
        minutes_since_start: 50,
        esketamine: false,
        ..facts()
    };
    assert!(check_discharge(&ALL_TICKED, &iv).is_empty());
    let no_vitals = DischargeFacts {
        vitals_after_administration: false,
        ..facts()
    };
    assert_eq!(check_discharge(&ALL_TICKED, &no_vitals)[0].0, "vitals");
}

#[test]
fn the_rems_form_lists_every_missing_field() {
    let empty = rems_missing(&RemsAnswers::default(), &RemsRecord::default());
    // 11 yes/no questions, the evaluation question, the lot, the setting's address and
    // telephone, three pressures, the minutes.
    assert_eq!(empty.len(), 11 + 1 + 1 + 1 + 3 + 1);
    assert!(empty.iter().any(|m| m.0 == "opioids"));
    assert!(empty.iter().any(|m| m.0 == "respiratory_depression"));
    let answers = RemsAnswers {
        benzodiazepines: Some(false),
        sedative_hypnotics: Some(false),
        psychostimulants: Some(false),
        maois: Some(false),
        opioids: Some(false),
        first_treatment: Some(true),
        vitals_ok_before: Some(true),
        vitals_ok_end: Some(true),
        sedation: Some(true),
        dissociation: Some(true),
        respiratory_depression: Some(false),
        ready_to_leave_min: Some(90),
    };
    let mut record = RemsRecord {
        bp_before: Some((128, 80)),
        bp_forty: Some((142, 88)),
        bp_end: Some((126, 78)),
        monitored_min: Some(119),
        lot_recorded: true,
        setting_contact: false,
    };
    let m = rems_missing(&answers, &record);
    assert_eq!(m.len(), 2);
    assert_eq!(m[0].0, "setting");
    assert!(m[0].1.contains("the setting's address and telephone"));
    assert!(m[1].1.contains("119 are recorded"));
    record.setting_contact = true;
    record.monitored_min = Some(120);
    assert!(rems_missing(&answers, &record).is_empty());
}

#[test]
fn a_dose_above_the_order_or_cap_needs_a_prescribers_reason() {
    let limits = DoseLimits {
        ordered_mg: 40.0,
        cap_mg: 80.0,
        product_max_mg: None,
    };
    assert_eq!(check_given_dose(40.0, &limits, false, None), Ok(false));
    assert_eq!(check_given_dose(35.0, &limits, false, None), Ok(false));
    let e = check_given_dose(45.0, &limits, false, None).unwrap_err();
    assert!(e.to_string().contains("the signed order (40 mg)"), "{e}");
    assert!(matches!(
        check_given_dose(45.0, &limits, true, Some("  ")),
        Err(DoseProblem::ReasonMissing { .. })
    ));
    assert_eq!(
        check_given_dose(45.0, &limits, true, Some("slow responder")),
        Ok(true)
    );
    let e = check_given_dose(90.0, &limits, false, None).unwrap_err();
    assert!(e.to_string().contains("the clinic's cap (80 mg)"), "{e}");
    assert_eq!(
        check_given_dose(0.0, &limits, true, None),
        Err(DoseProblem::NotPositive)
    );
    let spravato = DoseLimits {
        ordered_mg: 56.0,
        cap_mg: 84.0,
        product_max_mg: Some(84.0),
    };
    assert!(matches!(
        check_given_dose(112.0, &spravato, true, Some("asked")),
        Err(DoseProblem::AboveProductMax { .. })
    ));
}

#[test]
fn in_session_scales_open_at_their_set_times_and_are_missed_when_the_session_ends() {
    use crate::instruments::InstrumentId::{Cadss6, Moaas};
    let settings = ScaleSettings::default();
    let start: Timestamp = "2026-12-02T10:00:00Z".parse().unwrap();
    let at = |m: i64| start + SignedDuration::from_mins(m);
    let state = |checks: &[ScaleCheck], i, m| {
        checks
            .iter()
            .find(|c| c.instrument == i && c.minute == m)
            .map(|c| c.state)
    };
    // Before dosing: only the pre-dose time is open, nothing has a clock time.
    let before = scale_checks(&settings, None, false, &[], at(-20));
    assert_eq!(before.len(), 6);
    assert_eq!(state(&before, Cadss6, 0), Some(ScaleState::Due));
    assert_eq!(state(&before, Moaas, 40), Some(ScaleState::Upcoming));
    assert!(before.iter().all(|c| c.at.is_none()));
    // The 40-minute time opens 5 minutes early and is overdue after 15.
    let taken = [(Cadss6, 0), (Moaas, 0)];
    for (minute, cadss40) in [
        (34, ScaleState::Upcoming),
        (35, ScaleState::Due),
        (55, ScaleState::Due),
        (56, ScaleState::Overdue),
    ] {
        let checks = scale_checks(&settings, Some(start), false, &taken, at(minute));
        assert_eq!(
            state(&checks, Cadss6, 40),
            Some(cadss40),
            "at +{minute} min"
        );
        assert_eq!(state(&checks, Cadss6, 0), Some(ScaleState::Done));
        assert_eq!(
            checks.iter().find(|c| c.minute == 40).and_then(|c| c.at),
            Some(at(40))
        );
    }
    // An untaken pre-dose time is overdue 15 minutes into dosing.
    let late = scale_checks(&settings, Some(start), false, &[], at(16));
    assert_eq!(state(&late, Moaas, 0), Some(ScaleState::Overdue));
    // Once the session has ended, what was not taken is missed, not overdue.
    let closed = scale_checks(&settings, Some(start), true, &taken, at(200));
    assert_eq!(state(&closed, Cadss6, 120), Some(ScaleState::Missed));
    assert_eq!(state(&closed, Moaas, 0), Some(ScaleState::Done));
}

#[test]
fn scale_settings_keep_their_times_in_order_and_within_a_day() {
    let s = ScaleSettings {
        cadss6_minutes: vec![60, 0, 60, 30],
        moaas_minutes: vec![],
    };
    assert_eq!(
        s.minutes(crate::instruments::InstrumentId::Cadss6),
        vec![0, 30, 60]
    );
    assert!(
        s.minutes(crate::instruments::InstrumentId::Moaas)
            .is_empty()
    );
    assert!(s.minutes(crate::instruments::InstrumentId::Phq9).is_empty());
    assert!(s.check().is_ok());
    let bad = ScaleSettings {
        moaas_minutes: vec![1441],
        ..ScaleSettings::default()
    };
    assert!(
        bad.check()
            .unwrap_err()
            .contains("session_scales.moaas_minutes has 1441")
    );
    assert_eq!(minute_words(0), "before the first dose");
    assert_eq!(minute_words(40), "40 min after the start");
}

#[test]
fn session_texts_are_bounded_and_readable_and_only_some_have_lines() {
    for kind in SessionText::ALL {
        assert_eq!(kind.check("  "), Ok(None));
        assert_eq!(kind.check(" BP 150/90 "), Ok(Some("BP 150/90")));
        let max = kind.max_chars();
        assert!(kind.check(&"x".repeat(max)).is_ok());
        assert_eq!(
            kind.check(&"x".repeat(max + 1)),
            Err(crate::text::TextProblem::TooLong { max })
        );
        assert_eq!(
            kind.check("rate \u{1b}[2J reduced"),
            Err(crate::text::TextProblem::Unreadable)
        );
        let lines = kind.check("first\nsecond").is_ok();
        assert_eq!(
            lines,
            matches!(
                kind,
                SessionText::Note | SessionText::Description | SessionText::Addendum
            ),
            "{kind:?}"
        );
    }
    assert_eq!(SessionText::Lot.max_chars(), 40);
}

#[test]
fn checked_session_texts_follow_their_kind() {
    use super::CheckedText;
    // Each checked value is made by its kind's rule and nothing else.
    assert_eq!(SessionNote::KIND, SessionText::Note);
    assert_eq!(EventDescription::KIND, SessionText::Description);
    assert_eq!(OverrideReason::KIND, SessionText::OverrideReason);
    assert_eq!(LotNumber::KIND, SessionText::Lot);
    assert_eq!(ActionTaken::KIND, SessionText::Action);
    assert_eq!(AddendumText::KIND, SessionText::Addendum);
    assert_eq!(
        SessionNote::parse("  calm,\nescort waiting ").map(|n| n.map(SessionNote::as_str)),
        Ok(Some("calm,\nescort waiting"))
    );
    assert_eq!(ActionTaken::parse("   "), Ok(None));
    // A lot number is one line of at most 40 characters, as the ledger's.
    assert_eq!(
        LotNumber::parse("KET-88210\nESK-1"),
        Err(crate::text::TextProblem::Unreadable)
    );
    assert_eq!(
        LotNumber::parse(&"7".repeat(41)),
        Err(crate::text::TextProblem::TooLong { max: 40 })
    );
    assert_eq!(
        LotNumber::parse(" KET-88210 ").map(|l| l.map(LotNumber::as_str)),
        Ok(Some("KET-88210"))
    );
    assert_eq!(
        AddendumText::parse("late entry \u{202e}"),
        Err(crate::text::TextProblem::Unreadable)
    );
}

#[test]
fn before_dosing_the_session_says_what_it_waits_for() {
    use SessionStatus as S;
    for s in [S::CheckedIn, S::PreAssessed, S::DoseVerified] {
        assert!(
            s.before_dosing()
                .is_some_and(|w| w.starts_with("none until")),
            "{s:?}"
        );
    }
    for s in [
        S::Administering,
        S::Paused,
        S::Monitoring,
        S::Discharged,
        S::Locked,
    ] {
        assert_eq!(s.before_dosing(), None, "{s:?}");
    }
}

#[test]
fn the_rems_form_shows_what_the_record_says_beside_its_questions() {
    use crate::medications::Medication;
    let meds = [
        Medication::parse("lorazepam", "1 mg at night", "").unwrap(),
        Medication::parse("clonazepam", "", "benzodiazepine").unwrap(),
        Medication::parse("sertraline", "100 mg", "").unwrap(),
    ];
    assert_eq!(
        rems_record_hint("benzodiazepines", &meds, 0, None).as_deref(),
        Some(
            "The medication list records, as current (benzodiazepine): lorazepam 1 mg at night; clonazepam."
        )
    );
    assert_eq!(
        rems_record_hint("maois", &meds, 0, None).as_deref(),
        Some("The medication list records no current MAO inhibitor.")
    );
    assert_eq!(
        rems_record_hint("first_treatment", &meds, 0, None).as_deref(),
        Some("Ketaflow records no earlier esketamine session of this patient at this clinic.")
    );
    let day: jiff::civil::Date = "2026-12-03".parse().unwrap();
    assert_eq!(
        rems_record_hint("first_treatment", &[], 3, Some(day)).as_deref(),
        Some(
            "Ketaflow records 3 earlier esketamine sessions of this patient, the last on 2026-12-03."
        )
    );
    // Questions about the session itself have nothing in the record to compare.
    assert_eq!(rems_record_hint("sedation", &meds, 0, None), None);
}

#[test]
fn the_rems_form_names_where_its_answers_and_the_record_differ() {
    use crate::medications::Medication;
    let meds = [Medication::parse("lorazepam", "1 mg at night", "").unwrap()];
    let answers = RemsAnswers {
        benzodiazepines: Some(false),
        opioids: Some(true),
        maois: Some(false),
        psychostimulants: None,
        first_treatment: Some(true),
        ..RemsAnswers::default()
    };
    assert_eq!(
        rems_record_differences(&answers, &meds, 2),
        [
            "\u{201c}First treatment?\u{201d} is answered Yes, while Ketaflow records 2 earlier esketamine sessions of this patient at this clinic.",
            "\u{201c}Benzodiazepines?\u{201d} is answered No, while the medication list records lorazepam 1 mg at night as current: check with the patient, and end it on the list if they no longer take it.",
            "\u{201c}Opioids or other drugs causing sedation, respiratory depression or blood-pressure change?\u{201d} is answered Yes, while the medication list records no current opioid: add it to the list.",
        ]
    );
    // Answers that agree with the record, or not given yet, say nothing.
    let agreeing = RemsAnswers {
        benzodiazepines: Some(true),
        opioids: Some(false),
        first_treatment: Some(true),
        ..RemsAnswers::default()
    };
    assert!(rems_record_differences(&agreeing, &meds, 0).is_empty());
}

#[test]
fn an_infusion_shorter_than_the_published_regimens_needs_a_prescriber() {
    // 40 minutes and longer: anyone.
    assert_eq!(check_infusion_length(40.0, 2.0, false, None), Ok(false));
    assert_eq!(check_infusion_length(100.0, 2.0, false, None), Ok(false));
    // "4" typed for "40": refused to a nurse, saying why.
    let e = check_infusion_length(4.0, 2.0, false, None).unwrap_err();
    assert_eq!(e, DoseProblem::InfusionShort { minutes: 4.0 });
    assert_eq!(
        e.to_string(),
        "4 min is shorter than the 40 min of the published regimens, so the dose would run faster; only a prescriber can shorten the infusion, with a reason"
    );
    // A prescriber shortens it with a reason, not without.
    assert_eq!(
        check_infusion_length(30.0, 2.0, true, Some("tolerated well, shorter chair time")),
        Ok(true)
    );
    assert_eq!(
        check_infusion_length(30.0, 2.0, true, Some("  ")),
        Err(DoseProblem::InfusionReasonMissing)
    );
    // Under the planning floor no one can.
    assert_eq!(
        check_infusion_length(1.0, 2.0, true, Some("reason")),
        Err(DoseProblem::InfusionBelowFloor {
            minutes: 1.0,
            floor: 2.0
        })
    );
    assert!(check_infusion_length(f64::NAN, 2.0, true, Some("reason")).is_err());
}

#[test]
fn only_a_prescriber_runs_the_pump_faster_than_verified() {
    assert_eq!(check_rate_change(30.0, Some(60.0), false), Ok(()), "slower");
    assert_eq!(
        check_rate_change(60.0, Some(60.0), false),
        Ok(()),
        "the same"
    );
    let e = check_rate_change(90.0, Some(60.0), false).unwrap_err();
    assert_eq!(
        e.to_string(),
        "90 mg/h is faster than the 60 mg/h verified with the dose; only a prescriber can run the infusion faster"
    );
    assert_eq!(check_rate_change(90.0, Some(60.0), true), Ok(()));
}

#[test]
fn dosing_waits_for_every_open_alert_to_be_acknowledged() {
    assert_eq!(check_start(0), None);
    let one = check_start(1).unwrap();
    assert!(one.starts_with("1 alert is still open"), "{one}");
    assert!(one.contains("end the session without dosing"), "{one}");
    assert!(
        check_start(2)
            .unwrap()
            .starts_with("2 alerts are still open")
    );
}

#[test]
fn an_undosed_patient_leaves_once_every_alert_is_acknowledged() {
    assert_eq!(check_end_undosed(0), None);
    let two = check_end_undosed(2).unwrap();
    assert!(two.starts_with("2 alerts are still open"), "{two}");
    assert!(two.ends_with("before the patient leaves"), "{two}");
}

#[test]
fn an_infusion_gives_what_its_stretches_ran_and_no_more_than_the_bag() {
    let total = infused_mg;
    // 40 mg at 60 mg/h over 40 min, stopped on time: 40 mg in one stretch.
    let whole = infusion_stretches(
        &[(0.0, Step::Start, None), (40.0, Step::Stop, None)],
        Some(60.0),
        40.0,
        120.0,
    );
    assert_eq!(whole.len(), 1);
    assert!((total(&whole) - 40.0).abs() < 1e-9);
    // Paused 10 min at 10 min, slowed to 30 mg/h at 25, stopped at 35: 10 + 5 + 5 = 20 mg.
    let partial = infusion_stretches(
        &[
            (0.0, Step::Start, None),
            (10.0, Step::Pause, None),
            (20.0, Step::Resume, None),
            (25.0, Step::ChangeRate, Some(30.0)),
            (35.0, Step::Stop, None),
        ],
        Some(60.0),
        40.0,
        120.0,
    );
    assert_eq!(partial.len(), 3);
    assert!((total(&partial) - 20.0).abs() < 1e-9, "{partial:?}");
    // No stop recorded: the bag empties at 40 min, whatever the clock says.
    let left = infusion_stretches(&[(0.0, Step::Start, None)], Some(60.0), 40.0, 120.0);
    assert!((total(&left) - 40.0).abs() < 1e-9);
    assert!((left[0].to_min - 40.0).abs() < 1e-9);
    // Still running, half way: what ran so far.
    let now = infusion_stretches(&[(0.0, Step::Start, None)], Some(60.0), 40.0, 20.0);
    assert!((total(&now) - 20.0).abs() < 1e-9);
    // Nothing started, nothing given.
    assert!(infusion_stretches(&[], Some(60.0), 40.0, 20.0).is_empty());
}
