//! The published models. Each file holds one model's parameters, every value with its source.

mod clements;
mod domino;
mod kamp;
pub(crate) mod perez_ruixo;
pub(crate) mod simons;

use crate::PkError;
use crate::model::{Built, ModelInfo, Patient, Route};

pub use kamp::WeightScaling;

/// The models Ketaflow knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelId {
    /// Domino 1984, racemic, three compartments.
    Domino,
    /// Clements & Nimmo 1981, 0.25 mg/kg data, racemic, two compartments.
    Clements250,
    /// Kamp et al. 2020, racemic, three compartments.
    Kamp2020,
    /// Perez-Ruixo et al. 2021, esketamine nasal spray and IV, with noresketamine.
    PerezRuixo2021,
    /// Simons et al. 2022, S-ketamine oral thin film and IV, with metabolites.
    Simons2022,
}

/// Options some models take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ModelOptions {
    /// Kamp 2020: how clearances scale with weight.
    pub weight_scaling: WeightScaling,
}

impl ModelId {
    /// Every model.
    pub const ALL: [ModelId; 5] = [
        ModelId::Domino,
        ModelId::Clements250,
        ModelId::Kamp2020,
        ModelId::PerezRuixo2021,
        ModelId::Simons2022,
    ];

    /// Parses a model id; the error lists the ids.
    pub fn parse(s: &str) -> Result<ModelId, PkError> {
        ModelId::ALL
            .into_iter()
            .find(|m| m.info().id == s.trim())
            .ok_or_else(|| PkError::UnknownModel {
                input: s.to_owned(),
            })
    }

    /// The public description.
    pub fn info(self) -> &'static ModelInfo {
        match self {
            ModelId::Domino => &domino::INFO,
            ModelId::Clements250 => &clements::INFO,
            ModelId::Kamp2020 => &kamp::INFO,
            ModelId::PerezRuixo2021 => &perez_ruixo::INFO,
            ModelId::Simons2022 => &simons::INFO,
        }
    }

    /// Sets the model up for a patient.
    pub fn build(self, patient: &Patient, options: ModelOptions) -> Built {
        match self {
            ModelId::Domino => domino::build(patient),
            ModelId::Clements250 => clements::build(patient),
            ModelId::Kamp2020 => kamp::build(patient, options.weight_scaling),
            ModelId::PerezRuixo2021 => perez_ruixo::build(patient),
            ModelId::Simons2022 => simons::build(patient),
        }
    }

    /// Refuses a bioavailability or time-to-peak setting on a model whose own equations fix
    /// absorption (simons2022's film), naming the setting.
    pub fn check_absorption_settings(
        self,
        bioavailability: bool,
        absorption_tmax: bool,
    ) -> Result<(), PkError> {
        if self != ModelId::Simons2022 {
            return Ok(());
        }
        if bioavailability {
            return Err(simons::fixed_absorption("bioavailability"));
        }
        if absorption_tmax {
            return Err(simons::fixed_absorption("absorption_tmax_min"));
        }
        Ok(())
    }

    /// Refuses a route the model cannot describe, naming the models that can.
    pub fn check_route(self, route: Route) -> Result<(), PkError> {
        if self.info().routes.contains(&route) {
            return Ok(());
        }
        let able: Vec<&str> = ModelId::ALL
            .into_iter()
            .filter(|m| m.info().routes.contains(&route))
            .map(|m| m.info().id)
            .collect();
        Err(PkError::RouteNotDescribed {
            model: self.info().id,
            route: route.code(),
            models: if able.is_empty() {
                "none in this build yet".to_owned()
            } else {
                able.join(", ")
            },
        })
    }
}
