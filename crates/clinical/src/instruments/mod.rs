//! Rating instruments: what each one asks, how it is scored, what its scores mean.
//!
//! Every instrument is an [`Instrument`] value: its items with short labels written for
//! Ketaflow (the licensed wording is content a clinic loads, see [`content`]), the answer range,
//! severity bands, safety items, response and remission rules relative to a baseline, the
//! minimal important change where one is published, LOINC codes and licence status.
//! Every number cites its source on the definition in [`defs`].
//!
//! Where to start: [`score`] turns answers into a [`Score`]; [`outcome`] compares a score with a
//! baseline; [`Instrument::get`] looks a definition up by its id (`phq9`, `gad7`, ...).

pub mod content;
pub mod defs;
pub mod outcome;
pub mod recording;
pub mod schedule;
mod scoring;

#[cfg(test)]
mod tests;

pub use outcome::{ChangeRule, Outcome, outcome};
pub use scoring::{
    AdditivePoints, Flag, Pcl5Detail, Score, ScoreError, additive_points, parse_answers, score,
};

/// The instruments Ketaflow scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum InstrumentId {
    /// Patient Health Questionnaire, 9 items (depression).
    Phq9,
    /// Generalized Anxiety Disorder, 7 items.
    Gad7,
    /// PTSD Checklist for DSM-5.
    Pcl5,
    /// Montgomery–Åsberg Depression Rating Scale (clinician).
    Madrs,
    /// Quick Inventory of Depressive Symptomatology, self-report, 16 items.
    QidsSr16,
    /// Edinburgh Postnatal Depression Scale.
    Epds,
    /// Yale–Brown Obsessive Compulsive Scale (severity scale).
    Ybocs,
    /// Clinician-Administered Dissociative States Scale, 6-item short form.
    Cadss6,
    /// Modified Observer's Assessment of Alertness/Sedation (0–5 form).
    Moaas,
    /// Richmond Agitation–Sedation Scale.
    Rass,
    /// Pain numeric rating scale, 0–10.
    PainNrs,
    /// Brief Psychiatric Rating Scale, four positive-symptom items.
    BprsPositive,
}

impl InstrumentId {
    /// Every instrument, in the order lists show them.
    pub const ALL: [InstrumentId; 12] = [
        InstrumentId::Phq9,
        InstrumentId::Gad7,
        InstrumentId::Pcl5,
        InstrumentId::Madrs,
        InstrumentId::QidsSr16,
        InstrumentId::Epds,
        InstrumentId::Ybocs,
        InstrumentId::Cadss6,
        InstrumentId::Moaas,
        InstrumentId::Rass,
        InstrumentId::PainNrs,
        InstrumentId::BprsPositive,
    ];

    /// Whether it rates the treatment's acute effect at the moment it is taken (dissociation,
    /// sedation, agitation, psychotic symptoms, "right now"), not the condition treated: its
    /// scores are read within their session, and a later score is neither improvement nor
    /// worsening against an earlier one. CADSS-6 and the BPRS positive items watch for
    /// dissociative and psychotic effects in ketamine trials, MOAA/S and RASS rate sedation
    /// (see each definition's source).
    pub fn rates_acute_effect(self) -> bool {
        matches!(
            self,
            InstrumentId::Cadss6
                | InstrumentId::Moaas
                | InstrumentId::Rass
                | InstrumentId::BprsPositive
        )
    }

    /// The id used on the command line, in the API and in the database.
    pub fn code(self) -> &'static str {
        match self {
            InstrumentId::Phq9 => "phq9",
            InstrumentId::Gad7 => "gad7",
            InstrumentId::Pcl5 => "pcl5",
            InstrumentId::Madrs => "madrs",
            InstrumentId::QidsSr16 => "qids_sr16",
            InstrumentId::Epds => "epds",
            InstrumentId::Ybocs => "ybocs",
            InstrumentId::Cadss6 => "cadss6",
            InstrumentId::Moaas => "moaas",
            InstrumentId::Rass => "rass",
            InstrumentId::PainNrs => "pain_nrs",
            InstrumentId::BprsPositive => "bprs_positive",
        }
    }

    /// Parses an id; the error lists the ids that exist.
    pub fn parse(input: &str) -> Result<InstrumentId, ScoreError> {
        let wanted = input.trim().to_ascii_lowercase();
        InstrumentId::ALL
            .into_iter()
            .find(|i| i.code() == wanted)
            .ok_or_else(|| ScoreError::UnknownInstrument {
                input: crate::text::shown(input),
            })
    }

    /// The definition.
    pub fn instrument(self) -> &'static Instrument {
        defs::definition(self)
    }
}

/// Who completes an instrument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rater {
    /// The patient, on paper, in the clinic or by a link at home.
    Patient,
    /// A clinician, by interview or observation.
    Clinician,
}

/// One item: its number on the standard form and a short label of Ketaflow's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Item {
    /// Position on the standard form, from 1.
    pub number: u8,
    /// A few words naming what the item is about (not the licensed wording).
    pub label: &'static str,
}

/// A labelled answer value (for instruments whose answers share one scale).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnswerOption {
    /// The number beside the option on the standard form.
    pub value: i8,
    /// A short label of Ketaflow's own.
    pub label: &'static str,
}

/// A severity band of the total score, inclusive at both ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Band {
    /// Lowest total in the band.
    pub min: i32,
    /// Highest total in the band.
    pub max: i32,
    /// Machine code, such as `moderately_severe`.
    pub code: &'static str,
    /// Words for people, such as "Moderately severe".
    pub label: &'static str,
}

/// Whether Ketaflow may show an instrument's licensed wording without the clinic's own licence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LicenceStatus {
    /// Free to use and reproduce.
    Free,
    /// Public domain.
    PublicDomain,
    /// The copyright holder's permission is needed to reproduce the wording.
    PermissionRequired,
    /// Not confirmed; treat as permission required.
    Unconfirmed,
}

/// The remission rule: a total at or below a threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Remission {
    /// The highest total that counts as remission.
    pub at_most: i32,
}

/// An instrument's definition.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Instrument {
    /// Identifier.
    pub id: InstrumentId,
    /// Full name.
    pub name: &'static str,
    /// Short name shown in tables and charts.
    pub short_name: &'static str,
    /// Who completes it.
    pub rater: Rater,
    /// The period the answers describe.
    pub recall: &'static str,
    /// Items in form order.
    pub items: &'static [Item],
    /// Lowest answer value of every item.
    pub answer_min: i8,
    /// Highest answer value of every item.
    pub answer_max: i8,
    /// Labelled answer values, when all items share one scale (empty otherwise).
    pub options: &'static [AnswerOption],
    /// Severity bands of the total (empty where none are published).
    pub bands: &'static [Band],
    /// How response is judged against a baseline, where a rule is published.
    pub response: Option<ChangeRule>,
    /// How remission is judged, where a rule is published.
    pub remission: Option<Remission>,
    /// The smallest change that matters to patients, where one is published.
    pub minimal_important_change: Option<ChangeRule>,
    /// Whether a lower total is better (true for every instrument here but MOAA/S).
    pub lower_is_better: bool,
    /// LOINC code of the panel, where one exists.
    pub loinc_panel: Option<&'static str>,
    /// LOINC code of the total score, where one exists.
    pub loinc_total: Option<&'static str>,
    /// Licence status of the wording.
    pub licence: LicenceStatus,
    /// Who holds the copyright and what the licence says.
    pub licence_note: &'static str,
    /// Version of Ketaflow's scoring of this instrument, stored with every result.
    pub scoring_version: &'static str,
}

impl Instrument {
    /// The definition of an instrument by its id text.
    pub fn get(code: &str) -> Result<&'static Instrument, ScoreError> {
        InstrumentId::parse(code).map(InstrumentId::instrument)
    }

    /// Lowest and highest possible totals.
    pub fn total_range(&self) -> (i32, i32) {
        match self.id {
            // Nine domains of 0–3, not sixteen items.
            InstrumentId::QidsSr16 => (0, 27),
            _ => {
                let n = self.items.len() as i32;
                (
                    n * i32::from(self.answer_min),
                    n * i32::from(self.answer_max),
                )
            }
        }
    }

    /// The band a total falls in.
    pub fn band(&self, total: i32) -> Option<&'static Band> {
        self.bands.iter().find(|b| (b.min..=b.max).contains(&total))
    }
}
