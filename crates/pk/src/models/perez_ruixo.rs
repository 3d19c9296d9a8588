//! Perez-Ruixo et al. 2021: esketamine nasal spray (Spravato) and IV, with noresketamine.
//!
//! Source: Perez-Ruixo C, Rossenu S, Zannikos P et al. Population pharmacokinetics of
//! esketamine nasal spray and its metabolite noresketamine in healthy subjects and patients
//! with treatment-resistant depression. Clin Pharmacokinet 2021;60:501-516,
//! doi:10.1007/s40262-020-00953-4. Values as transcribed with table-level traces in nlmixr2lib
//! (`PerezRuixo_2020_esketamine.R`), structure from the paper's Fig. 1 (the printed ODEs have
//! typos); reproduces the paper's Table 4 (dossier level A).
//!
//! Structure: esketamine central, two peripherals, and a liver compartment exchanging with the
//! central one at hepatic flow Qh and eliminating (kel, and kmet to noresketamine). Each nasal
//! device puts a fraction FRn into a nasal depot (first order to central); the rest is
//! swallowed, passes gut metabolism (Fgut) and enters a gut depot over Dsw, then the liver.
//! Later devices of a session absorb less nasally (FRn × 0.62). Noresketamine parameters are
//! apparent (/F). Time in the paper is hours; converted to minutes here.

use crate::matrix::Matrix;
use crate::model::{
    Analyte, Built, Metabolite, ModelInfo, Patient, Provenance, Route, Routes, Sampling,
};
use crate::simulate::Input;

/// Fraction of the first device absorbed nasally.
pub(crate) const FRN: f64 = 0.54;
/// Factor on FRn for the second and later devices of a session (dose effect).
pub(crate) const FRN_LATER_DEVICES: f64 = 0.62;
/// Nasal absorption rate constant, 1/h.
const KA_N: f64 = 2.93;
/// Duration of the zero-order entry of the swallowed part into the gut depot, h.
const D_SW: f64 = 0.53;
/// Absorption of the swallowed part, 1/h.
const KA_SW: f64 = 1.45;
/// Fraction of the swallowed part escaping gut metabolism.
const F_GUT: f64 = 0.64;
/// Central volume, L.
const VC: f64 = 192.0;
/// Intercompartmental clearance to the first peripheral, L/h.
const Q1: f64 = 84.3;
/// First peripheral volume, L.
const VP1: f64 = 143.0;
/// Intercompartmental clearance to the second peripheral, L/h.
const Q2: f64 = 37.6;
/// Second peripheral volume, L.
const VP2: f64 = 417.0;
/// Hepatic flow, L/h.
const QH: f64 = 151.0;
/// Hepatic volume, L.
const VH: f64 = 101.0;
/// Hepatic elimination by other routes, 1/h.
const KEL: f64 = 1.11;
/// Hepatic metabolism to noresketamine, 1/h.
const KMET: f64 = 2.77;
/// Age effect: hepatic flow falls by this many L/h per year above 60.
const QH_PER_YEAR_OVER_60: f64 = 2.19;
/// Noresketamine central volume (apparent), L.
const VCN: f64 = 70.0;
/// Noresketamine clearance (apparent), L/h.
const CLN: f64 = 38.0;
/// Noresketamine peripheral volume (apparent), L.
const VPN: f64 = 115.0;
/// Noresketamine intercompartmental clearance (apparent), L/h.
const Q3: f64 = 26.1;

pub(crate) static INFO: ModelInfo = ModelInfo {
    id: "perez_ruixo2021",
    name: "Perez-Ruixo et al. 2021 (esketamine nasal spray and IV, with noresketamine)",
    citation: "Perez-Ruixo C et al. Clin Pharmacokinet 2021;60:501-516",
    analyte: Analyte::Esketamine,
    sampling: Sampling::Venous,
    provenance: Provenance::CheckedAgainstPaper,
    caveats: "Predicts esketamine (S-ketamine) only. No weight or sex effect (screened, not retained); hepatic flow \
              falls with age above 60. Race effects are not applied. As published, the model over-predicts the \
              noresketamine AUC about 1.45-fold (esketamine and noresketamine Cmax are reproduced).",
    routes: &[Route::IvBolus, Route::IvInfusion, Route::Intranasal],
};

/// Compartment indices.
const CENTRAL: usize = 0;
const P1: usize = 1;
const P2: usize = 2;
const LIVER: usize = 3;
pub(crate) const NASAL: usize = 4;
pub(crate) const GUT: usize = 5;
const NK: usize = 6;
const NK_P: usize = 7;
const AUC: usize = 8;

/// The parameters one patient gets (typical values, or sampled ones in a population).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Params {
    pub(crate) frn: f64,
    pub(crate) ka_n: f64,
    pub(crate) ka_sw: f64,
    pub(crate) vc: f64,
    pub(crate) vp1: f64,
    pub(crate) qh: f64,
    pub(crate) vh: f64,
    pub(crate) kel: f64,
    pub(crate) vcn: f64,
    pub(crate) cln: f64,
}

impl Params {
    /// Typical values for a patient (the age effect on hepatic flow applied).
    pub(crate) fn typical(patient: &Patient) -> Params {
        let over_60 = patient.age_years.map_or(0.0, |a| (a - 60.0).max(0.0));
        Params {
            frn: FRN,
            ka_n: KA_N,
            ka_sw: KA_SW,
            vc: VC,
            vp1: VP1,
            qh: (QH - QH_PER_YEAR_OVER_60 * over_60).max(1.0),
            vh: VH,
            kel: KEL,
            vcn: VCN,
            cln: CLN,
        }
    }
}

/// How nasal devices become inputs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Routing {
    frn: f64,
}

impl Routing {
    pub(crate) fn nasal_inputs(
        &self,
        start: f64,
        devices: u32,
        mg_per_device: f64,
        interval: f64,
    ) -> Vec<Input> {
        let dsw_min = D_SW * 60.0;
        (0..devices)
            .flat_map(|i| {
                let t = start + f64::from(i) * interval;
                let frn = if i == 0 {
                    self.frn
                } else {
                    self.frn * FRN_LATER_DEVICES
                };
                [
                    Input::bolus(NASAL, t, mg_per_device * frn),
                    Input::zero_order(GUT, t, mg_per_device * (1.0 - frn) * F_GUT, dsw_min),
                ]
            })
            .collect()
    }
}

/// Sets the model up (rates per minute, clearances in L/min).
pub(crate) fn build_with(p: Params) -> Built {
    build_states(p, true)
}

/// Only the esketamine states: no noresketamine, no AUC accumulator (for population runs,
/// which need plasma concentrations alone and pay for every state in the exponential).
pub(crate) fn build_plasma_only(p: Params) -> Built {
    build_states(p, false)
}

fn build_states(p: Params, full: bool) -> Built {
    let per_min = |per_h: f64| per_h / 60.0;
    let mut a = Matrix::zeros(if full { AUC + 1 } else { NK });
    let flow = |a: &mut Matrix, from: usize, to: usize, k: f64| {
        a.add_to(from, from, -k);
        a.add_to(to, from, k);
    };
    flow(&mut a, CENTRAL, P1, per_min(Q1) / p.vc);
    flow(&mut a, P1, CENTRAL, per_min(Q1) / p.vp1);
    flow(&mut a, CENTRAL, P2, per_min(Q2) / p.vc);
    flow(&mut a, P2, CENTRAL, per_min(Q2) / VP2);
    flow(&mut a, CENTRAL, LIVER, per_min(p.qh) / p.vc);
    flow(&mut a, LIVER, CENTRAL, per_min(p.qh) / p.vh);
    a.add_to(LIVER, LIVER, -per_min(p.kel));
    flow(&mut a, NASAL, CENTRAL, per_min(p.ka_n));
    flow(&mut a, GUT, LIVER, per_min(p.ka_sw));
    if !full {
        // Metabolism still removes drug from the liver; its product is not tracked.
        a.add_to(LIVER, LIVER, -per_min(KMET));
        let spectral = crate::spectral::Spectral::of_parts(
            &a,
            &[CENTRAL, P1, P2, LIVER],
            &[p.vc, p.vp1, VP2, p.vh],
            &[NASAL, GUT],
            &[],
        );
        return Built {
            spectral,
            depots: Vec::new(),
            routes: Routes::PerezRuixo(Routing { frn: p.frn }),
            metabolites: Vec::new(),
            a,
            central: CENTRAL,
            v1: p.vc,
            effect: None,
            auc: None,
        };
    }
    flow(&mut a, LIVER, NK, per_min(KMET));
    a.add_to(NK, NK, -per_min(p.cln) / p.vcn);
    flow(&mut a, NK, NK_P, per_min(Q3) / p.vcn);
    flow(&mut a, NK_P, NK, per_min(Q3) / VPN);
    a.add_to(AUC, CENTRAL, 1.0 / p.vc);
    Built {
        spectral: None,
        depots: Vec::new(),
        routes: Routes::PerezRuixo(Routing { frn: p.frn }),
        metabolites: vec![Metabolite {
            name: "noresketamine",
            compartment: NK,
            volume: p.vcn,
        }],
        a,
        central: CENTRAL,
        v1: p.vc,
        effect: None,
        auc: Some(AUC),
    }
}

pub(crate) fn build(patient: &Patient) -> Built {
    build_with(Params::typical(patient))
}
