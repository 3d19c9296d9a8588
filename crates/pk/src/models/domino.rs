//! Domino 1984: racemic ketamine, three compartments, micro-constants, weight-proportional.
//!
//! Source: Domino EF, Domino SE, Smith RE et al. Ketamine kinetics in unmedicated and
//! diazepam-premedicated subjects. Clin Pharmacol Ther 1984;36:645-653. Values as coded in
//! opentiva (`opentiva/ketamine.py`, class `Domino`) and stanpumpR (`R/drugs_ketamine.R`), which
//! agree; the paper itself was not read (dossier level B).

use crate::model::{Analyte, Built, ModelInfo, Patient, Provenance, Route, Sampling};

/// Central volume per kg of total body weight, L/kg.
const V1_PER_KG: f64 = 0.063;
/// Elimination rate constant, min⁻¹.
const K10: f64 = 0.4381;
/// Central → shallow peripheral, min⁻¹.
const K12: f64 = 0.5921;
/// Central → deep peripheral, min⁻¹.
const K13: f64 = 0.5900;
/// Shallow peripheral → central, min⁻¹.
const K21: f64 = 0.2470;
/// Deep peripheral → central, min⁻¹.
const K31: f64 = 0.0146;
/// Effect-site equilibration, min⁻¹: a heuristic, not a measurement. opentiva chose it so that
/// the effect-site peak falls 1 min after a bolus; no ke0 was published with this model.
pub(crate) const KE0_HEURISTIC: f64 = 0.652;

pub(crate) static INFO: ModelInfo = ModelInfo {
    id: "domino",
    name: "Domino 1984 (racemic ketamine, 3 compartments)",
    citation: "Domino EF et al. Clin Pharmacol Ther 1984;36:645-653",
    analyte: Analyte::RacemicKetamine,
    sampling: Sampling::Venous,
    provenance: Provenance::OpenSourceOnly,
    caveats: "Values from open-source TCI implementations (opentiva, stanpumpR), not checked against the paper. \
              The effect-site ke0 (0.652/min) is a heuristic giving a 1-minute peak after a bolus, not a measurement. \
              The small central volume gives unphysiological peaks right after a bolus.",
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
    Built::mammillary(v1, K10, &[(K12, K21), (K13, K31)], Some(KE0_HEURISTIC))
}
