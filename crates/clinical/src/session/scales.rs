//! Dissociation (CADSS-6) and sedation (MOAA/S) in the chair: the set times a session takes
//! them at, and which of those are done, due, overdue or were missed.
//!
//! The times are minutes from the start of dosing, 0 meaning just before the first dose. The
//! default times follow the one in-session schedule in the research with a source: a ketamine
//! infusion protocol that rates the CADSS at 0, 40, 120 and 240 minutes on infusion days
//! (Contemp Clin Trials Commun 2019;16:100432, Table 2; PMC6727003). Ketaflow's sessions end
//! long before 240 minutes, so the default stops at 120. No published schedule for MOAA/S was
//! found (research `clinical.md` §1, open question 2); it takes the same times by default, and
//! both lists are settings (`[session_scales]`).

use jiff::{SignedDuration, Timestamp};

use crate::instruments::InstrumentId;

/// Default CADSS-6 times, minutes from the start of dosing (see the module documentation).
pub const DEFAULT_CADSS6_MINUTES: [u32; 3] = [0, 40, 120];
/// Default MOAA/S times, minutes from the start of dosing: the CADSS times, as no schedule of
/// its own is published (see the module documentation).
pub const DEFAULT_MOAAS_MINUTES: [u32; 3] = [0, 40, 120];
/// A set time may be taken from this many minutes before it. Ketaflow's window, not a
/// clinical rule.
pub const SCALE_EARLY_MIN: i64 = 5;
/// A set time is overdue this many minutes after it. Ketaflow's window, not a clinical rule.
pub const SCALE_LATE_MIN: i64 = 15;
/// The latest set time a setting may name, minutes (a day).
pub const SCALE_MINUTES_MAX: u32 = 24 * 60;

/// The set times of the in-session scales. Settings (`[session_scales]`), defaults above.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScaleSettings {
    /// Minutes from the start of dosing at which the CADSS-6 is taken.
    pub cadss6_minutes: Vec<u32>,
    /// Minutes from the start of dosing at which the MOAA/S is taken.
    pub moaas_minutes: Vec<u32>,
}

impl Default for ScaleSettings {
    fn default() -> Self {
        ScaleSettings {
            cadss6_minutes: DEFAULT_CADSS6_MINUTES.to_vec(),
            moaas_minutes: DEFAULT_MOAAS_MINUTES.to_vec(),
        }
    }
}

impl ScaleSettings {
    /// The instruments taken in the chair, in the order the page shows them.
    pub const INSTRUMENTS: [InstrumentId; 2] = [InstrumentId::Cadss6, InstrumentId::Moaas];

    /// The set times of `instrument`, earliest first; empty for an instrument not taken in
    /// the chair.
    pub fn minutes(&self, instrument: InstrumentId) -> Vec<u32> {
        let mut list = match instrument {
            InstrumentId::Cadss6 => self.cadss6_minutes.clone(),
            InstrumentId::Moaas => self.moaas_minutes.clone(),
            _ => Vec::new(),
        };
        list.sort_unstable();
        list.dedup();
        list
    }

    /// Checks every time is within a day, naming the first that is not.
    pub fn check(&self) -> Result<(), String> {
        for (name, list) in [
            ("session_scales.cadss6_minutes", &self.cadss6_minutes),
            ("session_scales.moaas_minutes", &self.moaas_minutes),
        ] {
            if let Some(m) = list.iter().find(|&&m| m > SCALE_MINUTES_MAX) {
                return Err(format!(
                    "{name} has {m}; give minutes from 0 to {SCALE_MINUTES_MAX} after the start of dosing"
                ));
            }
        }
        Ok(())
    }
}

/// Where a set time stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScaleState {
    /// Taken.
    Done,
    /// Not yet open.
    Upcoming,
    /// Open now.
    Due,
    /// Its window has passed and the session is still open.
    Overdue,
    /// The session ended without it.
    Missed,
}

impl ScaleState {
    /// Words for people.
    pub fn label(self) -> &'static str {
        match self {
            ScaleState::Done => "done",
            ScaleState::Upcoming => "upcoming",
            ScaleState::Due => "due now",
            ScaleState::Overdue => "OVERDUE",
            ScaleState::Missed => "not taken",
        }
    }
}

/// One set time of one instrument in a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScaleCheck {
    /// The instrument.
    pub instrument: InstrumentId,
    /// Minutes from the start of dosing (0: before the first dose).
    pub minute: u32,
    /// When it falls; none before dosing has started.
    pub at: Option<Timestamp>,
    /// Where it stands.
    pub state: ScaleState,
}

/// The set times of every in-session scale and where each stands. `taken` lists the
/// (instrument, set time) pairs already recorded; `started_at` is the start of dosing and
/// `closed` whether the session has ended (discharged or locked).
pub fn scale_checks(
    settings: &ScaleSettings,
    started_at: Option<Timestamp>,
    closed: bool,
    taken: &[(InstrumentId, u32)],
    now: Timestamp,
) -> Vec<ScaleCheck> {
    let mut out = Vec::new();
    for instrument in ScaleSettings::INSTRUMENTS {
        for minute in settings.minutes(instrument) {
            let at = started_at.and_then(|s| {
                s.checked_add(SignedDuration::from_mins(i64::from(minute)))
                    .ok()
            });
            let state = if taken.contains(&(instrument, minute)) {
                ScaleState::Done
            } else if closed {
                ScaleState::Missed
            } else {
                match at {
                    // Before dosing only the pre-dose time is open.
                    None if minute == 0 => ScaleState::Due,
                    None => ScaleState::Upcoming,
                    Some(at) => {
                        let from_at = now.duration_since(at).as_mins();
                        if from_at < -SCALE_EARLY_MIN {
                            ScaleState::Upcoming
                        } else if from_at <= SCALE_LATE_MIN {
                            ScaleState::Due
                        } else {
                            ScaleState::Overdue
                        }
                    }
                }
            };
            out.push(ScaleCheck {
                instrument,
                minute,
                at,
                state,
            });
        }
    }
    out
}

/// Words for a set time: "before the first dose" or "40 min after the start".
pub fn minute_words(minute: u32) -> String {
    if minute == 0 {
        "before the first dose".to_owned()
    } else {
        format!("{minute} min after the start")
    }
}
