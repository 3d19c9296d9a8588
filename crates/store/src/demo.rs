//! Demo data: a fictional clinic, one account per role and a handful of fictional patients.
//!
//! Seeding is idempotent and refuses a database that holds anything real.

use clinical::consent::ConsentText;
use clinical::instruments::schedule::TimePoint;
use clinical::instruments::{InstrumentId, score};
use clinical::patient::{Email, PatientInput};
use jiff::SignedDuration;
use jiff::civil::Date;

use crate::assessments::EnteredBy;
use crate::audit::Actor;
use crate::row::{PatientId, SiteId};
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
const DEMO_PATIENTS: [(&str, &str, &str, &str, &str); 6] = [
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
];

/// Fictional weekly PHQ-9 and GAD-7 answers for the first demo patients, oldest first: a
/// baseline three weeks ago and weekly follow-ups, so the demo shows trajectories, response,
/// remission and one open safety alert (the last PHQ-9 of the second patient).
const DEMO_COURSES: [(usize, InstrumentId, [[i64; 9]; 4]); 3] = [
    (
        0,
        InstrumentId::Phq9,
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
        for (which, instrument, weeks) in DEMO_COURSES {
            if which != index {
                continue;
            }
            let items = instrument.instrument().items.len();
            for (week, answers) in weeks.iter().enumerate() {
                let Ok(result) = score(instrument, &answers[..items]) else {
                    continue;
                };
                let days_ago = 21 - 7 * week as i64;
                let at = now - SignedDuration::from_hours(24 * days_ago + 2);
                let time_point = if week == 0 {
                    TimePoint::Baseline
                } else {
                    TimePoint::Weekly
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
                let record = self
                    .insert_patient(&actor, &site.id, &patient, None, true, now)
                    .await?;
                self.seed_demo_course(&actor, &site.id, &record.id, patients_created, now)
                    .await?;
                patients_created += 1;
            }
        }
        if self.consent_documents(&site.id).await?.is_empty() {
            // The demo text is a constant long enough to pass; the unit test below proves it.
            if let Ok(text) = ConsentText::parse(DEMO_CONSENT_TITLE, DEMO_CONSENT) {
                self.publish_consent(&actor, &site.id, &text, now).await?;
            }
        }
        Ok(DemoSeed {
            site,
            users_created,
            patients_created,
        })
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
        for (_, instrument, weeks) in DEMO_COURSES {
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
}
