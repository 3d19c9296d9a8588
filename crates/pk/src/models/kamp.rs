//! Kamp et al. 2020: racemic ketamine, three compartments, the general model of a
//! meta-analysis (Anesthesiology 2020;133:1192-1213, doi:10.1097/ALN.0000000000003577).
//!
//! The abstract (read) gives a weighted mean volume of 252 L/70 kg and clearance of 79 L/h. The
//! three-compartment values below come from two independent open-source implementations that
//! agree (opentiva class `Klamp`; a TypeScript TIVA app citing the paper's Table 2); the paper's
//! tables were not read (dossier level B). The raw-data model has venous delay compartments that
//! these values leave out, so predictions are likely arterial.

use crate::model::{Analyte, Built, ModelInfo, Patient, Provenance, Route, Sampling};

/// Central volume at 70 kg, L.
const V1: f64 = 25.0;
/// Shallow peripheral volume at 70 kg, L.
const V2: f64 = 56.0;
/// Deep peripheral volume at 70 kg, L.
const V3: f64 = 157.0;
/// Clearance at 70 kg, L/h.
const CL: f64 = 84.0;
/// Intercompartmental clearance to V2 at 70 kg, L/h.
const Q2: f64 = 161.0;
/// Intercompartmental clearance to V3 at 70 kg, L/h.
const Q3: f64 = 79.0;

/// How clearances scale with weight. Volumes always scale linearly (W/70).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WeightScaling {
    /// Clearances × (W/70)^0.75, as the TypeScript implementation does (the default).
    #[default]
    Allometric,
    /// Clearances × W/70, as opentiva does.
    Linear,
}

impl WeightScaling {
    /// Parses `allometric` or `linear`.
    pub fn parse(s: &str) -> Option<WeightScaling> {
        match s.trim() {
            "allometric" => Some(WeightScaling::Allometric),
            "linear" => Some(WeightScaling::Linear),
            _ => None,
        }
    }
}

pub(crate) static INFO: ModelInfo = ModelInfo {
    id: "kamp2020",
    name: "Kamp et al. 2020 (racemic ketamine, 3 compartments)",
    citation: "Kamp J et al. Anesthesiology 2020;133:1192-1213",
    analyte: Analyte::RacemicKetamine,
    sampling: Sampling::Arterial,
    provenance: Provenance::OpenSourceOnly,
    caveats: "Values from two agreeing open-source implementations, not checked against the paper's tables. \
              Likely arterial (the venous delay compartments are not included): during an infusion it runs \
              higher than venous samples.",
    routes: &[
        Route::IvBolus,
        Route::IvInfusion,
        Route::Intramuscular,
        Route::Intranasal,
        Route::Oral,
        Route::Sublingual,
    ],
};

pub(crate) fn build(patient: &Patient, scaling: WeightScaling) -> Built {
    let w = patient.weight.get() / 70.0;
    let cl_factor = match scaling {
        WeightScaling::Allometric => w.powf(0.75),
        WeightScaling::Linear => w,
    };
    let (v1, v2, v3) = (V1 * w, V2 * w, V3 * w);
    // L/h → L/min.
    let (cl, q2, q3) = (
        CL * cl_factor / 60.0,
        Q2 * cl_factor / 60.0,
        Q3 * cl_factor / 60.0,
    );
    Built::mammillary(v1, cl / v1, &[(q2 / v1, q2 / v2), (q3 / v1, q3 / v3)], None)
}
