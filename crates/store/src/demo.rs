//! Demo data: a fictional clinic, one account per role and a handful of fictional patients.
//!
//! Seeding is idempotent and refuses a database that holds anything real.

use clinical::booking::{AppointmentKind, OpeningHours};
use clinical::consent::ConsentText;
use clinical::course::{CourseStatus, Product, builtin_protocols};
use clinical::inquiry::{InquiryInput, InquiryStatus};
use clinical::instruments::schedule::TimePoint;
use clinical::instruments::{InstrumentId, score};
use clinical::patient::{Email, PatientInput};
use jiff::civil::Date;
use jiff::{SignedDuration, ToSpan};

use crate::assessments::EnteredBy;
use crate::audit::Actor;
use crate::courses::{NewCourse, PatientRems, SiteRems, StatusChange};
use crate::patients::PatientSort;
use crate::row::{ChairId, PatientId, SiteId};
use crate::scheduling::{NewAppointment, NewChair};
use crate::users::{NewUser, PasswordHash, Role};
use crate::{Site, Store, StoreError};

/// The password of every demo account. It is published, so it works only in demo mode and is
/// refused for real accounts.
pub const DEMO_PASSWORD: &str = "ketaflow-demo";

/// A demo account as printed when the demo starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoAccount {
    /// Login email.
    pub email: &'static str,
    /// Role.
    pub role: Role,
    /// Display name.
    pub name: &'static str,
}

/// The demo accounts, one per role.
pub fn demo_accounts() -> [DemoAccount; 4] {
    [
        DemoAccount {
            email: "admin@example.org",
            role: Role::Admin,
            name: "Alex Admin",
        },
        DemoAccount {
            email: "prescriber@example.org",
            role: Role::Prescriber,
            name: "Dr. Priya Prescriber",
        },
        DemoAccount {
            email: "nurse@example.org",
            role: Role::Nurse,
            name: "Noah Nurse",
        },
        DemoAccount {
            email: "frontdesk@example.org",
            role: Role::FrontDesk,
            name: "Frankie Frontdesk",
        },
    ]
}

/// Fictional patients: names from no real person, dates chosen to give a spread of ages.
const DEMO_PATIENTS: [(&str, &str, &str, &str, &str); 7] = [
    (
        "Marlow",
        "Ashgrove",
        "1981-03-14",
        "female",
        "+1 555 010 0101",
    ),
    (
        "Tobias",
        "Wrenfield",
        "1975-09-02",
        "male",
        "+1 555 010 0102",
    ),
    ("Imogen", "Calloway", "1992-06-27", "female", ""),
    (
        "Rafael",
        "Quintrell",
        "1968-12-09",
        "male",
        "+1 555 010 0104",
    ),
    ("Sasha", "Ellery", "1999-01-30", "other", ""),
    (
        "Delphine",
        "Harrowgate",
        "1987-04-18",
        "female",
        "+1 555 010 0106",
    ),
    (
        "Noor",
        "Penhallow",
        "1990-10-05",
        "female",
        "+1 555 010 0107",
    ),
];

/// The demo patient who waits in the waiting room: her maintenance course has no weekly
/// appointments seeded, only the one of today that the front desk has marked arrived
/// ([`Store::seed_demo_sessions`]).
pub(crate) const WAITING_PATIENT: &str = "Penhallow";

/// The patient starting esketamine this week (after an IV maintenance course ended): ready
/// for a first session, REMS enrollment and consent recorded, none of its sessions booked.
pub(crate) const ESKETAMINE_STARTER: &str = "Quintrell";

/// Fictional weekly PHQ-9 and GAD-7 answers for the first demo patients, oldest first: a
/// baseline three weeks ago and weekly follow-ups, so the demo shows trajectories, response,
/// remission and one open safety alert (the last PHQ-9 of the second patient). The time point
/// is that of the last, taken today: for the two patients whose sessions are in progress, the
/// assessment before the session.
const DEMO_COURSES: [(usize, InstrumentId, TimePoint, [[i64; 9]; 4]); 3] = [
    (
        0,
        InstrumentId::Phq9,
        TimePoint::BeforeSession,
        [
            [3, 3, 2, 3, 2, 2, 2, 1, 0],
            [2, 2, 2, 2, 1, 2, 1, 1, 0],
            [1, 1, 1, 1, 1, 1, 1, 0, 0],
            [1, 0, 1, 0, 0, 0, 1, 0, 0],
        ],
    ),
    (
        1,
        InstrumentId::Phq9,
        TimePoint::BeforeSession,
        [
            [3, 3, 3, 3, 2, 3, 2, 2, 0],
            [3, 3, 3, 2, 2, 3, 2, 2, 0],
            [2, 3, 2, 2, 2, 2, 2, 1, 0],
            [2, 2, 2, 2, 2, 2, 2, 1, 1],
        ],
    ),
    (
        2,
        InstrumentId::Gad7,
        TimePoint::Weekly,
        [
            [3, 3, 2, 3, 2, 2, 1, 0, 0],
            [2, 2, 2, 2, 1, 2, 1, 0, 0],
            [1, 2, 1, 1, 1, 1, 1, 0, 0],
            [1, 1, 1, 0, 1, 0, 0, 0, 0],
        ],
    ),
];

/// What seeding did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSeed {
    /// The demo clinic.
    pub site: Site,
    /// Accounts created by this run (0 when they all existed).
    pub users_created: usize,
    /// Patients created by this run (0 when the clinic already had patients).
    pub patients_created: usize,
}

impl Store {
    async fn seed_demo_course(
        &self,
        actor: &Actor,
        site_id: &SiteId,
        patient_id: &PatientId,
        index: usize,
        now: jiff::Timestamp,
    ) -> Result<(), StoreError> {
        for (which, instrument, last_time_point, weeks) in DEMO_COURSES {
            if which != index {
                continue;
            }
            let items = instrument.instrument().items.len();
            for (week, answers) in weeks.iter().enumerate() {
                let Ok(result) = score(instrument, &answers[..items]) else {
                    continue;
                };
                let days_ago = 21 - 7 * week as i64;
                // Three hours before the demo starts: before the sessions in progress.
                let at = now - SignedDuration::from_hours(24 * days_ago + 3);
                let time_point = match week {
                    0 => TimePoint::Baseline,
                    3 => last_time_point,
                    _ => TimePoint::Weekly,
                };
                // ok: the plan holds one baseline and weeks apart, so a refusal can only mean
                // these weeks were seeded before; nothing needs adding then.
                let _already_seeded = self
                    .record_assessment(
                        EnteredBy::Staff(actor),
                        site_id,
                        patient_id,
                        &result,
                        time_point,
                        at,
                        clinical::instruments::recording::Intent::default(),
                        at,
                    )
                    .await?
                    .is_err();
            }
        }
        Ok(())
    }

    /// Fails with [`StoreError::NotADemoDatabase`] when any site, user or patient is real.
    #[tracing::instrument(skip_all)]
    pub async fn ensure_demo_only(&self) -> Result<(), StoreError> {
        let checks = [
            (
                "select count(*) from sites where is_demo = 0",
                "clinic sites",
            ),
            (
                "select count(*) from users where is_demo = 0",
                "user accounts",
            ),
            (
                "select count(*) from patients where is_demo = 0",
                "patients",
            ),
        ];
        for (sql, what) in checks {
            let n: i64 = sqlx::query_scalar(sql).fetch_one(&self.pool).await?;
            if n > 0 {
                return Err(StoreError::NotADemoDatabase { what });
            }
        }
        Ok(())
    }

    /// Seeds the demo clinic. Running it again adds nothing that is already there.
    #[tracing::instrument(skip_all)]
    pub async fn seed_demo(
        &self,
        now: jiff::Timestamp,
        today: Date,
    ) -> Result<DemoSeed, StoreError> {
        self.ensure_demo_only().await?;
        let actor = Actor::system("demo-seed");
        let site = match self.first_site().await? {
            Some(site) => site,
            None => {
                self.insert_site(
                    &actor,
                    "Demo Ketamine Clinic",
                    "America/New_York",
                    true,
                    now,
                )
                .await?
            }
        };
        let mut users_created = 0;
        for account in demo_accounts() {
            if self.user_by_email(account.email).await?.is_some() {
                continue;
            }
            // The demo emails are constants that parse; the unit test below proves it.
            let Ok(email) = Email::parse(account.email) else {
                continue;
            };
            let hash = PasswordHash::hash(DEMO_PASSWORD)?;
            let user = NewUser {
                email: &email,
                display_name: account.name,
                role: account.role,
                password: &hash,
            };
            self.insert_user(&actor, &site.id, user, true, now).await?;
            users_created += 1;
        }
        let mut patients_created = 0;
        let opened = now - SignedDuration::from_hours(24 * DEMO_HISTORY_DAYS);
        if self.patient_count(&site.id).await? == 0 {
            for (given, family, dob, sex, phone) in DEMO_PATIENTS {
                let input = PatientInput {
                    given_name: given.into(),
                    family_name: family.into(),
                    date_of_birth: dob.into(),
                    sex: sex.into(),
                    phone: phone.into(),
                    email: String::new(),
                };
                let Ok(patient) = input.validate(today) else {
                    continue;
                };
                let registered = self
                    .insert_patient(
                        &actor,
                        &site.id,
                        &patient,
                        crate::patients::Registering {
                            inquiry: None,
                            is_demo: true,
                            check_same: false,
                        },
                        opened,
                    )
                    .await?;
                // ok: without an inquiry or the check, a registration always registers.
                let crate::patients::Registration::Registered(record) = registered else {
                    continue;
                };
                self.seed_demo_course(&actor, &site.id, &record.id, patients_created, now)
                    .await?;
                patients_created += 1;
            }
        }
        self.seed_demo_schedule(&site, now, today).await?;
        if self.consent_documents(&site.id).await?.is_empty() {
            // The demo text is a constant long enough to pass; the unit test below proves it.
            if let Ok(text) = ConsentText::parse(DEMO_CONSENT_TITLE, DEMO_CONSENT) {
                self.publish_consent(&actor, &site.id, &text, opened)
                    .await?;
            }
        }
        self.seed_demo_sessions(&site, now).await?;
        self.seed_demo_inquiries(&site.id, now).await?;
        self.seed_demo_closed_days(&site, now, today).await?;
        Ok(DemoSeed {
            site,
            users_created,
            patients_created,
        })
    }
}

impl Store {
    /// The demo clinic closes on its next Christmas Day and New Year's Day, so booking shows
    /// days passed over. A day that holds a demo appointment already stays open; a second
    /// seeding adds nothing.
    async fn seed_demo_closed_days(
        &self,
        site: &crate::Site,
        now: jiff::Timestamp,
        today: Date,
    ) -> Result<(), StoreError> {
        let actor = Actor::system("demo-seed");
        for (month, day, reason) in [(12, 25, "Christmas Day"), (1, 1, "New Year's Day")] {
            // ok: 25 December and 1 January exist in every year; only a year past jiff's range
            // has none, and the demo then closes nothing that year.
            let this_year = Date::new(today.year(), month, day);
            let next_year = today
                .year()
                .checked_add(1)
                .and_then(|y| Date::new(y, month, day).ok());
            let Some(next) = this_year.ok().filter(|d| *d >= today).or(next_year) else {
                continue;
            };
            if !self.closed_days(&site.id, next, next).await?.is_empty() {
                continue;
            }
            // ok: a day holding a demo appointment is left open (the refusal says why).
            let _ = self
                .close_day(&actor, &site.id, next, reason, &site.zone, today, now)
                .await?;
        }
        Ok(())
    }
}

/// Inquiries from the public page waiting for the front desk: (given name, family name,
/// telephone, email, contact times, how they heard, question, hours before the demo starts,
/// the front desk's note when they have been reached). Names are made up; like the page, they
/// hold no health details.
type DemoInquiry<'a> = (
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    &'a [&'a str],
    &'a str,
    &'a str,
    i64,
    Option<&'a str>,
);
const DEMO_INQUIRIES: [DemoInquiry<'static>; 3] = [
    (
        "Selwyn",
        "Marchbank",
        "+1 555 010 0142",
        "",
        &["mornings"],
        "clinician",
        "",
        50,
        Some(
            "Reached by telephone; a referral letter from his doctor is on its way. Call back Thursday morning to book the intake visit.",
        ),
    ),
    (
        "Ines",
        "Morrow-Tate",
        "",
        "ines.morrow-tate@example.net",
        &["evenings", "weekends"],
        "search",
        "Do you have appointments on Saturdays?",
        20,
        None,
    ),
    (
        "Caspar",
        "Lindqvist",
        "+1 555 010 0187",
        "caspar.lindqvist@example.net",
        &["afternoons"],
        "friend_or_family",
        "",
        3,
        None,
    ),
];

impl Store {
    /// The demo's inquiries, once (nothing is added when the site holds any).
    async fn seed_demo_inquiries(
        &self,
        site_id: &SiteId,
        now: jiff::Timestamp,
    ) -> Result<(), StoreError> {
        if self
            .inquiry_counts(site_id)
            .await?
            .iter()
            .any(|(_, n)| *n > 0)
        {
            return Ok(());
        }
        let front_desk = self.user_by_email("frontdesk@example.org").await?;
        for (given, family, phone, email, times, heard, question, hours, reached) in DEMO_INQUIRIES
        {
            let input = InquiryInput {
                given_name: given.into(),
                family_name: family.into(),
                phone: phone.into(),
                email: email.into(),
                contact_times: times.iter().map(|t| (*t).to_owned()).collect(),
                heard_from: heard.into(),
                question: question.into(),
            };
            // The demo's inquiries are constants that pass; the store's demo test proves it.
            let Ok(inquiry) = input.validate() else {
                continue;
            };
            let arrived = now - SignedDuration::from_hours(hours);
            let id = self.create_inquiry(site_id, &inquiry, arrived).await?;
            if let (Some(note), Some(staff)) = (reached, front_desk.as_ref()) {
                self.set_inquiry_status(
                    staff,
                    &id,
                    InquiryStatus::Contacted,
                    Some(note),
                    arrived + SignedDuration::from_hours(4),
                )
                .await?;
            }
        }
        Ok(())
    }
}

const DEMO_CONSENT_TITLE: &str = "Consent to ketamine treatment (demo text)";

/// A placeholder written for the demo, not legal or clinical advice: each clinic publishes its
/// own text, reviewed by its medical director and counsel.
const DEMO_CONSENT: &str = "# About this document\n\n\
This is demonstration text. A clinic replaces it with its own consent form under Consent.\n\n\
# What I agree to\n\n\
- I agree to receive ketamine or esketamine treatment as my prescriber has explained it.\n\
- I have been told about the common effects during and after a session, such as feeling \
detached, dizziness, nausea and a rise in blood pressure, and that staff watch me until they \
pass.\n\
- I will not drive or operate machinery until the next day, and someone will take me home.\n\
- I can ask questions at any time and can stop treatment at any time.\n\n\
# My information\n\n\
My answers to rating scales and the measurements taken during sessions are kept in my record \
and seen only by the clinic's staff who treat me.\n";

/// The demo's rooms and chairs: (room, chair, products).
const DEMO_CHAIRS: [(&str, &str, &[Product]); 6] = [
    ("Room A", "IV 1", &[Product::IvRacemic, Product::ImRacemic]),
    ("Room A", "IV 2", &[Product::IvRacemic, Product::ImRacemic]),
    ("Room A", "IV 3", &[Product::IvRacemic]),
    ("Room B", "Nasal 1", &[Product::EsketamineNasal]),
    ("Room B", "Nasal 2", &[Product::EsketamineNasal]),
    (
        "Room B",
        "Oral 1",
        &[Product::OralRacemic, Product::SublingualRacemic],
    ),
];

/// When a demo course's first session is planned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Starts {
    /// So many weeks from this week's Monday; an active course's weeks are counted from
    /// [`demo_anchor_monday`] instead, so it has sessions behind and ahead of any day.
    Weeks(i32),
    /// Today: its first session is the demo's esketamine session in progress.
    Today,
}

/// The demo patient whose first esketamine session is in progress whenever the demo starts
/// ([`Store::seed_demo_sessions`]).
pub(crate) const ESKETAMINE_IN_CHAIR: &str = "Wrenfield";

/// Demo courses: (patient's family name, protocol code, when its first session is planned,
/// status, reason for stopping).
const DEMO_TREATMENTS: [(&str, &str, Starts, CourseStatus, Option<&str>); 7] = [
    (
        "Ashgrove",
        "iv_induction_thrice_weekly",
        Starts::Weeks(-1),
        CourseStatus::Active,
        None,
    ),
    // Ordered to start today: its first session is the one in progress, and the rest are
    // booked from it.
    (
        ESKETAMINE_IN_CHAIR,
        "esketamine_trd_label",
        Starts::Today,
        CourseStatus::Planned,
        None,
    ),
    (
        "Calloway",
        "iv_induction_twice_weekly",
        Starts::Weeks(-3),
        CourseStatus::Paused,
        None,
    ),
    (
        "Quintrell",
        "iv_maintenance_weekly",
        Starts::Weeks(-9),
        CourseStatus::Completed,
        None,
    ),
    (
        "Ellery",
        "iv_induction_thrice_weekly",
        Starts::Weeks(-5),
        CourseStatus::Stopped,
        Some(
            "Blood pressure rose above the clinic's limit at two infusions; referred to cardiology.",
        ),
    ),
    // Started last week, as the other active course: her weekly infusions are under way, and
    // only the first week's assessments can have been missed.
    (
        WAITING_PATIENT,
        "iv_maintenance_weekly",
        Starts::Weeks(-1),
        CourseStatus::Active,
        None,
    ),
    (
        ESKETAMINE_STARTER,
        "esketamine_trd_label",
        Starts::Weeks(0),
        CourseStatus::Active,
        None,
    ),
];

/// How long before the demo starts its patients were registered and its consent form
/// published: before the oldest of its courses (nine weeks back), so no record of theirs
/// predates them.
const DEMO_HISTORY_DAYS: i64 = 100;

/// When the demo's prescriber ordered a course whose first session is planned on `starts_on`:
/// at noon three days before, or `now` when that is later (a course ordered to start today).
fn ordered_before(
    starts_on: Date,
    tz: &jiff::tz::TimeZone,
    now: jiff::Timestamp,
) -> jiff::Timestamp {
    // ok: only a day at the calendar's edge has no noon three days before; the order is
    // then signed now.
    starts_on
        .checked_sub(3.days())
        .ok()
        .and_then(|day| day.at(12, 0, 0, 0).to_zoned(tz.clone()).ok())
        .map_or(now, |at| at.timestamp().min(now))
}

/// The Monday of `day`'s week.
fn monday_of(day: Date) -> Date {
    // ok: only a day in the calendar's first week has no Monday before it; the demo's days are
    // today's, so the day itself stands in for it without changing anything a person sees.
    day.checked_sub(i64::from(day.weekday().to_monday_zero_offset()).days())
        .unwrap_or(day)
}

/// Next week's Monday from Friday on, else this week's: the Monday that the active demo course
/// (two weeks of Monday, Wednesday and Friday, starting a week before it) is counted from. On
/// any day of the week the course then has sessions behind today, which become signed sessions,
/// and at least one booked ahead; counted from this week's Monday alone, a demo started on a
/// Friday afternoon or a weekend had its whole course behind it.
fn demo_anchor_monday(today: Date) -> Date {
    let monday = monday_of(today);
    // ok (the fallback below): only a Monday in the calendar's last week has no Monday after
    // it; the demo's Monday is this week's.
    match today.weekday() {
        jiff::civil::Weekday::Friday
        | jiff::civil::Weekday::Saturday
        | jiff::civil::Weekday::Sunday => monday.checked_add(7.days()).unwrap_or(monday),
        _ => monday,
    }
}

impl Store {
    /// Rooms, chairs, the REMS certification, courses in every state and a week of
    /// appointments around today, once (nothing is added when the site has rooms).
    pub(crate) async fn seed_demo_schedule(
        &self,
        site: &Site,
        now: jiff::Timestamp,
        today: Date,
    ) -> Result<(), StoreError> {
        if !self.rooms(&site.id).await?.is_empty() {
            return Ok(());
        }
        let system = Actor::system("demo-seed");
        let Some(prescriber) = self.user_by_email("prescriber@example.org").await? else {
            return Ok(());
        };
        let doctor = Actor::user(&prescriber);
        let hours = OpeningHours::weekdays_8_to_18();
        let mut rooms: Vec<(&str, String)> = Vec::new();
        let mut chairs: Vec<(&str, ChairId, &[Product])> = Vec::new();
        for (room, chair, products) in DEMO_CHAIRS {
            let room_id = match rooms.iter().find(|(r, _)| *r == room) {
                Some((_, id)) => id.clone(),
                None => {
                    let id = self.create_room(&system, &site.id, room, now).await?;
                    rooms.push((room, id.clone()));
                    id
                }
            };
            let new = NewChair {
                room_id: &room_id,
                name: chair,
                supports: products,
                hours: &hours,
            };
            let id = self.create_chair(&system, &site.id, &new, now).await?;
            chairs.push((chair, id, products));
        }
        let certified = today.checked_sub(90.days()).unwrap_or(today);
        self.set_site_rems(
            &system,
            &site.id,
            &SiteRems {
                certified_on: certified,
                representative: "Dr. Priya Prescriber".into(),
                // A made-up address; 555-0100 to 555-0199 are set aside for fiction.
                contact: Some(crate::SettingContact {
                    street: "100 Demo Way, Suite 2".into(),
                    city: "Springfield".into(),
                    state: "IL".into(),
                    postal_code: "62701".into(),
                    phone: "(217) 555-0142".into(),
                }),
            },
            now,
        )
        .await?;
        let tz = site.zone.clone();
        let patients = self
            .patients(&system, &site.id, "", PatientSort::Name, 50, now)
            .await?;
        let protocols = builtin_protocols();
        for (family, code, starts, status, reason) in DEMO_TREATMENTS {
            let (Some(patient), Some(protocol)) = (
                patients.iter().find(|p| p.family_name == family),
                protocols.iter().find(|p| p.code == code),
            ) else {
                continue;
            };
            let Some(diagnosis) = clinical::diagnoses::find("F33.2") else {
                continue;
            };
            let starts_on = match starts {
                Starts::Today => today,
                Starts::Weeks(weeks) => {
                    let monday = if status == CourseStatus::Active {
                        demo_anchor_monday(today)
                    } else {
                        monday_of(today)
                    };
                    let Ok(day) = monday.checked_add((weeks * 7).days()) else {
                        continue;
                    };
                    day
                }
            };
            // The prescriber diagnosed and ordered three days before the first session (or
            // now, for a course ordered to start sooner): no dose is given under an order
            // signed after it.
            let ordered_at = ordered_before(starts_on, &tz, now);
            self.add_diagnosis(&doctor, &site.id, &patient.id, diagnosis, ordered_at)
                .await?;
            if protocol.product.is_esketamine() {
                // Enrolled in the REMS before the course is ordered, as Ketaflow requires.
                // ok: only the calendar's first day has no day before it; the demo's days are
                // this year's, and today stands in without changing what anyone sees.
                let enrolled_on = ordered_at
                    .to_zoned(tz.clone())
                    .date()
                    .checked_sub(1.days())
                    .unwrap_or(today);
                self.set_patient_rems(
                    &doctor,
                    &site.id,
                    &patient.id,
                    &PatientRems {
                        enrolled_on,
                        submitted_by: clinical::session::RemsChannel::Online,
                    },
                    ordered_at,
                )
                .await?;
            }
            let age = clinical::patient::age_on(patient.date_of_birth, today);
            let new = NewCourse {
                patient_id: &patient.id,
                diagnosis_code: diagnosis.code,
                protocol,
                instrument: InstrumentId::Phq9,
                starts_on,
                dose: protocol.dose_for_age(age),
            };
            let Ok(course) = self
                .create_course(&doctor, &site.id, &new, ordered_at)
                .await?
            else {
                continue;
            };
            // Walk the course to its state through the lawful steps.
            let path: &[CourseStatus] = match status {
                CourseStatus::Planned => &[],
                CourseStatus::Active => &[CourseStatus::Active],
                CourseStatus::Paused => &[CourseStatus::Active, CourseStatus::Paused],
                CourseStatus::Completed => &[CourseStatus::Active, CourseStatus::Completed],
                CourseStatus::Stopped => &[CourseStatus::Active, CourseStatus::Stopped],
            };
            let mut from = CourseStatus::Planned;
            for to in path {
                let change = StatusChange {
                    from,
                    to: *to,
                    reason: if *to == CourseStatus::Stopped {
                        reason
                    } else {
                        None
                    },
                };
                let _ = self
                    .set_course_status(&doctor, &site.id, &course, change, now)
                    .await?;
                from = *to;
            }
            if status.is_final()
                || status == CourseStatus::Paused
                || family == WAITING_PATIENT
                || family == ESKETAMINE_STARTER
            {
                continue;
            }
            // A week either side of today: the course's sessions at 9:00 (or 13:00 in a
            // second chair when the first is taken).
            let kind = AppointmentKind::for_product(protocol.product);
            let fits: Vec<&ChairId> = chairs
                .iter()
                .filter(|(_, _, products)| products.contains(&protocol.product))
                .map(|(_, id, _)| id)
                .collect();
            for session in protocol.expand(starts_on) {
                let distance = (session.date - today).get_days();
                if distance.abs() > 7 {
                    continue;
                }
                'slot: for hour in [9, 13] {
                    let Ok(start) = session.date.at(hour, 0, 0, 0).to_zoned(tz.clone()) else {
                        continue;
                    };
                    let start = start.timestamp();
                    let Ok(end) = start.checked_add(jiff::SignedDuration::from_mins(130)) else {
                        continue;
                    };
                    for chair in &fits {
                        let new = NewAppointment {
                            patient_id: &patient.id,
                            chair_id: chair,
                            course_id: Some(&course),
                            kind,
                            starts_at: start,
                            ends_at: end,
                        };
                        if self.book(&system, &site.id, &new, &tz, now).await?.is_ok() {
                            break 'slot;
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_constants_are_valid_input() {
        assert!(ConsentText::parse(DEMO_CONSENT_TITLE, DEMO_CONSENT).is_ok());
        for a in demo_accounts() {
            assert!(Email::parse(a.email).is_ok(), "{}", a.email);
        }
        let today: Date = "2026-11-23".parse().unwrap();
        for (_, instrument, _, weeks) in DEMO_COURSES {
            let items = instrument.instrument().items.len();
            for answers in weeks {
                assert!(score(instrument, &answers[..items]).is_ok(), "{answers:?}");
            }
        }
        for (given, family, dob, sex, phone) in DEMO_PATIENTS {
            let input = PatientInput {
                given_name: given.into(),
                family_name: family.into(),
                date_of_birth: dob.into(),
                sex: sex.into(),
                phone: phone.into(),
                email: String::new(),
            };
            assert!(input.validate(today).is_ok(), "{given} {family}");
        }
    }

    /// On every day of two weeks the active course has a session before today and one after it
    /// within the week of appointments the demo books (it had none ahead from a Friday on).
    #[test]
    fn the_active_demo_course_has_sessions_behind_and_ahead_of_any_day() {
        let (_, code, starts, status, _) = DEMO_TREATMENTS[0];
        assert_eq!(status, CourseStatus::Active);
        let Starts::Weeks(offset) = starts else {
            panic!("the active course starts so many weeks from a Monday")
        };
        let protocols = builtin_protocols();
        let protocol = protocols.iter().find(|p| p.code == code).unwrap();
        let first: Date = "2026-11-30".parse().unwrap();
        for n in 0..14 {
            let today = first.checked_add(n.days()).unwrap();
            let starts_on = demo_anchor_monday(today)
                .checked_add((offset * 7).days())
                .unwrap();
            let days: Vec<i32> = protocol
                .expand(starts_on)
                .iter()
                .map(|s| (s.date - today).get_days())
                .collect();
            assert!(days.iter().any(|d| *d < 0), "{today}: {days:?}");
            assert!(
                days.iter().any(|d| (1..=7).contains(d)),
                "{today}: {days:?}"
            );
        }
    }
}
