//! Simons et al. 2022: S-ketamine oral thin film (sublingual or buccal) and IV, with
//! S-norketamine and S-hydroxynorketamine.
//!
//! Source: Simons P, Olofsen E, van Velzen M et al. S-Ketamine oral thin film, part 1:
//! population pharmacokinetics of S-ketamine, S-norketamine and S-hydroxynorketamine.
//! Front Pain Res 2022;3:946486, doi:10.3389/fpain.2022.946486 (open access). Values and
//! equations as transcribed with Table 4 traces in nlmixr2lib (`Simons_2022_s_ketamine.R`);
//! the dossier's implementation and this one reproduce the IV peak (272.7 against 273 ng/mL,
//! the infusion given 6 h after a 50 mg film as in the study) (level A).
//!
//! A film dose enters by two routes: through the mucosa (F1 of the dose, zero-order over D1 into
//! a depot, then KA1 into the central compartment) and swallowed (F2 of the dose, zero-order over
//! D2 into a gut depot, KA2, then a gut-to-liver delay straight into metabolism, never reaching
//! systemic S-ketamine). Metabolism runs through two-compartment delay chains: 80 % of
//! metabolised S-ketamine forms S-norketamine, 70 % of that forms S-hydroxynorketamine.
//! Volumes and clearances are given at 70 kg; the paper does not print the weight exponents, so
//! 1 (volumes) and 0.75 (clearances) are assumed, as nlmixr2lib does. Data were arterial.

use crate::matrix::Matrix;
use crate::model::{
    Analyte, Built, Metabolite, ModelInfo, Patient, Provenance, Route, Routes, Sampling,
};
use crate::simulate::Input;

/// Mucosal bioavailability of the film dose, F1.
const F1: f64 = 0.263;
/// Duration of the zero-order mucosal input, D1, min.
const D1: f64 = 13.1;
/// Mucosal absorption, KA1, 1/min.
const KA1: f64 = 0.04;
/// Swallowed fraction reaching hepatic metabolism, F2 (of the full film dose; above 1 as published).
const F2: f64 = 1.16;
/// Duration of the zero-order swallowed input, D2, min.
const D2: f64 = 29.9;
/// Gut absorption, KA2, 1/min.
const KA2: f64 = 0.049;
/// Gut-to-liver mean transit time, MTTG, min.
const MTT_GUT: f64 = 10.7;
/// S-ketamine central volume VK1 at 70 kg, L (also the S-norketamine central volume).
const VK1: f64 = 11.6;
/// S-ketamine peripheral volumes VK2 and VK3 at 70 kg, L.
const VK2: f64 = 39.0;
const VK3: f64 = 174.0;
/// S-ketamine clearance into metabolism CLK1, and intercompartmental CLK2, CLK3, at 70 kg, L/min.
const CLK1: f64 = 1.48;
const CLK2: f64 = 2.43;
const CLK3: f64 = 1.21;
/// Mean transit time of the S-ketamine → S-norketamine chain, min.
const MTT_K_NK: f64 = 20.1;
/// Fraction of metabolised S-ketamine forming S-norketamine (fixed in the paper).
const FM_NK: f64 = 0.8;
/// S-norketamine peripheral volume VN2 at 70 kg, L.
const VN2: f64 = 221.0;
/// S-norketamine clearance CLN1 and intercompartmental CLN2 at 70 kg, L/min.
const CLN1: f64 = 1.00;
const CLN2: f64 = 2.63;
/// Mean transit time of the S-norketamine → S-hydroxynorketamine chain, min.
const MTT_NK_HNK: f64 = 1.12;
/// Fraction of metabolised S-norketamine forming S-hydroxynorketamine (fixed in the paper).
const FM_HNK: f64 = 0.7;
/// S-hydroxynorketamine volumes VH1, VH2 at 70 kg, L.
const VH1: f64 = 4.4;
const VH2: f64 = 87.5;
/// S-hydroxynorketamine clearance CLH1 and intercompartmental CLH2 at 70 kg, L/min.
const CLH1: f64 = 0.933;
const CLH2: f64 = 1.70;
/// Molar masses, g/mol: ketamine base 237.73, norketamine 223.70, hydroxynorketamine 239.70
/// (dossier, units section). States carry mg of S-ketamine equivalents; concentrations of the
/// metabolites are converted to mg of the metabolite itself.
const MW_K: f64 = 237.73;
const MW_NK: f64 = 223.70;
const MW_HNK: f64 = 239.70;

pub(crate) static INFO: ModelInfo = ModelInfo {
    id: "simons2022",
    name: "Simons et al. 2022 (S-ketamine oral thin film and IV, with S-norketamine and S-hydroxynorketamine)",
    citation: "Simons P et al. Front Pain Res 2022;3:946486",
    analyte: Analyte::Esketamine,
    sampling: Sampling::Arterial,
    provenance: Provenance::CheckedAgainstPaper,
    caveats: "Predicts S-ketamine (esketamine) only, from arterial samples of 20 healthy volunteers aged 19-32. \
              Weight exponents are not printed in the paper; 1 for volumes and 0.75 for clearances are assumed. \
              The film is a specific product: sublingual tablets or lozenges may absorb differently.",
    routes: &[Route::IvBolus, Route::IvInfusion, Route::Sublingual],
};

const CENTRAL: usize = 0;
const P1: usize = 1;
const P2: usize = 2;
const DEPOT: usize = 3;
const GUT: usize = 4;
const GUT_TRANSIT: usize = 5;
const NK_T1: usize = 6;
const NK_T2: usize = 7;
const NK: usize = 8;
const NK_P: usize = 9;
const HNK_T1: usize = 10;
const HNK_T2: usize = 11;
const HNK: usize = 12;
const HNK_P: usize = 13;
const AUC: usize = 14;

/// The refusal of an absorption setting: the film's absorption is the published one.
pub(crate) fn fixed_absorption(field: &'static str) -> crate::PkError {
    crate::PkError::FixedByModel {
        field,
        model: INFO.id,
        reason: "the film's mucosal and swallowed absorption are the published ones",
    }
}

/// How a film dose becomes inputs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Routing;

impl Routing {
    pub(crate) fn film_inputs(&self, start: f64, mg: f64) -> Vec<Input> {
        vec![
            Input::zero_order(DEPOT, start, mg * F1, D1),
            Input::zero_order(GUT, start, mg * F2, D2),
        ]
    }
}

pub(crate) fn build(patient: &Patient) -> Built {
    let w = patient.weight.get() / 70.0;
    let (wv, wc) = (w, w.powf(0.75));
    let (vk1, vk2, vk3) = (VK1 * wv, VK2 * wv, VK3 * wv);
    let (clk1, clk2, clk3) = (CLK1 * wc, CLK2 * wc, CLK3 * wc);
    let (vn1, vn2) = (vk1, VN2 * wv);
    let (cln1, cln2) = (CLN1 * wc, CLN2 * wc);
    let (vh1, vh2) = (VH1 * wv, VH2 * wv);
    let (clh1, clh2) = (CLH1 * wc, CLH2 * wc);
    let mut a = Matrix::zeros(AUC + 1);
    // Moves drug from one state to another at rate k; `yield_` of it arrives.
    let mut flow = |from: usize, to: Option<usize>, k: f64, yield_: f64| {
        a.add_to(from, from, -k);
        if let Some(to) = to {
            a.add_to(to, from, k * yield_);
        }
    };
    flow(DEPOT, Some(CENTRAL), KA1, 1.0);
    flow(GUT, Some(GUT_TRANSIT), KA2, 1.0);
    flow(GUT_TRANSIT, Some(NK_T1), 1.0 / MTT_GUT, 1.0);
    flow(CENTRAL, Some(P1), clk2 / vk1, 1.0);
    flow(P1, Some(CENTRAL), clk2 / vk2, 1.0);
    flow(CENTRAL, Some(P2), clk3 / vk1, 1.0);
    flow(P2, Some(CENTRAL), clk3 / vk3, 1.0);
    flow(CENTRAL, Some(NK_T1), clk1 / vk1, 1.0);
    flow(NK_T1, Some(NK_T2), 2.0 / MTT_K_NK, 1.0);
    flow(NK_T2, Some(NK), 2.0 / MTT_K_NK, FM_NK);
    flow(NK, Some(NK_P), cln2 / vn1, 1.0);
    flow(NK_P, Some(NK), cln2 / vn2, 1.0);
    flow(NK, Some(HNK_T1), cln1 / vn1, 1.0);
    flow(HNK_T1, Some(HNK_T2), 2.0 / MTT_NK_HNK, 1.0);
    flow(HNK_T2, Some(HNK), 2.0 / MTT_NK_HNK, FM_HNK);
    flow(HNK, Some(HNK_P), clh2 / vh1, 1.0);
    flow(HNK_P, Some(HNK), clh2 / vh2, 1.0);
    flow(HNK, None, clh1 / vh1, 1.0);
    a.add_to(AUC, CENTRAL, 1.0 / vk1);
    Built {
        spectral: None,
        depots: Vec::new(),
        routes: Routes::Simons(Routing),
        metabolites: vec![
            // Concentration of the metabolite in mg/L: S-ketamine equivalents × molar-mass ratio.
            Metabolite {
                name: "norketamine",
                compartment: NK,
                volume: vn1 * MW_K / MW_NK,
            },
            Metabolite {
                name: "hydroxynorketamine",
                compartment: HNK,
                volume: vh1 * MW_K / MW_HNK,
            },
        ],
        a,
        central: CENTRAL,
        v1: vk1,
        effect: None,
        auc: Some(AUC),
    }
}
