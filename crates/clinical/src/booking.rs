//! Appointments in treatment chairs: kinds and their default lengths, what a chair supports and
//! when it is open, and proposals of free slots for a course's planned sessions. Whether a slot
//! is free is decided again by the database when the booking is written; proposals only read.

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};

use crate::course::{PlannedSession, Product};

/// What an appointment is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AppointmentKind {
    /// Racemic ketamine infusion with recovery.
    IvInfusion,
    /// Esketamine nasal spray with at least two hours of monitoring.
    Esketamine,
    /// Racemic ketamine intramuscular.
    Im,
    /// Racemic ketamine by mouth or under the tongue.
    Oral,
    /// Intake visit.
    Intake,
    /// Follow-up visit.
    FollowUp,
}

impl AppointmentKind {
    /// Every kind, in form order.
    pub const ALL: [AppointmentKind; 6] = [
        AppointmentKind::IvInfusion,
        AppointmentKind::Esketamine,
        AppointmentKind::Im,
        AppointmentKind::Oral,
        AppointmentKind::Intake,
        AppointmentKind::FollowUp,
    ];

    /// The code used by the API and stored.
    pub fn code(self) -> &'static str {
        match self {
            AppointmentKind::IvInfusion => "iv_infusion",
            AppointmentKind::Esketamine => "esketamine",
            AppointmentKind::Im => "im",
            AppointmentKind::Oral => "oral",
            AppointmentKind::Intake => "intake",
            AppointmentKind::FollowUp => "follow_up",
        }
    }

    /// Words for people.
    pub fn label(self) -> &'static str {
        match self {
            AppointmentKind::IvInfusion => "IV infusion",
            AppointmentKind::Esketamine => "Esketamine session",
            AppointmentKind::Im => "Intramuscular session",
            AppointmentKind::Oral => "Oral or sublingual session",
            AppointmentKind::Intake => "Intake",
            AppointmentKind::FollowUp => "Follow-up",
        }
    }

    /// The kind with this code.
    pub fn parse(code: &str) -> Option<AppointmentKind> {
        AppointmentKind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// The kind a course's sessions are booked as.
    pub fn for_product(product: Product) -> AppointmentKind {
        match product {
            Product::IvRacemic => AppointmentKind::IvInfusion,
            Product::EsketamineNasal => AppointmentKind::Esketamine,
            Product::ImRacemic => AppointmentKind::Im,
            Product::OralRacemic | Product::SublingualRacemic => AppointmentKind::Oral,
        }
    }

    /// The product a chair must support for this kind; intake and follow-up fit any chair.
    pub fn needs(self) -> &'static [Product] {
        match self {
            AppointmentKind::IvInfusion => &[Product::IvRacemic],
            AppointmentKind::Esketamine => &[Product::EsketamineNasal],
            AppointmentKind::Im => &[Product::ImRacemic],
            AppointmentKind::Oral => &[Product::OralRacemic, Product::SublingualRacemic],
            AppointmentKind::Intake | AppointmentKind::FollowUp => &[],
        }
    }

    /// Whether the Spravato REMS applies.
    pub fn is_esketamine(self) -> bool {
        self == AppointmentKind::Esketamine
    }
}

/// How long each kind of appointment lasts unless the clinic says otherwise, in minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindDurations {
    /// IV infusion: 130 = the standard 40-minute infusion (research §2.1) and 90 minutes of
    /// recovery, the time blood pressure and heart rate took to return to baseline after
    /// infusion (pmc.ncbi.nlm.nih.gov/articles/PMC7605942).
    pub iv_infusion: u32,
    /// Esketamine: 130 = up to 10 minutes to give three devices 5 minutes apart
    /// (spravatohcp.com/dosing-and-administration) and the label's 2 hours of monitoring.
    pub esketamine: u32,
    /// Intramuscular: 130. No published monitoring time was found; the IV figure is used.
    pub im: u32,
    /// Oral or sublingual: 130. No published monitoring time was found; the IV figure is used.
    pub oral: u32,
    /// Intake: 60, a clinic policy default.
    pub intake: u32,
    /// Follow-up: 30, a clinic policy default.
    pub follow_up: u32,
}

impl Default for KindDurations {
    fn default() -> Self {
        KindDurations {
            iv_infusion: 130,
            esketamine: 130,
            im: 130,
            oral: 130,
            intake: 60,
            follow_up: 30,
        }
    }
}

/// Why durations were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Out of range.
    #[error("appointments.{key}_min is {value}; use {min} to {max} minutes")]
    OutOfRange {
        /// Key.
        key: &'static str,
        /// Value.
        value: u32,
        /// Lowest.
        min: u32,
        /// Highest.
        max: u32,
    },
}

/// The shortest esketamine appointment accepted anywhere: the label's 2 hours of monitoring.
pub const MIN_ESKETAMINE_MIN: u32 = 120;
/// The longest appointment accepted, in minutes (a working day).
pub const MAX_APPOINTMENT_MIN: u32 = 12 * 60;
/// How far ahead a person can book an appointment, in days. Not a clinical rule: a course and
/// its boosters are planned weeks or months ahead, and the bound catches a mistyped year (2062
/// for 2026), which would put the appointment where nobody looks.
pub const MAX_DAYS_AHEAD: i32 = 730;

/// The most characters of the reason a day is closed ("Christmas Day", "Staff training").
pub const MAX_CLOSED_DAY_REASON_CHARS: usize = 120;

/// Why a day is closed, as typed: one line of at most [`MAX_CLOSED_DAY_REASON_CHARS`]
/// characters without control characters, trimmed.
pub fn check_closed_day_reason(reason: &str) -> Result<&str, crate::text::TextProblem> {
    crate::text::line(reason, MAX_CLOSED_DAY_REASON_CHARS)
}

/// The most characters of the reason an appointment is cancelled or marked a no-show.
pub const MAX_CLOSE_REASON_CHARS: usize = 500;

/// The reason an appointment is cancelled or marked a no-show, as typed: one line of at most
/// [`MAX_CLOSE_REASON_CHARS`] characters without control characters. Returns it trimmed, or
/// `None` when it is missing or not such a line.
pub fn check_close_reason(reason: &str) -> Option<&str> {
    // ok: every problem (empty, too long, unreadable) gets the one message callers give for None.
    crate::text::line(reason, MAX_CLOSE_REASON_CHARS).ok()
}

/// Why the day a person chose for an appointment was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DayError {
    /// Before today (the clinic's date).
    #[error("that day has passed; book from today, {today}, on (check the year)")]
    Past {
        /// The clinic's date today.
        today: Date,
    },
    /// More than [`MAX_DAYS_AHEAD`] days ahead.
    #[error("that is more than two years ahead; book up to {latest} (check the year)")]
    TooFar {
        /// The last day that can be booked.
        latest: Date,
    },
}

/// Checks the day a person chose for a new appointment: from `today` (the clinic's date; a
/// time earlier today is accepted, a walk-in recorded late) to [`MAX_DAYS_AHEAD`] days later.
pub fn check_day(day: Date, today: Date) -> Result<(), DayError> {
    if day < today {
        return Err(DayError::Past { today });
    }
    // ok: a today at the calendar's end has no later day, so none is too far.
    let latest = today
        .checked_add(MAX_DAYS_AHEAD.days())
        .unwrap_or(Date::MAX);
    if day > latest {
        return Err(DayError::TooFar { latest });
    }
    Ok(())
}

impl KindDurations {
    /// The default length of a kind.
    pub fn of(&self, kind: AppointmentKind) -> u32 {
        match kind {
            AppointmentKind::IvInfusion => self.iv_infusion,
            AppointmentKind::Esketamine => self.esketamine,
            AppointmentKind::Im => self.im,
            AppointmentKind::Oral => self.oral,
            AppointmentKind::Intake => self.intake,
            AppointmentKind::FollowUp => self.follow_up,
        }
    }

    /// Checks every length; an esketamine visit is never shorter than its monitoring.
    pub fn check(&self) -> Result<(), DurationError> {
        for (key, value, min) in [
            ("iv_infusion", self.iv_infusion, 40),
            ("esketamine", self.esketamine, MIN_ESKETAMINE_MIN),
            ("im", self.im, 15),
            ("oral", self.oral, 15),
            ("intake", self.intake, 10),
            ("follow_up", self.follow_up, 5),
        ] {
            if !(min..=MAX_APPOINTMENT_MIN).contains(&value) {
                return Err(DurationError::OutOfRange {
                    key,
                    value,
                    min,
                    max: MAX_APPOINTMENT_MIN,
                });
            }
        }
        Ok(())
    }
}

/// When a chair can be booked: the same hours on each open weekday.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpeningHours {
    /// Open weekdays.
    pub days: Vec<Weekday>,
    /// Opening time.
    pub opens: Time,
    /// Closing time (an appointment must end by then).
    pub closes: Time,
}

impl OpeningHours {
    /// Monday to Friday, 8:00 to 18:00: Ketaflow's default for a new chair.
    pub fn weekdays_8_to_18() -> OpeningHours {
        OpeningHours {
            days: vec![
                Weekday::Monday,
                Weekday::Tuesday,
                Weekday::Wednesday,
                Weekday::Thursday,
                Weekday::Friday,
            ],
            opens: Time::constant(8, 0, 0, 0),
            closes: Time::constant(18, 0, 0, 0),
        }
    }

    /// Every day, from midnight to the last instant of the day (a ward or a 24-hour demo chair).
    pub fn every_day_all_day() -> OpeningHours {
        let mut days = Self::weekdays_8_to_18().days;
        days.extend([Weekday::Saturday, Weekday::Sunday]);
        OpeningHours {
            days,
            opens: Time::midnight(),
            closes: Time::constant(23, 59, 59, 999_999_999),
        }
    }

    /// Whether `start` to `end` (instants) lies inside the hours of one open day in `tz`.
    pub fn contains(&self, tz: &TimeZone, start: Timestamp, end: Timestamp) -> bool {
        let s = start.to_zoned(tz.clone());
        let e = end.to_zoned(tz.clone());
        s.date() == e.date()
            && self.days.contains(&s.date().weekday())
            && s.time() >= self.opens
            && e.time() <= self.closes
            && start < end
    }

    /// The days as codes (`mon`..`sun`), for storage.
    pub fn day_codes(&self) -> String {
        self.days
            .iter()
            .map(|d| day_code(*d))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The days and hours for people: "Monday to Friday, 08:00–18:00", "Monday, Wednesday and
    /// Friday, 09:00–13:00" (three or more days in a row are a range).
    pub fn words(&self) -> String {
        let mut days: Vec<Weekday> = self.days.clone();
        days.sort_by_key(|d| d.to_monday_zero_offset());
        days.dedup();
        // Runs of consecutive days, each one item of the list.
        let mut runs: Vec<(Weekday, Weekday, usize)> = Vec::new();
        for day in days {
            match runs.last_mut() {
                Some((_, last, len)) if last.next() == day => {
                    *last = day;
                    *len += 1;
                }
                _ => runs.push((day, day, 1)),
            }
        }
        let mut items = Vec::new();
        for (first, last, len) in runs {
            match len {
                1 => items.push(day_name(first).to_owned()),
                2 => items.extend([day_name(first).to_owned(), day_name(last).to_owned()]),
                _ => items.push(format!("{} to {}", day_name(first), day_name(last))),
            }
        }
        let days = match items.split_last() {
            None => "on no day".to_owned(),
            Some((only, [])) => only.clone(),
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        };
        format!(
            "{days}, {}–{}",
            self.opens.strftime("%H:%M"),
            self.closes.strftime("%H:%M")
        )
    }

    /// Days from stored codes; `None` when one is not a day.
    pub fn parse_days(codes: &str) -> Option<Vec<Weekday>> {
        codes
            .split(',')
            .filter(|c| !c.is_empty())
            .map(|c| WEEK.into_iter().find(|d| day_code(*d) == c))
            .collect()
    }
}

/// The week's days, Monday first, as forms list them.
pub const WEEK: [Weekday; 7] = [
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
    Weekday::Saturday,
    Weekday::Sunday,
];

/// A day's name for people ("Monday").
pub fn day_name(d: Weekday) -> &'static str {
    match d {
        Weekday::Monday => "Monday",
        Weekday::Tuesday => "Tuesday",
        Weekday::Wednesday => "Wednesday",
        Weekday::Thursday => "Thursday",
        Weekday::Friday => "Friday",
        Weekday::Saturday => "Saturday",
        Weekday::Sunday => "Sunday",
    }
}

/// A day's code (`mon`..`sun`), as stored and sent by forms.
pub fn day_code(d: Weekday) -> &'static str {
    match d {
        Weekday::Monday => "mon",
        Weekday::Tuesday => "tue",
        Weekday::Wednesday => "wed",
        Weekday::Thursday => "thu",
        Weekday::Friday => "fri",
        Weekday::Saturday => "sat",
        Weekday::Sunday => "sun",
    }
}

/// A chair as proposals need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChairPlan {
    /// Its id (text, as stored).
    pub id: String,
    /// The products it supports.
    pub supports: Vec<Product>,
    /// When it can be booked.
    pub hours: OpeningHours,
    /// Its booked intervals.
    pub busy: Vec<(Timestamp, Timestamp)>,
}

impl ChairPlan {
    /// Whether the chair can take this kind.
    pub fn takes(&self, kind: AppointmentKind) -> bool {
        kind.needs().is_empty() || kind.needs().iter().any(|p| self.supports.contains(p))
    }
}

/// One proposed appointment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    /// The session it is for.
    pub session: u32,
    /// The chair.
    pub chair_id: String,
    /// Start.
    pub start: Timestamp,
    /// End.
    pub end: Timestamp,
}

fn overlaps(busy: &[(Timestamp, Timestamp)], start: Timestamp, end: Timestamp) -> bool {
    busy.iter().any(|(s, e)| *s < end && start < *e)
}

/// What to propose: the kind and length of the appointments, the clinic's time zone, the
/// earliest start (now), and how many days after a session's target date a slot may fall.
#[derive(Debug, Clone)]
pub struct ProposalAsk {
    /// Kind.
    pub kind: AppointmentKind,
    /// Length, minutes.
    pub minutes: u32,
    /// The clinic's time zone.
    pub tz: TimeZone,
    /// Nothing starts before this.
    pub not_before: Timestamp,
    /// Days after the target date a slot may fall.
    pub slack_days: i32,
    /// Days that hold one of the course's sessions already: nothing is proposed on them, nor
    /// two proposals on one day (a course's plan puts one session on a day at most).
    pub taken_days: Vec<Date>,
    /// The time of day the patient comes (their last booked session's), which each proposal
    /// keeps as near as its day allows; none: the first proposal's time, once made.
    pub prefer: Option<jiff::civil::Time>,
    /// Days the clinic is closed (holidays, training days): nothing is proposed on them.
    pub closed_days: Vec<Date>,
}

/// A free slot for each planned session on its day or, when the day is full, closed or holds
/// another of the course's sessions, one of the next `slack_days` days, in a chair that takes
/// `kind`, every 15 minutes from opening, never overlapping the chair's bookings, the
/// patient's (`patient_busy`) or the proposals before it: the one nearest the time of day the
/// patient comes ([`ProposalAsk::prefer`], else the first proposal's), so a course's sessions
/// keep one time as far as the chairs allow; the first free slot of the day when there is no
/// such time yet. Sessions no slot fits are left out (the caller says which).
pub fn propose(
    sessions: &[PlannedSession],
    ask: &ProposalAsk,
    chairs: &[ChairPlan],
    patient_busy: &[(Timestamp, Timestamp)],
) -> Vec<Proposal> {
    let ProposalAsk {
        kind,
        minutes,
        ref tz,
        not_before,
        slack_days,
        ref taken_days,
        mut prefer,
        ref closed_days,
    } = *ask;
    let mut days: Vec<Date> = taken_days.iter().chain(closed_days).copied().collect();
    let length = SignedDuration::from_mins(i64::from(minutes));
    let mut taken: Vec<(String, Timestamp, Timestamp)> = Vec::new();
    let mut out = Vec::new();
    'session: for s in sessions {
        for offset in 0..=slack_days {
            let Ok(date) = s.date.checked_add(offset.days()) else {
                continue;
            };
            if days.contains(&date) {
                continue;
            }
            if let Some(p) = first_slot(
                date,
                kind,
                length,
                chairs,
                patient_busy,
                &taken,
                tz,
                not_before,
                prefer,
            ) {
                prefer = prefer.or_else(|| Some(p.1.to_zoned(tz.clone()).time()));
                taken.push((p.0.clone(), p.1, p.2));
                days.push(date);
                out.push(Proposal {
                    session: s.number,
                    chair_id: p.0,
                    start: p.1,
                    end: p.2,
                });
                continue 'session;
            }
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn first_slot(
    date: Date,
    kind: AppointmentKind,
    length: SignedDuration,
    chairs: &[ChairPlan],
    patient_busy: &[(Timestamp, Timestamp)],
    taken: &[(String, Timestamp, Timestamp)],
    tz: &TimeZone,
    not_before: Timestamp,
    prefer: Option<jiff::civil::Time>,
) -> Option<(String, Timestamp, Timestamp)> {
    // How far a start lies from the preferred time of day, in minutes (0 with none).
    let distance = |start: Timestamp| {
        prefer.map_or(0, |t| {
            let local = start.to_zoned(tz.clone()).time();
            (i64::from(local.hour()) * 60 + i64::from(local.minute())
                - (i64::from(t.hour()) * 60 + i64::from(t.minute())))
            .abs()
        })
    };
    let mut best: Option<(String, Timestamp, Timestamp)> = None;
    for chair in chairs.iter().filter(|c| c.takes(kind)) {
        if !chair.hours.days.contains(&date.weekday()) {
            continue;
        }
        let Ok(open) = date.to_datetime(chair.hours.opens).to_zoned(tz.clone()) else {
            continue;
        };
        let mut start = open.timestamp();
        loop {
            let Ok(end) = start.checked_add(length) else {
                break;
            };
            if !chair.hours.contains(tz, start, end) {
                break;
            }
            let mine: Vec<(Timestamp, Timestamp)> = taken
                .iter()
                .filter(|(c, _, _)| *c == chair.id)
                .map(|(_, s, e)| (*s, *e))
                .collect();
            let all_patient: Vec<(Timestamp, Timestamp)> = patient_busy
                .iter()
                .copied()
                .chain(taken.iter().map(|(_, s, e)| (*s, *e)))
                .collect();
            if start >= not_before
                && !overlaps(&chair.busy, start, end)
                && !overlaps(&mine, start, end)
                && !overlaps(&all_patient, start, end)
            {
                if best
                    .as_ref()
                    .is_none_or(|b| (distance(start), start) < (distance(b.1), b.1))
                {
                    best = Some((chair.id.clone(), start, end));
                }
                // Without a time to keep, the chair's first free slot is its best.
                if prefer.is_none() {
                    break;
                }
            }
            match start.checked_add(SignedDuration::from_mins(15)) {
                Ok(next) => start = next,
                Err(_) => break,
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::course::builtin_protocols;

    #[test]
    fn a_close_reason_is_one_readable_line() {
        assert_eq!(
            check_close_reason("  patient unwell "),
            Some("patient unwell")
        );
        assert_eq!(check_close_reason(" "), None);
        assert_eq!(check_close_reason(&"x".repeat(501)), None);
        assert_eq!(check_close_reason("unwell\ncalled"), None);
        assert_eq!(check_close_reason("unwell\u{202e}"), None);
    }

    #[test]
    fn an_appointment_is_booked_from_today_up_to_two_years_ahead() {
        let today: Date = "2026-12-06".parse().unwrap();
        let day = |s: &str| s.parse::<Date>().unwrap();
        assert_eq!(check_day(today, today), Ok(()));
        assert_eq!(check_day(day("2028-12-05"), today), Ok(()));
        let past = check_day(day("2025-12-08"), today).unwrap_err();
        assert_eq!(past, DayError::Past { today });
        assert_eq!(
            past.to_string(),
            "that day has passed; book from today, 2026-12-06, on (check the year)"
        );
        let far = check_day(day("2062-12-08"), today).unwrap_err();
        assert_eq!(
            far.to_string(),
            "that is more than two years ahead; book up to 2028-12-05 (check the year)"
        );
    }

    fn chicago() -> TimeZone {
        TimeZone::get("America/Chicago").unwrap()
    }

    fn at(local: &str) -> Timestamp {
        local
            .parse::<jiff::civil::DateTime>()
            .unwrap()
            .to_zoned(chicago())
            .unwrap()
            .timestamp()
    }

    fn ask(not_before: Timestamp, slack_days: i32) -> ProposalAsk {
        ProposalAsk {
            kind: AppointmentKind::IvInfusion,
            minutes: 130,
            tz: chicago(),
            not_before,
            slack_days,
            taken_days: Vec::new(),
            prefer: None,
            closed_days: Vec::new(),
        }
    }

    fn chair(id: &str, supports: &[Product]) -> ChairPlan {
        ChairPlan {
            id: id.into(),
            supports: supports.to_vec(),
            hours: OpeningHours::weekdays_8_to_18(),
            busy: Vec::new(),
        }
    }

    #[test]
    fn opening_hours_hold_the_whole_appointment() {
        let h = OpeningHours::weekdays_8_to_18();
        let tz = chicago();
        assert!(h.contains(&tz, at("2026-12-07T08:00"), at("2026-12-07T10:10")));
        assert!(!h.contains(&tz, at("2026-12-07T07:45"), at("2026-12-07T09:00")));
        assert!(!h.contains(&tz, at("2026-12-07T16:30"), at("2026-12-07T18:40")));
        assert!(
            !h.contains(&tz, at("2026-12-05T09:00"), at("2026-12-05T10:00")),
            "Saturday"
        );
        assert_eq!(
            OpeningHours::parse_days(&h.day_codes()),
            Some(h.days.clone())
        );
        assert_eq!(OpeningHours::parse_days("mon,funday"), None);
    }

    #[test]
    fn kinds_fit_chairs_that_support_their_route() {
        let iv = chair("a", &[Product::IvRacemic]);
        assert!(iv.takes(AppointmentKind::IvInfusion));
        assert!(!iv.takes(AppointmentKind::Esketamine));
        assert!(iv.takes(AppointmentKind::Intake));
        let oral = chair("b", &[Product::SublingualRacemic]);
        assert!(oral.takes(AppointmentKind::Oral));
        for k in AppointmentKind::ALL {
            assert_eq!(AppointmentKind::parse(k.code()), Some(k));
        }
        assert!(KindDurations::default().check().is_ok());
        let short = KindDurations {
            esketamine: 90,
            ..KindDurations::default()
        };
        assert_eq!(
            short.check().unwrap_err().to_string(),
            "appointments.esketamine_min is 90; use 120 to 720 minutes"
        );
    }

    #[test]
    fn proposals_take_the_first_free_slot_and_never_overlap() {
        let protocol = builtin_protocols()
            .into_iter()
            .find(|p| p.code == "iv_induction_thrice_weekly")
            .unwrap();
        let sessions = protocol.expand("2026-12-07".parse().unwrap());
        let mut a = chair("a", &[Product::IvRacemic]);
        // Chair a is busy all Monday morning; chair b does esketamine only.
        a.busy
            .push((at("2026-12-07T08:00"), at("2026-12-07T12:00")));
        let b = chair("b", &[Product::EsketamineNasal]);
        let c = chair("c", &[Product::IvRacemic]);
        // The patient has an intake on Wednesday morning.
        let patient = vec![(at("2026-12-09T08:00"), at("2026-12-09T09:00"))];
        let p = propose(
            &sessions,
            &ask(at("2026-12-01T00:00"), 2),
            &[a, b, c],
            &patient,
        );
        assert_eq!(p.len(), 6);
        assert_eq!(
            (p[0].chair_id.as_str(), p[0].start),
            ("c", at("2026-12-07T08:00"))
        );
        assert_eq!(
            p[1].start,
            at("2026-12-09T09:00"),
            "after the patient's intake"
        );
        assert!(p.iter().all(|x| x.chair_id != "b"));
        assert_eq!(p[0].end, at("2026-12-07T10:10"));
    }

    #[test]
    fn a_courses_sessions_keep_the_time_the_patient_comes() {
        let protocol = builtin_protocols()
            .into_iter()
            .find(|p| p.code == "iv_induction_thrice_weekly")
            .unwrap();
        let sessions = protocol.expand("2026-12-07".parse().unwrap());
        // A chair open around the clock beside one open 8 to 18: asked at 11:40 on the first
        // day, every session is proposed at 11:45, not at midnight in the always-open chair.
        let mut always = chair("always", &[Product::IvRacemic]);
        always.hours = OpeningHours::every_day_all_day();
        let day = chair("day", &[Product::IvRacemic]);
        let p = propose(
            &sessions,
            &ask(at("2026-12-07T11:40"), 2),
            &[always.clone(), day.clone()],
            &[],
        );
        assert_eq!(p.len(), 6);
        for x in &p {
            let local = x.start.to_zoned(chicago()).time();
            assert_eq!((local.hour(), local.minute()), (11, 45), "{p:?}");
        }
        // The patient's sessions so far were at 14:00: kept, and where the afternoon is taken
        // the nearest free start is chosen (15:00 after a booking from 13:00 to 15:00).
        let mut day = day;
        day.busy
            .push((at("2026-12-09T13:00"), at("2026-12-09T15:00")));
        let p = propose(
            &sessions[..2],
            &ProposalAsk {
                prefer: Some(jiff::civil::time(14, 0, 0, 0)),
                ..ask(at("2026-12-01T00:00"), 2)
            },
            &[day],
            &[],
        );
        assert_eq!(
            p.iter().map(|x| x.start).collect::<Vec<_>>(),
            [at("2026-12-07T14:00"), at("2026-12-09T15:00")]
        );
    }

    #[test]
    fn a_full_or_closed_day_moves_to_the_next_open_one() {
        let protocol = builtin_protocols()
            .into_iter()
            .find(|p| p.code == "iv_maintenance_weekly")
            .unwrap();
        // Saturday start: the chair is closed at weekends, so Monday.
        let sessions = protocol.expand("2026-12-05".parse().unwrap());
        let only = [chair("a", &[Product::IvRacemic])];
        let p = propose(&sessions[..1], &ask(at("2026-12-01T00:00"), 2), &only, &[]);
        assert_eq!(p[0].start, at("2026-12-07T08:00"));
        let none = propose(&sessions[..1], &ask(at("2026-12-01T00:00"), 0), &only, &[]);
        assert!(none.is_empty(), "no slack, no slot");
        let past = propose(&sessions[..1], &ask(at("2026-12-07T09:00"), 2), &only, &[]);
        assert_eq!(past[0].start, at("2026-12-07T09:00"), "nothing before now");
        // A day the clinic closes is passed over like a full one.
        let closed_monday = ProposalAsk {
            closed_days: vec!["2026-12-07".parse().unwrap()],
            ..ask(at("2026-12-01T00:00"), 3)
        };
        let p = propose(&sessions[..1], &closed_monday, &only, &[]);
        assert_eq!(p[0].start, at("2026-12-08T08:00"));
        let closed_all = ProposalAsk {
            closed_days: vec!["2026-12-07".parse().unwrap(), "2026-12-08".parse().unwrap()],
            ..ask(at("2026-12-01T00:00"), 3)
        };
        assert!(propose(&sessions[..1], &closed_all, &only, &[]).is_empty());
    }

    #[test]
    fn a_day_holding_a_session_of_the_course_gets_no_other() {
        let protocol = builtin_protocols()
            .into_iter()
            .find(|p| p.code == "iv_induction_thrice_weekly")
            .unwrap();
        // Monday, Wednesday, Friday from 7 December.
        let sessions = protocol.expand("2026-12-07".parse().unwrap());
        let only = [chair("a", &[Product::IvRacemic])];
        let day = |s: &str| s.parse::<Date>().unwrap();
        // The course already has a session on Monday: the first moves to Tuesday, and the
        // second stays on Wednesday.
        let mut with_monday = ask(at("2026-12-01T00:00"), 2);
        with_monday.taken_days = vec![day("2026-12-07")];
        let p = propose(&sessions[..2], &with_monday, &only, &[]);
        assert_eq!(p[0].start, at("2026-12-08T08:00"));
        assert_eq!(p[1].start, at("2026-12-09T08:00"));
        // Monday and Tuesday full: the first moves on to Wednesday, the second's own day,
        // which then has no room for the second; it goes to Thursday.
        let mut a = chair("a", &[Product::IvRacemic]);
        a.busy
            .push((at("2026-12-07T08:00"), at("2026-12-08T18:00")));
        let p = propose(&sessions[..2], &ask(at("2026-12-01T00:00"), 2), &[a], &[]);
        assert_eq!(p[0].start, at("2026-12-09T08:00"));
        assert_eq!(p[1].start, at("2026-12-10T08:00"));
    }

    #[test]
    fn opening_hours_read_as_words() {
        let mut h = OpeningHours::weekdays_8_to_18();
        assert_eq!(h.words(), "Monday to Friday, 08:00–18:00");
        h.days = vec![Weekday::Friday, Weekday::Monday, Weekday::Wednesday];
        h.opens = jiff::civil::time(9, 0, 0, 0);
        h.closes = jiff::civil::time(13, 30, 0, 0);
        assert_eq!(h.words(), "Monday, Wednesday and Friday, 09:00–13:30");
        h.days = vec![
            Weekday::Saturday,
            Weekday::Sunday,
            Weekday::Tuesday,
            Weekday::Wednesday,
            Weekday::Thursday,
        ];
        assert_eq!(
            h.words(),
            "Tuesday to Thursday, Saturday and Sunday, 09:00–13:30"
        );
        h.days = vec![Weekday::Monday];
        assert_eq!(h.words(), "Monday, 09:00–13:30");
        h.days.clear();
        assert_eq!(h.words(), "on no day, 09:00–13:30");
    }
}
