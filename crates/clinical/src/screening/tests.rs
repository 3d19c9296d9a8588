//! Rule tests of the screening: every finding at its thresholds, decisions, settings.

use super::*;

fn codes(findings: &[Finding]) -> Vec<(&str, FindingClass)> {
    findings
        .iter()
        .map(|f| (f.code.as_str(), f.class))
        .collect()
}

fn find<'a>(findings: &'a [Finding], code: &str) -> Option<&'a Finding> {
    findings.iter().find(|f| f.code == code)
}

#[test]
fn an_adult_with_nothing_known_has_only_the_trial_history_note() {
    let f = screen(&ScreeningInput::for_age(40), &ScreeningSettings::default());
    assert_eq!(codes(&f), [("treatment_resistance", FindingClass::Note)]);
    assert!(f[0].reason.contains("no antidepressant trial history"));
    assert_eq!(f[0].source, TRD_DEFINITION);
}

#[test]
fn every_condition_gives_its_finding_with_a_reason_and_source() {
    use Condition::*;
    let expected = [
        (AneurysmalVascularDisease, FindingClass::Absolute),
        (ArteriovenousMalformation, FindingClass::Absolute),
        (IntracerebralHaemorrhage, FindingClass::Absolute),
        (KetamineHypersensitivity, FindingClass::Absolute),
        (Pregnancy, FindingClass::Absolute),
        (Breastfeeding, FindingClass::Absolute),
        (ActivePsychosis, FindingClass::Absolute),
        (Mania, FindingClass::Absolute),
        (PsychoticFeatures, FindingClass::Relative),
        (SubstanceUseDisorder, FindingClass::Relative),
        (UncontrolledHypertension, FindingClass::Relative),
        (RecentMyocardialInfarction, FindingClass::Relative),
        (UnstableCardiovascularDisease, FindingClass::Relative),
        (RaisedIntracranialPressure, FindingClass::Relative),
        (RaisedIntraocularPressure, FindingClass::Relative),
        (SevereHepaticImpairment, FindingClass::Absolute),
        (InterstitialCystitis, FindingClass::Relative),
        (Dementia, FindingClass::Relative),
    ];
    assert_eq!(expected.len(), Condition::ALL.len());
    for (condition, class) in expected {
        let mut input = ScreeningInput::for_age(40);
        input.confirmed.insert(condition);
        let f = screen(&input, &ScreeningSettings::default());
        let finding = find(&f, condition.code()).expect("a finding for the condition");
        assert_eq!(finding.class, class, "{condition:?}");
        assert_eq!(finding.basis, Basis::Confirmed);
        assert!(finding.reason.len() > 20, "{condition:?} has a reason");
        assert!(finding.source.contains('('), "{condition:?} names where");
        assert_eq!(Condition::parse(condition.code()), Some(condition));
        assert!(condition.patient_question().ends_with('?'));
    }
}

#[test]
fn patient_reported_conditions_say_so_and_confirmation_wins() {
    let mut input = ScreeningInput::for_age(30);
    input.patient_reported.insert(Condition::Pregnancy);
    input.patient_reported.insert(Condition::Dementia);
    input.confirmed.insert(Condition::Dementia);
    let f = screen(&input, &ScreeningSettings::default());
    let p = find(&f, "pregnancy").unwrap();
    assert_eq!(p.basis, Basis::PatientReported);
    assert_eq!(p.class, FindingClass::Absolute, "a report weighs as much");
    assert!(
        p.reason
            .contains("reported by the patient, not yet confirmed")
    );
    let d = find(&f, "dementia").unwrap();
    assert_eq!(d.basis, Basis::Confirmed);
    assert_eq!(f.iter().filter(|f| f.code == "dementia").count(), 1);
}

#[test]
fn age_is_checked_at_the_minimum() {
    let s = ScreeningSettings::default();
    let at = screen(&ScreeningInput::for_age(18), &s);
    assert!(find(&at, "age_under_minimum").is_none());
    let under = screen(&ScreeningInput::for_age(17), &s);
    let f = find(&under, "age_under_minimum").unwrap();
    assert_eq!(f.class, FindingClass::Absolute);
    assert_eq!(f.source, SPRAVATO_PEDIATRIC);
    let clinic = ScreeningSettings {
        min_age_years: 21,
        ..s
    };
    assert!(
        find(
            &screen(&ScreeningInput::for_age(20), &clinic),
            "age_under_minimum"
        )
        .is_some()
    );
}

#[test]
fn blood_pressure_is_a_finding_only_above_the_thresholds() {
    let s = ScreeningSettings::default();
    let run = |sys: Option<i64>, dia: Option<i64>| {
        let mut input = ScreeningInput::for_age(50);
        input.blood_pressure = BloodPressure::parse(sys, dia).unwrap();
        screen(&input, &s)
    };
    assert!(find(&run(Some(140), Some(90)), "blood_pressure_elevated").is_none());
    let f = run(Some(141), Some(80));
    let bp = find(&f, "blood_pressure_elevated").unwrap();
    assert_eq!(bp.class, FindingClass::Relative);
    assert!(bp.reason.contains("141/80 mmHg"), "{}", bp.reason);
    assert!(find(&run(Some(130), Some(91)), "blood_pressure_elevated").is_some());
    assert!(find(&run(None, Some(91)), "blood_pressure_elevated").is_some());
    assert!(find(&run(None, None), "blood_pressure_elevated").is_none());
    let strict = ScreeningSettings {
        systolic_mmhg: 130,
        ..s
    };
    let mut input = ScreeningInput::for_age(50);
    input.blood_pressure = BloodPressure::parse(Some(135), Some(80)).unwrap();
    assert!(find(&screen(&input, &strict), "blood_pressure_elevated").is_some());
}

#[test]
fn implausible_pressures_are_refused_at_their_fields() {
    let e = BloodPressure::parse(Some(49), Some(201)).unwrap_err();
    let fields: Vec<_> = e.iter().map(ScreeningError::field).collect();
    assert_eq!(fields, ["systolic_mmhg", "diastolic_mmhg"]);
    // In words, not field codes: the page shows the message as it is.
    let said: Vec<_> = e.iter().map(ToString::to_string).collect();
    assert_eq!(
        said,
        [
            "the systolic pressure 49 mmHg is outside 50 to 300 mmHg; check the reading",
            "the diastolic pressure 201 mmHg is outside 20 to 200 mmHg; check the reading"
        ]
    );
    let e = BloodPressure::parse(Some(80), Some(90)).unwrap_err();
    assert_eq!(
        e,
        [ScreeningError::PressureInverted {
            systolic: 80,
            diastolic: 90
        }]
    );
    assert!(BloodPressure::parse(Some(-5), None).is_err());
    assert!(BloodPressure::parse(Some(i64::MAX), None).is_err());
    assert!(BloodPressure::parse(Some(300), Some(20)).is_ok());
}

#[test]
fn every_medication_class_gives_its_interaction() {
    let expected = [
        (MedicationClass::Benzodiazepine, FindingClass::Relative),
        (
            MedicationClass::NonBenzodiazepineHypnotic,
            FindingClass::Relative,
        ),
        (MedicationClass::Lamotrigine, FindingClass::Note),
        (MedicationClass::Maoi, FindingClass::Relative),
        (MedicationClass::Psychostimulant, FindingClass::Relative),
        (MedicationClass::Opioid, FindingClass::Relative),
        (MedicationClass::Naltrexone, FindingClass::Relative),
    ];
    assert_eq!(expected.len(), MedicationClass::ALL.len());
    for (class, weight) in expected {
        let mut input = ScreeningInput::for_age(40);
        input.medication_classes.insert(class);
        let f = screen(&input, &ScreeningSettings::default());
        let code = format!("medication_{}", class.code());
        let finding = find(&f, &code).expect("an interaction finding");
        assert_eq!(finding.class, weight, "{class:?}");
        assert!(!finding.source.is_empty());
    }
}

#[test]
fn treatment_resistance_is_a_note_at_the_setting() {
    let s = ScreeningSettings::default();
    let with = |n| {
        let mut input = ScreeningInput::for_age(40);
        input.adequate_trials = Some(n);
        let f = screen(&input, &s);
        find(&f, "treatment_resistance").unwrap().clone()
    };
    assert!(with(1).reason.contains("short of"));
    assert!(with(2).reason.contains("meets"));
    assert!(
        with(0)
            .reason
            .contains("0 failed adequate antidepressant trials")
    );
    assert_eq!(with(2).class, FindingClass::Note);
}

#[test]
fn findings_come_heaviest_first() {
    let mut input = ScreeningInput::for_age(16);
    input.confirmed.insert(Condition::Dementia);
    input.confirmed.insert(Condition::IntracerebralHaemorrhage);
    input
        .medication_classes
        .insert(MedicationClass::Lamotrigine);
    let f = screen(&input, &ScreeningSettings::default());
    let classes: Vec<_> = f.iter().map(|f| f.class).collect();
    let mut sorted = classes.clone();
    sorted.sort();
    assert_eq!(classes, sorted);
    assert_eq!(f[0].code, "age_under_minimum");
    assert_eq!(f[1].code, "intracerebral_haemorrhage");
}

#[test]
fn eligible_over_a_contraindication_needs_a_justification() {
    let mut input = ScreeningInput::for_age(40);
    input.confirmed.insert(Condition::ArteriovenousMalformation);
    let f = screen(&input, &ScreeningSettings::default());
    let e = check_decision(&f, "eligible", "Discussed with neurosurgery.", "").unwrap_err();
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].field(), "justification");
    assert!(e[0].to_string().contains("arteriovenous malformation"));
    let ok = check_decision(
        &f,
        "eligible",
        "Discussed with neurosurgery.",
        "AVM treated by embolisation in 2019, cleared by neurosurgery in writing.",
    )
    .unwrap();
    assert_eq!(ok.decision, Decision::Eligible);
    assert!(ok.justification.is_some());
    // Not eligible needs no justification, and one given is not kept.
    let no = check_decision(&f, "not_eligible", "Untreated AVM.  ", "whatever text").unwrap();
    assert_eq!(no.justification, None);
    assert_eq!(no.reason, "Untreated AVM.");
}

#[test]
fn a_decision_needs_a_choice_and_a_reason() {
    let f = screen(&ScreeningInput::for_age(40), &ScreeningSettings::default());
    let e = check_decision(&f, "", "ok", "").unwrap_err();
    let fields: Vec<_> = e.iter().map(DecisionError::field).collect();
    assert_eq!(fields, ["decision", "reason"]);
    let ok = check_decision(&f, "eligible", "No contraindication found.", "").unwrap();
    assert_eq!(ok.justification, None);
    assert!(check_decision(&f, "maybe", "No contraindication found.", "").is_err());
    assert!(check_decision(&f, "eligible", &"x".repeat(2001), "").is_err());
    // Lines are kept; a pasted control character is named at its field.
    let lines = check_decision(&f, "eligible", "Screened.\nNo contraindication.", "").unwrap();
    assert_eq!(lines.reason, "Screened.\nNo contraindication.");
    let e = check_decision(&f, "eligible", "No contraindication\u{1b}[2J found.", "").unwrap_err();
    assert_eq!(e, [DecisionError::Unreadable("reason")]);
    assert_eq!(e[0].field(), "reason");
    assert!(
        e[0].to_string()
            .starts_with("the reason holds a control character")
    );
}

#[test]
fn settings_are_held_to_their_ranges() {
    assert!(ScreeningSettings::default().check().is_ok());
    let bad = ScreeningSettings {
        systolic_mmhg: 90,
        ..ScreeningSettings::default()
    };
    assert_eq!(
        bad.check().unwrap_err().to_string(),
        "screening.systolic_mmhg is 90; use a whole number from 100 to 200"
    );
    let young = ScreeningSettings {
        min_age_years: 12,
        ..ScreeningSettings::default()
    };
    assert!(young.check().is_err());
}

#[test]
fn input_from_codes_names_every_unknown_code() {
    let bp = BloodPressure::parse(None, None).unwrap();
    let ok = ScreeningInput::from_codes(
        30,
        &["mania", " pregnancy "],
        &["pregnancy", "dementia"],
        bp,
        &["opioid"],
        Some(2),
    )
    .unwrap();
    assert_eq!(ok.confirmed.len(), 2);
    assert_eq!(
        ok.patient_reported.into_iter().collect::<Vec<_>>(),
        [Condition::Dementia],
        "a confirmed condition is not also reported"
    );
    let e = ScreeningInput::from_codes(30, &["gout"], &[], bp, &["statin"], Some(-1)).unwrap_err();
    let fields: Vec<_> = e.iter().map(ScreeningError::field).collect();
    assert_eq!(
        fields,
        [
            "conditions",
            "medication_classes",
            "adequate_antidepressant_trials"
        ]
    );
    assert!(e[0].to_string().contains("'gout'"));
    assert!(ScreeningInput::from_codes::<&str>(30, &[], &[], bp, &[], Some(51)).is_err());
}
