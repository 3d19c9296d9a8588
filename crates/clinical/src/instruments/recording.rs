//! Whether a new assessment may be recorded as it stands, given the same instrument's earlier
//! ones: one baseline per instrument unless a clinician re-baselines with a reason, and an
//! identical score moments after another is confirmed before it is kept (a double entry, or
//! a paper form typed in twice, would otherwise count as two measurements).

use jiff::{SignedDuration, Timestamp};

use super::schedule::TimePoint;

/// How close in time two identical scores of one instrument must be for the second to need
/// confirmation. Not a clinical threshold: a guard against entering the same form twice.
pub const REPEAT_WINDOW: SignedDuration = SignedDuration::from_mins(10);

/// The longest reason for a re-baseline, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// An earlier assessment of the same instrument for the same patient.
#[derive(Debug, Clone, Copy)]
pub struct Prior<'a> {
    /// Its time point.
    pub time_point: TimePoint,
    /// When it was taken.
    pub taken_at: Timestamp,
    /// Its answers.
    pub answers: &'a [i64],
}

/// What the clinician says about the new assessment besides its answers.
#[derive(Debug, Clone, Copy, Default)]
pub struct Intent<'a> {
    /// Why a new baseline replaces the earlier one (for example "restarting after a 6-month
    /// break"); required to record a second baseline.
    pub rebaseline_reason: Option<&'a str>,
    /// The clinician confirmed that an identical score moments after another is a separate
    /// assessment.
    pub repeat_confirmed: bool,
}

/// Why a new assessment is not recorded as it stands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordingRefusal {
    /// A baseline exists and no reason for a new one was given.
    #[error(
        "a baseline was already taken on {taken_at}; choose another time point, or give the reason for a new baseline"
    )]
    BaselineExists {
        /// When the existing baseline was taken.
        taken_at: Timestamp,
    },
    /// The re-baseline reason is longer than [`MAX_REASON_CHARS`] or holds a control character
    /// or an invisible mark.
    #[error(
        "the reason for a new baseline must be one line of at most {MAX_REASON_CHARS} characters, without control characters or invisible marks"
    )]
    ReasonUnreadable,
    /// The same answers were recorded moments earlier.
    #[error(
        "identical answers were recorded for this instrument at {taken_at}; confirm that this is a separate assessment to keep both"
    )]
    Repeat {
        /// When the identical assessment was taken.
        taken_at: Timestamp,
    },
}

impl RecordingRefusal {
    /// The form field the refusal is about.
    pub fn field(&self) -> &'static str {
        match self {
            RecordingRefusal::BaselineExists { .. } => "time_point",
            RecordingRefusal::ReasonUnreadable => "rebaseline_reason",
            RecordingRefusal::Repeat { .. } => "repeat_confirmed",
        }
    }
}

/// Checks a new assessment (`time_point`, `taken_at`, `answers`) against the earlier ones of the
/// same instrument. A blank reason counts as none; a re-baseline keeps its reason trimmed.
pub fn check<'a>(
    prior: &[Prior<'_>],
    time_point: TimePoint,
    taken_at: Timestamp,
    answers: &[i64],
    intent: Intent<'a>,
) -> Result<Option<&'a str>, RecordingRefusal> {
    // ok: no reason sent is no reason typed; a reason typed and refused is an error.
    let reason =
        crate::text::optional_line(intent.rebaseline_reason.unwrap_or(""), MAX_REASON_CHARS)
            .map_err(|_| RecordingRefusal::ReasonUnreadable)?;
    let reason = reason.filter(|_| time_point == TimePoint::Baseline);
    if time_point == TimePoint::Baseline
        && reason.is_none()
        && let Some(existing) = prior.iter().find(|p| p.time_point == TimePoint::Baseline)
    {
        return Err(RecordingRefusal::BaselineExists {
            taken_at: existing.taken_at,
        });
    }
    if !intent.repeat_confirmed
        && let Some(same) = prior.iter().find(|p| {
            p.answers == answers && p.taken_at.duration_since(taken_at).abs() <= REPEAT_WINDOW
        })
    {
        return Err(RecordingRefusal::Repeat {
            taken_at: same.taken_at,
        });
    }
    Ok(reason)
}

/// The time point a patient's answers through a self-report link are kept at. A patient's
/// answers are never refused once given, but a second baseline needs a clinician's reason
/// ([`check`]), which a patient cannot give: a baseline link answered after the instrument's
/// baseline was taken (the link made before it, or two baseline links) is kept at
/// [`TimePoint::Other`], so the first baseline stays the one change is measured from.
pub fn self_report_time_point(link: TimePoint, baseline_taken: bool) -> TimePoint {
    if link == TimePoint::Baseline && baseline_taken {
        TimePoint::Other
    } else {
        link
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_late_baseline_link_is_kept_at_another_time() {
        assert_eq!(
            self_report_time_point(TimePoint::Baseline, false),
            TimePoint::Baseline
        );
        assert_eq!(
            self_report_time_point(TimePoint::Baseline, true),
            TimePoint::Other
        );
        for link in TimePoint::ALL {
            if link != TimePoint::Baseline {
                assert_eq!(self_report_time_point(link, true), link);
                assert_eq!(self_report_time_point(link, false), link);
            }
        }
    }

    fn at(mins: i64) -> Timestamp {
        Timestamp::UNIX_EPOCH + SignedDuration::from_mins(1_000_000 + mins)
    }

    #[test]
    fn one_baseline_unless_a_reason_is_given() {
        let answers = [1, 2, 3];
        let prior = [Prior {
            time_point: TimePoint::Baseline,
            taken_at: at(0),
            answers: &answers,
        }];
        let other = [0, 0, 0];
        let refused = check(
            &prior,
            TimePoint::Baseline,
            at(60 * 24 * 30),
            &other,
            Intent::default(),
        );
        assert_eq!(
            refused,
            Err(RecordingRefusal::BaselineExists { taken_at: at(0) })
        );
        assert_eq!(refused.unwrap_err().field(), "time_point");
        let blank = Intent {
            rebaseline_reason: Some("   "),
            ..Intent::default()
        };
        assert!(check(&prior, TimePoint::Baseline, at(99_999), &other, blank).is_err());
        let reason = Intent {
            rebaseline_reason: Some(" restarting after a six-month break "),
            ..Intent::default()
        };
        assert_eq!(
            check(&prior, TimePoint::Baseline, at(99_999), &other, reason),
            Ok(Some("restarting after a six-month break"))
        );
        // A reason on another time point is not a re-baseline.
        assert_eq!(
            check(&prior, TimePoint::Weekly, at(99_999), &other, reason),
            Ok(None)
        );
        // The first baseline needs no reason.
        assert_eq!(
            check(&[], TimePoint::Baseline, at(0), &other, Intent::default()),
            Ok(None)
        );
        let long = "x".repeat(MAX_REASON_CHARS + 1);
        let too_long = Intent {
            rebaseline_reason: Some(&long),
            ..Intent::default()
        };
        assert_eq!(
            check(&prior, TimePoint::Baseline, at(9), &other, too_long),
            Err(RecordingRefusal::ReasonUnreadable)
        );
    }

    #[test]
    fn identical_answers_moments_apart_need_confirmation() {
        let answers = [2, 2, 1];
        let prior = [Prior {
            time_point: TimePoint::Weekly,
            taken_at: at(0),
            answers: &answers,
        }];
        assert_eq!(
            check(
                &prior,
                TimePoint::Weekly,
                at(3),
                &answers,
                Intent::default()
            ),
            Err(RecordingRefusal::Repeat { taken_at: at(0) })
        );
        // Earlier as well as later: a paper form typed in after the fact.
        assert!(
            check(
                &prior,
                TimePoint::Weekly,
                at(-10),
                &answers,
                Intent::default()
            )
            .is_err()
        );
        assert_eq!(
            check(
                &prior,
                TimePoint::Weekly,
                at(11),
                &answers,
                Intent::default()
            ),
            Ok(None)
        );
        assert_eq!(
            check(
                &prior,
                TimePoint::Weekly,
                at(3),
                &[2, 2, 2],
                Intent::default()
            ),
            Ok(None)
        );
        let confirmed = Intent {
            repeat_confirmed: true,
            ..Intent::default()
        };
        assert_eq!(
            check(&prior, TimePoint::Weekly, at(3), &answers, confirmed),
            Ok(None)
        );
    }
}
