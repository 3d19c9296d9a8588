//! Screening a candidate against the contraindications and precautions of ketamine and
//! esketamine: a pure function from what is known (conditions, age, today's blood pressure,
//! medication classes, antidepressant trials) to findings, each `absolute` (do not treat),
//! `relative` (the prescriber weighs it) or `note`, with its reason and its source.
//!
//! Facts and sources: `research/clinical.md` §5, each repeated beside its rule below. Where the
//! sources differ (the Spravato label against the ASRA 2018 guideline and trial exclusions), the
//! class chosen is the more cautious one, and the reason says so. Findings never decide: the
//! prescriber records the decision (eligible, not eligible, needs review) with a reason.

use std::collections::BTreeSet;

use crate::medications::MedicationClass;

/// Spravato prescribing information, contraindications (section 4), as printed in the label's
/// important safety information: usmedicine.com/2021online-dir/inc/html/30.html.
pub const SPRAVATO_CONTRAINDICATIONS: &str = "Spravato (esketamine) prescribing information, section 4 Contraindications (usmedicine.com/2021online-dir/inc/html/30.html)";
/// The ASRA, AAPM and ASA consensus guideline on intravenous ketamine for chronic pain (Cohen
/// et al., Reg Anesth Pain Med 2018), contraindications, as summarised in research §5.
pub const ASRA_2018: &str = "Cohen et al. 2018, consensus guidelines on ketamine infusions for chronic pain (ASRA/AAPM/ASA), contraindications (doctoryg.blogspot.com/2019/03/ketamine-infusions-for-chronic-pain.html)";
/// Exclusion criteria of a ketamine trial in depression, table 1 (research §5).
pub const TRIAL_EXCLUSIONS: &str = "Exclusion criteria, ketamine trial in depression (pmc.ncbi.nlm.nih.gov/articles/PMC10812090, table 1)";
/// A clinic's published referral criteria (research §5).
pub const CLINIC_CRITERIA: &str =
    "Toronto Ketamine Clinic referral criteria (torontoketamineclinic.com/referral-form)";
/// Spravato prescribing information, use in specific populations (8.1 pregnancy, 8.2 lactation).
pub const SPRAVATO_PREGNANCY: &str = "Spravato prescribing information, sections 8.1 Pregnancy and 8.2 Lactation (medicinenet.com/side_effects_of_esketamine_spravato/side-effects.htm)";
/// Spravato prescribing information, warnings: abuse and misuse (5.3).
pub const SPRAVATO_ABUSE: &str = "Spravato prescribing information, section 5.3 Abuse and Misuse (spravatohcp.com/dosing-and-administration)";
/// Spravato prescribing information, increase in blood pressure (5.6) and assessment before
/// dosing (2.1); the label's example of an elevated baseline is > 140 mmHg systolic or > 90 mmHg
/// diastolic (read on a copy of the label, research §3.2, marked ~).
pub const SPRAVATO_BLOOD_PRESSURE: &str = "Spravato prescribing information, sections 2.1 and 5.6 Increase in Blood Pressure (butalbitalapap.org/index-4966.html)";
/// Spravato prescribing information, warnings on cardiovascular, cerebrovascular and hepatic
/// conditions and on the bladder (research §5, marked ~).
pub const SPRAVATO_PRECAUTIONS: &str = "Spravato prescribing information, warnings and precautions; specific populations (hepatic impairment) (butalbitalapap.org/index-4966.html)";
/// Spravato is not approved in patients under 18.
pub const SPRAVATO_PEDIATRIC: &str = "Spravato prescribing information, section 8.4 Pediatric Use (usmedicine.com/2021online-dir/inc/html/30.html)";
/// Spravato prescribing information, drug interactions (section 7): CNS depressants,
/// psychostimulants, MAOIs; the patient information repeats it.
pub const SPRAVATO_INTERACTIONS: &str = "Spravato prescribing information, section 7 Drug Interactions (medicinenet.com/side_effects_of_esketamine_spravato/side-effects.htm)";
/// Andrade, "Ketamine for depression, 5: potential pharmacokinetic and pharmacodynamic drug
/// interactions", J Clin Psychiatry 2017: benzodiazepines may diminish ketamine's benefit;
/// lamotrigine reduces its adverse effects, effect on the antidepressant action unknown.
pub const ANDRADE_2017: &str = "Andrade 2017, ketamine for depression: pharmacokinetic and pharmacodynamic drug interactions, J Clin Psychiatry (psychiatrist.com/jcp/ketamine-for-depression-pharmacokinetic-and-pharmacodynamic-drug-interactions)";
/// Anand et al. 2000, Arch Gen Psychiatry 57:270–276: lamotrigine 300 mg before ketamine
/// attenuated its perceptual and cognitive effects in 16 healthy volunteers.
pub const ANAND_2000: &str = "Anand et al. 2000, attenuation of the neuropsychiatric effects of ketamine with lamotrigine, Arch Gen Psychiatry 57:270-276";
/// Williams et al. 2018, Am J Psychiatry 175:1205: naltrexone 50 mg before 0.5 mg/kg IV ketamine
/// blocked the antidepressant but not the dissociative effect (interim analysis, 12 completers).
pub const WILLIAMS_2018: &str = "Williams et al. 2018, attenuation of antidepressant effects of ketamine by opioid receptor antagonism, Am J Psychiatry (doi:10.1176/appi.ajp.2018.18020138)";
/// The Spravato REMS patient monitoring form asks about opioids and other drugs causing
/// sedation or respiratory depression (research §10).
pub const REMS_MONITORING_FORM: &str = "Spravato REMS patient monitoring form overview (jnjmedicalconnect.com/products/spravato/video-spravato-rems-patient-monitoring-form-overview)";
/// Treatment-resistant depression is commonly defined as an inadequate response to at least two
/// adequate antidepressant trials (Voineskos et al. 2020, Neuropsychiatr Dis Treat 16:221).
pub const TRD_DEFINITION: &str = "Voineskos, Daskalakis and Blumberger 2020, management of treatment-resistant depression, Neuropsychiatr Dis Treat 16:221-234 (pmc.ncbi.nlm.nih.gov/articles/PMC6982454)";

/// How heavily a finding weighs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FindingClass {
    /// Do not treat (a contraindication); only a prescriber's written justification overrides.
    Absolute,
    /// The prescriber weighs it against the benefit.
    Relative,
    /// For the record.
    Note,
}

impl FindingClass {
    /// The code used by the API (`absolute`, `relative`, `note`).
    pub fn code(self) -> &'static str {
        match self {
            FindingClass::Absolute => "absolute",
            FindingClass::Relative => "relative",
            FindingClass::Note => "note",
        }
    }

    /// The class with this code.
    pub fn parse(code: &str) -> Option<FindingClass> {
        [
            FindingClass::Absolute,
            FindingClass::Relative,
            FindingClass::Note,
        ]
        .into_iter()
        .find(|c| c.code() == code)
    }

    /// Words for people.
    pub fn label(self) -> &'static str {
        match self {
            FindingClass::Absolute => "Contraindication: do not treat",
            FindingClass::Relative => "Precaution: the prescriber weighs it",
            FindingClass::Note => "Note",
        }
    }
}

/// Where a condition is known from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Basis {
    /// Confirmed by a clinician (history, records, examination).
    Confirmed,
    /// Said by the patient on the self-screening questionnaire, not yet confirmed.
    PatientReported,
}

impl Basis {
    /// Stored code.
    pub fn code(self) -> &'static str {
        match self {
            Basis::Confirmed => "confirmed",
            Basis::PatientReported => "patient_reported",
        }
    }

    /// The basis with this code.
    pub fn parse(code: &str) -> Option<Basis> {
        [Basis::Confirmed, Basis::PatientReported]
            .into_iter()
            .find(|b| b.code() == code)
    }
}

/// A condition the screening asks about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Condition {
    /// Aneurysmal vascular disease (thoracic or abdominal aorta, intracranial, peripheral).
    AneurysmalVascularDisease,
    /// Arteriovenous malformation.
    ArteriovenousMalformation,
    /// A history of intracerebral haemorrhage.
    IntracerebralHaemorrhage,
    /// Hypersensitivity to esketamine, ketamine or an excipient.
    KetamineHypersensitivity,
    /// Pregnancy.
    Pregnancy,
    /// Breastfeeding.
    Breastfeeding,
    /// Active psychosis.
    ActivePsychosis,
    /// Current mania.
    Mania,
    /// Psychotic features in the current depressive episode.
    PsychoticFeatures,
    /// Active substance use disorder.
    SubstanceUseDisorder,
    /// Hypertension known to be uncontrolled.
    UncontrolledHypertension,
    /// Myocardial infarction in recent months.
    RecentMyocardialInfarction,
    /// Unstable or poorly controlled cardiovascular or cerebrovascular disease, significant
    /// arrhythmia.
    UnstableCardiovascularDisease,
    /// Raised intracranial pressure.
    RaisedIntracranialPressure,
    /// Raised intraocular pressure (glaucoma).
    RaisedIntraocularPressure,
    /// Severe hepatic impairment.
    SevereHepaticImpairment,
    /// Ulcerative or interstitial cystitis.
    InterstitialCystitis,
    /// Dementia or another major neurocognitive disorder.
    Dementia,
}

/// What the rules say about one condition.
struct Rule {
    class: FindingClass,
    reason: &'static str,
    source: &'static str,
}

impl Condition {
    /// Every condition, in form order.
    pub const ALL: [Condition; 18] = [
        Condition::AneurysmalVascularDisease,
        Condition::ArteriovenousMalformation,
        Condition::IntracerebralHaemorrhage,
        Condition::KetamineHypersensitivity,
        Condition::Pregnancy,
        Condition::Breastfeeding,
        Condition::ActivePsychosis,
        Condition::Mania,
        Condition::PsychoticFeatures,
        Condition::SubstanceUseDisorder,
        Condition::UncontrolledHypertension,
        Condition::RecentMyocardialInfarction,
        Condition::UnstableCardiovascularDisease,
        Condition::RaisedIntracranialPressure,
        Condition::RaisedIntraocularPressure,
        Condition::SevereHepaticImpairment,
        Condition::InterstitialCystitis,
        Condition::Dementia,
    ];

    /// The code used by the API and stored.
    pub fn code(self) -> &'static str {
        match self {
            Condition::AneurysmalVascularDisease => "aneurysmal_vascular_disease",
            Condition::ArteriovenousMalformation => "arteriovenous_malformation",
            Condition::IntracerebralHaemorrhage => "intracerebral_haemorrhage",
            Condition::KetamineHypersensitivity => "ketamine_hypersensitivity",
            Condition::Pregnancy => "pregnancy",
            Condition::Breastfeeding => "breastfeeding",
            Condition::ActivePsychosis => "active_psychosis",
            Condition::Mania => "mania",
            Condition::PsychoticFeatures => "psychotic_features",
            Condition::SubstanceUseDisorder => "substance_use_disorder",
            Condition::UncontrolledHypertension => "uncontrolled_hypertension",
            Condition::RecentMyocardialInfarction => "recent_myocardial_infarction",
            Condition::UnstableCardiovascularDisease => "unstable_cardiovascular_disease",
            Condition::RaisedIntracranialPressure => "raised_intracranial_pressure",
            Condition::RaisedIntraocularPressure => "raised_intraocular_pressure",
            Condition::SevereHepaticImpairment => "severe_hepatic_impairment",
            Condition::InterstitialCystitis => "interstitial_cystitis",
            Condition::Dementia => "dementia",
        }
    }

    /// The condition with this code.
    pub fn parse(code: &str) -> Option<Condition> {
        Condition::ALL.into_iter().find(|c| c.code() == code)
    }

    /// The question as staff read it.
    pub fn label(self) -> &'static str {
        match self {
            Condition::AneurysmalVascularDisease => {
                "Aneurysmal vascular disease (aorta, intracranial or peripheral arteries)"
            }
            Condition::ArteriovenousMalformation => "Arteriovenous malformation",
            Condition::IntracerebralHaemorrhage => "History of intracerebral haemorrhage",
            Condition::KetamineHypersensitivity => {
                "Hypersensitivity to ketamine, esketamine or an excipient"
            }
            Condition::Pregnancy => "Pregnant",
            Condition::Breastfeeding => "Breastfeeding",
            Condition::ActivePsychosis => "Active psychosis",
            Condition::Mania => "Current mania or hypomania",
            Condition::PsychoticFeatures => "Psychotic features in the current episode",
            Condition::SubstanceUseDisorder => "Active substance use disorder",
            Condition::UncontrolledHypertension => "Hypertension known to be uncontrolled",
            Condition::RecentMyocardialInfarction => "Recent myocardial infarction",
            Condition::UnstableCardiovascularDisease => {
                "Unstable cardiovascular or cerebrovascular disease, or significant arrhythmia"
            }
            Condition::RaisedIntracranialPressure => "Raised intracranial pressure",
            Condition::RaisedIntraocularPressure => "Raised intraocular pressure or glaucoma",
            Condition::SevereHepaticImpairment => "Severe hepatic impairment",
            Condition::InterstitialCystitis => "Ulcerative or interstitial cystitis",
            Condition::Dementia => "Dementia or another major neurocognitive disorder",
        }
    }

    /// The question as a patient reads it on the self-screening questionnaire (plain words).
    pub fn patient_question(self) -> &'static str {
        match self {
            Condition::AneurysmalVascularDisease => {
                "Have you been told you have an aneurysm (a bulging blood vessel)?"
            }
            Condition::ArteriovenousMalformation => {
                "Have you been told you have an abnormal connection between arteries and veins (AVM)?"
            }
            Condition::IntracerebralHaemorrhage => "Have you ever had bleeding in the brain?",
            Condition::KetamineHypersensitivity => {
                "Have you ever had an allergic reaction to ketamine or esketamine?"
            }
            Condition::Pregnancy => "Are you pregnant, or could you be?",
            Condition::Breastfeeding => "Are you breastfeeding?",
            Condition::ActivePsychosis => {
                "Are you currently hearing or seeing things others do not, or holding beliefs others find strange?"
            }
            Condition::Mania => {
                "Are you currently in a period of unusually high energy, little need for sleep, or racing thoughts?"
            }
            Condition::PsychoticFeatures => {
                "During this depression, have you heard voices or had beliefs others did not share?"
            }
            Condition::SubstanceUseDisorder => {
                "Are you currently struggling with alcohol or drug use?"
            }
            Condition::UncontrolledHypertension => {
                "Do you have high blood pressure that is not under control?"
            }
            Condition::RecentMyocardialInfarction => {
                "Have you had a heart attack in the last six months?"
            }
            Condition::UnstableCardiovascularDisease => {
                "Do you have a heart or blood-vessel condition that is not stable, or an irregular heartbeat?"
            }
            Condition::RaisedIntracranialPressure => {
                "Have you been told you have raised pressure inside the skull?"
            }
            Condition::RaisedIntraocularPressure => {
                "Do you have glaucoma or raised pressure in the eyes?"
            }
            Condition::SevereHepaticImpairment => "Do you have serious liver disease?",
            Condition::InterstitialCystitis => {
                "Do you have a bladder condition such as interstitial cystitis?"
            }
            Condition::Dementia => {
                "Have you been diagnosed with dementia or serious memory problems?"
            }
        }
    }

    fn rule(self) -> Rule {
        use FindingClass::*;
        let (class, reason, source) = match self {
            Condition::AneurysmalVascularDisease => (
                Absolute,
                "aneurysmal vascular disease: the blood pressure rise ketamine causes could rupture an aneurysm",
                SPRAVATO_CONTRAINDICATIONS,
            ),
            Condition::ArteriovenousMalformation => (
                Absolute,
                "arteriovenous malformation: contraindicated because of the blood pressure rise",
                SPRAVATO_CONTRAINDICATIONS,
            ),
            Condition::IntracerebralHaemorrhage => (
                Absolute,
                "history of intracerebral haemorrhage: contraindicated because of the blood pressure rise",
                SPRAVATO_CONTRAINDICATIONS,
            ),
            Condition::KetamineHypersensitivity => (
                Absolute,
                "hypersensitivity to ketamine, esketamine or an excipient",
                SPRAVATO_CONTRAINDICATIONS,
            ),
            Condition::Pregnancy => (
                Absolute,
                "pregnancy: not recommended (possible fetal harm); the label says to stop if pregnancy occurs. Taken as a contraindication, the cautious reading",
                SPRAVATO_PREGNANCY,
            ),
            Condition::Breastfeeding => (
                Absolute,
                "breastfeeding: the label says not to breastfeed during treatment (the drug passes into milk). Taken as a contraindication, the cautious reading",
                SPRAVATO_PREGNANCY,
            ),
            Condition::ActivePsychosis => (
                Absolute,
                "active psychosis: ketamine is psychotomimetic; trials exclude it and the ASRA guideline advises against it (the Spravato label leaves it to benefit and risk; the cautious reading is taken)",
                TRIAL_EXCLUSIONS,
            ),
            Condition::Mania => (
                Absolute,
                "current mania: excluded in trials (the Spravato label leaves it to benefit and risk; the cautious reading is taken)",
                TRIAL_EXCLUSIONS,
            ),
            Condition::PsychoticFeatures => (
                Relative,
                "psychotic features in the current episode: some clinics exclude these patients",
                CLINIC_CRITERIA,
            ),
            Condition::SubstanceUseDisorder => (
                Relative,
                "active substance use disorder: abuse and misuse risk; the label asks for careful consideration and monitoring, and the ASRA guideline advises against serial infusions",
                SPRAVATO_ABUSE,
            ),
            Condition::UncontrolledHypertension => (
                Relative,
                "uncontrolled hypertension: ketamine raises blood pressure; the ASRA guideline advises avoiding it and the label to weigh the rise against the benefit",
                ASRA_2018,
            ),
            Condition::RecentMyocardialInfarction => (
                Relative,
                "recent myocardial infarction: poorly controlled cardiovascular disease is to be avoided (ASRA); the label asks to weigh benefit and risk and monitor closely",
                ASRA_2018,
            ),
            Condition::UnstableCardiovascularDisease => (
                Relative,
                "unstable cardiovascular or cerebrovascular disease or significant arrhythmia: to be avoided (ASRA); the label asks to weigh benefit and risk and monitor closely",
                ASRA_2018,
            ),
            Condition::RaisedIntracranialPressure => (
                Relative,
                "raised intracranial pressure: avoid, or use a low dose with extreme caution (ASRA, grade C)",
                ASRA_2018,
            ),
            Condition::RaisedIntraocularPressure => (
                Relative,
                "raised intraocular pressure: avoid, or use a low dose with extreme caution (ASRA, grade C)",
                ASRA_2018,
            ),
            Condition::SevereHepaticImpairment => (
                Absolute,
                "severe hepatic impairment: ketamine is cleared by the liver; avoid (ASRA) and not recommended for Spravato. Taken as a contraindication, the cautious reading",
                SPRAVATO_PRECAUTIONS,
            ),
            Condition::InterstitialCystitis => (
                Relative,
                "ulcerative or interstitial cystitis: ketamine can cause urinary tract symptoms; monitor them",
                SPRAVATO_PRECAUTIONS,
            ),
            Condition::Dementia => (
                Relative,
                "dementia or a major neurocognitive disorder: an exclusion at some clinics; ketamine's cognitive effects and consent need weighing",
                CLINIC_CRITERIA,
            ),
        };
        Rule {
            class,
            reason,
            source,
        }
    }
}

/// What each medication class means, with its source.
fn medication_rule(class: MedicationClass) -> Rule {
    use FindingClass::*;
    let (class, reason, source) = match class {
        MedicationClass::Benzodiazepine => (
            Relative,
            "benzodiazepine: a CNS depressant, so more sedation; it may also diminish ketamine's antidepressant benefit, and trials exclude doses above 3 mg lorazepam-equivalent a day",
            SPRAVATO_INTERACTIONS,
        ),
        MedicationClass::NonBenzodiazepineHypnotic => (
            Relative,
            "non-benzodiazepine hypnotic: a CNS depressant, so more sedation; monitor closely",
            SPRAVATO_INTERACTIONS,
        ),
        MedicationClass::Opioid => (
            Relative,
            "opioid: a CNS depressant, so more sedation and a risk of respiratory depression; the REMS monitoring form asks about it",
            REMS_MONITORING_FORM,
        ),
        MedicationClass::Psychostimulant => (
            Relative,
            "psychostimulant: blood pressure may rise further; monitor it closely",
            SPRAVATO_INTERACTIONS,
        ),
        MedicationClass::Maoi => (
            Relative,
            "MAO inhibitor: blood pressure may rise further; monitor it closely",
            SPRAVATO_INTERACTIONS,
        ),
        MedicationClass::Lamotrigine => (
            Note,
            "lamotrigine: reduces ketamine's perceptual and cognitive effects; whether it also reduces the antidepressant effect is not known",
            ANAND_2000,
        ),
        MedicationClass::Naltrexone => (
            Relative,
            "naltrexone: in one trial it blocked ketamine's antidepressant effect (not its dissociation); the benefit may be lost",
            WILLIAMS_2018,
        ),
    };
    Rule {
        class,
        reason,
        source,
    }
}

/// The clinic's screening thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScreeningSettings {
    /// A systolic pressure above this, in mmHg, is a finding.
    pub systolic_mmhg: u16,
    /// A diastolic pressure above this, in mmHg, is a finding.
    pub diastolic_mmhg: u16,
    /// The number of failed adequate antidepressant trials that meets treatment resistance.
    pub trd_min_trials: u32,
    /// The youngest age, in years, treated without an absolute finding.
    pub min_age_years: u32,
}

impl Default for ScreeningSettings {
    /// Above 140/90 mmHg: the Spravato label's example of an elevated baseline
    /// ([`SPRAVATO_BLOOD_PRESSURE`]); 2 trials: [`TRD_DEFINITION`]; 18 years:
    /// [`SPRAVATO_PEDIATRIC`].
    fn default() -> Self {
        ScreeningSettings {
            systolic_mmhg: 140,
            diastolic_mmhg: 90,
            trd_min_trials: 2,
            min_age_years: 18,
        }
    }
}

/// Why settings were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// A threshold outside its range.
    #[error("screening.{key} is {value}; use a whole number from {min} to {max}")]
    OutOfRange {
        /// The key.
        key: &'static str,
        /// What was set.
        value: u32,
        /// Lowest accepted.
        min: u32,
        /// Highest accepted.
        max: u32,
    },
}

impl ScreeningSettings {
    /// Checks every threshold is in a range a clinic could mean.
    pub fn check(&self) -> Result<(), SettingsError> {
        let checks = [
            ("systolic_mmhg", u32::from(self.systolic_mmhg), 100, 200),
            ("diastolic_mmhg", u32::from(self.diastolic_mmhg), 60, 130),
            ("trd_min_trials", self.trd_min_trials, 1, 10),
            ("min_age_years", self.min_age_years, 18, 30),
        ];
        for (key, value, min, max) in checks {
            if !(min..=max).contains(&value) {
                return Err(SettingsError::OutOfRange {
                    key,
                    value,
                    min,
                    max,
                });
            }
        }
        Ok(())
    }
}

/// Blood pressure as measured today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BloodPressure {
    /// Systolic, mmHg.
    pub systolic_mmhg: Option<u16>,
    /// Diastolic, mmHg.
    pub diastolic_mmhg: Option<u16>,
}

/// Why screening input was refused; each names its field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScreeningError {
    /// A blood pressure outside what a living patient shows.
    #[error(
        "the {} pressure {value} mmHg is outside {min} to {max} mmHg; check the reading",
        pressure_name(.field)
    )]
    PressureImplausible {
        /// The field.
        field: &'static str,
        /// What was given.
        value: i64,
        /// Lowest accepted.
        min: u16,
        /// Highest accepted.
        max: u16,
    },
    /// Systolic not above diastolic.
    #[error(
        "the systolic pressure {systolic} mmHg must be higher than the diastolic {diastolic} mmHg"
    )]
    PressureInverted {
        /// Systolic.
        systolic: u16,
        /// Diastolic.
        diastolic: u16,
    },
    /// An unknown condition code.
    #[error("'{0}' is not a screening condition; use one of the listed codes")]
    UnknownCondition(String),
    /// An unknown medication class.
    #[error("'{0}' is not a medication class; use one of the listed codes")]
    UnknownMedicationClass(String),
    /// A trial count out of range.
    #[error(
        "adequate antidepressant trials must be a whole number from 0 to {MAX_TRIALS}, not {0}"
    )]
    TrialsOutOfRange(i64),
}

impl ScreeningError {
    /// The field the error is about (the API's names).
    pub fn field(&self) -> &'static str {
        match self {
            ScreeningError::PressureImplausible { field, .. } => field,
            ScreeningError::PressureInverted { .. } => "systolic_mmhg",
            ScreeningError::UnknownCondition(_) => "conditions",
            ScreeningError::UnknownMedicationClass(_) => "medication_classes",
            ScreeningError::TrialsOutOfRange(_) => "adequate_antidepressant_trials",
        }
    }
}

/// A blood pressure field's name in words ("systolic" for `systolic_mmhg`), so a message reads
/// the same on the page and in the API.
fn pressure_name(field: &str) -> &str {
    // ok: both fields are named `…_mmhg` (BloodPressure::parse); a name without the suffix
    // would still read as itself.
    field.strip_suffix("_mmhg").unwrap_or(field)
}

/// The widest blood pressures accepted as readings (mmHg): below or above these the number is a
/// typing or device error, not a patient.
pub const SYSTOLIC_RANGE: (u16, u16) = (50, 300);
/// See [`SYSTOLIC_RANGE`].
pub const DIASTOLIC_RANGE: (u16, u16) = (20, 200);

impl BloodPressure {
    /// Checks a reading as given (either part may be missing).
    pub fn parse(
        systolic: Option<i64>,
        diastolic: Option<i64>,
    ) -> Result<BloodPressure, Vec<ScreeningError>> {
        let mut errors = Vec::new();
        let mut one = |field: &'static str, value: Option<i64>, (min, max): (u16, u16)| {
            value.and_then(|v| match u16::try_from(v) {
                Ok(p) if (min..=max).contains(&p) => Some(p),
                _ => {
                    errors.push(ScreeningError::PressureImplausible {
                        field,
                        value: v,
                        min,
                        max,
                    });
                    None
                }
            })
        };
        let s = one("systolic_mmhg", systolic, SYSTOLIC_RANGE);
        let d = one("diastolic_mmhg", diastolic, DIASTOLIC_RANGE);
        if let (Some(systolic), Some(diastolic)) = (s, d)
            && systolic <= diastolic
        {
            errors.push(ScreeningError::PressureInverted {
                systolic,
                diastolic,
            });
        }
        if errors.is_empty() {
            Ok(BloodPressure {
                systolic_mmhg: s,
                diastolic_mmhg: d,
            })
        } else {
            Err(errors)
        }
    }
}

/// Everything the screening reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScreeningInput {
    /// Conditions a clinician confirmed.
    pub confirmed: BTreeSet<Condition>,
    /// Conditions only the patient reported (self-screening), not confirmed.
    pub patient_reported: BTreeSet<Condition>,
    /// The patient's age in whole years, from the record.
    pub age_years: u32,
    /// Today's blood pressure, where measured.
    pub blood_pressure: BloodPressure,
    /// Classes of the current medications.
    pub medication_classes: BTreeSet<MedicationClass>,
    /// Failed adequate antidepressant trials in the current episode, when the history was taken.
    pub adequate_trials: Option<u32>,
}

impl ScreeningInput {
    /// An input with nothing known but the age.
    pub fn for_age(age_years: u32) -> ScreeningInput {
        ScreeningInput {
            confirmed: BTreeSet::new(),
            patient_reported: BTreeSet::new(),
            age_years,
            blood_pressure: BloodPressure {
                systolic_mmhg: None,
                diastolic_mmhg: None,
            },
            medication_classes: BTreeSet::new(),
            adequate_trials: None,
        }
    }

    /// An input from codes as a form or the API sends them, checked: every unknown code and a
    /// trial count out of range is an error naming it. A condition both confirmed and reported
    /// counts as confirmed.
    pub fn from_codes<S: AsRef<str>>(
        age_years: u32,
        confirmed: &[S],
        patient_reported: &[S],
        blood_pressure: BloodPressure,
        medication_classes: &[S],
        adequate_trials: Option<i64>,
    ) -> Result<ScreeningInput, Vec<ScreeningError>> {
        let mut errors = Vec::new();
        let mut conditions = |codes: &[S]| -> BTreeSet<Condition> {
            codes
                .iter()
                .filter_map(|c| {
                    let c = c.as_ref().trim();
                    Condition::parse(c).or_else(|| {
                        errors.push(ScreeningError::UnknownCondition(crate::text::shown(c)));
                        None
                    })
                })
                .collect()
        };
        let confirmed = conditions(confirmed);
        let mut patient_reported = conditions(patient_reported);
        patient_reported.retain(|c| !confirmed.contains(c));
        let medication_classes = medication_classes
            .iter()
            .filter_map(|c| {
                let c = c.as_ref().trim();
                MedicationClass::parse(c).or_else(|| {
                    errors.push(ScreeningError::UnknownMedicationClass(crate::text::shown(
                        c,
                    )));
                    None
                })
            })
            .collect();
        let adequate_trials = match adequate_trials {
            None => None,
            Some(n) => match u32::try_from(n) {
                Ok(n) if n <= MAX_TRIALS => Some(n),
                _ => {
                    errors.push(ScreeningError::TrialsOutOfRange(n));
                    None
                }
            },
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(ScreeningInput {
            confirmed,
            patient_reported,
            age_years,
            blood_pressure,
            medication_classes,
            adequate_trials,
        })
    }
}

/// The most adequate antidepressant trials accepted in one screening.
pub const MAX_TRIALS: u32 = 50;

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// A condition code, a medication class code prefixed `medication_`, or one of
    /// `age_under_minimum`, `blood_pressure_elevated`, `treatment_resistance`.
    pub code: String,
    /// How heavily it weighs.
    pub class: FindingClass,
    /// Why, in words.
    pub reason: String,
    /// The published source.
    pub source: String,
    /// Where it is known from.
    pub basis: Basis,
}

/// Screens a candidate: every finding, the heaviest first (absolute, relative, note), in the
/// order of the form within a class.
pub fn screen(input: &ScreeningInput, settings: &ScreeningSettings) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut push = |code: &str, rule: Rule, reason: String, basis: Basis| {
        findings.push(Finding {
            code: code.to_owned(),
            class: rule.class,
            reason,
            source: rule.source.to_owned(),
            basis,
        });
    };
    if input.age_years < settings.min_age_years {
        push(
            "age_under_minimum",
            Rule {
                class: FindingClass::Absolute,
                reason: "",
                source: SPRAVATO_PEDIATRIC,
            },
            format!(
                "age {} is under {}: esketamine is not approved for patients under 18, and the clinic treats adults from {}",
                input.age_years, settings.min_age_years, settings.min_age_years
            ),
            Basis::Confirmed,
        );
    }
    for condition in Condition::ALL {
        let basis = if input.confirmed.contains(&condition) {
            Basis::Confirmed
        } else if input.patient_reported.contains(&condition) {
            Basis::PatientReported
        } else {
            continue;
        };
        let rule = condition.rule();
        let reason = match basis {
            Basis::Confirmed => rule.reason.to_owned(),
            Basis::PatientReported => format!(
                "{} (reported by the patient, not yet confirmed)",
                rule.reason
            ),
        };
        push(condition.code(), rule, reason, basis);
    }
    let bp = input.blood_pressure;
    let high_systolic = bp.systolic_mmhg.filter(|s| *s > settings.systolic_mmhg);
    let high_diastolic = bp.diastolic_mmhg.filter(|d| *d > settings.diastolic_mmhg);
    if high_systolic.is_some() || high_diastolic.is_some() {
        let shown = match (bp.systolic_mmhg, bp.diastolic_mmhg) {
            (Some(s), Some(d)) => format!("{s}/{d} mmHg"),
            (Some(s), None) => format!("systolic {s} mmHg"),
            (None, Some(d)) => format!("diastolic {d} mmHg"),
            (None, None) => String::new(),
        };
        push(
            "blood_pressure_elevated",
            Rule {
                class: FindingClass::Relative,
                reason: "",
                source: SPRAVATO_BLOOD_PRESSURE,
            },
            format!(
                "blood pressure today {shown} is above {}/{} mmHg: weigh the short-term rise against the benefit, and consider treating the pressure or delaying",
                settings.systolic_mmhg, settings.diastolic_mmhg
            ),
            Basis::Confirmed,
        );
    }
    for class in &input.medication_classes {
        let rule = medication_rule(*class);
        let reason = rule.reason.to_owned();
        push(
            &format!("medication_{}", class.code()),
            rule,
            reason,
            Basis::Confirmed,
        );
    }
    let min = settings.trd_min_trials;
    let reason = match input.adequate_trials {
        None => {
            "no antidepressant trial history is recorded; take it to judge treatment resistance"
                .to_owned()
        }
        Some(n) if n >= min => format!(
            "{n} failed adequate antidepressant trial{} recorded: meets the usual definition of treatment-resistant depression (at least {min})",
            if n == 1 { "" } else { "s" }
        ),
        Some(n) => format!(
            "{n} failed adequate antidepressant trial{} recorded: short of the usual definition of treatment-resistant depression (at least {min}); esketamine is indicated for treatment-resistant depression",
            if n == 1 { "" } else { "s" }
        ),
    };
    push(
        "treatment_resistance",
        Rule {
            class: FindingClass::Note,
            reason: "",
            source: TRD_DEFINITION,
        },
        reason,
        Basis::Confirmed,
    );
    findings.sort_by_key(|f| f.class);
    findings
}

/// The prescriber's decision on a screening.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Eligible for treatment.
    Eligible,
    /// Not eligible.
    NotEligible,
    /// More information or a consultation is needed first.
    NeedsReview,
}

impl Decision {
    /// Every decision, in form order.
    pub const ALL: [Decision; 3] = [
        Decision::Eligible,
        Decision::NotEligible,
        Decision::NeedsReview,
    ];

    /// Stored code.
    pub fn code(self) -> &'static str {
        match self {
            Decision::Eligible => "eligible",
            Decision::NotEligible => "not_eligible",
            Decision::NeedsReview => "needs_review",
        }
    }

    /// Words for people.
    pub fn label(self) -> &'static str {
        match self {
            Decision::Eligible => "Eligible",
            Decision::NotEligible => "Not eligible",
            Decision::NeedsReview => "Needs review",
        }
    }

    /// The decision with this code.
    pub fn parse(code: &str) -> Option<Decision> {
        Decision::ALL.into_iter().find(|d| d.code() == code)
    }
}

/// The fewest characters of a reason or a justification: a word or two is not one.
pub const MIN_REASON_CHARS: usize = 10;
/// The most characters of a reason or a justification.
pub const MAX_REASON_CHARS: usize = 2000;

/// Why a decision was refused; each names its field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecisionError {
    /// No decision chosen.
    #[error("choose the decision: eligible, not eligible or needs review")]
    DecisionMissing,
    /// The reason is too short or too long.
    #[error(
        "give the reason for the decision in {MIN_REASON_CHARS} to {MAX_REASON_CHARS} characters"
    )]
    ReasonLength,
    /// Eligible despite an absolute finding, without a justification.
    #[error(
        "this screening has a contraindication ({0}); to decide eligible anyway, write the justification ({MIN_REASON_CHARS} to {MAX_REASON_CHARS} characters)"
    )]
    JustificationMissing(String),
    /// The reason (`reason`) or the justification (`justification`) holds a control character
    /// or an invisible mark.
    #[error(
        "the {} {}; type it again",
        if *.0 == "reason" { "reason" } else { "justification" },
        crate::text::TextProblem::Unreadable
    )]
    Unreadable(&'static str),
}

impl DecisionError {
    /// The form field the error is about.
    pub fn field(&self) -> &'static str {
        match self {
            DecisionError::DecisionMissing => "decision",
            DecisionError::ReasonLength => "reason",
            DecisionError::JustificationMissing(_) => "justification",
            DecisionError::Unreadable(field) => field,
        }
    }
}

/// A checked decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedDecision {
    /// The decision.
    pub decision: Decision,
    /// Why.
    pub reason: String,
    /// Why an absolute finding is overridden; only with "eligible" over an absolute finding.
    pub justification: Option<String>,
}

/// A reason or a justification: `Ok(None)` when it is too short or too long, an error when it
/// holds a control character (line breaks and tabs are kept).
fn bounded(text: &str, field: &'static str) -> Result<Option<String>, DecisionError> {
    match crate::text::optional_lines(text, MAX_REASON_CHARS) {
        Ok(Some(t)) if t.chars().count() >= MIN_REASON_CHARS => Ok(Some(t.to_owned())),
        Err(crate::text::TextProblem::Unreadable) => Err(DecisionError::Unreadable(field)),
        _ => Ok(None),
    }
}

/// Checks a prescriber's decision against the screening's findings: "eligible" over an
/// absolute finding needs a written justification; a justification without one is dropped.
pub fn check_decision(
    findings: &[Finding],
    decision: &str,
    reason: &str,
    justification: &str,
) -> Result<CheckedDecision, Vec<DecisionError>> {
    let mut errors = Vec::new();
    let decision = Decision::parse(decision.trim());
    if decision.is_none() {
        errors.push(DecisionError::DecisionMissing);
    }
    let reason = match bounded(reason, "reason") {
        Ok(None) => {
            errors.push(DecisionError::ReasonLength);
            None
        }
        Ok(reason) => reason,
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let absolute: Vec<&str> = findings
        .iter()
        .filter(|f| f.class == FindingClass::Absolute)
        .map(|f| f.code.as_str())
        .collect();
    let mut kept = None;
    if decision == Some(Decision::Eligible) && !absolute.is_empty() {
        match bounded(justification, "justification") {
            Ok(Some(j)) => kept = Some(j),
            Ok(None) => errors.push(DecisionError::JustificationMissing(
                absolute.join(", ").replace('_', " "),
            )),
            Err(e) => errors.push(e),
        }
    }
    match (decision, reason) {
        (Some(decision), Some(reason)) if errors.is_empty() => Ok(CheckedDecision {
            decision,
            reason,
            justification: kept,
        }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests;
