//! Scoring: answers in, a total, subscales, a severity band and safety flags out.

use super::defs::{EPDS_PROBABLE_DEPRESSION, EPDS_REVERSED, PCL5_PROVISIONAL_CUT};
use super::{Band, Instrument, InstrumentId};

/// Why answers could not be scored. Messages name the item and the accepted range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScoreError {
    /// The instrument id is not one Ketaflow knows.
    #[error(
        "'{input}' is not an instrument; use one of phq9, gad7, pcl5, madrs, qids_sr16, epds, ybocs, cadss6, moaas, rass, pain_nrs, bprs_positive"
    )]
    UnknownInstrument {
        /// What was given.
        input: String,
    },
    /// The number of answers differs from the number of items.
    #[error(
        "{instrument} has {expected} items, but {got} answers were given; give one answer per item, in form order"
    )]
    WrongCount {
        /// Instrument id.
        instrument: &'static str,
        /// Items on the form.
        expected: usize,
        /// Answers given.
        got: usize,
    },
    /// An answer is outside the item's scale.
    #[error("{instrument} item {item}: answer {value} is out of range; allowed {min} to {max}")]
    OutOfRange {
        /// Instrument id.
        instrument: &'static str,
        /// Item number (from 1).
        item: usize,
        /// The answer given.
        value: i64,
        /// Lowest allowed.
        min: i8,
        /// Highest allowed.
        max: i8,
    },
    /// An answer is not a whole number.
    #[error("{instrument} item {item}: '{input}' is not a whole number; allowed {min} to {max}")]
    NotANumber {
        /// Instrument id.
        instrument: &'static str,
        /// Item number (from 1).
        item: usize,
        /// What was given.
        input: String,
        /// Lowest allowed.
        min: i8,
        /// Highest allowed.
        max: i8,
    },
}

impl ScoreError {
    /// The item the error is about (from 1), when it is about one.
    pub fn item(&self) -> Option<usize> {
        match self {
            ScoreError::OutOfRange { item, .. } | ScoreError::NotANumber { item, .. } => {
                Some(*item)
            }
            _ => None,
        }
    }
}

/// Something about a score that needs attention.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    /// PHQ-9 item 9 above 0: thoughts of death or self-harm; same-day suicide-risk follow-up.
    /// Source: PHQ-9 scoring guidance (any item 9 score above 0 is clinically significant).
    SuicidalityItem,
    /// EPDS scored item 10 above 0: thoughts of self-harm; same-day follow-up (Cox et al. 1987).
    SelfHarmItem,
    /// EPDS total at or above the probable-depression cut-point.
    ProbableDepression,
    /// PCL-5 total at or above the provisional cut-point.
    ProvisionalPtsdByTotal,
    /// PCL-5 answers meet the DSM-5 symptom rule.
    Dsm5CriteriaMet,
    /// MOAA/S 0: no response to a painful stimulus (loss of consciousness per the Spravato label).
    LossOfConsciousness,
}

impl Flag {
    /// Machine code.
    pub fn code(self) -> &'static str {
        match self {
            Flag::SuicidalityItem => "suicidality_item",
            Flag::SelfHarmItem => "self_harm_item",
            Flag::ProbableDepression => "probable_depression",
            Flag::ProvisionalPtsdByTotal => "provisional_ptsd_by_total",
            Flag::Dsm5CriteriaMet => "dsm5_criteria_met",
            Flag::LossOfConsciousness => "loss_of_consciousness",
        }
    }

    /// What it means and what to do, for people.
    pub fn message(self) -> &'static str {
        match self {
            Flag::SuicidalityItem => {
                "Thoughts of death or self-harm reported (PHQ-9 item 9): suicide-risk follow-up is due today"
            }
            Flag::SelfHarmItem => {
                "Thoughts of self-harm reported (EPDS item 10): safety follow-up is due today"
            }
            Flag::ProbableDepression => "EPDS total at or above 13: assess for depression",
            Flag::ProvisionalPtsdByTotal => {
                "PCL-5 total at or above 33: provisional PTSD; confirm with a clinical interview"
            }
            Flag::Dsm5CriteriaMet => {
                "PCL-5 answers meet the DSM-5 symptom pattern: provisional PTSD; confirm with a clinical interview"
            }
            Flag::LossOfConsciousness => {
                "No response to a painful stimulus (MOAA/S 0): loss of consciousness"
            }
        }
    }

    /// The flag a stored code names.
    pub fn parse(code: &str) -> Option<Flag> {
        [
            Flag::SuicidalityItem,
            Flag::SelfHarmItem,
            Flag::ProbableDepression,
            Flag::ProvisionalPtsdByTotal,
            Flag::Dsm5CriteriaMet,
            Flag::LossOfConsciousness,
        ]
        .into_iter()
        .find(|f| f.code() == code)
    }

    /// The item (numbered from 1) whose answer raises the flag, for flags raised by one item.
    pub fn item(self) -> Option<usize> {
        match self {
            Flag::SuicidalityItem => Some(9),
            Flag::SelfHarmItem => Some(10),
            Flag::LossOfConsciousness => Some(1),
            _ => None,
        }
    }

    /// Whether the flag calls for same-day safety follow-up.
    pub fn is_safety(self) -> bool {
        matches!(
            self,
            Flag::SuicidalityItem | Flag::SelfHarmItem | Flag::LossOfConsciousness
        )
    }
}

/// PCL-5 cluster totals and the DSM-5 rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pcl5Detail {
    /// Cluster B (intrusions), items 1–5.
    pub b: i32,
    /// Cluster C (avoidance), items 6–7.
    pub c: i32,
    /// Cluster D (negative cognitions and mood), items 8–14.
    pub d: i32,
    /// Cluster E (arousal and reactivity), items 15–20.
    pub e: i32,
    /// At least 1 B, 1 C, 2 D and 2 E items rated 2 or more.
    pub dsm5_criteria_met: bool,
}

/// The result of scoring one administration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Score {
    /// What was scored.
    pub instrument: InstrumentId,
    /// The answers as given (EPDS: option positions).
    pub answers: Vec<i8>,
    /// The total score.
    pub total: i32,
    /// The severity band, where bands are published.
    pub severity: Option<&'static Band>,
    /// Named subscales in form order (QIDS domains, Y-BOCS halves, PCL-5 clusters).
    pub subscales: Vec<(&'static str, i32)>,
    /// PCL-5 detail.
    pub pcl5: Option<Pcl5Detail>,
    /// Flags raised, safety flags first.
    pub flags: Vec<Flag>,
}

impl Score {
    /// Whether any flag calls for same-day safety follow-up.
    pub fn safety_follow_up_due(&self) -> bool {
        self.flags.iter().any(|f| f.is_safety())
    }

    /// A subscale by name.
    pub fn subscale(&self, name: &str) -> Option<i32> {
        self.subscales
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
    }
}

/// Parses `a,b,c,...` (spaces allowed) into numbers; [`score`] checks count and ranges.
pub fn parse_answers(instrument: &Instrument, input: &str) -> Result<Vec<i64>, ScoreError> {
    input
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .enumerate()
        .map(|(i, part)| {
            part.parse().map_err(|_| ScoreError::NotANumber {
                instrument: instrument.id.code(),
                item: i + 1,
                input: crate::text::shown(part),
                min: instrument.answer_min,
                max: instrument.answer_max,
            })
        })
        .collect()
}

fn check_count(instrument: &Instrument, got: usize) -> Result<(), ScoreError> {
    if got != instrument.items.len() {
        return Err(ScoreError::WrongCount {
            instrument: instrument.id.code(),
            expected: instrument.items.len(),
            got,
        });
    }
    Ok(())
}

fn checked(instrument: &Instrument, item: usize, value: i64) -> Result<i8, ScoreError> {
    let (min, max) = (instrument.answer_min, instrument.answer_max);
    if value < i64::from(min) || value > i64::from(max) {
        return Err(ScoreError::OutOfRange {
            instrument: instrument.id.code(),
            item,
            value,
            min,
            max,
        });
    }
    // In range of an i8 by the check above.
    Ok(value as i8)
}

/// An instrument's total as a sum of points per answer: `base` when every item has its lowest
/// answer, plus, for each item and each of its answers (lowest first), what that answer adds.
/// A form can show a running total from it as answers are chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdditivePoints {
    /// The total with every item at its lowest answer.
    pub base: i32,
    /// Per item, per answer from the lowest: the points it adds to `base`.
    pub added: Vec<Vec<i32>>,
}

/// The points per answer of an instrument whose total is a plain (or reverse-keyed) sum of
/// its items, read off [`score`] itself; `None` for the QIDS-SR16, whose domains take the
/// highest of several items, so no answer has points of its own.
pub fn additive_points(id: InstrumentId) -> Option<AdditivePoints> {
    if id == InstrumentId::QidsSr16 {
        return None;
    }
    let instrument = id.instrument();
    let n = instrument.items.len();
    let lowest = i64::from(instrument.answer_min);
    let values: Vec<i64> = (instrument.answer_min..=instrument.answer_max)
        .map(i64::from)
        .collect();
    // ok: every probe holds in-range answers of the right count, which score never refuses;
    // were it to, the form would show no running total (the stored score is the server's).
    let base = score(id, &vec![lowest; n]).ok()?.total;
    let mut added = Vec::with_capacity(n);
    for item in 0..n {
        let mut row = Vec::with_capacity(values.len());
        for &v in &values {
            let mut answers = vec![lowest; n];
            answers[item] = v;
            row.push(score(id, &answers).ok()?.total - base);
        }
        added.push(row);
    }
    Some(AdditivePoints { base, added })
}

/// Scores one administration. `answers` are the numbers beside the chosen options on the
/// standard form, in item order (for the EPDS, the option positions 0–3 from the top).
pub fn score(id: InstrumentId, answers: &[i64]) -> Result<Score, ScoreError> {
    let instrument = id.instrument();
    check_count(instrument, answers.len())?;
    let answers: Vec<i8> = answers
        .iter()
        .enumerate()
        .map(|(i, &v)| checked(instrument, i + 1, v))
        .collect::<Result<_, _>>()?;
    let a = |n: usize| i32::from(answers[n - 1]);
    let sum = |range: std::ops::RangeInclusive<usize>| range.map(a).sum::<i32>();
    let max_of = |items: &[usize]| items.iter().map(|&n| a(n)).max().unwrap_or(0);

    let mut subscales = Vec::new();
    let mut flags = Vec::new();
    let mut pcl5 = None;
    let total = match id {
        InstrumentId::QidsSr16 => {
            let domains = [
                ("sleep", max_of(&[1, 2, 3, 4])),
                ("sad_mood", a(5)),
                ("appetite_weight", max_of(&[6, 7, 8, 9])),
                ("concentration", a(10)),
                ("self_view", a(11)),
                ("suicidal_ideation", a(12)),
                ("interest", a(13)),
                ("energy", a(14)),
                ("psychomotor", max_of(&[15, 16])),
            ];
            subscales.extend(domains);
            domains.iter().map(|(_, v)| v).sum()
        }
        InstrumentId::Epds => (1..=10)
            .map(|n| {
                let position = a(n);
                if EPDS_REVERSED.contains(&(n as u8)) {
                    3 - position
                } else {
                    position
                }
            })
            .sum(),
        _ => answers.iter().map(|&v| i32::from(v)).sum(),
    };

    match id {
        InstrumentId::Phq9 if a(9) > 0 => flags.push(Flag::SuicidalityItem),
        InstrumentId::Epds => {
            // Item 10 is reverse-keyed: position 3 ("never") scores 0.
            if 3 - a(10) > 0 {
                flags.push(Flag::SelfHarmItem);
            }
            if total >= EPDS_PROBABLE_DEPRESSION {
                flags.push(Flag::ProbableDepression);
            }
        }
        InstrumentId::Ybocs => {
            subscales.push(("obsessions", sum(1..=5)));
            subscales.push(("compulsions", sum(6..=10)));
        }
        InstrumentId::Pcl5 => {
            let endorsed =
                |range: std::ops::RangeInclusive<usize>| range.filter(|&n| a(n) >= 2).count();
            let detail = Pcl5Detail {
                b: sum(1..=5),
                c: sum(6..=7),
                d: sum(8..=14),
                e: sum(15..=20),
                dsm5_criteria_met: endorsed(1..=5) >= 1
                    && endorsed(6..=7) >= 1
                    && endorsed(8..=14) >= 2
                    && endorsed(15..=20) >= 2,
            };
            subscales.extend([
                ("B", detail.b),
                ("C", detail.c),
                ("D", detail.d),
                ("E", detail.e),
            ]);
            if total >= PCL5_PROVISIONAL_CUT {
                flags.push(Flag::ProvisionalPtsdByTotal);
            }
            if detail.dsm5_criteria_met {
                flags.push(Flag::Dsm5CriteriaMet);
            }
            pcl5 = Some(detail);
        }
        InstrumentId::Moaas if total == 0 => flags.push(Flag::LossOfConsciousness),
        _ => {}
    }
    flags.sort_by_key(|f| !f.is_safety());
    Ok(Score {
        instrument: id,
        severity: instrument.band(total),
        answers,
        total,
        subscales,
        pcl5,
        flags,
    })
}
