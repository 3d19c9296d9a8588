//! Quantities with their units in their types, valid by construction: finite and in range.

use crate::PkError;

fn finite_non_negative(field: &'static str, v: f64) -> Result<f64, PkError> {
    if !v.is_finite() {
        return Err(PkError::NotFinite { field });
    }
    if v < 0.0 {
        return Err(PkError::Negative { field, value: v });
    }
    Ok(v)
}

/// An amount of drug in milligrams (of the base or salt the model is parameterised in).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Mg(f64);

impl Mg {
    /// A non-negative, finite amount; `field` names the input in errors.
    pub fn new(field: &'static str, mg: f64) -> Result<Self, PkError> {
        finite_non_negative(field, mg).map(Mg)
    }
    /// The value in mg.
    pub fn get(self) -> f64 {
        self.0
    }
}

/// A time in minutes from the start of the scenario (or a duration in minutes).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Minutes(f64);

impl Minutes {
    /// A non-negative, finite time.
    pub fn new(field: &'static str, min: f64) -> Result<Self, PkError> {
        finite_non_negative(field, min).map(Minutes)
    }
    /// The value in minutes.
    pub fn get(self) -> f64 {
        self.0
    }
}

/// Body weight in kilograms, 2 to 350 kg.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Kg(f64);

impl Kg {
    /// Lightest accepted weight, kg (a term newborn is about 2.5–4 kg; below 2 kg is a typo).
    pub const MIN: f64 = 2.0;
    /// Heaviest accepted weight, kg.
    pub const MAX: f64 = 350.0;

    /// A weight within [`Kg::MIN`]..=[`Kg::MAX`].
    pub fn new(kg: f64) -> Result<Self, PkError> {
        let kg = finite_non_negative("weight_kg", kg)?;
        if !(Self::MIN..=Self::MAX).contains(&kg) {
            return Err(PkError::OutOfRange {
                field: "weight_kg",
                value: kg,
                min: Self::MIN,
                max: Self::MAX,
            });
        }
        Ok(Kg(kg))
    }

    /// A weight given in pounds (1 lb = 0.45359237 kg exactly, by the 1959 international yard and
    /// pound agreement).
    pub fn from_lb(lb: f64) -> Result<Self, PkError> {
        let lb = finite_non_negative("weight_lb", lb)?;
        Kg::new(lb * 0.453_592_37).map_err(|_| PkError::OutOfRange {
            field: "weight_lb",
            value: lb,
            min: Self::MIN / 0.453_592_37,
            max: Self::MAX / 0.453_592_37,
        })
    }

    /// The value in kg.
    pub fn get(self) -> f64 {
        self.0
    }
}

/// A concentration in mg/L (equal to µg/mL; times 1000 gives ng/mL).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct MgPerL(f64);

impl MgPerL {
    /// A non-negative, finite concentration.
    pub fn new(field: &'static str, v: f64) -> Result<Self, PkError> {
        finite_non_negative(field, v).map(MgPerL)
    }
    /// The value in mg/L.
    pub fn get(self) -> f64 {
        self.0
    }
}
