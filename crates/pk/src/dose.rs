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

/// The smallest weight-based dose the planner plans, mg/kg: the lowest dose with a reported
/// antidepressant response and the lowest arm of the dose-ranging trial, 0.1 mg/kg (Fava et al.
/// 2018, Mol Psychiatry, PMC6447473; Andrade 2017, J Clin Psychiatry 78:e852). Below it the
/// planner would extrapolate past what was studied. A setting (`dosing.min_mg_per_kg`).
pub const DEFAULT_MIN_MG_PER_KG: f64 = 0.1;

/// The shortest IV infusion the planner plans, min: the shortest infusion of ketamine for
/// depression reported as safe, 2 minutes (Andrade 2017, J Clin Psychiatry 78:e852: durations
/// of 2–100 minutes reported safe; 40 minutes is conventional). A setting
/// (`dosing.min_infusion_min`).
pub const DEFAULT_MIN_INFUSION_MIN: f64 = 2.0;

/// The lower bounds of what the planner plans: below them a plan is refused at its field rather
/// than drawn (a 0.001-minute infusion or a dose of 0 mg/kg is a typing slip, not a plan).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlanningFloor {
    /// Smallest weight-based dose, mg/kg.
    pub min_mg_per_kg: f64,
    /// Shortest infusion, min.
    pub min_infusion_min: f64,
}

impl Default for PlanningFloor {
    fn default() -> Self {
        PlanningFloor {
            min_mg_per_kg: DEFAULT_MIN_MG_PER_KG,
            min_infusion_min: DEFAULT_MIN_INFUSION_MIN,
        }
    }
}

/// A planned dose below the floor: which value, and the floor it is under.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum BelowFloor {
    /// The weight-based dose is under [`PlanningFloor::min_mg_per_kg`].
    #[error(
        "{value} mg/kg is below the smallest dose planned, {floor} mg/kg (the lowest dose studied for depression)"
    )]
    Dose {
        /// What was asked for.
        value: f64,
        /// The floor.
        floor: f64,
    },
    /// The infusion is shorter than [`PlanningFloor::min_infusion_min`].
    #[error("{value} minutes is shorter than the shortest infusion planned, {floor} minutes")]
    Infusion {
        /// What was asked for.
        value: f64,
        /// The floor.
        floor: f64,
    },
}

impl PlanningFloor {
    /// Checks a weight-based dose.
    pub fn check_dose(&self, mg_per_kg: f64) -> Result<(), BelowFloor> {
        if mg_per_kg < self.min_mg_per_kg {
            return Err(BelowFloor::Dose {
                value: mg_per_kg,
                floor: self.min_mg_per_kg,
            });
        }
        Ok(())
    }

    /// Checks an infusion's duration.
    pub fn check_infusion(&self, minutes: f64) -> Result<(), BelowFloor> {
        if minutes < self.min_infusion_min {
            return Err(BelowFloor::Infusion {
                value: minutes,
                floor: self.min_infusion_min,
            });
        }
        Ok(())
    }

    /// Checks both floors against their accepted ranges: a floor may be lowered to 0.01 mg/kg
    /// and 1 minute, never to nothing, and never raised past the standard 0.5 mg/kg over 40
    /// minutes.
    pub fn check(&self) -> Result<(), PkError> {
        for (field, value, min, max) in [
            ("min_mg_per_kg", self.min_mg_per_kg, 0.01, 0.5),
            ("min_infusion_min", self.min_infusion_min, 1.0, 40.0),
        ] {
            if !value.is_finite() || value < min || value > max {
                return Err(PkError::OutOfRange {
                    field,
                    value,
                    min,
                    max,
                });
            }
        }
        Ok(())
    }
}

/// How the nurse's figures are rounded, in words (the rule of this module's introduction).
pub const ROUNDING_RULE: &str = "computed from unrounded values; shown rounded half away from zero: dose 0.1 mg, volumes 0.01 mL, concentration 0.001 mg/mL, rate 0.1 mL/h; the stock is added to the bag";

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

impl InfusionPlan {
    /// The pump rate, mL/h, that gives `mg_per_h` from this bag: the plan's rate scaled by the
    /// new dose rate's share of the plan's, so the plan's own dose rate gives its rate exactly
    /// (and it prints the same wherever it is shown).
    pub fn rate_for(rate_ml_per_h: f64, dose_rate_mg_per_h: f64, mg_per_h: f64) -> Option<f64> {
        (dose_rate_mg_per_h > 0.0).then(|| rate_ml_per_h * (mg_per_h / dose_rate_mg_per_h))
    }
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

/// The age from which the Spravato label starts treatment-resistant depression at 28 mg (one
/// device) rather than 56 mg (Spravato prescribing information, dosage for adults 65 and
/// over).
pub const SPRAVATO_OLDER_ADULT_YEARS: f64 = 65.0;

/// Why a number of Spravato devices is not a dose of the label's.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum SpravatoDose {
    /// Not 1, 2 or 3 devices.
    #[error(
        "{devices} devices is not a Spravato dose; the label's doses are 28, 56 and 84 mg (1, 2 or 3 devices)"
    )]
    NotALabelDose {
        /// Devices asked for.
        devices: u32,
    },
    /// One device (28 mg) for an adult under 65.
    #[error(
        "28 mg (one device) is the label's dose for adults 65 and over; under 65 it is 56 or 84 mg (2 or 3 devices)"
    )]
    UnderAge,
}

/// Checks a number of Spravato devices against the label's doses for treatment-resistant
/// depression: 56 or 84 mg for adults under 65, 28, 56 or 84 mg at 65 and over (Spravato
/// prescribing information, dosage and administration). When the age is not known, only the
/// count is checked. The label's order of doses (56 mg on day 1, 84 mg only after a 56 mg start)
/// belongs to a course, not to one plan.
pub fn check_spravato_devices(devices: u32, age_years: Option<f64>) -> Result<(), SpravatoDose> {
    if !(1..=3).contains(&devices) {
        return Err(SpravatoDose::NotALabelDose { devices });
    }
    if devices == 1 && age_years.is_some_and(|a| a < SPRAVATO_OLDER_ADULT_YEARS) {
        return Err(SpravatoDose::UnderAge);
    }
    Ok(())
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

    #[test]
    fn a_new_dose_rate_has_the_pump_rate_of_the_same_bag() {
        // 39 mg in 103.9 mL over 40 minutes: 155.85 mL/h, 58.5 mg/h. Its own dose rate gives its
        // own pump rate exactly; a rate through mL per mg could land a hair below 155.85 and
        // print 155.8 beside the dose line's 155.9.
        let plan = plan_infusion(&InfusionOrder {
            weight: Kg::new(78.0).unwrap(),
            mg_per_kg: 0.5,
            duration_min: 40.0,
            stock_mg_per_ml: 10.0,
            bag_ml: 100.0,
            max_mg_per_kg: 1.0,
        })
        .unwrap();
        let same = InfusionPlan::rate_for(
            plan.rate_ml_per_h,
            plan.dose_rate_mg_per_h,
            plan.dose_rate_mg_per_h,
        )
        .unwrap();
        assert_eq!(same, plan.rate_ml_per_h);
        assert_eq!(round_to(same, 1), 155.9);
        let half = InfusionPlan::rate_for(plan.rate_ml_per_h, plan.dose_rate_mg_per_h, 29.25);
        assert!((half.unwrap() - plan.rate_ml_per_h / 2.0).abs() < 1e-9);
        assert_eq!(InfusionPlan::rate_for(156.0, 0.0, 10.0), None);
    }

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
    fn the_planning_floor_refuses_slips_and_is_itself_bounded() {
        let floor = PlanningFloor::default();
        assert!(floor.check().is_ok());
        assert!(floor.check_dose(0.1).is_ok() && floor.check_dose(0.5).is_ok());
        assert_eq!(
            floor.check_dose(0.0),
            Err(BelowFloor::Dose {
                value: 0.0,
                floor: 0.1
            })
        );
        assert!(floor.check_infusion(2.0).is_ok());
        assert!(floor.check_infusion(0.001).is_err());
        assert!(floor.check_infusion(1e-320).is_err());
        let none = PlanningFloor {
            min_mg_per_kg: 0.0,
            ..floor
        };
        assert_eq!(none.check().unwrap_err().field(), "min_mg_per_kg");
    }

    #[test]
    fn spravato_doses_follow_the_label() {
        assert!(check_spravato_devices(2, Some(40.0)).is_ok());
        assert!(check_spravato_devices(3, None).is_ok());
        assert!(check_spravato_devices(1, Some(70.0)).is_ok());
        assert!(check_spravato_devices(1, None).is_ok());
        assert_eq!(
            check_spravato_devices(1, Some(64.0)),
            Err(SpravatoDose::UnderAge)
        );
        assert_eq!(
            check_spravato_devices(4, Some(40.0)),
            Err(SpravatoDose::NotALabelDose { devices: 4 })
        );
        assert!(check_spravato_devices(0, None).is_err());
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
