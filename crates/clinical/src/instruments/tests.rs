//! Table-driven tests of every instrument, built from the scoring rules cited in `defs.rs`.

use super::schedule::{Done, Planned, Schedule, Status, TimePoint};
use super::*;

fn answers(id: InstrumentId, value: i64) -> Vec<i64> {
    vec![value; id.instrument().items.len()]
}

/// Scores and checks total and severity code.
fn check(id: InstrumentId, answers: &[i64], total: i32, severity: Option<&str>) {
    let s = score(id, answers).unwrap_or_else(|e| panic!("{}: {e}", id.code()));
    assert_eq!(s.total, total, "{} {answers:?}", id.code());
    assert_eq!(
        s.severity.map(|b| b.code),
        severity,
        "{} {answers:?}",
        id.code()
    );
}

#[test]
fn all_lowest_and_all_highest_answers_give_the_range_ends() {
    for id in InstrumentId::ALL {
        let inst = id.instrument();
        let (lo, hi) = inst.total_range();
        let min = score(id, &answers(id, inst.answer_min.into())).unwrap();
        let max = score(id, &answers(id, inst.answer_max.into())).unwrap();
        if id == InstrumentId::Epds {
            // Reverse keying: every answer at position 0 scores 3 on seven items and 0 on three.
            assert_eq!((min.total, max.total), (21, 9));
        } else {
            assert_eq!((min.total, max.total), (lo, hi), "{}", id.code());
        }
    }
}

#[test]
fn totals_land_in_the_published_bands_at_every_boundary() {
    // Build answer sets with a given total by filling items from the first.
    fn with_total(id: InstrumentId, total: i32) -> Vec<i64> {
        let inst = id.instrument();
        let mut left = total - inst.items.len() as i32 * i32::from(inst.answer_min);
        inst.items
            .iter()
            .map(|_| {
                let room = i32::from(inst.answer_max - inst.answer_min);
                let take = left.min(room);
                left -= take;
                i64::from(take + i32::from(inst.answer_min))
            })
            .collect()
    }
    let ids = [
        InstrumentId::Phq9,
        InstrumentId::Gad7,
        InstrumentId::Madrs,
        InstrumentId::Ybocs,
        InstrumentId::Moaas,
    ];
    for id in ids {
        for band in id.instrument().bands {
            for total in [band.min, band.max] {
                check(id, &with_total(id, total), total, Some(band.code));
            }
        }
    }
    // Spot checks against the published tables.
    let phq = [
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "moderately_severe"),
        (19, "moderately_severe"),
        (20, "severe"),
        (27, "severe"),
    ];
    for (total, code) in phq {
        check(
            InstrumentId::Phq9,
            &with_total(InstrumentId::Phq9, total),
            total,
            Some(code),
        );
    }
    let gad = [
        (4, "minimal"),
        (5, "mild"),
        (10, "moderate"),
        (15, "severe"),
        (21, "severe"),
    ];
    for (total, code) in gad {
        check(
            InstrumentId::Gad7,
            &with_total(InstrumentId::Gad7, total),
            total,
            Some(code),
        );
    }
    let ybocs = [
        (7, "subclinical"),
        (8, "mild"),
        (16, "moderate"),
        (24, "severe"),
        (32, "extreme"),
    ];
    for (total, code) in ybocs {
        check(
            InstrumentId::Ybocs,
            &with_total(InstrumentId::Ybocs, total),
            total,
            Some(code),
        );
    }
    let madrs = [
        (6, "normal"),
        (7, "mild"),
        (19, "mild"),
        (20, "moderate"),
        (34, "moderate"),
        (35, "severe"),
    ];
    for (total, code) in madrs {
        check(
            InstrumentId::Madrs,
            &with_total(InstrumentId::Madrs, total),
            total,
            Some(code),
        );
    }
}

#[test]
fn bands_cover_each_range_without_gaps_or_overlaps() {
    for id in InstrumentId::ALL {
        let inst = id.instrument();
        if inst.bands.is_empty() {
            continue;
        }
        let (lo, hi) = inst.total_range();
        for total in lo..=hi {
            let n = inst
                .bands
                .iter()
                .filter(|b| (b.min..=b.max).contains(&total))
                .count();
            assert_eq!(n, 1, "{} total {total} is in {n} bands", id.code());
        }
    }
}

#[test]
fn phq9_item_9_raises_a_safety_flag_whatever_the_total() {
    let mut a = answers(InstrumentId::Phq9, 0);
    assert!(score(InstrumentId::Phq9, &a).unwrap().flags.is_empty());
    a[8] = 1;
    let s = score(InstrumentId::Phq9, &a).unwrap();
    assert_eq!(s.total, 1);
    assert_eq!(s.flags, vec![Flag::SuicidalityItem]);
    assert!(s.safety_follow_up_due());
    a[8] = 0;
    a[0] = 3;
    a[1] = 3;
    assert!(
        !score(InstrumentId::Phq9, &a)
            .unwrap()
            .safety_follow_up_due()
    );
}

#[test]
fn epds_reverse_keys_items_3_and_5_to_10_by_option_position() {
    // Position 0 on every item: items 1, 2, 4 score 0; the seven reversed items score 3 each.
    let s = score(InstrumentId::Epds, &answers(InstrumentId::Epds, 0)).unwrap();
    assert_eq!(s.total, 21);
    assert!(s.flags.contains(&Flag::SelfHarmItem));
    assert!(s.flags.contains(&Flag::ProbableDepression));
    // The healthiest answers: first option on 1, 2, 4 is 0; last option (3) on reversed items is 0.
    let healthy = [0, 0, 3, 0, 3, 3, 3, 3, 3, 3];
    let s = score(InstrumentId::Epds, &healthy).unwrap();
    assert_eq!(s.total, 0);
    assert!(s.flags.is_empty());
    // Item 10 at position 2 ("hardly ever") scores 1: the self-harm flag is raised.
    let mut a = healthy;
    a[9] = 2;
    let s = score(InstrumentId::Epds, &a).unwrap();
    assert_eq!((s.total, s.flags.clone()), (1, vec![Flag::SelfHarmItem]));
    // Probable depression from 13: 12 does not flag, 13 does.
    let twelve = [3, 3, 0, 3, 3, 3, 3, 3, 3, 3]; // 3 + 3 + 3 + 3 = 12
    assert_eq!(score(InstrumentId::Epds, &twelve).unwrap().total, 12);
    assert!(
        !score(InstrumentId::Epds, &twelve)
            .unwrap()
            .flags
            .contains(&Flag::ProbableDepression)
    );
    let thirteen = [3, 3, 0, 3, 2, 3, 3, 3, 3, 3];
    assert_eq!(score(InstrumentId::Epds, &thirteen).unwrap().total, 13);
    assert!(
        score(InstrumentId::Epds, &thirteen)
            .unwrap()
            .flags
            .contains(&Flag::ProbableDepression)
    );
}

#[test]
fn pcl5_clusters_and_the_dsm5_rule_at_its_edges() {
    // Exactly the minimum pattern: one B, one C, two D, two E items at 2.
    let mut a = answers(InstrumentId::Pcl5, 0);
    for item in [1, 6, 8, 9, 15, 16] {
        a[item - 1] = 2;
    }
    let s = score(InstrumentId::Pcl5, &a).unwrap();
    let d = s.pcl5.unwrap();
    assert_eq!((d.b, d.c, d.d, d.e), (2, 2, 4, 4));
    assert!(d.dsm5_criteria_met);
    assert_eq!(s.flags, vec![Flag::Dsm5CriteriaMet]);
    // One item short in any cluster, or a symptom rated only 1, breaks the rule.
    for (item, value) in [(1, 0), (6, 0), (9, 0), (16, 0), (9, 1), (16, 1)] {
        let mut b = a.clone();
        b[item - 1] = value;
        assert!(
            !score(InstrumentId::Pcl5, &b)
                .unwrap()
                .pcl5
                .unwrap()
                .dsm5_criteria_met,
            "item {item} at {value}"
        );
    }
    // Many 1s reach a high total without meeting the rule; the total cut is 33.
    let ones = answers(InstrumentId::Pcl5, 1);
    let s = score(InstrumentId::Pcl5, &ones).unwrap();
    assert_eq!(s.total, 20);
    assert!(s.flags.is_empty());
    let mut b = ones.clone();
    for answer in b.iter_mut().take(13) {
        *answer = 2;
    }
    assert_eq!(score(InstrumentId::Pcl5, &b).unwrap().total, 33);
    assert!(
        score(InstrumentId::Pcl5, &b)
            .unwrap()
            .flags
            .contains(&Flag::ProvisionalPtsdByTotal)
    );
    b[0] = 1;
    assert!(
        !score(InstrumentId::Pcl5, &b)
            .unwrap()
            .flags
            .contains(&Flag::ProvisionalPtsdByTotal)
    );
}

#[test]
fn qids_scores_the_highest_item_of_each_domain() {
    // Sleep items 1–4 = 1, 3, 0, 2 → 3; appetite 6–9 = 2, 0, 1, 0 → 2; psychomotor 15–16 = 0, 1 → 1.
    let a = [1, 3, 0, 2, 1, 2, 0, 1, 0, 1, 1, 0, 2, 2, 0, 1];
    let s = score(InstrumentId::QidsSr16, &a).unwrap();
    assert_eq!(s.subscale("sleep"), Some(3));
    assert_eq!(s.subscale("appetite_weight"), Some(2));
    assert_eq!(s.subscale("psychomotor"), Some(1));
    // Domains: sleep 3, mood 1, appetite 2, concentration 1, self-view 1, death 0, interest 2,
    // energy 2, psychomotor 1.
    assert_eq!(s.total, 13);
    assert_eq!(s.severity.map(|b| b.code), Some("moderate"));
    check(
        InstrumentId::QidsSr16,
        &answers(InstrumentId::QidsSr16, 3),
        27,
        Some("very_severe"),
    );
}

#[test]
fn ybocs_reports_obsession_and_compulsion_subtotals() {
    let a = [4, 3, 2, 1, 0, 1, 1, 1, 1, 1];
    let s = score(InstrumentId::Ybocs, &a).unwrap();
    assert_eq!(s.subscale("obsessions"), Some(10));
    assert_eq!(s.subscale("compulsions"), Some(5));
    assert_eq!(s.total, 15);
    assert_eq!(s.severity.map(|b| b.code), Some("mild"));
}

#[test]
fn sedation_scales_use_their_own_ranges() {
    check(InstrumentId::Rass, &[-5], -5, Some("deep_sedation"));
    check(InstrumentId::Rass, &[0], 0, Some("alert_calm"));
    check(InstrumentId::Rass, &[4], 4, Some("agitated"));
    let s = score(InstrumentId::Moaas, &[0]).unwrap();
    assert_eq!(s.flags, vec![Flag::LossOfConsciousness]);
    assert!(score(InstrumentId::Moaas, &[1]).unwrap().flags.is_empty());
    check(InstrumentId::BprsPositive, &[1, 1, 1, 1], 4, None);
}

#[test]
fn wrong_counts_and_out_of_range_answers_name_the_item_and_range() {
    let cases: [(InstrumentId, &str, &str); 6] = [
        (
            InstrumentId::Phq9,
            "0,1,2,3,0,1,2,3",
            "phq9 has 9 items, but 8 answers were given; give one answer per item, in form order",
        ),
        (
            InstrumentId::Phq9,
            "0,1,2,4,0,1,2,3,0",
            "phq9 item 4: answer 4 is out of range; allowed 0 to 3",
        ),
        (
            InstrumentId::Rass,
            "-6",
            "rass item 1: answer -6 is out of range; allowed -5 to 4",
        ),
        (
            InstrumentId::BprsPositive,
            "1,0,1,1",
            "bprs_positive item 2: answer 0 is out of range; allowed 1 to 7",
        ),
        (
            InstrumentId::Gad7,
            "0,1,x,0,0,0,0",
            "gad7 item 3: 'x' is not a whole number; allowed 0 to 3",
        ),
        (
            InstrumentId::PainNrs,
            "99999999999",
            "pain_nrs item 1: answer 99999999999 is out of range; allowed 0 to 10",
        ),
    ];
    for (id, input, message) in cases {
        let err = parse_answers(id.instrument(), input)
            .and_then(|a| score(id, &a))
            .unwrap_err();
        assert_eq!(err.to_string(), message);
    }
    assert!(
        InstrumentId::parse("phq-9")
            .unwrap_err()
            .to_string()
            .contains("use one of phq9, gad7")
    );
    assert_eq!(
        InstrumentId::parse(" QIDS_SR16 "),
        Ok(InstrumentId::QidsSr16)
    );
}

#[test]
fn response_remission_and_minimal_change_follow_each_instruments_rule() {
    let phq = InstrumentId::Phq9.instrument();
    let cases = [
        // baseline, current, response, remission, minimal important change
        (20, 10, Some(true), Some(false), Some(true)),
        (20, 11, Some(false), Some(false), Some(true)),
        (20, 4, Some(true), Some(true), Some(true)),
        (8, 5, Some(false), Some(false), Some(false)),
        (0, 0, Some(false), Some(true), Some(false)),
    ];
    for (baseline, current, response, remission, mic) in cases {
        let o = outcome(phq, baseline, current);
        assert_eq!(
            (o.response, o.remission, o.minimal_important_change),
            (response, remission, mic),
            "{baseline}→{current}"
        );
    }
    assert_eq!(outcome(phq, 20, 10).percent_change, Some(-50.0));
    assert_eq!(outcome(phq, 0, 3).percent_change, None);
    // Y-BOCS: 35 % and at most 12.
    let y = InstrumentId::Ybocs.instrument();
    assert_eq!(outcome(y, 20, 13).response, Some(true));
    assert_eq!(outcome(y, 20, 14).response, Some(false));
    assert_eq!(outcome(y, 20, 12).remission, Some(true));
    assert_eq!(outcome(y, 20, 13).remission, Some(false));
    // MADRS remission at 9 or less; QIDS at 5 or less.
    assert_eq!(
        outcome(InstrumentId::Madrs.instrument(), 30, 9).remission,
        Some(true)
    );
    assert_eq!(
        outcome(InstrumentId::Madrs.instrument(), 30, 10).remission,
        Some(false)
    );
    assert_eq!(
        outcome(InstrumentId::QidsSr16.instrument(), 16, 5).remission,
        Some(true)
    );
    // GAD-7 has no published response rule: none is claimed.
    let g = outcome(InstrumentId::Gad7.instrument(), 15, 3);
    assert_eq!(
        (g.response, g.remission, g.minimal_important_change),
        (None, None, Some(true))
    );
    // Pain NRS: 30 % is response, 10 % the minimal important change.
    let p = outcome(InstrumentId::PainNrs.instrument(), 10, 7);
    assert_eq!(
        (p.response, p.minimal_important_change),
        (Some(true), Some(true))
    );
    assert_eq!(
        outcome(InstrumentId::PainNrs.instrument(), 10, 8).response,
        Some(false)
    );
}

#[test]
fn the_schedule_says_what_is_done_due_upcoming_and_missed() {
    let d = |s: &str| s.parse::<jiff::civil::Date>().unwrap();
    let schedule = Schedule::baseline_then_weekly(&[InstrumentId::Phq9], d("2026-11-02"), 3);
    assert_eq!(schedule.planned().len(), 4);
    let done = [
        Done {
            instrument: InstrumentId::Phq9,
            time_point: TimePoint::Baseline,
            date: d("2026-10-30"),
        },
        Done {
            instrument: InstrumentId::Phq9,
            time_point: TimePoint::Weekly,
            date: d("2026-11-10"),
        },
        // Wrong instrument: satisfies nothing.
        Done {
            instrument: InstrumentId::Gad7,
            time_point: TimePoint::Weekly,
            date: d("2026-11-17"),
        },
    ];
    let statuses: Vec<Status> = schedule
        .status(&done, d("2026-11-23"))
        .into_iter()
        .map(|(_, s)| s)
        .collect();
    // Baseline done; week 1 (9–15 Nov) done; week 2 (16–22 Nov) missed; week 3 (23–29 Nov) due.
    assert_eq!(
        statuses,
        [Status::Done, Status::Done, Status::Missed, Status::Due]
    );
    // A weekly assessment taken on the 23rd counts for week 3, whose window is open; week 2
    // stays missed (nothing taken later fills a closed window).
    let mut late = done.to_vec();
    late.push(Done {
        instrument: InstrumentId::Phq9,
        time_point: TimePoint::Weekly,
        date: d("2026-11-23"),
    });
    let statuses: Vec<Status> = schedule
        .status(&late, d("2026-11-23"))
        .into_iter()
        .map(|(_, s)| s)
        .collect();
    assert_eq!(
        statuses,
        [Status::Done, Status::Done, Status::Missed, Status::Done]
    );
    let early: Vec<Status> = schedule
        .status(&[], d("2026-10-20"))
        .into_iter()
        .map(|(_, s)| s)
        .collect();
    assert_eq!(early, [Status::Upcoming; 4]);
}

#[test]
fn loaded_wording_must_fit_the_definition() {
    use super::content::{ContentError, ContentInput, ItemInput};
    let good = ContentInput {
        instrument: "gad7".into(),
        language: "en".into(),
        instructions: "Over the last two weeks...".into(),
        options: vec!["a".into(), "b".into(), "c".into(), "d".into()],
        items: (1..=7)
            .map(|i| ItemInput {
                text: format!("item {i}"),
                options: vec![],
            })
            .collect(),
    };
    let content = good.validate().unwrap();
    assert_eq!(content.items().len(), 7);
    assert_eq!(content.items()[6].1.len(), 4);
    let mut bad = good.clone();
    bad.items.pop();
    bad.items[2].text = " ".into();
    bad.items[3].options = vec!["only one".into()];
    bad.language = "".into();
    let errors = bad.validate().unwrap_err();
    assert_eq!(
        errors,
        vec![
            ContentError::LanguageMissing,
            ContentError::ItemCount {
                instrument: "gad7",
                expected: 7,
                got: 6
            },
            ContentError::ItemEmpty { item: 3 },
            ContentError::OptionCount {
                item: 4,
                expected: 4,
                got: 1,
                min: 0,
                max: 3
            },
        ]
    );
}

#[test]
fn a_change_rule_draws_its_threshold_and_a_baseline_is_chosen_by_time_point() {
    use super::outcome::{ChangeRule, choose_baseline};
    use super::schedule::TimePoint;
    // MADRS response is a fall of 50 %: from 30 the line is at 15; a fall of 5 points from 12 is 7.
    assert_eq!(ChangeRule::PercentReduction(50).threshold(30), 15.0);
    assert_eq!(ChangeRule::Points(5).threshold(12), 7.0);
    for baseline in 0..=60 {
        for rule in [ChangeRule::PercentReduction(50), ChangeRule::Points(5)] {
            let t = rule.threshold(baseline);
            // The line separates totals that meet the rule from those that do not.
            assert!(
                (0..=60).all(|c| rule.met(baseline, c) == (f64::from(c) <= t)
                    || (baseline == 0 && matches!(rule, ChangeRule::PercentReduction(_)))),
                "{rule:?} from {baseline}"
            );
        }
    }
    let taken = [
        (TimePoint::Weekly, 20),
        (TimePoint::Baseline, 24),
        (TimePoint::Weekly, 12),
    ];
    assert_eq!(
        choose_baseline(&taken, |a| a.0, |_| false).map(|a| a.1),
        Some(24)
    );
    let without = [(TimePoint::Weekly, 20), (TimePoint::Weekly, 12)];
    assert_eq!(
        choose_baseline(&without, |a| a.0, |_| false).map(|a| a.1),
        Some(20)
    );
    let none: [(TimePoint, i32); 0] = [];
    assert!(choose_baseline(&none, |a| a.0, |_| false).is_none());
    // A re-baseline (the third value, a reason given) replaces the first baseline; the latest
    // of several wins.
    let rebased = [
        (TimePoint::Baseline, 24, false),
        (TimePoint::Weekly, 12, false),
        (TimePoint::Baseline, 19, true),
        (TimePoint::Baseline, 17, true),
        (TimePoint::Weekly, 9, false),
    ];
    assert_eq!(
        choose_baseline(&rebased, |a| a.0, |a| a.2).map(|a| a.1),
        Some(17)
    );
}

mod properties {
    use proptest::prelude::*;

    use super::super::{InstrumentId, additive_points, score};

    /// An instrument and a full set of in-range answers for it.
    fn answered() -> impl Strategy<Value = (InstrumentId, Vec<i64>)> {
        proptest::sample::select(InstrumentId::ALL.to_vec()).prop_flat_map(|id| {
            let i = id.instrument();
            let one = i64::from(i.answer_min)..=i64::from(i.answer_max);
            (Just(id), proptest::collection::vec(one, i.items.len()))
        })
    }

    proptest! {
        #[test]
        fn a_score_never_leaves_its_instruments_range((id, answers) in answered()) {
            let s = score(id, &answers).unwrap();
            let (lo, hi) = id.instrument().total_range();
            prop_assert!((lo..=hi).contains(&s.total), "{id:?} {answers:?} -> {}", s.total);
            if let Some(band) = s.severity {
                prop_assert!((band.min..=band.max).contains(&s.total));
            }
        }

        #[test]
        fn a_running_total_from_points_per_answer_is_the_score((id, answers) in answered()) {
            let Some(points) = additive_points(id) else {
                prop_assert_eq!(id, InstrumentId::QidsSr16);
                return Ok(());
            };
            let lowest = i64::from(id.instrument().answer_min);
            let running: i32 = points.base
                + answers
                    .iter()
                    .enumerate()
                    .map(|(i, &a)| points.added[i][usize::try_from(a - lowest).unwrap()])
                    .sum::<i32>();
            prop_assert_eq!(running, score(id, &answers).unwrap().total, "{:?} {:?}", id, answers);
        }

        #[test]
        fn an_answer_outside_the_scale_is_refused(
            (id, mut answers) in answered(),
            at in any::<prop::sample::Index>(),
            over in 1_i64..100,
        ) {
            let i = at.index(answers.len());
            answers[i] = i64::from(id.instrument().answer_max) + over;
            prop_assert!(score(id, &answers).is_err());
        }
    }
}

#[test]
fn one_assessment_answers_each_entry_it_stands_for_once() {
    let d = |s: &str| s.parse::<jiff::civil::Date>().unwrap();
    let phq9 = |time_point, date: &str| Done {
        instrument: InstrumentId::Phq9,
        time_point,
        date: d(date),
    };
    let entry = |time_point, earliest: &str, latest: &str| Planned {
        instrument: InstrumentId::Phq9,
        time_point,
        earliest: d(earliest),
        latest: d(latest),
    };
    // A course whose first session is on Monday 7 December and second on Thursday the 10th,
    // with a weekly assessment from the 14th.
    let schedule = Schedule::new(vec![
        entry(TimePoint::Baseline, "2026-11-30", "2026-12-07"),
        entry(TimePoint::BeforeSession, "2026-12-07", "2026-12-07"),
        entry(TimePoint::After24h, "2026-12-08", "2026-12-09"),
        entry(TimePoint::BeforeSession, "2026-12-10", "2026-12-10"),
        entry(TimePoint::Weekly, "2026-12-14", "2026-12-20"),
        entry(TimePoint::BeforeSession, "2026-12-14", "2026-12-14"),
    ]);
    let statuses = |done: &[Done], today: &str| -> Vec<Status> {
        schedule
            .status(done, d(today))
            .into_iter()
            .map(|(_, s)| s)
            .collect()
    };
    // The PHQ-9 before the first session is its baseline as well; the 24-hour one stays due.
    assert_eq!(
        statuses(
            &[phq9(TimePoint::BeforeSession, "2026-12-07")],
            "2026-12-08"
        ),
        [
            Status::Done,
            Status::Done,
            Status::Due,
            Status::Upcoming,
            Status::Upcoming,
            Status::Upcoming
        ]
    );
    // So is a baseline taken that morning for the session's own entry.
    assert_eq!(
        statuses(&[phq9(TimePoint::Baseline, "2026-12-07")], "2026-12-07")[..2],
        [Status::Done, Status::Done]
    );
    // A weekly score of the week before treatment is the baseline; one taken on the first
    // session's day may have come after the dose, and is not.
    assert_eq!(
        statuses(&[phq9(TimePoint::Weekly, "2026-12-02")], "2026-12-07")[0],
        Status::Done
    );
    assert_eq!(
        statuses(&[phq9(TimePoint::Weekly, "2026-12-07")], "2026-12-07")[0],
        Status::Due
    );
    // The one before Monday the 14th's session is that week's too.
    let week = statuses(
        &[phq9(TimePoint::BeforeSession, "2026-12-14")],
        "2026-12-14",
    );
    assert_eq!(week[4..], [Status::Done, Status::Done]);
    // Nothing else stands in: a 24-hour assessment is no session's, during-session and
    // end-of-course ones are no baseline, and one assessment answers one entry of a kind.
    let other = statuses(
        &[
            phq9(TimePoint::After24h, "2026-12-10"),
            phq9(TimePoint::DuringSession, "2026-12-07"),
            phq9(TimePoint::EndOfCourse, "2026-12-06"),
        ],
        "2026-12-10",
    );
    assert_eq!(
        other,
        [
            Status::Missed,
            Status::Missed,
            Status::Missed,
            Status::Due,
            Status::Upcoming,
            Status::Upcoming
        ]
    );
    let two_sessions = Schedule::new(vec![
        entry(TimePoint::BeforeSession, "2026-12-07", "2026-12-07"),
        entry(TimePoint::BeforeSession, "2026-12-07", "2026-12-07"),
    ]);
    let once: Vec<Status> = two_sessions
        .status(
            &[phq9(TimePoint::BeforeSession, "2026-12-07")],
            d("2026-12-07"),
        )
        .into_iter()
        .map(|(_, s)| s)
        .collect();
    assert_eq!(once, [Status::Done, Status::Due]);
    // Another instrument answers nothing.
    let gad7 = Done {
        instrument: InstrumentId::Gad7,
        ..phq9(TimePoint::BeforeSession, "2026-12-07")
    };
    assert_eq!(
        statuses(&[gad7], "2026-12-07")[..2],
        [Status::Due, Status::Due]
    );
}

#[test]
fn entries_one_assessment_answers_are_due_together() {
    use super::schedule::due_together;
    let d = |s: &str| s.parse::<jiff::civil::Date>().unwrap();
    let entry = |time_point, earliest: &str, latest: &str| Planned {
        instrument: InstrumentId::Phq9,
        time_point,
        earliest: d(earliest),
        latest: d(latest),
    };
    let baseline = entry(TimePoint::Baseline, "2026-11-30", "2026-12-07");
    let first = entry(TimePoint::BeforeSession, "2026-12-07", "2026-12-07");
    let week = entry(TimePoint::Weekly, "2026-12-14", "2026-12-20");
    let third = entry(TimePoint::BeforeSession, "2026-12-14", "2026-12-14");
    let after = entry(TimePoint::After24h, "2026-12-08", "2026-12-09");
    assert_eq!(
        due_together(&baseline, &first, d("2026-12-07")),
        Some(("Baseline and before session", TimePoint::BeforeSession))
    );
    assert_eq!(
        due_together(&third, &week, d("2026-12-14")),
        Some(("Before session and weekly", TimePoint::BeforeSession))
    );
    // Not on a day outside either window, not for entries no one assessment answers, not
    // across instruments.
    assert_eq!(due_together(&baseline, &first, d("2026-12-03")), None);
    assert_eq!(due_together(&first, &after, d("2026-12-07")), None);
    let gad7 = Planned {
        instrument: InstrumentId::Gad7,
        ..first
    };
    assert_eq!(due_together(&baseline, &gad7, d("2026-12-07")), None);
}

#[test]
fn acute_effect_scales_rate_the_moment_and_judge_no_course() {
    let acute: Vec<InstrumentId> = InstrumentId::ALL
        .into_iter()
        .filter(|i| i.rates_acute_effect())
        .collect();
    assert_eq!(
        acute,
        vec![
            InstrumentId::Cadss6,
            InstrumentId::Moaas,
            InstrumentId::Rass,
            InstrumentId::BprsPositive
        ]
    );
    for id in InstrumentId::ALL {
        let i = id.instrument();
        if id.rates_acute_effect() {
            assert_eq!(i.recall, "right now", "{}", i.short_name);
            assert!(
                i.response.is_none() && i.remission.is_none(),
                "{} rates the moment: no response or remission over a course",
                i.short_name
            );
        } else {
            assert_ne!(i.recall, "right now", "{}", i.short_name);
        }
    }
    // The session's own scales are among them.
    for id in crate::session::ScaleSettings::INSTRUMENTS {
        assert!(id.rates_acute_effect());
    }
}
