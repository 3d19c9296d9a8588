//! Current medications and past antidepressant trials, for the intake record and the screening.
//!
//! A medication is kept as the clinician types it (name and dose); what matters with ketamine is
//! its class, which the clinician chooses or [`MedicationClass::detect`] suggests from the name.
//! The screening ([`crate::screening`]) turns each class into a finding with its source.

use crate::patient::fold;

/// The longest medication or trial drug name, in characters.
pub const MAX_DRUG_CHARS: usize = 120;
/// The longest dose text, in characters ("150 mg twice a day").
pub const MAX_DOSE_CHARS: usize = 80;
/// The longest trial, in weeks (ten years); more is a typing slip.
pub const MAX_TRIAL_WEEKS: u32 = 520;

/// A class of medication that matters when a patient receives ketamine or esketamine.
///
/// The issue that asked for these lists them; why each matters, with its source, is in
/// [`crate::screening`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MedicationClass {
    /// Benzodiazepines (lorazepam, clonazepam, alprazolam, diazepam ...).
    Benzodiazepine,
    /// Non-benzodiazepine hypnotics, the "Z-drugs" (zolpidem, zaleplon, eszopiclone).
    NonBenzodiazepineHypnotic,
    /// Lamotrigine.
    Lamotrigine,
    /// Monoamine oxidase inhibitors (phenelzine, tranylcypromine, isocarboxazid, selegiline).
    Maoi,
    /// Psychostimulants (amphetamines, methylphenidate, modafinil ...).
    Psychostimulant,
    /// Opioids (oxycodone, morphine, buprenorphine, methadone, tramadol ...).
    Opioid,
    /// Naltrexone (an opioid receptor antagonist).
    Naltrexone,
}

impl MedicationClass {
    /// Every class, in form order.
    pub const ALL: [MedicationClass; 7] = [
        MedicationClass::Benzodiazepine,
        MedicationClass::NonBenzodiazepineHypnotic,
        MedicationClass::Lamotrigine,
        MedicationClass::Maoi,
        MedicationClass::Psychostimulant,
        MedicationClass::Opioid,
        MedicationClass::Naltrexone,
    ];

    /// The code stored and used by the API.
    pub fn code(self) -> &'static str {
        match self {
            MedicationClass::Benzodiazepine => "benzodiazepine",
            MedicationClass::NonBenzodiazepineHypnotic => "non_benzodiazepine_hypnotic",
            MedicationClass::Lamotrigine => "lamotrigine",
            MedicationClass::Maoi => "maoi",
            MedicationClass::Psychostimulant => "psychostimulant",
            MedicationClass::Opioid => "opioid",
            MedicationClass::Naltrexone => "naltrexone",
        }
    }

    /// Words for people.
    pub fn label(self) -> &'static str {
        match self {
            MedicationClass::Benzodiazepine => "Benzodiazepine",
            MedicationClass::NonBenzodiazepineHypnotic => "Non-benzodiazepine hypnotic (Z-drug)",
            MedicationClass::Lamotrigine => "Lamotrigine",
            MedicationClass::Maoi => "MAO inhibitor",
            MedicationClass::Psychostimulant => "Psychostimulant",
            MedicationClass::Opioid => "Opioid",
            MedicationClass::Naltrexone => "Naltrexone",
        }
    }

    /// The class with this code.
    pub fn parse(code: &str) -> Option<MedicationClass> {
        MedicationClass::ALL.into_iter().find(|c| c.code() == code)
    }

    /// The class a drug name belongs to, from a built-in list of generic names (and a few brand
    /// names clinics hear often); `None` when the name is not on it. The clinician confirms.
    pub fn detect(name: &str) -> Option<MedicationClass> {
        let folded = fold(name);
        let words: Vec<&str> = folded
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        NAMES
            .iter()
            .find(|(n, _)| words.contains(n))
            .map(|(_, class)| *class)
    }
}

/// Drug names and their classes (generic names are the drugs' pharmacological classes as any
/// formulary lists them; a name not here is simply not detected).
const NAMES: &[(&str, MedicationClass)] = {
    use MedicationClass::*;
    &[
        ("alprazolam", Benzodiazepine),
        ("xanax", Benzodiazepine),
        ("lorazepam", Benzodiazepine),
        ("ativan", Benzodiazepine),
        ("clonazepam", Benzodiazepine),
        ("klonopin", Benzodiazepine),
        ("diazepam", Benzodiazepine),
        ("valium", Benzodiazepine),
        ("temazepam", Benzodiazepine),
        ("chlordiazepoxide", Benzodiazepine),
        ("oxazepam", Benzodiazepine),
        ("clorazepate", Benzodiazepine),
        ("triazolam", Benzodiazepine),
        ("midazolam", Benzodiazepine),
        ("zolpidem", NonBenzodiazepineHypnotic),
        ("ambien", NonBenzodiazepineHypnotic),
        ("zaleplon", NonBenzodiazepineHypnotic),
        ("eszopiclone", NonBenzodiazepineHypnotic),
        ("lunesta", NonBenzodiazepineHypnotic),
        ("zopiclone", NonBenzodiazepineHypnotic),
        ("lamotrigine", Lamotrigine),
        ("lamictal", Lamotrigine),
        ("phenelzine", Maoi),
        ("nardil", Maoi),
        ("tranylcypromine", Maoi),
        ("parnate", Maoi),
        ("isocarboxazid", Maoi),
        ("marplan", Maoi),
        ("selegiline", Maoi),
        ("emsam", Maoi),
        ("amphetamine", Psychostimulant),
        ("dextroamphetamine", Psychostimulant),
        ("lisdexamfetamine", Psychostimulant),
        ("adderall", Psychostimulant),
        ("vyvanse", Psychostimulant),
        ("methylphenidate", Psychostimulant),
        ("dexmethylphenidate", Psychostimulant),
        ("ritalin", Psychostimulant),
        ("concerta", Psychostimulant),
        ("modafinil", Psychostimulant),
        ("armodafinil", Psychostimulant),
        ("methamphetamine", Psychostimulant),
        ("oxycodone", Opioid),
        ("hydrocodone", Opioid),
        ("morphine", Opioid),
        ("hydromorphone", Opioid),
        ("fentanyl", Opioid),
        ("codeine", Opioid),
        ("tramadol", Opioid),
        ("tapentadol", Opioid),
        ("methadone", Opioid),
        ("buprenorphine", Opioid),
        ("suboxone", Opioid),
        ("oxymorphone", Opioid),
        ("naltrexone", Naltrexone),
        ("vivitrol", Naltrexone),
    ]
};

/// How a past antidepressant trial went, as the patient or the records say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrialResponse {
    /// No worthwhile improvement.
    None,
    /// Some improvement, short of a response.
    Partial,
    /// A response.
    Response,
    /// Remission.
    Remission,
    /// Stopped for side effects before it could be judged.
    NotTolerated,
    /// Not known.
    Unknown,
}

impl TrialResponse {
    /// Every response, in form order.
    pub const ALL: [TrialResponse; 6] = [
        TrialResponse::None,
        TrialResponse::Partial,
        TrialResponse::Response,
        TrialResponse::Remission,
        TrialResponse::NotTolerated,
        TrialResponse::Unknown,
    ];

    /// Stored code.
    pub fn code(self) -> &'static str {
        match self {
            TrialResponse::None => "none",
            TrialResponse::Partial => "partial",
            TrialResponse::Response => "response",
            TrialResponse::Remission => "remission",
            TrialResponse::NotTolerated => "not_tolerated",
            TrialResponse::Unknown => "unknown",
        }
    }

    /// Words for people.
    pub fn label(self) -> &'static str {
        match self {
            TrialResponse::None => "No response",
            TrialResponse::Partial => "Partial response",
            TrialResponse::Response => "Response",
            TrialResponse::Remission => "Remission",
            TrialResponse::NotTolerated => "Not tolerated",
            TrialResponse::Unknown => "Not known",
        }
    }

    /// The response with this code.
    pub fn parse(code: &str) -> Option<TrialResponse> {
        TrialResponse::ALL.into_iter().find(|r| r.code() == code)
    }

    /// Whether an adequate trial with this outcome counts towards treatment resistance: it did
    /// not bring remission or a response.
    pub fn counts_as_failed(self) -> bool {
        matches!(self, TrialResponse::None | TrialResponse::Partial)
    }
}

/// Why a medication or trial was refused; each names its field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MedicationError {
    /// No name.
    #[error("the drug name is required")]
    NameMissing,
    /// A name too long or holding a control character or an invisible mark.
    #[error(
        "the drug name must be one line of at most {MAX_DRUG_CHARS} characters, without control characters or invisible marks"
    )]
    NameUnreadable,
    /// A dose text too long or holding a control character or an invisible mark.
    #[error(
        "the dose must be one line of at most {MAX_DOSE_CHARS} characters, without control characters or invisible marks"
    )]
    DoseUnreadable,
    /// A class not on the list.
    #[error("choose the class from the list, or \"not one of these\"")]
    ClassUnknown,
    /// Weeks not a whole number in range.
    #[error("weeks '{0}' is not a whole number from 1 to {MAX_TRIAL_WEEKS}")]
    WeeksUnreadable(String),
    /// A response not on the list.
    #[error("choose how the trial went from the list")]
    ResponseUnknown,
}

impl MedicationError {
    /// The form field the error is about.
    pub fn field(&self) -> &'static str {
        match self {
            MedicationError::NameMissing | MedicationError::NameUnreadable => "name",
            MedicationError::DoseUnreadable => "dose",
            MedicationError::ClassUnknown => "class",
            MedicationError::WeeksUnreadable(_) => "weeks",
            MedicationError::ResponseUnknown => "response",
        }
    }
}

/// A checked current medication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Medication {
    /// The drug as typed.
    pub name: String,
    /// The dose as typed; empty when not given.
    pub dose: String,
    /// Its class where it matters with ketamine.
    pub class: Option<MedicationClass>,
}

/// A checked antidepressant trial.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AntidepressantTrial {
    /// The drug as typed.
    pub drug: String,
    /// The highest dose reached, as typed.
    pub dose: String,
    /// How many weeks it was taken, when known.
    pub weeks: Option<u32>,
    /// How it went.
    pub response: TrialResponse,
    /// The clinician judged dose and duration adequate.
    pub adequate: bool,
}

/// The text trimmed (empty when nothing was typed); `None` when it is too long or unreadable.
fn one_line(text: &str, max: usize) -> Option<String> {
    // ok: `None` is the refusal, which each caller says at its field; empty stays empty.
    crate::text::optional_line(text, max)
        .ok()
        .map(|t| t.unwrap_or_default().to_owned())
}

fn drug_name(text: &str, errors: &mut Vec<MedicationError>) -> String {
    match one_line(text, MAX_DRUG_CHARS) {
        Some(n) if n.is_empty() => {
            errors.push(MedicationError::NameMissing);
            n
        }
        Some(n) => n,
        None => {
            errors.push(MedicationError::NameUnreadable);
            String::new()
        }
    }
}

fn dose_text(text: &str, errors: &mut Vec<MedicationError>) -> String {
    one_line(text, MAX_DOSE_CHARS).unwrap_or_else(|| {
        errors.push(MedicationError::DoseUnreadable);
        String::new()
    })
}

impl Medication {
    /// Checks a medication as typed. `class` is a class code, `none` for "not one of these",
    /// or empty to detect it from the name.
    pub fn parse(name: &str, dose: &str, class: &str) -> Result<Medication, Vec<MedicationError>> {
        let mut errors = Vec::new();
        let name = drug_name(name, &mut errors);
        let dose = dose_text(dose, &mut errors);
        let class = match class.trim() {
            "" => MedicationClass::detect(&name),
            "none" => None,
            code => MedicationClass::parse(code).or_else(|| {
                errors.push(MedicationError::ClassUnknown);
                None
            }),
        };
        if errors.is_empty() {
            Ok(Medication { name, dose, class })
        } else {
            Err(errors)
        }
    }
}

impl AntidepressantTrial {
    /// Checks a trial as typed; `weeks` may be empty when not known.
    pub fn parse(
        drug: &str,
        dose: &str,
        weeks: &str,
        response: &str,
        adequate: bool,
    ) -> Result<AntidepressantTrial, Vec<MedicationError>> {
        let mut errors = Vec::new();
        let drug = drug_name(drug, &mut errors);
        let dose = dose_text(dose, &mut errors);
        let weeks = match weeks.trim() {
            "" => None,
            w => match w.parse::<u32>() {
                Ok(n) if (1..=MAX_TRIAL_WEEKS).contains(&n) => Some(n),
                _ => {
                    errors.push(MedicationError::WeeksUnreadable(crate::text::shown(w)));
                    None
                }
            },
        };
        let response = TrialResponse::parse(response.trim()).unwrap_or_else(|| {
            errors.push(MedicationError::ResponseUnknown);
            TrialResponse::Unknown
        });
        if errors.is_empty() {
            Ok(AntidepressantTrial {
                drug,
                dose,
                weeks,
                response,
                adequate,
            })
        } else {
            Err(errors)
        }
    }

    /// Whether the trial counts towards treatment resistance: judged adequate, and it failed.
    pub fn counts(&self) -> bool {
        self.adequate && self.response.counts_as_failed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_are_detected_from_generic_and_brand_names() {
        assert_eq!(
            MedicationClass::detect("Lorazepam 1 mg"),
            Some(MedicationClass::Benzodiazepine)
        );
        assert_eq!(
            MedicationClass::detect("LAMICTAL XR"),
            Some(MedicationClass::Lamotrigine)
        );
        assert_eq!(
            MedicationClass::detect("buprenorphine/naloxone"),
            Some(MedicationClass::Opioid)
        );
        assert_eq!(MedicationClass::detect("sertraline"), None);
        // A word inside another word is not a match.
        assert_eq!(MedicationClass::detect("ambientalist"), None);
        for c in MedicationClass::ALL {
            assert_eq!(MedicationClass::parse(c.code()), Some(c));
        }
    }

    #[test]
    fn medications_and_trials_are_checked_at_their_fields() {
        let m = Medication::parse(" Zolpidem ", "10 mg at night", "").unwrap();
        assert_eq!(m.class, Some(MedicationClass::NonBenzodiazepineHypnotic));
        let m = Medication::parse("zolpidem", "", "none").unwrap();
        assert_eq!(m.class, None);
        let m = Medication::parse("herbal tea", "", "opioid").unwrap();
        assert_eq!(m.class, Some(MedicationClass::Opioid));
        let e = Medication::parse("", "x\ny", "opiates").unwrap_err();
        let fields: Vec<_> = e.iter().map(MedicationError::field).collect();
        assert_eq!(fields, ["name", "dose", "class"]);

        let t = AntidepressantTrial::parse("sertraline", "200 mg", "8", "partial", true).unwrap();
        assert!(t.counts());
        let t = AntidepressantTrial::parse("sertraline", "", "", "remission", true).unwrap();
        assert!(!t.counts(), "a trial that brought remission is no failure");
        let t = AntidepressantTrial::parse("sertraline", "", "3", "none", false).unwrap();
        assert!(!t.counts(), "only adequate trials count");
        let e = AntidepressantTrial::parse("x", "", "0", "better", false).unwrap_err();
        let fields: Vec<_> = e.iter().map(MedicationError::field).collect();
        assert_eq!(fields, ["weeks", "response"]);
        assert!(AntidepressantTrial::parse("x", "", "521", "none", false).is_err());
    }
}
