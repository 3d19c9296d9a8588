//! What is due: a schedule of assessments per patient, and which are done, due or overdue.
//!
//! A schedule is a plain value. Treatment courses and sessions (later modules) will build one
//! from their dates; today it is built from a start date and a list of instruments.

use jiff::ToSpan;
use jiff::civil::Date;

use super::InstrumentId;

/// When in the course of treatment an assessment is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimePoint {
    /// Before the course starts.
    Baseline,
    /// Just before a session.
    BeforeSession,
    /// In the chair, at one of the session's set times (dissociation, sedation).
    DuringSession,
    /// About two hours after a session.
    AfterSession2h,
    /// About 24 hours after a session.
    After24h,
    /// Weekly between sessions.
    Weekly,
    /// At the end of the course.
    EndOfCourse,
    /// Any other time.
    Other,
}

impl TimePoint {
    /// Every time point, in course order.
    pub const ALL: [TimePoint; 8] = [
        TimePoint::Baseline,
        TimePoint::BeforeSession,
        TimePoint::DuringSession,
        TimePoint::AfterSession2h,
        TimePoint::After24h,
        TimePoint::Weekly,
        TimePoint::EndOfCourse,
        TimePoint::Other,
    ];

    /// Code used in the database and the API.
    pub fn code(self) -> &'static str {
        match self {
            TimePoint::Baseline => "baseline",
            TimePoint::BeforeSession => "before_session",
            TimePoint::DuringSession => "during_session",
            TimePoint::AfterSession2h => "after_session_2h",
            TimePoint::After24h => "after_24h",
            TimePoint::Weekly => "weekly",
            TimePoint::EndOfCourse => "end_of_course",
            TimePoint::Other => "other",
        }
    }

    /// Words for people.
    pub fn label(self) -> &'static str {
        match self {
            TimePoint::Baseline => "Baseline",
            TimePoint::BeforeSession => "Before session",
            TimePoint::DuringSession => "During session",
            TimePoint::AfterSession2h => "About 2 h after session",
            TimePoint::After24h => "24 h after session",
            TimePoint::Weekly => "Weekly",
            TimePoint::EndOfCourse => "End of course",
            TimePoint::Other => "Other",
        }
    }

    /// Parses a code.
    pub fn parse(input: &str) -> Option<TimePoint> {
        TimePoint::ALL
            .into_iter()
            .find(|t| t.code() == input.trim())
    }
}

/// One planned assessment and the dates it may be taken on (inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Planned {
    /// Instrument.
    pub instrument: InstrumentId,
    /// Time point.
    pub time_point: TimePoint,
    /// First acceptable date.
    pub earliest: Date,
    /// Last acceptable date; after it the assessment is overdue.
    pub latest: Date,
}

/// A patient's assessment plan.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Schedule {
    planned: Vec<Planned>,
}

/// A completed assessment, as the schedule needs to know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Done {
    /// Instrument.
    pub instrument: InstrumentId,
    /// Time point.
    pub time_point: TimePoint,
    /// Date taken, in the clinic's time zone.
    pub date: Date,
}

/// Where a planned assessment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// A completed assessment falls in its window.
    Done,
    /// Its window has not opened.
    Upcoming,
    /// Its window is open.
    Due,
    /// Its window closed without it. An assessment taken later counts only for a window open
    /// on its date, never for this one, so a missed assessment cannot be made up: it is a gap
    /// in the record, not a task for today.
    Missed,
}

impl Schedule {
    /// A schedule of explicit entries (courses and sessions build these).
    pub fn new(planned: Vec<Planned>) -> Self {
        Schedule { planned }
    }

    /// Baseline within the 7 days before `start`, then one weekly assessment per week for
    /// `weeks` weeks, each week's window being the 7 days from its due date. This is a default
    /// plan of Ketaflow's, not a clinical rule; clinics change it per course.
    pub fn baseline_then_weekly(instruments: &[InstrumentId], start: Date, weeks: i32) -> Self {
        let mut planned = Vec::new();
        for &instrument in instruments {
            let week_before = start.checked_sub(7.days()).unwrap_or(start);
            planned.push(Planned {
                instrument,
                time_point: TimePoint::Baseline,
                earliest: week_before,
                latest: start,
            });
            for w in 1..=weeks {
                let Ok(due) = start.checked_add((7 * w).days()) else {
                    break;
                };
                let latest = due.checked_add(6.days()).unwrap_or(due);
                planned.push(Planned {
                    instrument,
                    time_point: TimePoint::Weekly,
                    earliest: due,
                    latest,
                });
            }
        }
        Schedule { planned }
    }

    /// The planned assessments.
    pub fn planned(&self) -> &[Planned] {
        &self.planned
    }

    /// Each planned assessment with its status on `today`. A completed assessment answers
    /// the planned entries of its instrument whose window holds its date and whose time point
    /// it stands for ([`answers`]), at most one of each time point: the PHQ-9 taken before a
    /// course's first session is its baseline too, and the one before a session is that
    /// week's, so nobody is asked for the same questionnaire twice in a morning.
    pub fn status(&self, done: &[Done], today: Date) -> Vec<(Planned, Status)> {
        // For each completed assessment, the time points it has answered already.
        let mut used: Vec<Vec<TimePoint>> = vec![Vec::new(); done.len()];
        self.planned
            .iter()
            .map(|p| {
                // An assessment recorded at the planned time point first, then one standing
                // for it.
                let fits = |exact: bool| {
                    done.iter().enumerate().position(|(i, d)| {
                        !used[i].contains(&p.time_point)
                            && d.instrument == p.instrument
                            && (d.time_point == p.time_point) == exact
                            && answers(d, p)
                    })
                };
                let hit = fits(true).or_else(|| fits(false));
                let status = if let Some(i) = hit {
                    used[i].push(p.time_point);
                    Status::Done
                } else if today < p.earliest {
                    Status::Upcoming
                } else if today <= p.latest {
                    Status::Due
                } else {
                    Status::Missed
                };
                (*p, status)
            })
            .collect()
    }
}

/// Whether the completed assessment `d` answers the planned entry `p`: its date lies in the
/// entry's window, and it was recorded at the entry's time point or at one that stands for
/// it. These equivalences are Ketaflow's reading of its own plan (the windows are its
/// defaults, not clinical rules):
/// - a baseline is answered by an assessment before a session (the one before the first
///   session is taken before any dose), or by a weekly one from a day before the window's last
///   (a score of the week before treatment, taken before the first session's day);
/// - an assessment before a session is answered by a baseline taken on that session's day;
/// - a weekly assessment is answered by one before a session in that week.
///
/// Nothing else stands in: an assessment during or after a session, 24 hours after, or at the
/// end of the course measures something the others do not.
pub fn answers(d: &Done, p: &Planned) -> bool {
    if !(p.earliest..=p.latest).contains(&d.date) {
        return false;
    }
    match (p.time_point, d.time_point) {
        (planned, taken) if planned == taken => true,
        (TimePoint::Baseline, TimePoint::BeforeSession)
        | (TimePoint::BeforeSession, TimePoint::Baseline)
        | (TimePoint::Weekly, TimePoint::BeforeSession) => true,
        (TimePoint::Baseline, TimePoint::Weekly) => d.date < p.latest,
        _ => false,
    }
}

/// Two planned entries that one assessment taken on `on` answers together ([`answers`]):
/// their words, in course order, so a list of what is due asks for it once ("Baseline and
/// before session" on a course's first day, "Before session and weekly" in a later week), and
/// the time point to record it at, the one before the session where that answers both.
/// `None` for entries no single assessment answers both of.
pub fn due_together(a: &Planned, b: &Planned, on: Date) -> Option<(&'static str, TimePoint)> {
    if a.instrument != b.instrument {
        return None;
    }
    let words = match (a.time_point, b.time_point) {
        (TimePoint::Baseline, TimePoint::BeforeSession)
        | (TimePoint::BeforeSession, TimePoint::Baseline) => "Baseline and before session",
        (TimePoint::Weekly, TimePoint::BeforeSession)
        | (TimePoint::BeforeSession, TimePoint::Weekly) => "Before session and weekly",
        _ => return None,
    };
    let record_at = [TimePoint::BeforeSession, a.time_point, b.time_point]
        .into_iter()
        .find(|&time_point| {
            let taken = Done {
                instrument: a.instrument,
                time_point,
                date: on,
            };
            answers(&taken, a) && answers(&taken, b)
        })?;
    Some((words, record_at))
}
