//! The definitions, with the source of every number.
//!
//! Item labels are Ketaflow's own few words, not the instruments' wording.
//! Sources are the ones collected in the project's clinical dossier, each checked there
//! (marked ✔); where the dossier marks a fact unconfirmed, no rule is encoded here and the
//! field is `None`, rather than a guess.

use super::outcome::ChangeRule;
use super::{AnswerOption, Band, Instrument, InstrumentId, Item, LicenceStatus, Rater, Remission};

const fn item(number: u8, label: &'static str) -> Item {
    Item { number, label }
}

const fn band(min: i32, max: i32, code: &'static str, label: &'static str) -> Band {
    Band {
        min,
        max,
        code,
        label,
    }
}

const fn opt(value: i8, label: &'static str) -> AnswerOption {
    AnswerOption { value, label }
}

/// How often over the recall period, 0–3: the answer scale of PHQ-9 and GAD-7.
/// Source: PHQ-9 response options, Kroenke, Spitzer & Williams 2001 (J Gen Intern Med 16:606).
const FREQUENCY_0_3: &[AnswerOption] = &[
    opt(0, "Not at all"),
    opt(1, "Several days"),
    opt(2, "More than half the days"),
    opt(3, "Nearly every day"),
];

/// PHQ-9.
///
/// - Severity bands 0–4, 5–9, 10–14, 15–19, 20–27: Kroenke 2001; LOINC answer list LL382-3.
/// - Response: a fall of at least 50 % from baseline; remission: total below 5
///   (Psychiatric Services 2019, doi:10.1176/appi.ps.201900295).
/// - Minimal important change: 5 points for an individual (twice the standard error of
///   measurement; Löwe et al. 2004, Med Care 42:1194).
/// - Item 9 above 0 needs same-day follow-up whatever the total (see [`super::Flag`]).
/// - LOINC: panel 44249-1, total 44261-6.
/// - Licence: Pfizer, free to use without permission since 2010.
pub static PHQ9: Instrument = Instrument {
    id: InstrumentId::Phq9,
    name: "Patient Health Questionnaire-9",
    short_name: "PHQ-9",
    rater: Rater::Patient,
    recall: "past 2 weeks",
    items: &[
        item(1, "Little interest or pleasure"),
        item(2, "Down or hopeless"),
        item(3, "Sleep too little or too much"),
        item(4, "Tired, low energy"),
        item(5, "Appetite changed"),
        item(6, "Feeling a failure"),
        item(7, "Hard to concentrate"),
        item(8, "Slowed down or restless"),
        item(9, "Thoughts of death or self-harm"),
    ],
    answer_min: 0,
    answer_max: 3,
    options: FREQUENCY_0_3,
    bands: &[
        band(0, 4, "minimal", "Minimal"),
        band(5, 9, "mild", "Mild"),
        band(10, 14, "moderate", "Moderate"),
        band(15, 19, "moderately_severe", "Moderately severe"),
        band(20, 27, "severe", "Severe"),
    ],
    response: Some(ChangeRule::PercentReduction(50)),
    remission: Some(Remission { at_most: 4 }),
    minimal_important_change: Some(ChangeRule::Points(5)),
    lower_is_better: true,
    loinc_panel: Some("44249-1"),
    loinc_total: Some("44261-6"),
    licence: LicenceStatus::Free,
    licence_note: "© Pfizer; free to reproduce and use without permission",
    scoring_version: "phq9/1",
};

/// GAD-7.
///
/// - Severity bands 0–4, 5–9, 10–14, 15–21: Spitzer et al. 2006 (Arch Intern Med 166:1092).
/// - Minimal important change: 4 points (Toussaint et al. 2020, J Affect Disord 265:395).
/// - No published response or remission rule (the dossier marks the usual PHQ-9 analogy
///   unconfirmed), so none is applied.
/// - LOINC: panel 69737-5, total 70274-6. Licence: Pfizer, free.
pub static GAD7: Instrument = Instrument {
    id: InstrumentId::Gad7,
    name: "Generalized Anxiety Disorder-7",
    short_name: "GAD-7",
    rater: Rater::Patient,
    recall: "past 2 weeks",
    items: &[
        item(1, "Nervous or on edge"),
        item(2, "Cannot stop worrying"),
        item(3, "Worrying about many things"),
        item(4, "Trouble relaxing"),
        item(5, "Too restless to sit still"),
        item(6, "Easily annoyed"),
        item(7, "Afraid something awful will happen"),
    ],
    answer_min: 0,
    answer_max: 3,
    options: FREQUENCY_0_3,
    bands: &[
        band(0, 4, "minimal", "Minimal"),
        band(5, 9, "mild", "Mild"),
        band(10, 14, "moderate", "Moderate"),
        band(15, 21, "severe", "Severe"),
    ],
    response: None,
    remission: None,
    minimal_important_change: Some(ChangeRule::Points(4)),
    lower_is_better: true,
    loinc_panel: Some("69737-5"),
    loinc_total: Some("70274-6"),
    licence: LicenceStatus::Free,
    licence_note: "© Pfizer; free to reproduce and use without permission",
    scoring_version: "gad7/1",
};

/// PCL-5.
///
/// - Items 0–4; clusters B (items 1–5), C (6–7), D (8–14), E (15–20); the DSM-5 rule counts an
///   item rated 2 or more as a symptom and needs at least 1 B, 1 C, 2 D and 2 E
///   (VA National Center for PTSD scoring guidance, via the dossier).
/// - No empirically derived severity bands are published.
/// - Provisional cut-point: totals of 31–33 are published; Ketaflow flags from
///   [`PCL5_PROVISIONAL_CUT`] (33, the upper end, so the flag is the more specific one).
/// - Minimal important difference 9–12 points (Blanchard et al. 2023, primary care); Ketaflow
///   takes the upper end, 12.
/// - LOINC: panel 101697-1, total 101698-9. Licence: public domain (VA staff work).
pub static PCL5: Instrument = Instrument {
    id: InstrumentId::Pcl5,
    name: "PTSD Checklist for DSM-5",
    short_name: "PCL-5",
    rater: Rater::Patient,
    recall: "past month",
    items: &[
        item(1, "Intrusive memories"),
        item(2, "Nightmares"),
        item(3, "Flashbacks"),
        item(4, "Upset by reminders"),
        item(5, "Body reacts to reminders"),
        item(6, "Avoids memories or feelings"),
        item(7, "Avoids outside reminders"),
        item(8, "Trouble remembering parts"),
        item(9, "Strong negative beliefs"),
        item(10, "Blaming self or others"),
        item(11, "Strong negative feelings"),
        item(12, "Lost interest in activities"),
        item(13, "Feeling distant from others"),
        item(14, "Hard to feel positive"),
        item(15, "Irritable or angry"),
        item(16, "Risky or self-destructive"),
        item(17, "Super alert, on guard"),
        item(18, "Easily startled"),
        item(19, "Hard to concentrate"),
        item(20, "Trouble with sleep"),
    ],
    answer_min: 0,
    answer_max: 4,
    options: &[
        opt(0, "Not at all"),
        opt(1, "A little bit"),
        opt(2, "Moderately"),
        opt(3, "Quite a bit"),
        opt(4, "Extremely"),
    ],
    bands: &[],
    response: None,
    remission: None,
    minimal_important_change: Some(ChangeRule::Points(12)),
    lower_is_better: true,
    loinc_panel: Some("101697-1"),
    loinc_total: Some("101698-9"),
    licence: LicenceStatus::PublicDomain,
    licence_note: "VA National Center for PTSD; public domain",
    scoring_version: "pcl5/1",
};

/// The PCL-5 total from which a provisional PTSD diagnosis is flagged: 33, the upper end of the
/// published 31–33 range (VA National Center for PTSD; comorbidityguidelines.org.au).
pub const PCL5_PROVISIONAL_CUT: i32 = 33;

/// MADRS.
///
/// - Ten clinician-rated items 0–6, total 0–60 (Montgomery & Åsberg 1979).
/// - Bands 0–6 normal, 7–19 mild, 20–34 moderate, 35–60 severe (Snaith et al. 1986).
/// - Response: a fall of at least 50 % from baseline. Remission: sources use below 10
///   (Hawley et al. 2002, n = 684), 10 or less, and 12 or less (esketamine trials, unconfirmed);
///   Ketaflow uses the strictest, 9 or less.
/// - No LOINC code found; licence not confirmed.
pub static MADRS: Instrument = Instrument {
    id: InstrumentId::Madrs,
    name: "Montgomery–Åsberg Depression Rating Scale",
    short_name: "MADRS",
    rater: Rater::Clinician,
    recall: "past week (a 24-hour variant is used after ketamine)",
    items: &[
        item(1, "Apparent sadness"),
        item(2, "Reported sadness"),
        item(3, "Inner tension"),
        item(4, "Reduced sleep"),
        item(5, "Reduced appetite"),
        item(6, "Concentration difficulties"),
        item(7, "Lassitude"),
        item(8, "Inability to feel"),
        item(9, "Pessimistic thoughts"),
        item(10, "Suicidal thoughts"),
    ],
    answer_min: 0,
    answer_max: 6,
    options: &[],
    bands: &[
        band(0, 6, "normal", "Normal"),
        band(7, 19, "mild", "Mild"),
        band(20, 34, "moderate", "Moderate"),
        band(35, 60, "severe", "Severe"),
    ],
    response: Some(ChangeRule::PercentReduction(50)),
    remission: Some(Remission { at_most: 9 }),
    minimal_important_change: None,
    lower_is_better: true,
    loinc_panel: None,
    loinc_total: None,
    licence: LicenceStatus::Unconfirmed,
    licence_note: "licence terms not confirmed; treat the wording as permission required",
    scoring_version: "madrs/1",
};

/// QIDS-SR16.
///
/// - Sixteen items 0–3 scored as nine domains: sleep = highest of items 1–4, appetite/weight =
///   highest of items 6–9, psychomotor = highest of items 15–16, and items 5, 10, 11, 12, 13, 14
///   as they are; total 0–27 (Rush et al. 2003; ids-qids.org).
/// - Bands 0–5 none, 6–10 mild, 11–15 moderate, 16–20 severe, 21–27 very severe (ids-qids.org).
/// - Remission 5 or less (STAR*D); response a fall of at least 50 % (ELEKT-D primary outcome).
/// - No LOINC code found. Licence: described as free for clinical use by a secondary source.
pub static QIDS_SR16: Instrument = Instrument {
    id: InstrumentId::QidsSr16,
    name: "Quick Inventory of Depressive Symptomatology, Self-Report",
    short_name: "QIDS-SR16",
    rater: Rater::Patient,
    recall: "past 7 days",
    items: &[
        item(1, "Falling asleep"),
        item(2, "Sleep during the night"),
        item(3, "Waking too early"),
        item(4, "Sleeping too much"),
        item(5, "Feeling sad"),
        item(6, "Less appetite"),
        item(7, "More appetite"),
        item(8, "Weight loss"),
        item(9, "Weight gain"),
        item(10, "Concentration, decisions"),
        item(11, "View of myself"),
        item(12, "Thoughts of death"),
        item(13, "General interest"),
        item(14, "Energy level"),
        item(15, "Feeling slowed down"),
        item(16, "Feeling restless"),
    ],
    answer_min: 0,
    answer_max: 3,
    options: &[],
    bands: &[
        band(0, 5, "none", "None"),
        band(6, 10, "mild", "Mild"),
        band(11, 15, "moderate", "Moderate"),
        band(16, 20, "severe", "Severe"),
        band(21, 27, "very_severe", "Very severe"),
    ],
    response: Some(ChangeRule::PercentReduction(50)),
    remission: Some(Remission { at_most: 5 }),
    minimal_important_change: None,
    lower_is_better: true,
    loinc_panel: None,
    loinc_total: None,
    licence: LicenceStatus::Unconfirmed,
    licence_note: "described as free for clinical use; confirm at ids-qids.org",
    scoring_version: "qids_sr16/1",
};

/// EPDS.
///
/// - Ten items; answers are the option positions 0–3 from the top of the form. Items 1, 2 and 4
///   score the position; items 3 and 5–10 are reverse-keyed and score 3 minus the position;
///   total 0–30 (Cox, Holden & Sagovsky 1987).
/// - Probable depression from a total of [`EPDS_PROBABLE_DEPRESSION`] (13); 10 is the cut for
///   higher sensitivity. Scored item 10 above 0 needs same-day follow-up.
/// - No severity bands or response rule are published for treatment monitoring.
/// - LOINC: panel 71354-5, total 99046-5 (the latter to be confirmed at loinc.org).
/// - Licence: © Royal College of Psychiatrists 1987; sources conflict on electronic use, so
///   Ketaflow treats the wording as permission required.
pub static EPDS: Instrument = Instrument {
    id: InstrumentId::Epds,
    name: "Edinburgh Postnatal Depression Scale",
    short_name: "EPDS",
    rater: Rater::Patient,
    recall: "past 7 days",
    items: &[
        item(1, "Able to laugh"),
        item(2, "Looking forward to things"),
        item(3, "Blaming myself"),
        item(4, "Anxious or worried"),
        item(5, "Scared or panicky"),
        item(6, "Things getting on top of me"),
        item(7, "So unhappy, hard to sleep"),
        item(8, "Sad or miserable"),
        item(9, "So unhappy, crying"),
        item(10, "Thoughts of harming myself"),
    ],
    answer_min: 0,
    answer_max: 3,
    options: &[],
    bands: &[],
    response: None,
    remission: None,
    minimal_important_change: None,
    lower_is_better: true,
    loinc_panel: Some("71354-5"),
    loinc_total: Some("99046-5"),
    licence: LicenceStatus::PermissionRequired,
    licence_note: "© Royal College of Psychiatrists 1987 (Cox, Holden, Sagovsky)",
    scoring_version: "epds/1",
};

/// The EPDS total from which probable depression is flagged (Cox et al. 1987: 12/13 threshold).
pub const EPDS_PROBABLE_DEPRESSION: i32 = 13;

/// Items of the EPDS scored 3 minus the option position (Cox et al. 1987).
pub(crate) const EPDS_REVERSED: [u8; 7] = [3, 5, 6, 7, 8, 9, 10];

/// Y-BOCS severity scale.
///
/// - Ten clinician-rated items 0–4: items 1–5 obsessions, 6–10 compulsions (time, interference,
///   distress, resistance, control); total 0–40 (Goodman et al. 1989).
/// - Bands 0–7 subclinical, 8–15 mild, 16–23 moderate, 24–31 severe, 32–40 extreme.
/// - Response: a fall of at least 35 % (Farris et al. 2013, PMC3959901). Remission: 12 or less
///   (international consensus, Mataix-Cols et al. 2016).
/// - No LOINC code. Licence: © Goodman, Rasmussen, Price; users must contact Dr Goodman.
pub static YBOCS: Instrument = Instrument {
    id: InstrumentId::Ybocs,
    name: "Yale–Brown Obsessive Compulsive Scale",
    short_name: "Y-BOCS",
    rater: Rater::Clinician,
    recall: "past week",
    items: &[
        item(1, "Obsessions: time"),
        item(2, "Obsessions: interference"),
        item(3, "Obsessions: distress"),
        item(4, "Obsessions: resistance"),
        item(5, "Obsessions: control"),
        item(6, "Compulsions: time"),
        item(7, "Compulsions: interference"),
        item(8, "Compulsions: distress"),
        item(9, "Compulsions: resistance"),
        item(10, "Compulsions: control"),
    ],
    answer_min: 0,
    answer_max: 4,
    options: &[],
    bands: &[
        band(0, 7, "subclinical", "Subclinical"),
        band(8, 15, "mild", "Mild"),
        band(16, 23, "moderate", "Moderate"),
        band(24, 31, "severe", "Severe"),
        band(32, 40, "extreme", "Extreme"),
    ],
    response: Some(ChangeRule::PercentReduction(35)),
    remission: Some(Remission { at_most: 12 }),
    minimal_important_change: None,
    lower_is_better: true,
    loinc_panel: None,
    loinc_total: None,
    licence: LicenceStatus::PermissionRequired,
    licence_note: "© Goodman, Rasmussen, Price; contact Dr Goodman for permission",
    scoring_version: "ybocs/1",
};

/// CADSS-6: items 1, 2, 6, 7, 15 and 22 of the 23-item CADSS, each 0–4, summed (Rodrigues et al.
/// 2021, J Affect Disord 282:160). No cut-off is published; the Spravato label's "total above 4"
/// belongs to the full scale and is not applied here. Licence not confirmed.
pub static CADSS6: Instrument = Instrument {
    id: InstrumentId::Cadss6,
    name: "Clinician-Administered Dissociative States Scale, 6-item",
    short_name: "CADSS-6",
    rater: Rater::Clinician,
    recall: "right now",
    items: &[
        item(1, "Things seem slowed down"),
        item(2, "Things seem unreal"),
        item(3, "Looking at the world from outside"),
        item(4, "Feeling disconnected from the body"),
        item(5, "Colours or sounds changed"),
        item(6, "Gaps in memory of the session"),
    ],
    answer_min: 0,
    answer_max: 4,
    options: &[
        opt(0, "Not at all"),
        opt(1, "Slightly"),
        opt(2, "Moderately"),
        opt(3, "Considerably"),
        opt(4, "Extremely"),
    ],
    bands: &[],
    response: None,
    remission: None,
    minimal_important_change: None,
    lower_is_better: true,
    loinc_panel: None,
    loinc_total: None,
    licence: LicenceStatus::Unconfirmed,
    licence_note: "licence not confirmed; author's instructions circulate freely",
    scoring_version: "cadss6/1",
};

/// MOAA/S, 0–5 form: 5 responds readily to name, down to 0 no response to a painful squeeze.
/// The Spravato label counts 0 as loss of consciousness. Source: BMC Anesthesiology 2022,
/// doi:10.1186/s12871-022-01788-1, Table 2; Spravato prescribing information.
pub static MOAAS: Instrument = Instrument {
    id: InstrumentId::Moaas,
    name: "Modified Observer's Assessment of Alertness/Sedation",
    short_name: "MOAA/S",
    rater: Rater::Clinician,
    recall: "right now",
    items: &[item(1, "Responsiveness")],
    answer_min: 0,
    answer_max: 5,
    options: &[
        opt(5, "Answers name at normal voice promptly"),
        opt(4, "Sluggish answer to name at normal voice"),
        opt(3, "Answers only to loud or repeated name"),
        opt(2, "Answers only after prodding or shaking"),
        opt(1, "Answers only after a painful squeeze"),
        opt(0, "No response to a painful squeeze"),
    ],
    bands: &[
        band(0, 0, "unresponsive", "Unresponsive (loss of consciousness)"),
        band(1, 4, "sedated", "Sedated"),
        band(5, 5, "alert", "Alert"),
    ],
    response: None,
    remission: None,
    minimal_important_change: None,
    lower_is_better: false,
    loinc_panel: None,
    loinc_total: None,
    licence: LicenceStatus::Free,
    licence_note: "an observational scale without licensed wording",
    scoring_version: "moaas/1",
};

/// RASS, +4 combative to −5 unrousable, 0 alert and calm (Sessler et al. 2002; Stanford
/// palliative sedation appendix).
pub static RASS: Instrument = Instrument {
    id: InstrumentId::Rass,
    name: "Richmond Agitation–Sedation Scale",
    short_name: "RASS",
    rater: Rater::Clinician,
    recall: "right now",
    items: &[item(1, "Agitation or sedation")],
    answer_min: -5,
    answer_max: 4,
    options: &[
        opt(4, "Combative"),
        opt(3, "Very agitated"),
        opt(2, "Agitated"),
        opt(1, "Restless"),
        opt(0, "Alert and calm"),
        opt(-1, "Drowsy"),
        opt(-2, "Light sedation"),
        opt(-3, "Moderate sedation"),
        opt(-4, "Deep sedation"),
        opt(-5, "Unrousable"),
    ],
    bands: &[
        band(-5, -4, "deep_sedation", "Deep sedation or unrousable"),
        band(-3, -1, "sedated", "Drowsy to moderately sedated"),
        band(0, 0, "alert_calm", "Alert and calm"),
        band(1, 4, "agitated", "Restless to combative"),
    ],
    response: None,
    remission: None,
    minimal_important_change: None,
    lower_is_better: false,
    loinc_panel: None,
    loinc_total: None,
    licence: LicenceStatus::Free,
    licence_note: "an observational scale without licensed wording",
    scoring_version: "rass/1",
};

/// Pain NRS, 0–10.
///
/// - Change thresholds (IMMPACT, Dworkin et al. 2008): at least 10 % minimally important,
///   30 % moderately important (used as response here), 50 % substantial.
/// - Severity bands 1–3 / 4–6 / 7–10 are common but unconfirmed, so none are applied.
pub static PAIN_NRS: Instrument = Instrument {
    id: InstrumentId::PainNrs,
    name: "Pain numeric rating scale",
    short_name: "Pain NRS",
    rater: Rater::Patient,
    recall: "now",
    items: &[item(1, "Pain intensity")],
    answer_min: 0,
    answer_max: 10,
    options: &[],
    bands: &[],
    response: Some(ChangeRule::PercentReduction(30)),
    remission: None,
    minimal_important_change: Some(ChangeRule::PercentReduction(10)),
    lower_is_better: true,
    loinc_panel: None,
    loinc_total: None,
    licence: LicenceStatus::Free,
    licence_note: "a generic numeric scale without licensed wording",
    scoring_version: "pain_nrs/1",
};

/// BPRS positive-symptom items (suspiciousness, hallucinations, unusual thought content,
/// conceptual disorganisation), each 1–7, total 4–28; used to watch for psychotic symptoms in
/// ketamine trials (Overall & Gorham 1962; trial protocols via the dossier). No cut-off is
/// published for this subscale.
pub static BPRS_POSITIVE: Instrument = Instrument {
    id: InstrumentId::BprsPositive,
    name: "Brief Psychiatric Rating Scale, positive symptoms",
    short_name: "BPRS+",
    rater: Rater::Clinician,
    recall: "right now",
    items: &[
        item(1, "Suspiciousness"),
        item(2, "Hallucinations"),
        item(3, "Unusual thought content"),
        item(4, "Conceptual disorganisation"),
    ],
    answer_min: 1,
    answer_max: 7,
    options: &[],
    bands: &[],
    response: None,
    remission: None,
    minimal_important_change: None,
    lower_is_better: true,
    loinc_panel: None,
    loinc_total: None,
    licence: LicenceStatus::Unconfirmed,
    licence_note: "licence not confirmed",
    scoring_version: "bprs_positive/1",
};

/// The definition of `id`.
pub fn definition(id: InstrumentId) -> &'static Instrument {
    match id {
        InstrumentId::Phq9 => &PHQ9,
        InstrumentId::Gad7 => &GAD7,
        InstrumentId::Pcl5 => &PCL5,
        InstrumentId::Madrs => &MADRS,
        InstrumentId::QidsSr16 => &QIDS_SR16,
        InstrumentId::Epds => &EPDS,
        InstrumentId::Ybocs => &YBOCS,
        InstrumentId::Cadss6 => &CADSS6,
        InstrumentId::Moaas => &MOAAS,
        InstrumentId::Rass => &RASS,
        InstrumentId::PainNrs => &PAIN_NRS,
        InstrumentId::BprsPositive => &BPRS_POSITIVE,
    }
}
