//! The conditions Ketaflow's clinics treat, with their ICD-10-CM codes, for the intake record's
//! diagnoses. A built-in list rather than the whole code set: the codes a ketamine clinic uses,
//! each checked against a public listing of the code set (sources beside each group).

/// A diagnosis the clinic can record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Diagnosis {
    /// ICD-10-CM code, such as `F33.2`.
    pub code: &'static str,
    /// The code's title in words.
    pub label: &'static str,
    /// The condition group it belongs to, for the list's headings.
    pub group: &'static str,
}

const fn d(code: &'static str, label: &'static str, group: &'static str) -> Diagnosis {
    Diagnosis { code, label, group }
}

const MDD_SINGLE: &str = "Major depressive disorder, single episode";
const MDD_RECURRENT: &str = "Major depressive disorder, recurrent";
const BIPOLAR: &str = "Bipolar disorder, depressed";
const PTSD: &str = "Post-traumatic stress disorder";
const ANXIETY: &str = "Generalized anxiety disorder";
const OCD: &str = "Obsessive-compulsive disorder";
const POSTPARTUM: &str = "Postpartum depression";
const PAIN: &str = "Chronic pain";

/// The built-in list, by condition.
///
/// Sources (ICD-10-CM, FY2026 code set as the listings give it; `research/clinical.md` §8.1):
/// - F32 single episode, F33 recurrent: d3rx.com/codes/icd10/f32-9; mediyn.com (F33; F33 and
///   F33.4 are headers, so not listed).
/// - F31.3x/F31.4/F31.5 bipolar, current episode depressed: icd10.blog (F31.30); carepatron.com.
/// - F43.10/.11/.12 PTSD: icd10data.com (F43.10); codelle.io (F43.11); icdlist.com (F43.12).
/// - F41.1 generalized anxiety disorder: icd10data.com/ICD10CM/Codes/F01-F99/F40-F48/F41-/F41.1.
/// - F42.2/.8/.9 OCD (F42 itself not billable since FY2017): mediyn.com (F42.9); icdlist.com.
/// - F53.0 postpartum depression: icdlist.com/icd-10/F53.0.
/// - G90.5x complex regional pain syndrome I: littleden.blog (G90.5); hccbuddy.com (G90.50).
/// - M79.7 fibromyalgia: diseasedb.com/icd10/M79.7; G89.4 chronic pain syndrome:
///   diseasedb.com/icd10/G89.4; G89.29 other chronic pain: medcoder.ai (G89.29).
pub const DIAGNOSES: &[Diagnosis] = &[
    d(
        "F32.0",
        "Major depressive disorder, single episode, mild",
        MDD_SINGLE,
    ),
    d(
        "F32.1",
        "Major depressive disorder, single episode, moderate",
        MDD_SINGLE,
    ),
    d(
        "F32.2",
        "Major depressive disorder, single episode, severe without psychotic features",
        MDD_SINGLE,
    ),
    d(
        "F32.3",
        "Major depressive disorder, single episode, severe with psychotic features",
        MDD_SINGLE,
    ),
    d(
        "F32.4",
        "Major depressive disorder, single episode, in partial remission",
        MDD_SINGLE,
    ),
    d(
        "F32.5",
        "Major depressive disorder, single episode, in full remission",
        MDD_SINGLE,
    ),
    d(
        "F32.9",
        "Major depressive disorder, single episode, unspecified",
        MDD_SINGLE,
    ),
    d(
        "F33.0",
        "Major depressive disorder, recurrent, mild",
        MDD_RECURRENT,
    ),
    d(
        "F33.1",
        "Major depressive disorder, recurrent, moderate",
        MDD_RECURRENT,
    ),
    d(
        "F33.2",
        "Major depressive disorder, recurrent, severe without psychotic features",
        MDD_RECURRENT,
    ),
    d(
        "F33.3",
        "Major depressive disorder, recurrent, severe with psychotic symptoms",
        MDD_RECURRENT,
    ),
    d(
        "F33.40",
        "Major depressive disorder, recurrent, in remission, unspecified",
        MDD_RECURRENT,
    ),
    d(
        "F33.41",
        "Major depressive disorder, recurrent, in partial remission",
        MDD_RECURRENT,
    ),
    d(
        "F33.42",
        "Major depressive disorder, recurrent, in full remission",
        MDD_RECURRENT,
    ),
    d(
        "F33.9",
        "Major depressive disorder, recurrent, unspecified",
        MDD_RECURRENT,
    ),
    d(
        "F31.30",
        "Bipolar disorder, current episode depressed, mild or moderate severity, unspecified",
        BIPOLAR,
    ),
    d(
        "F31.31",
        "Bipolar disorder, current episode depressed, mild",
        BIPOLAR,
    ),
    d(
        "F31.32",
        "Bipolar disorder, current episode depressed, moderate",
        BIPOLAR,
    ),
    d(
        "F31.4",
        "Bipolar disorder, current episode depressed, severe, without psychotic features",
        BIPOLAR,
    ),
    d(
        "F31.5",
        "Bipolar disorder, current episode depressed, severe, with psychotic features",
        BIPOLAR,
    ),
    d(
        "F43.10",
        "Post-traumatic stress disorder, unspecified",
        PTSD,
    ),
    d("F43.11", "Post-traumatic stress disorder, acute", PTSD),
    d("F43.12", "Post-traumatic stress disorder, chronic", PTSD),
    d("F41.1", "Generalized anxiety disorder", ANXIETY),
    d("F42.2", "Mixed obsessional thoughts and acts", OCD),
    d("F42.8", "Other obsessive-compulsive disorder", OCD),
    d("F42.9", "Obsessive-compulsive disorder, unspecified", OCD),
    d("F53.0", "Postpartum depression", POSTPARTUM),
    d(
        "G90.50",
        "Complex regional pain syndrome I, unspecified",
        PAIN,
    ),
    d(
        "G90.511",
        "Complex regional pain syndrome I of right upper limb",
        PAIN,
    ),
    d(
        "G90.512",
        "Complex regional pain syndrome I of left upper limb",
        PAIN,
    ),
    d(
        "G90.521",
        "Complex regional pain syndrome I of right lower limb",
        PAIN,
    ),
    d(
        "G90.522",
        "Complex regional pain syndrome I of left lower limb",
        PAIN,
    ),
    d("M79.7", "Fibromyalgia", PAIN),
    d("G89.4", "Chronic pain syndrome", PAIN),
    d("G89.29", "Other chronic pain", PAIN),
];

/// The diagnosis with this code, if it is on the list (case and spaces ignored).
pub fn find(code: &str) -> Option<&'static Diagnosis> {
    let code = code.trim().to_ascii_uppercase();
    DIAGNOSES.iter().find(|d| d.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_well_formed_and_found() {
        for (i, a) in DIAGNOSES.iter().enumerate() {
            assert!(
                DIAGNOSES[i + 1..].iter().all(|b| b.code != a.code),
                "{} twice",
                a.code
            );
            let (head, tail) = a.code.split_once('.').expect("a dot");
            assert!(head.len() == 3 && head.as_bytes()[0].is_ascii_uppercase());
            assert!((1..=4).contains(&tail.len()), "{}", a.code);
        }
        assert_eq!(find(" f33.2 ").map(|d| d.group), Some(MDD_RECURRENT));
        assert!(find("F33").is_none(), "headers are not codes to record");
        assert!(find("Z99.9").is_none());
    }
}
