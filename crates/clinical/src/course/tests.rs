//! Protocol expansion, status changes, ordered doses and the course's assessment schedule.

use super::*;

fn day(s: &str) -> Date {
    s.parse().unwrap()
}

fn protocol(code: &str) -> Protocol {
    builtin_protocols()
        .into_iter()
        .find(|p| p.code == code)
        .unwrap()
}

fn dates(p: &Protocol, first: &str) -> Vec<String> {
    p.expand(day(first))
        .iter()
        .map(|s| s.date.to_string())
        .collect()
}

#[test]
fn three_a_week_is_six_infusions_over_twelve_days() {
    let p = protocol("iv_induction_thrice_weekly");
    // A Monday start: Monday, Wednesday, Friday for two weeks.
    assert_eq!(
        dates(&p, "2026-12-07"),
        [
            "2026-12-07",
            "2026-12-09",
            "2026-12-11",
            "2026-12-14",
            "2026-12-16",
            "2026-12-18"
        ]
    );
    assert_eq!(p.sessions(), 6);
}

#[test]
fn twice_a_week_is_six_infusions_over_three_weeks() {
    let p = protocol("iv_induction_twice_weekly");
    assert_eq!(
        dates(&p, "2026-12-07"),
        [
            "2026-12-07",
            "2026-12-10",
            "2026-12-14",
            "2026-12-17",
            "2026-12-21",
            "2026-12-24"
        ]
    );
}

#[test]
fn the_esketamine_label_schedule_has_two_phases() {
    let p = protocol("esketamine_trd_label");
    let s = p.expand(day("2026-12-07"));
    assert_eq!(s.len(), 12);
    assert_eq!(s[0].phase, "induction");
    assert_eq!(
        s[7].date,
        day("2026-12-31"),
        "8 sessions twice a week over 4 weeks"
    );
    assert_eq!(s[8].phase, "weeks 5-8");
    assert_eq!(
        s[8].date,
        day("2027-01-07"),
        "a week after the last induction session"
    );
    assert_eq!(s[11].date, day("2027-01-28"));
    assert_eq!(p.dose_for_age(40), TargetDose::Mg(56.0));
    assert_eq!(p.dose_for_age(65), TargetDose::Mg(28.0));
    assert_eq!(s.last().map(|x| x.number), Some(12));
    for p in builtin_protocols() {
        assert!(p.source.len() > 40, "{} cites its source", p.code);
        assert_eq!(p.expand(day("2026-01-01")).len() as u32, p.sessions());
    }
}

#[test]
fn statuses_move_only_forward_and_stopping_needs_a_reason() {
    use CourseStatus::*;
    assert_eq!(
        check_status_change(Planned, "active", "").unwrap(),
        (Active, None)
    );
    assert_eq!(check_status_change(Active, "paused", "").unwrap().0, Paused);
    assert_eq!(check_status_change(Paused, "active", "").unwrap().0, Active);
    let e = check_status_change(Planned, "completed", "").unwrap_err();
    assert_eq!(
        e.to_string(),
        "a Planned course cannot become Completed; from Planned it can become active or stopped"
    );
    let e = check_status_change(Completed, "active", "").unwrap_err();
    assert!(e.to_string().contains("nothing else: it has ended"));
    assert_eq!(
        check_status_change(Active, "stopped", "no").unwrap_err(),
        StatusError::ReasonMissing
    );
    // A reason too long is refused, not cut; a pasted control character too.
    assert_eq!(
        check_status_change(Active, "stopped", &"Moved away. ".repeat(200)).unwrap_err(),
        StatusError::ReasonTooLong
    );
    let e = check_status_change(Active, "stopped", "Patient moved\u{1b}[2J away.").unwrap_err();
    assert_eq!(e, StatusError::ReasonUnreadable);
    assert_eq!(e.field(), "reason");
    assert_eq!(
        check_dose_reason("  Slow responder, step up. "),
        Ok("Slow responder, step up.")
    );
    assert_eq!(check_dose_reason("up"), Err(DoseReasonError::Length));
    assert_eq!(
        check_dose_reason(&"x".repeat(501)),
        Err(DoseReasonError::Length)
    );
    assert_eq!(
        check_dose_reason("Step up\u{7} now"),
        Err(DoseReasonError::Unreadable)
    );
    let (s, r) = check_status_change(Active, "stopped", " Patient moved away. ").unwrap();
    assert_eq!((s, r.as_deref()), (Stopped, Some("Patient moved away.")));
    assert_eq!(
        check_status_change(Active, "finished", "").unwrap_err(),
        StatusError::Unknown
    );
}

#[test]
fn ordered_doses_keep_to_the_caps_and_the_label() {
    let caps = pk::dose::DoseCaps::default();
    let floor = pk::dose::PlanningFloor::default();
    let iv = Product::IvRacemic;
    assert_eq!(
        check_dose(iv, "0,5", &caps, &floor, 40).unwrap(),
        TargetDose::MgPerKg(0.5)
    );
    assert_eq!(
        check_dose(iv, "0.75 mg/kg", &caps, &floor, 40).unwrap(),
        TargetDose::MgPerKg(0.75)
    );
    assert!(matches!(
        check_dose(iv, "1.5", &caps, &floor, 40),
        Err(DoseError::OutOfRange { max, .. }) if max == caps.max_mg_per_kg
    ));
    assert!(check_dose(iv, "0.05", &caps, &floor, 40).is_err());
    assert!(matches!(
        check_dose(iv, "half", &caps, &floor, 40),
        Err(DoseError::Unreadable(..))
    ));
    let nasal = Product::EsketamineNasal;
    assert_eq!(
        check_dose(nasal, "56 mg", &caps, &floor, 40).unwrap(),
        TargetDose::Mg(56.0)
    );
    assert!(matches!(
        check_dose(nasal, "28", &caps, &floor, 40),
        Err(DoseError::Spravato(pk::dose::SpravatoDose::UnderAge))
    ));
    assert!(check_dose(nasal, "28", &caps, &floor, 70).is_ok());
    assert_eq!(
        check_dose(nasal, "60", &caps, &floor, 40).unwrap_err(),
        DoseError::NotDevices(60.0)
    );
    assert!(check_dose(nasal, "112", &caps, &floor, 40).is_err());
    assert!(
        check_first_dose(nasal, TargetDose::Mg(84.0)).is_err(),
        "84 mg only after 56"
    );
    assert!(check_first_dose(nasal, TargetDose::Mg(56.0)).is_ok());
    assert!(check_first_dose(iv, TargetDose::MgPerKg(0.75)).is_ok());
}

#[test]
fn a_course_plans_baseline_each_session_24h_weekly_and_end() {
    let p = protocol("iv_induction_thrice_weekly");
    let sessions = p.expand(day("2026-12-07"));
    let plan = assessment_schedule(InstrumentId::Phq9, &sessions);
    let count = |tp: TimePoint| plan.planned().iter().filter(|x| x.time_point == tp).count();
    assert_eq!(count(TimePoint::Baseline), 1);
    assert_eq!(count(TimePoint::BeforeSession), 6);
    assert_eq!(count(TimePoint::After24h), 1);
    assert_eq!(
        count(TimePoint::Weekly),
        1,
        "one week inside a 12-day course"
    );
    assert_eq!(count(TimePoint::EndOfCourse), 1);
    let baseline = plan.planned()[0];
    assert_eq!(baseline.earliest, day("2026-11-30"));
    assert_eq!(baseline.latest, day("2026-12-07"));
    let end = plan.planned().last().unwrap();
    assert_eq!(
        (end.earliest, end.latest),
        (day("2026-12-18"), day("2026-12-25"))
    );
    assert!(
        assessment_schedule(InstrumentId::Phq9, &[])
            .planned()
            .is_empty()
    );
}

#[test]
fn a_clinic_protocol_is_checked_at_its_fields() {
    let caps = pk::dose::DoseCaps::default();
    let floor = pk::dose::PlanningFloor::default();
    let ok = check_protocol(
        "iv_induction_8",
        "IV induction: 8 infusions twice a week",
        "iv_racemic",
        &[("induction", "8", "twice_weekly"), ("", "", "")],
        "0.5",
        "Abdallah et al. 2022, PTSD: 8 infusions twice weekly",
        &caps,
        &floor,
    )
    .unwrap();
    assert_eq!(ok.sessions(), 8);
    assert_eq!(ok.expand(day("2026-12-07")).len(), 8);
    let e = check_protocol(
        "iv_induction_thrice_weekly",
        "",
        "iv_racemic",
        &[("induction", "0", "daily")],
        "5",
        "mine",
        &caps,
        &floor,
    )
    .unwrap_err();
    let fields: Vec<_> = e.iter().map(ProtocolError::field).collect();
    assert_eq!(
        fields,
        ["code", "name", "phase1_sessions", "dose", "source"]
    );
    let e = check_protocol(
        "Bad Code",
        "n",
        "tea",
        &[],
        "1",
        "a long enough source",
        &caps,
        &floor,
    )
    .unwrap_err();
    let fields: Vec<_> = e.iter().map(ProtocolError::field).collect();
    assert_eq!(fields, ["code", "product", "phase1_sessions"]);
    // Pasted text is refused at its field: a phase's name was cut at 60 characters and kept
    // an escape sequence; a name or source with a direction override read as other text.
    let e = check_protocol(
        "iv_induction_9",
        "IV \u{202E}induction",
        "iv_racemic",
        &[
            ("induction\u{1b}[2J", "8", "twice_weekly"),
            (&"x".repeat(61), "2", "weekly"),
            ("boosters", "2", "every_two_weeks"),
        ],
        "0.5",
        "Abdallah et al. 2022\u{7}",
        &caps,
        &floor,
    )
    .unwrap_err();
    let fields: Vec<_> = e.iter().map(ProtocolError::field).collect();
    assert_eq!(fields, ["name", "phase1_name", "phase2_name", "source"]);
    assert!(e[1].to_string().contains("phase 1: the name"), "{}", e[1]);
}

#[test]
fn a_course_starts_from_today_and_within_two_years() {
    let today: Date = "2026-12-07".parse().unwrap();
    assert_eq!(check_first_session(today, today), Ok(()));
    let yesterday = today.yesterday().unwrap();
    let e = check_first_session(yesterday, today).unwrap_err();
    assert_eq!(e, FirstSessionError::Past { today });
    assert!(e.to_string().contains("before today, 2026-12-07"), "{e}");
    let last = today.checked_add(730.days()).unwrap();
    assert_eq!(check_first_session(last, today), Ok(()));
    let e = check_first_session(last.tomorrow().unwrap(), today).unwrap_err();
    assert_eq!(e, FirstSessionError::TooFar { latest: last });
}

#[test]
fn a_plan_fallen_behind_moves_its_remaining_sessions_together() {
    let protocol = protocol("iv_induction_twice_weekly");
    // Twice a week from Monday 16 November: 16, 19, 23, 26, 30 November, 3 December.
    let planned = protocol.expand(day("2026-11-16"));
    let dates = |v: &[PlannedSession]| v.iter().map(|s| s.date.to_string()).collect::<Vec<_>>();
    // Paused before its first session and resumed on 7 December: all six move by three weeks.
    let moved = still_to_book(&planned, 0, None, day("2026-12-07"));
    assert_eq!(
        dates(&moved),
        [
            "2026-12-07",
            "2026-12-10",
            "2026-12-14",
            "2026-12-17",
            "2026-12-21",
            "2026-12-24"
        ]
    );
    assert_eq!(moved[0].number, 1);
    // On time: nothing moves.
    assert_eq!(still_to_book(&planned, 0, None, day("2026-11-10")), planned);
    // Two booked, the second on 20 November (a day late); the third follows it by the plan's
    // four days (19 to 23 November), not today alone.
    let rest = still_to_book(&planned, 2, Some(day("2026-11-20")), day("2026-11-18"));
    assert_eq!(dates(&rest)[..2], ["2026-11-24", "2026-11-27"]);
    assert_eq!(rest[0].number, 3);
    // Today later still: from today.
    let rest = still_to_book(&planned, 2, Some(day("2026-11-20")), day("2026-12-01"));
    assert_eq!(dates(&rest)[..2], ["2026-12-01", "2026-12-04"]);
    // Two booked on their planned days: nothing moves.
    assert_eq!(
        still_to_book(&planned, 2, Some(day("2026-11-19")), day("2026-11-18")),
        planned[2..]
    );
    // Begun a week early (the first on 9 November, today the 5th): the rest follow it, the
    // second three days later as planned, not ten.
    let early = still_to_book(&planned, 1, Some(day("2026-11-09")), day("2026-11-05"));
    assert_eq!(
        dates(&early),
        [
            "2026-11-12",
            "2026-11-16",
            "2026-11-19",
            "2026-11-23",
            "2026-11-26"
        ]
    );
    assert_eq!(early[0].number, 2);
    // Begun early and then left: from today, never before it.
    let early = still_to_book(&planned, 1, Some(day("2026-11-09")), day("2026-11-14"));
    assert_eq!(dates(&early)[..2], ["2026-11-14", "2026-11-18"]);
    // Everything booked: nothing left.
    assert!(still_to_book(&planned, 6, Some(day("2026-12-03")), day("2026-12-07")).is_empty());
    assert!(still_to_book(&planned, 9, None, day("2026-12-07")).is_empty());
}

#[test]
fn what_a_course_asks_follows_the_days_its_sessions_are_booked() {
    let protocol = protocol("iv_induction_thrice_weekly");
    // Monday, Wednesday, Friday from 30 November: 30 November to 11 December.
    let planned = protocol.expand(day("2026-11-30"));
    // The first booked a day late (Tuesday), the second on its day; today is Wednesday.
    let booked = [day("2026-12-01"), day("2026-12-02")];
    let sessions = as_they_stand(&planned, &booked, day("2026-12-02"));
    let dates: Vec<String> = sessions.iter().map(|s| s.date.to_string()).collect();
    assert_eq!(
        dates,
        [
            "2026-12-01",
            "2026-12-02",
            "2026-12-04",
            "2026-12-07",
            "2026-12-09",
            "2026-12-11"
        ]
    );
    let numbers: Vec<u32> = sessions.iter().map(|s| s.number).collect();
    assert_eq!(numbers, [1, 2, 3, 4, 5, 6]);
    // The assessment before the first session is due on Tuesday, its booked day, and the one
    // 24 hours after it on Wednesday and Thursday; Monday asks for nothing.
    let schedule = assessment_schedule(InstrumentId::Phq9, &sessions);
    let windows = |tp: TimePoint| -> Vec<(String, String)> {
        schedule
            .planned()
            .iter()
            .filter(|p| p.time_point == tp)
            .map(|p| (p.earliest.to_string(), p.latest.to_string()))
            .collect()
    };
    assert_eq!(
        windows(TimePoint::BeforeSession)[0],
        ("2026-12-01".to_owned(), "2026-12-01".to_owned())
    );
    assert_eq!(
        windows(TimePoint::After24h),
        [("2026-12-02".to_owned(), "2026-12-03".to_owned())]
    );
    assert_eq!(
        windows(TimePoint::Baseline),
        [("2026-11-24".to_owned(), "2026-12-01".to_owned())]
    );
    // Nothing booked: the plan as it can still be booked; all booked: the booked days.
    assert_eq!(as_they_stand(&planned, &[], day("2026-11-01")), planned);
    let all: Vec<Date> = planned.iter().map(|s| s.date).collect();
    assert_eq!(as_they_stand(&planned, &all, day("2026-12-31")), planned);
}
