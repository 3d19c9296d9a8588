//! Clements & Nimmo 1981, the 0.25 mg/kg data set: racemic ketamine, two compartments.
//!
//! Source: Clements JA, Nimmo WS. Pharmacokinetics and analgesic effect of ketamine in man.
//! Br J Anaesth 1981;53:27-30, doi:10.1093/bja/53.1.27. Values as coded in opentiva
//! (`opentiva/ketamine.py`, class `Clements250`); the paper was not read (dossier level B).

use crate::model::{Analyte, Built, ModelInfo, Patient, Provenance, Route, Sampling};

/// Central volume per kg, L/kg.
const V1_PER_KG: f64 = 1.7522;
/// Elimination, min⁻¹.
const K10: f64 = 0.0109;
/// Central → peripheral, min⁻¹.
const K12: f64 = 0.0186;
/// Peripheral → central, min⁻¹.
const K21: f64 = 0.0137;

pub(crate) static INFO: ModelInfo = ModelInfo {
    id: "clements250",
    name: "Clements & Nimmo 1981, 0.25 mg/kg (racemic ketamine, 2 compartments)",
    citation: "Clements JA, Nimmo WS. Br J Anaesth 1981;53:27-30",
    analyte: Analyte::RacemicKetamine,
    sampling: Sampling::Venous,
    provenance: Provenance::OpenSourceOnly,
    caveats: "Values from opentiva, not checked against the paper. A late-sampled venous fit with a very large \
              central volume: it cannot describe the first minutes after a bolus.",
    routes: &[
        Route::IvBolus,
        Route::IvInfusion,
        Route::Intramuscular,
        Route::Intranasal,
        Route::Oral,
        Route::Sublingual,
    ],
};

pub(crate) fn build(patient: &Patient) -> Built {
    let v1 = V1_PER_KG * patient.weight.get();
    Built::mammillary(v1, K10, &[(K12, K21)], None)
}
