//! Demo treatment sessions: at every start, one IV infusion and one esketamine session in
//! progress (the infusion with an open blood-pressure alert), and, once, signed and locked
//! sessions for the IV course's past appointments. Every session walks the same lawful steps as
//! a real one, through the same store calls; only the times are set back.

use clinical::booking::{AppointmentKind, OpeningHours};
use clinical::course::{Product, TargetDose};
use clinical::instruments::InstrumentId;
use clinical::instruments::schedule::TimePoint;
use clinical::ledger::{EntryKind, Form};
use clinical::session::{
    AlertSettings, CheckedText, Checklist, LotNumber, RemsAnswers, ScaleSettings, Step, Vitals,
};
use jiff::{SignedDuration, Timestamp};

use crate::audit::Actor;
use crate::courses::CourseRecord;
use crate::ledger::{NewEntry, Receipt, Supplier, Witness};
use crate::row::{AppointmentId, ChairId, SiteId};
use crate::scheduling::{AppointmentStatus, NewAppointment, NewChair, local_day};
use crate::sessions::{DoseVerification, PreAssessment};
use crate::{Site, Store, StoreError};

pub(crate) fn bp(s: u16, d: u16, hr: u16, o2: u16, rr: u16) -> Vitals {
    Vitals {
        systolic_mmhg: Some(s),
        diastolic_mmhg: Some(d),
        heart_rate_bpm: Some(hr),
        spo2_percent: Some(o2),
        respiratory_rate_per_min: Some(rr),
    }
}

fn mins(m: i64) -> SignedDuration {
    SignedDuration::from_mins(m)
}

/// Fictional PHQ-9 answers of the demo's active course, one pair per past session in order:
/// before the session, and 24 hours after it (the first only). Item 9 is always 0, so they
/// raise no safety alert; totals 7, 5 (after the first), 6 and 5. The first differs in an
/// item from the weekly answers of its week (`DEMO_COURSES` in `demo.rs`), which a demo started
/// late in the morning times minutes before this session: the same answers within ten minutes
/// are refused as a repeat, and the session's assessment was missed.
const DEMO_SESSION_PHQ9: [([i64; 9], Option<[i64; 9]>); 3] = [
    (
        [1, 1, 1, 1, 1, 1, 0, 1, 0],
        Some([1, 1, 1, 1, 1, 0, 0, 0, 0]),
    ),
    ([1, 1, 1, 1, 1, 1, 0, 0, 0], None),
    ([1, 1, 1, 0, 1, 1, 0, 0, 0], None),
];

/// How many days before the demo starts its course patients were screened and signed the
/// consent: before their courses were ordered (the earliest, the active IV course's, up to
/// thirteen days back).
const DEMO_SCREENED_DAYS: i64 = 20;

/// An appointment of `course`'s kind in `chair` from `start` to `end`.
fn course_appointment<'a>(
    course: &'a CourseRecord,
    chair: &'a ChairId,
    start: Timestamp,
    end: Timestamp,
) -> NewAppointment<'a> {
    NewAppointment {
        patient_id: &course.patient_id,
        chair_id: chair,
        course_id: Some(&course.id),
        kind: AppointmentKind::for_product(course.product),
        starts_at: start,
        ends_at: end,
    }
}

/// One demo session from check-in to where `upto` says, with readings at the given minutes
/// after the start of dosing.
pub(crate) struct Plan<'a> {
    pub(crate) course: &'a CourseRecord,
    pub(crate) appointment: &'a AppointmentId,
    /// Check-in time; the other steps follow at fixed minutes.
    pub(crate) at: Timestamp,
    pub(crate) weight_kg: f64,
    pub(crate) baseline: Vitals,
    pub(crate) readings: &'a [(i64, Vitals)],
    /// Minutes after the start when administration stopped (None: still running).
    pub(crate) stop_after: Option<i64>,
    /// Discharge and lock at this many minutes after the start.
    pub(crate) close_after: Option<i64>,
}

impl Store {
    /// The demo's controlled-substance stock, once: a safe, a month-old receipt of ketamine
    /// vials and Spravato devices from a fictional supplier, and the initial inventory before
    /// it. The sessions then draw their doses from it.
    pub(crate) async fn seed_demo_ledger(
        &self,
        site: &Site,
        nurse: &Actor,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        if !self.cs_locations(&site.id).await?.is_empty() {
            return Ok(());
        }
        let month_ago = now - SignedDuration::from_hours(24 * 30);
        self.take_inventory(nurse, &site.id, EntryKind::InitialInventory, month_ago)
            .await?;
        // ok: the demo's place is valid by construction; were it not, the demo has no ledger.
        let Ok(place) = clinical::ledger::NewPlace::parse("Safe, Room C", "safe") else {
            return Ok(());
        };
        let safe = self
            .add_cs_location(nurse, &site.id, &place, month_ago)
            .await?
            // Another process seeding the same demo at the same moment.
            .map_err(|_| StoreError::Conflict {
                constraint: "cs_locations (site_id, name)".into(),
            })?;
        // A made-up supplier; the DEA number only has the registration's shape.
        let supplier = Supplier {
            name: "Northfield Medical Distributors (demo)".into(),
            address: "200 Example Parkway, Columbus, OH 43004".into(),
            dea_number: "RN1234563".into(),
            invoice: "NMD-104877".into(),
        };
        for (form, ndc, lot, containers) in [
            (
                Form::Vial {
                    mg_per_ml: 10,
                    ml: 10.0,
                },
                "0143-9508-10",
                "KET-88210",
                12,
            ),
            (Form::SpravatoDevice, "50458-028-02", "ESK-24117", 12),
        ] {
            let receipt = Receipt {
                form,
                ndc,
                lot,
                expires_on: (now + SignedDuration::from_hours(24 * 400))
                    .to_zoned(jiff::tz::TimeZone::UTC)
                    .date(),
                supplier: &supplier,
                containers,
                location_id: &safe,
            };
            // ok: the demo's receipt is valid by construction; a refusal only means less stock.
            let _ = self
                .receive_stock(nurse, &site.id, &receipt, month_ago)
                .await?;
        }
        // A week later, a count of the last vial received: it matches.
        let week_later = month_ago + SignedDuration::from_hours(24 * 7);
        if let Some(last) = self
            .cs_stock(&site.id)
            .await?
            .into_iter()
            .rfind(|c| c.lot == "KET-88210")
        {
            let today = week_later.to_zoned(jiff::tz::TimeZone::UTC).date();
            let _ = self
                .count_container(
                    nurse,
                    &site.id,
                    &last.id,
                    last.full_mg,
                    None,
                    today,
                    week_later,
                )
                .await?;
        }
        Ok(())
    }

    /// Makes sure the demo shows sessions: past ones locked (once) and two in progress (when
    /// none was checked in during the last three hours).
    pub(crate) async fn seed_demo_sessions(
        &self,
        site: &Site,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let (Some(nurse_user), Some(doctor_user)) = (
            self.user_by_email("nurse@example.org").await?,
            self.user_by_email("prescriber@example.org").await?,
        ) else {
            return Ok(());
        };
        let nurse = Actor::user(&nurse_user);
        let doctor = Actor::user(&doctor_user);
        self.seed_demo_ledger(site, &nurse, now).await?;
        let system = Actor::system("demo-seed");
        let (courses, _) = self.open_courses(&system, &site.id, now).await?;
        let iv = courses
            .iter()
            .find(|c| c.patient_name.ends_with("Ashgrove") && c.product == Product::IvRacemic);
        let esk = courses.iter().find(|c| {
            c.patient_name.ends_with(crate::demo::ESKETAMINE_IN_CHAIR)
                && c.product == Product::EsketamineNasal
        });
        let waiting = courses
            .iter()
            .find(|c| c.patient_name.ends_with(crate::demo::WAITING_PATIENT));
        let starter = courses
            .iter()
            .find(|c| c.patient_name.ends_with(crate::demo::ESKETAMINE_STARTER));
        let (Some(iv), Some(esk)) = (iv, esk) else {
            return Ok(());
        };
        for course in [Some(iv), Some(esk), waiting, starter]
            .into_iter()
            .flatten()
        {
            self.demo_screening(site, course, &doctor, now).await?;
            self.demo_consent(site, course, &nurse, now).await?;
        }
        // Past IV appointments of the course before today: signed and locked sessions, once.
        // Today's is the session in progress (below).
        let tz = site.zone.clone();
        let from = now - SignedDuration::from_hours(24 * 8);
        // ok: only the calendar's last day has no end; the demo then signs sessions up to now.
        let until = local_day(now, &tz).map_or(now, |(today, _)| today);
        let past = self
            .appointments(
                &system,
                &site.id,
                from,
                until.min(now - mins(180)),
                None,
                Some(&iv.patient_id),
                now,
            )
            .await?;
        for (n, a) in past
            .iter()
            .filter(|a| {
                a.status == AppointmentStatus::Booked && a.course_id.as_ref() == Some(&iv.id)
            })
            .enumerate()
        {
            if self
                .session_of_appointment(&site.id, &a.id)
                .await?
                .is_some()
            {
                continue;
            }
            // The course's PHQ-9 before the session, and 24 hours after the first, as its plan
            // asks: falling over the week, as the weekly scores do.
            // ok: a course with more past sessions than the table has answers repeats its last
            // (the demo's course has at most six sessions).
            let (before, after) = DEMO_SESSION_PHQ9
                .get(n)
                .copied()
                .unwrap_or(DEMO_SESSION_PHQ9[DEMO_SESSION_PHQ9.len() - 1]);
            self.demo_phq9(
                site,
                iv,
                &nurse,
                &before,
                TimePoint::BeforeSession,
                a.starts_at - mins(15),
            )
            .await?;
            if let Some(after) = after
                && a.starts_at + mins(24 * 60) < now
            {
                self.demo_phq9(
                    site,
                    iv,
                    &nurse,
                    &after,
                    TimePoint::After24h,
                    a.starts_at + mins(24 * 60),
                )
                .await?;
            }
            let readings = [
                (10, bp(134, 84, 80, 98, 15)),
                (20, bp(142, 88, 82, 97, 14)),
                (30, bp(146, 90, 84, 97, 14)),
                (40, bp(148, 90, 84, 97, 14)),
                (55, bp(132, 82, 78, 98, 15)),
                (70, bp(126, 80, 76, 98, 15)),
            ];
            let plan = Plan {
                course: iv,
                appointment: &a.id,
                at: a.starts_at,
                weight_kg: 78.0,
                baseline: bp(124, 80, 76, 98, 15),
                readings: &readings,
                stop_after: Some(40),
                close_after: Some(75),
            };
            self.demo_session(site, &plan, &nurse, &doctor, &doctor_user.id)
                .await?;
        }
        let chairs = self.demo_live_chairs(site, &system, now).await?;
        if let Some(course) = waiting {
            self.demo_waiting(site, &system, course, &chairs.2, &tz, now)
                .await?;
        }
        // Two sessions in progress, unless some were started in the last three hours.
        let recent = self
            .board_sessions(&site.id)
            .await?
            .into_iter()
            .any(|s| s.checked_in_at > now - mins(180));
        if recent {
            return Ok(());
        }
        for (course, chair, back, weight, readings, stop) in [
            (
                iv,
                &chairs.0,
                25,
                78.0,
                &[(8, bp(138, 86, 82, 98, 15)), (16, bp(186, 98, 92, 97, 14))][..],
                None,
            ),
            // Two hours into monitoring: ready for discharge once the REMS form is filled.
            (
                esk,
                &chairs.1,
                130,
                84.0,
                &[
                    (20, bp(136, 86, 80, 97, 14)),
                    (40, bp(142, 90, 82, 97, 14)),
                    (60, bp(134, 84, 78, 98, 15)),
                    (90, bp(130, 82, 76, 98, 15)),
                    (120, bp(128, 80, 76, 98, 15)),
                ][..],
                Some(10),
            ),
        ] {
            let start = now - mins(back);
            // The always-open chairs are booked day by day: a slot ends by local midnight.
            // ok: without a next day (the calendar's end) the slot keeps its full length.
            let midnight =
                local_day(start, &tz).map(|(_, end)| end - SignedDuration::from_millis(1));
            let end = midnight.map_or(start + mins(180), |m| m.min(start + mins(180)));
            let new = course_appointment(course, chair, start, end);
            let Some(appointment) = self
                .demo_live_appointment(site, &system, course, &new, &tz, now)
                .await?
            else {
                continue;
            };
            let plan = Plan {
                course,
                appointment: &appointment,
                at: start,
                weight_kg: weight,
                baseline: bp(126, 80, 76, 98, 15),
                readings,
                stop_after: stop,
                close_after: None,
            };
            self.demo_session(site, &plan, &nurse, &doctor, &doctor_user.id)
                .await?;
        }
        Ok(())
    }

    /// Records a PHQ-9 of the demo course's patient with `answers` at `time_point`, taken and
    /// entered by `nurse` at `at`. Fictional answers, valid by construction (the demo's tests
    /// score them); a refusal (the same answers within minutes) adds nothing.
    async fn demo_phq9(
        &self,
        site: &Site,
        course: &CourseRecord,
        nurse: &Actor,
        answers: &[i64; 9],
        time_point: TimePoint,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let Ok(result) = clinical::instruments::score(InstrumentId::Phq9, answers) else {
            return Ok(());
        };
        // ok: a refusal means these answers were recorded at this time already.
        let _ = self
            .record_assessment(
                crate::assessments::EnteredBy::Staff(nurse),
                &site.id,
                &course.patient_id,
                &result,
                time_point,
                at,
                clinical::instruments::recording::Intent::default(),
                at,
            )
            .await?;
        Ok(())
    }

    /// Screens the patient of a demo course and records a prescriber's decision that they are
    /// eligible, [`DEMO_SCREENED_DAYS`] before `now`, once: a patient is checked in only once
    /// decided eligible. The findings are the screening's own for a patient with nothing to
    /// declare, a blood pressure of 124/80 and two failed antidepressant trials.
    pub(crate) async fn demo_screening(
        &self,
        site: &Site,
        course: &CourseRecord,
        prescriber: &Actor,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let screenings = self
            .screenings(prescriber, &site.id, &course.patient_id, now)
            .await?;
        if screenings.iter().any(|s| s.decision().is_some()) {
            return Ok(());
        }
        let patient = self.fetch_patient(&site.id, &course.patient_id).await?;
        let at = now - SignedDuration::from_hours(24 * DEMO_SCREENED_DAYS);
        let today = at.to_zoned(site.zone.clone()).date();
        let age = clinical::patient::age_on(patient.date_of_birth, today);
        let input = clinical::screening::ScreeningInput {
            blood_pressure: clinical::screening::BloodPressure {
                systolic_mmhg: Some(124),
                diastolic_mmhg: Some(80),
            },
            adequate_trials: Some(2),
            // ok: registration refuses a birth date after today, so the age is never negative.
            ..clinical::screening::ScreeningInput::for_age(u32::try_from(age).unwrap_or(0))
        };
        let findings =
            clinical::screening::screen(&input, &clinical::screening::ScreeningSettings::default());
        let Ok(decision) = clinical::screening::check_decision(
            &findings,
            "eligible",
            "Screened at intake: no contraindication found, two failed antidepressant trials.",
            "",
        ) else {
            // ok: a demo patient whose screening found an absolute contraindication stays
            // undecided, and is not checked in.
            return Ok(());
        };
        let id = self
            .record_screening(
                prescriber,
                &site.id,
                &course.patient_id,
                &input,
                &findings,
                at,
            )
            .await?;
        self.decide_screening(prescriber, &site.id, &course.patient_id, &id, &decision, at)
            .await?;
        Ok(())
    }

    pub(crate) async fn demo_consent(
        &self,
        site: &Site,
        course: &CourseRecord,
        witness: &Actor,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let Some(doc) = self.consent_documents(&site.id).await?.into_iter().next() else {
            return Ok(());
        };
        let status = self
            .consent_status(witness, &site.id, &course.patient_id, now)
            .await?;
        if !status.signed_current() {
            let signed = now - SignedDuration::from_hours(24 * DEMO_SCREENED_DAYS);
            let _ = self
                .sign_consent(
                    witness,
                    &site.id,
                    &course.patient_id,
                    doc.version,
                    &course.patient_name,
                    signed,
                )
                .await?;
        }
        Ok(())
    }

    /// Two IV chairs and a nasal chair open every day around the clock, so the demo's sessions
    /// in progress and its waiting patient can be booked whenever the demo starts.
    async fn demo_live_chairs(
        &self,
        site: &Site,
        system: &Actor,
        now: Timestamp,
    ) -> Result<(ChairId, ChairId, ChairId), StoreError> {
        const LIVE: [(&str, Product); 3] = [
            ("Demo IV (24 h)", Product::IvRacemic),
            ("Demo nasal (24 h)", Product::EsketamineNasal),
            ("Demo IV 2 (24 h)", Product::IvRacemic),
        ];
        let chairs = self.chairs(&site.id).await?;
        let mut room: Option<String> = None;
        let hours = OpeningHours::every_day_all_day();
        let mut ids = Vec::with_capacity(LIVE.len());
        for (name, product) in LIVE {
            if let Some(c) = chairs.iter().find(|c| c.name == name) {
                ids.push(c.id.clone());
                continue;
            }
            // A demo seeded by an earlier version has the first two chairs and not the third.
            let room_id = match &room {
                Some(id) => id.clone(),
                None => {
                    let id = match self
                        .rooms(&site.id)
                        .await?
                        .into_iter()
                        .find(|(_, n)| n == "Room C")
                    {
                        Some((id, _)) => id,
                        None => self.create_room(system, &site.id, "Room C", now).await?,
                    };
                    room = Some(id.clone());
                    id
                }
            };
            let new = NewChair {
                room_id: &room_id,
                name,
                supports: &[product],
                hours: &hours,
            };
            ids.push(self.create_chair(system, &site.id, &new, now).await?);
        }
        let mut ids = ids.into_iter();
        match (ids.next(), ids.next(), ids.next()) {
            (Some(a), Some(b), Some(c)) => Ok((a, b, c)),
            _ => Err(StoreError::NotFound { entity: "chair" }),
        }
    }

    /// The demo's waiting room: the waiting patient's weekly session today on an always-open
    /// chair, marked arrived by the front desk a few minutes ago and not checked in yet, so the
    /// chair board shows someone waiting. Nothing is added when she already has an appointment
    /// of her course today (waiting, checked in or cancelled by someone trying the demo).
    /// The appointment of a demo session in progress: `new`, booked; or the patient's own
    /// course appointment when it overlaps `new`. When the course has a session that day
    /// already, or all its sessions booked, its next session not yet checked in is moved here
    /// (cancelled as moved, then booked now), so the course keeps one session a day and no
    /// more sessions than it plans. `None` when nothing can be booked (a chair taken by
    /// someone trying the demo): the demo then has one session fewer in progress.
    async fn demo_live_appointment(
        &self,
        site: &Site,
        system: &Actor,
        course: &CourseRecord,
        new: &NewAppointment<'_>,
        tz: &jiff::tz::TimeZone,
        now: Timestamp,
    ) -> Result<Option<AppointmentId>, StoreError> {
        let Some((today, _)) = local_day(new.starts_at, tz) else {
            // ok: only the calendar's last day has no end; the demo then has one session fewer.
            return Ok(None);
        };
        for _ in 0..2 {
            let refusal = match self.book(system, &site.id, new, tz, now).await? {
                Ok(a) => return Ok(Some(a.id)),
                Err(crate::BookingRefusal::PatientTaken { with, .. }) => return Ok(Some(with)),
                Err(
                    r @ (crate::BookingRefusal::SameDay { .. }
                    | crate::BookingRefusal::CourseFull { .. }),
                ) => r,
                Err(_) => return Ok(None),
            };
            let ahead = self
                .appointments(
                    system,
                    &site.id,
                    today,
                    today + mins(60 * 24 * 366),
                    None,
                    Some(&course.patient_id),
                    now,
                )
                .await?;
            let open = ahead.into_iter().filter(|a| {
                a.course_id.as_ref() == Some(&course.id)
                    && a.status == AppointmentStatus::Booked
                    && a.session_id.is_none()
            });
            // That day's session, or else the course's next one after now.
            let moved = match &refusal {
                crate::BookingRefusal::SameDay { with, .. } => {
                    open.into_iter().find(|a| a.id == *with)
                }
                _ => open
                    .filter(|a| a.starts_at > new.starts_at)
                    .min_by_key(|a| a.starts_at),
            };
            // A session that day already checked in (the demo started again later that day):
            // none in progress now.
            let Some(moved) = moved else {
                return Ok(None);
            };
            if moved.starts_at <= new.starts_at && new.starts_at < moved.ends_at {
                return Ok(Some(moved.id));
            }
            // ok: an appointment closed meanwhile is closed either way; booking again says
            // whether there is room now.
            let _ = self
                .close_appointment(
                    system,
                    &site.id,
                    &moved.id,
                    AppointmentStatus::Cancelled,
                    "moved to a chair open all day, for the demo's session in progress",
                    now,
                )
                .await?;
        }
        Ok(None)
    }

    async fn demo_waiting(
        &self,
        site: &Site,
        system: &Actor,
        course: &CourseRecord,
        chair: &ChairId,
        tz: &jiff::tz::TimeZone,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let Some((from, until)) = local_day(now, tz) else {
            // ok: only the calendar's last day has no tomorrow; the demo then has no one waiting.
            return Ok(());
        };
        let booked = self
            .appointments(
                system,
                &site.id,
                from,
                until,
                None,
                Some(&course.patient_id),
                now,
            )
            .await?;
        if booked
            .iter()
            .any(|a| a.course_id.as_ref() == Some(&course.id))
        {
            return Ok(());
        }
        // Booked for ten minutes from now; late in the evening, for the minutes just gone.
        let soon = now + mins(10);
        let start = if soon + mins(60) < until {
            soon
        } else {
            (now - mins(10)).max(from)
        };
        let end = (start + mins(120)).min(until - SignedDuration::from_millis(1));
        let new = course_appointment(course, chair, start, end);
        let Ok(appointment) = self.book(system, &site.id, &new, tz, now).await? else {
            // ok: a chair taken by someone trying the demo leaves the waiting room empty.
            return Ok(());
        };
        let desk = match self.user_by_email("frontdesk@example.org").await? {
            Some(user) => Actor::user(&user),
            None => system.clone(),
        };
        self.mark_arrived(
            &desk,
            &site.id,
            &appointment.id,
            (from, until),
            now - mins(3),
        )
        .await?;
        Ok(())
    }

    pub(crate) async fn demo_session(
        &self,
        site: &Site,
        plan: &Plan<'_>,
        nurse: &Actor,
        doctor: &Actor,
        second: &crate::row::UserId,
    ) -> Result<(), StoreError> {
        let settings = AlertSettings::default();
        let sid: &SiteId = &site.id;
        let t = plan.at;
        let tz = site.zone.clone();
        // ok: only the calendar's last day has no next; the demo then has no session.
        let Some(day) = local_day(t, &tz) else {
            return Ok(());
        };
        let Ok(id) = self.check_in(nurse, sid, plan.appointment, day, t).await? else {
            return Ok(());
        };
        let pre = PreAssessment {
            weight_kg: plan.weight_kg,
            escort: true,
            fasting: true,
            pregnancy_test: clinical::session::PregnancyTest::NotApplicable,
            note: None,
            vitals: plan.baseline,
        };
        if self
            .pre_assess(nurse, sid, &id, &pre, &settings, t + mins(2))
            .await?
            .is_err()
        {
            return Ok(());
        }
        let Some(order) = plan.course.order() else {
            return Ok(());
        };
        let esketamine = plan.course.product.is_esketamine();
        let (dose_mg, infusion) = match order.dose {
            TargetDose::MgPerKg(per_kg) => {
                let mg = per_kg * plan.weight_kg;
                // 40 minutes from a 10 mg/mL vial into a 100 mL bag.
                let total_ml = 100.0 + mg / 10.0;
                (
                    mg,
                    Some((40.0, total_ml * 60.0 / 40.0, mg * 60.0 / 40.0, 10.0)),
                )
            }
            TargetDose::Mg(mg) => (mg, None),
        };
        // The dose is drawn from the demo's stock (an opened vial first).
        let rule = clinical::ledger::StockRule {
            today: t.to_zoned(tz.clone()).date(),
            zone: tz.clone(),
            opened_vial_days: clinical::ledger::OPENED_VIAL_DAYS,
        };
        let mut containers = Vec::new();
        if let Some(lot) = self.lots_in_stock(sid, esketamine, &rule).await?.first()
            && let Ok(ids) = self.pick_containers(sid, &lot.id, dose_mg, &rule).await?
        {
            containers = ids;
        }
        let lot_number = if esketamine { "ESK-24117" } else { "KET-88210" };
        // ok: a constant that passes the check; were it refused, the demo lot stays blank.
        let lot = LotNumber::parse(lot_number).ok().flatten();
        let verify = DoseVerification {
            order_id: &order.id,
            dose_mg,
            caps: &pk::dose::DoseCaps::default(),
            min_infusion_min: pk::dose::DEFAULT_MIN_INFUSION_MIN,
            infusion,
            lot,
            second_verifier: (!esketamine).then_some(second),
            override_reason: None,
            containers: &containers,
            rule: &rule,
        };
        let _ = self
            .verify_dose(nurse, sid, &id, &verify, t + mins(4))
            .await?;
        let start = t + mins(5);
        // Dissociation and sedation at the default set times the session has reached: none
        // before dosing, moderate dissociation and light sedation at 40 minutes.
        let reached = plan.readings.last().map_or(0, |r| r.0);
        let scales = ScaleSettings::default();
        for (minute, cadss, moaas) in [(0_u32, [0; 6], 5), (40, [2, 2, 1, 1, 1, 1], 4)] {
            if i64::from(minute) > reached {
                continue;
            }
            let at = if minute == 0 {
                start - mins(1)
            } else {
                start + mins(i64::from(minute))
            };
            for (instrument, answers) in [
                (InstrumentId::Cadss6, cadss.to_vec()),
                (InstrumentId::Moaas, vec![moaas]),
            ] {
                if let Ok(score) = clinical::instruments::score(instrument, &answers) {
                    let _ = self
                        .record_session_scale(nurse, sid, &id, &score, minute, &scales, at)
                        .await?;
                }
            }
        }
        let _ = self
            .pump(nurse, sid, &id, Step::Start, None, None, start)
            .await?;
        // Administration stops once, before the first reading taken after it.
        let mut stop = plan.stop_after;
        for (m, v) in plan.readings {
            if let Some(at) = stop.filter(|s| s <= m) {
                let _ = self
                    .pump(nurse, sid, &id, Step::Stop, None, None, start + mins(at))
                    .await?;
                stop = None;
            }
            let at = start + mins(*m);
            let _ = self
                .record_vitals(nurse, sid, &id, &[(at, *v)], "hand", None, &settings, at)
                .await?;
        }
        if let Some(at) = stop {
            let _ = self
                .pump(nurse, sid, &id, Step::Stop, None, None, start + mins(at))
                .await?;
        }
        let Some(close) = plan.close_after else {
            return Ok(());
        };
        let checklist = Checklist {
            alert_and_oriented: true,
            no_active_nausea: true,
            escort_present: true,
            vitals_near_baseline: true,
        };
        let _ = self
            .discharge(nurse, sid, &id, &checklist, &settings, start + mins(close))
            .await?;
        // What is left in an opened vial is wasted at the end, witnessed by the prescriber.
        if !esketamine {
            for c in self.cs_containers_among(sid, &containers).await? {
                if c.balance_mg > 0.0 && c.balance_mg < c.full_mg {
                    let waste = NewEntry {
                        witness: Some(Witness {
                            email: "prescriber@example.org",
                            password: crate::DEMO_PASSWORD,
                            sign_in: &crate::LoginSettings {
                                demo_mode: true,
                                ..crate::LoginSettings::default()
                            },
                        }),
                        method: Some("emptied into the waste container"),
                        ..NewEntry::new(EntryKind::Waste, &c.id, c.balance_mg)
                    };
                    let today = (start + mins(close))
                        .to_zoned(jiff::tz::TimeZone::UTC)
                        .date();
                    let _ = self
                        .write_ledger_entry(nurse, sid, &waste, true, today, start + mins(close))
                        .await?;
                }
            }
        }
        if esketamine {
            let answers = RemsAnswers {
                benzodiazepines: Some(false),
                sedative_hypnotics: Some(false),
                psychostimulants: Some(false),
                maois: Some(false),
                opioids: Some(false),
                first_treatment: Some(false),
                vitals_ok_before: Some(true),
                vitals_ok_end: Some(true),
                sedation: Some(false),
                dissociation: Some(true),
                respiratory_depression: Some(false),
                ready_to_leave_min: Some(90),
            };
            let _ = self
                .save_rems_answers(nurse, sid, &id, &answers, None, start + mins(close))
                .await?;
        }
        let _ = self
            .lock_session(doctor, sid, &id, start + mins(close + 5))
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_sessions_phq9_answers_score_and_raise_no_safety_flag() {
        let mut totals = Vec::new();
        for (before, after) in DEMO_SESSION_PHQ9 {
            for answers in [Some(before), after].into_iter().flatten() {
                let result = clinical::instruments::score(InstrumentId::Phq9, &answers).unwrap();
                assert!(result.flags.is_empty(), "{answers:?}: {:?}", result.flags);
                totals.push(result.total);
            }
        }
        assert_eq!(totals, [7, 5, 6, 5]);
    }
}
