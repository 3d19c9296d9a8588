//! Dose arithmetic for the chair side: weight-based dose, volume of stock to draw, bag
//! concentration, pump rate, and esketamine devices.
//!
//! Rounding rule: every quantity is computed from unrounded inputs and rounded only for
//! display, half away from zero: doses to 0.1 mg, volumes to 0.01 mL, concentrations to
//! 0.001 mg/mL, pump rates to 0.1 mL/h. The drawn stock is added to the bag, so the infused
//! volume is the bag plus the stock.

use crate::PkError;
use crate::units::Kg;

/// The highest weight-based IV dose Ketaflow calculates without an override, mg/kg. The default
/// is the highest dose given in the dose-ranging trial of IV ketamine for depression (Fava et al.
/// 2018, Mol Psychiatry, PMC6447473: 0.1, 0.2, 0.5 and 1.0 mg/kg over 40 minutes); the
/// conventional dose is 0.5 mg/kg. A clinic may set a lower cap.
pub const DEFAULT_MAX_MG_PER_KG: f64 = 1.0;

/// The highest IV, intramuscular or nasal cap a clinic may set, mg/kg: the top of the
/// anaesthetic induction range of IV ketamine, 1–2 mg/kg (Zanos et al. 2018, Pharmacol Rev
/// 70:621, Table 1). A cap above it would let the planner calculate anaesthetic doses.
pub const HIGHEST_MAX_MG_PER_KG: f64 = 2.0;

/// The highest oral or sublingual cap a clinic may set, mg/kg: the largest weight-based oral dose
/// reported for depression, 7.0 mg/kg (Andrade 2019, J Clin Psychiatry 80:19f12838, "Oral
/// ketamine for depression, 2": weight-based sessions ranged from 0.25 to 7.0 mg/kg). The default
/// stays at [`DEFAULT_MAX_MG_PER_KG`]: no published cap for oral dosing was found, so the
/// conservative value is the parenteral one, and a clinic that doses by mouth sets its own.
pub const HIGHEST_MAX_ORAL_MG_PER_KG: f64 = 7.0;

/// The clinic's caps on racemic ketamine doses, mg/kg, by route group. Settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DoseCaps {
    /// IV (bolus or infusion), intramuscular and nasal doses.
    pub max_mg_per_kg: f64,
    /// Doses swallowed or held under the tongue.
    pub max_oral_mg_per_kg: f64,
}

impl Default for DoseCaps {
    fn default() -> Self {
        DoseCaps {
            max_mg_per_kg: DEFAULT_MAX_MG_PER_KG,
            max_oral_mg_per_kg: DEFAULT_MAX_MG_PER_KG,
        }
    }
}

impl DoseCaps {
    /// Whether a route falls under the oral cap.
    fn oral(route: crate::model::Route) -> bool {
        matches!(
            route,
            crate::model::Route::Oral | crate::model::Route::Sublingual
        )
    }

    /// The cap for a route, mg/kg.
    pub fn for_route(&self, route: crate::model::Route) -> f64 {
        if Self::oral(route) {
            self.max_oral_mg_per_kg
        } else {
            self.max_mg_per_kg
        }
    }

    /// The cap for a route, named in words for a message.
    pub fn name_for_route(route: crate::model::Route) -> &'static str {
        if Self::oral(route) {
            "the clinic's oral and sublingual cap"
        } else {
            "the clinic's cap"
        }
    }

    /// Checks both caps against their accepted ranges, naming the setting that is out of range.
    pub fn check(&self) -> Result<(), PkError> {
        for (field, value, highest) in [
            ("max_mg_per_kg", self.max_mg_per_kg, HIGHEST_MAX_MG_PER_KG),
            (
                "max_oral_mg_per_kg",
                self.max_oral_mg_per_kg,
                HIGHEST_MAX_ORAL_MG_PER_KG,
            ),
        ] {
            if !value.is_finite() || value < 0.01 || value > highest {
                return Err(PkError::OutOfRange {
                    field,
                    value,
                    min: 0.01,
                    max: highest,
                });
            }
        }
        Ok(())
    }
}

/// Esketamine per Spravato device, mg (28 mg in two sprays; Spravato prescribing information).
pub const ESKETAMINE_MG_PER_DEVICE: f64 = 28.0;

/// The largest esketamine dose per session in the label, mg (84 mg = 3 devices; Spravato
/// prescribing information).
pub const ESKETAMINE_MAX_MG: f64 = 84.0;

/// The highest S-ketamine oral thin-film dose studied, mg: Simons et al. gave 50 mg and
/// 100 mg films to healthy volunteers (Front Pain Res 2022;3:946486).
pub const ESKETAMINE_FILM_MAX_MG: f64 = 100.0;

/// The most esketamine one session may give by `route`, and what that limit is.
///
/// The 84 mg maximum belongs to the Spravato nasal spray (its label); a sublingual or swallowed
/// S-ketamine film follows the highest studied film dose instead. Intravenous esketamine has no
/// product label in this build, so it keeps the nasal label's maximum, the lower of the two.
pub fn esketamine_max_mg(route: crate::model::Route) -> (f64, &'static str) {
    use crate::model::Route;
    match route {
        Route::Sublingual | Route::Oral => (
            ESKETAMINE_FILM_MAX_MG,
            "the highest S-ketamine film dose studied (Simons 2022)",
        ),
        Route::Intranasal => (
            ESKETAMINE_MAX_MG,
            "the Spravato label's maximum per session",
        ),
        Route::IvBolus | Route::IvInfusion | Route::Intramuscular => (
            ESKETAMINE_MAX_MG,
            "the Spravato label's maximum, kept for esketamine by vein (no label of its own)",
        ),
    }
}

/// An IV infusion order to work out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InfusionOrder {
    /// Patient weight.
    pub weight: Kg,
    /// Ordered dose, mg per kg.
    pub mg_per_kg: f64,
    /// Infusion duration, min.
    pub duration_min: f64,
    /// Stock concentration, mg/mL (ketamine vials are 10, 50 or 100 mg/mL).
    pub stock_mg_per_ml: f64,
    /// Volume of the bag the stock is added to, mL.
    pub bag_ml: f64,
    /// The cap this order is checked against, mg/kg.
    pub max_mg_per_kg: f64,
}

/// What the nurse draws, hangs and programs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InfusionPlan {
    /// Dose, mg.
    pub dose_mg: f64,
    /// Stock to draw, mL.
    pub stock_ml: f64,
    /// Volume infused: bag plus stock, mL.
    pub total_ml: f64,
    /// Concentration in the bag, mg/mL.
    pub bag_mg_per_ml: f64,
    /// Pump rate, mL/h.
    pub rate_ml_per_h: f64,
    /// Dose rate, mg/h.
    pub dose_rate_mg_per_h: f64,
}

fn positive(field: &'static str, v: f64, max: f64) -> Result<f64, PkError> {
    if !v.is_finite() {
        return Err(PkError::NotFinite { field });
    }
    if v <= 0.0 || v > max {
        return Err(PkError::OutOfRange {
            field,
            value: v,
            min: 0.0,
            max,
        });
    }
    Ok(v)
}

/// Works out an infusion. Refuses a dose over the cap with [`PkError::OverCap`].
pub fn plan_infusion(order: &InfusionOrder) -> Result<InfusionPlan, PkError> {
    let mg_per_kg = positive("mg_per_kg", order.mg_per_kg, 100.0)?;
    let duration = positive("duration_min", order.duration_min, 24.0 * 60.0)?;
    let stock = positive("stock_mg_per_ml", order.stock_mg_per_ml, 100.0)?;
    let bag = if order.bag_ml.is_finite() && (0.0..=1000.0).contains(&order.bag_ml) {
        order.bag_ml
    } else {
        return Err(PkError::OutOfRange {
            field: "bag_ml",
            value: order.bag_ml,
            min: 0.0,
            max: 1000.0,
        });
    };
    if mg_per_kg > order.max_mg_per_kg {
        return Err(PkError::OverCap {
            mg_per_kg,
            cap: order.max_mg_per_kg,
        });
    }
    let dose_mg = mg_per_kg * order.weight.get();
    let stock_ml = dose_mg / stock;
    let total_ml = bag + stock_ml;
    Ok(InfusionPlan {
        dose_mg,
        stock_ml,
        total_ml,
        bag_mg_per_ml: dose_mg / total_ml,
        rate_ml_per_h: total_ml / duration * 60.0,
        dose_rate_mg_per_h: dose_mg / duration * 60.0,
    })
}

/// Spravato devices for a dose: it must be 28, 56 or 84 mg.
pub fn esketamine_devices(dose_mg: f64) -> Result<u32, PkError> {
    if !dose_mg.is_finite() {
        return Err(PkError::NotFinite { field: "dose_mg" });
    }
    let devices = dose_mg / ESKETAMINE_MG_PER_DEVICE;
    if dose_mg <= 0.0 || dose_mg > ESKETAMINE_MAX_MG || (devices - devices.round()).abs() > 1e-9 {
        return Err(PkError::NotWholeDevices { dose_mg });
    }
    Ok(devices.round() as u32)
}

/// Rounds half away from zero to `decimals` places (for display only). Dividing by the power
/// of ten (rather than multiplying by a step such as 0.1) gives the nearest double to the
/// decimal result, so 156.2 prints as 156.2.
pub fn round_to(v: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (v * scale).round() / scale
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(mg_per_kg: f64) -> InfusionOrder {
        InfusionOrder {
            weight: Kg::new(82.0).unwrap(),
            mg_per_kg,
            duration_min: 40.0,
            stock_mg_per_ml: 10.0,
            bag_ml: 100.0,
            max_mg_per_kg: DEFAULT_MAX_MG_PER_KG,
        }
    }

    #[test]
    fn caps_are_chosen_by_route_and_checked_against_their_ranges() {
        use crate::model::Route;
        let caps = DoseCaps {
            max_mg_per_kg: 0.75,
            max_oral_mg_per_kg: 3.0,
        };
        assert_eq!(caps.for_route(Route::IvInfusion), 0.75);
        assert_eq!(caps.for_route(Route::Intramuscular), 0.75);
        assert_eq!(caps.for_route(Route::Intranasal), 0.75);
        assert_eq!(caps.for_route(Route::Oral), 3.0);
        assert_eq!(caps.for_route(Route::Sublingual), 3.0);
        assert!(caps.check().is_ok() && DoseCaps::default().check().is_ok());
        let high = DoseCaps {
            max_mg_per_kg: 2.5,
            ..caps
        };
        assert_eq!(
            high.check().unwrap_err().to_string(),
            "max_mg_per_kg is 2.5; accepted 0.01 to 2"
        );
        let oral = DoseCaps {
            max_oral_mg_per_kg: f64::NAN,
            ..caps
        };
        assert_eq!(oral.check().unwrap_err().field(), "max_oral_mg_per_kg");
    }

    #[test]
    fn the_standard_order_for_82_kg() {
        let p = plan_infusion(&order(0.5)).unwrap();
        assert!((p.dose_mg - 41.0).abs() < 1e-12);
        assert!((p.stock_ml - 4.1).abs() < 1e-12);
        assert!((p.total_ml - 104.1).abs() < 1e-12);
        assert!((p.bag_mg_per_ml - 41.0 / 104.1).abs() < 1e-15);
        assert!((p.rate_ml_per_h - 156.15).abs() < 1e-9);
        assert!((p.dose_rate_mg_per_h - 61.5).abs() < 1e-12);
        assert_eq!(round_to(p.rate_ml_per_h, 1), 156.2);
        assert_eq!(round_to(0.25, 1), 0.3);
        assert_eq!(round_to(-0.25, 1), -0.3);
    }

    #[test]
    fn caps_and_bad_numbers_are_refused() {
        assert!(matches!(
            plan_infusion(&order(1.01)),
            Err(PkError::OverCap { .. })
        ));
        assert!(plan_infusion(&order(1.0)).is_ok());
        assert!(matches!(
            plan_infusion(&order(f64::NAN)),
            Err(PkError::NotFinite { field: "mg_per_kg" })
        ));
        assert!(matches!(
            plan_infusion(&order(-0.5)),
            Err(PkError::OutOfRange {
                field: "mg_per_kg",
                ..
            })
        ));
        let mut o = order(0.5);
        o.duration_min = 0.0;
        assert!(matches!(
            plan_infusion(&o),
            Err(PkError::OutOfRange {
                field: "duration_min",
                ..
            })
        ));
    }

    #[test]
    fn esketamine_comes_in_whole_devices() {
        assert_eq!(esketamine_devices(56.0).unwrap(), 2);
        assert_eq!(esketamine_devices(84.0).unwrap(), 3);
        assert_eq!(esketamine_devices(28.0).unwrap(), 1);
        for bad in [0.0, 30.0, 112.0, f64::INFINITY] {
            assert!(esketamine_devices(bad).is_err(), "{bad}");
        }
    }
}
