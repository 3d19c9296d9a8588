//! Weight and height as measured at the clinic or reported: entered in kg or lb and cm or in,
//! kept in kg and cm, each with the date it was taken. The body-mass index is computed, never
//! typed.

use jiff::civil::Date;

/// Kilograms per pound (the international avoirdupois pound, exactly).
pub const KG_PER_LB: f64 = 0.453_592_37;
/// Centimetres per inch (exactly).
pub const CM_PER_IN: f64 = 2.54;
/// The lightest weight accepted, kg (the dose engine's smallest patient).
pub const MIN_WEIGHT_KG: f64 = 2.0;
/// The heaviest weight accepted, kg (the dose engine's largest patient).
pub const MAX_WEIGHT_KG: f64 = 350.0;
/// The shortest height accepted, cm: a guard against typing inches as centimetres.
pub const MIN_HEIGHT_CM: f64 = 40.0;
/// The tallest height accepted, cm.
pub const MAX_HEIGHT_CM: f64 = 250.0;

/// Why a measurement was refused; each names its field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BodyError {
    /// Neither a weight nor a height.
    #[error("enter a weight, a height or both")]
    Empty,
    /// A value that is not a number.
    #[error("{} must be a number, such as {example}", label(field))]
    NotANumber {
        /// The field.
        field: &'static str,
        /// An example of what fits.
        example: &'static str,
    },
    /// A unit other than the form's.
    #[error("choose {allowed} for the {}", label(field))]
    Unit {
        /// The field.
        field: &'static str,
        /// The units accepted.
        allowed: &'static str,
    },
    /// Weight outside [`MIN_WEIGHT_KG`]..=[`MAX_WEIGHT_KG`].
    #[error("weight must be between {MIN_WEIGHT_KG} and {MAX_WEIGHT_KG} kg ({:.1} and {:.1} lb); check the number and the unit", MIN_WEIGHT_KG / KG_PER_LB, MAX_WEIGHT_KG / KG_PER_LB)]
    WeightOutOfRange,
    /// Height outside [`MIN_HEIGHT_CM`]..=[`MAX_HEIGHT_CM`].
    #[error("height must be between {MIN_HEIGHT_CM} and {MAX_HEIGHT_CM} cm ({:.1} and {:.1} in); check the number and the unit", MIN_HEIGHT_CM / CM_PER_IN, MAX_HEIGHT_CM / CM_PER_IN)]
    HeightOutOfRange,
    /// The date is not a date.
    #[error("the date measured must be a date in the form YYYY-MM-DD, for example 2026-11-23")]
    DateUnreadable,
    /// The date lies after today.
    #[error("the date measured {date} is in the future; today is {today}")]
    DateInFuture {
        /// The date given.
        date: Date,
        /// Today.
        today: Date,
    },
}

fn label(field: &str) -> String {
    field.replace('_', " ")
}

impl BodyError {
    /// The form field the error is about.
    pub fn field(&self) -> &'static str {
        match self {
            BodyError::Empty => "weight",
            BodyError::NotANumber { field, .. } | BodyError::Unit { field, .. } => field,
            BodyError::WeightOutOfRange => "weight",
            BodyError::HeightOutOfRange => "height",
            BodyError::DateUnreadable | BodyError::DateInFuture { .. } => "measured_on",
        }
    }
}

/// A measurement as typed.
#[derive(Debug, Clone, Default)]
pub struct BodyInput {
    /// Weight; empty when not measured.
    pub weight: String,
    /// `kg` or `lb`.
    pub weight_unit: String,
    /// Height; empty when not measured.
    pub height: String,
    /// `cm` or `in`.
    pub height_unit: String,
    /// `YYYY-MM-DD`; empty for today.
    pub measured_on: String,
}

/// A checked measurement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Body {
    /// The date it was taken.
    pub measured_on: Date,
    /// Weight, kg.
    pub weight_kg: Option<f64>,
    /// Height, cm.
    pub height_cm: Option<f64>,
}

/// The body-mass index, kg/m², from a weight and a height.
pub fn bmi(weight_kg: f64, height_cm: f64) -> f64 {
    let m = height_cm / 100.0;
    weight_kg / (m * m)
}

fn value(
    errors: &mut Vec<BodyError>,
    field: &'static str,
    example: &'static str,
    text: &str,
) -> Option<f64> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() => Some(v),
        _ => {
            errors.push(BodyError::NotANumber { field, example });
            None
        }
    }
}

impl BodyInput {
    /// Checks the fields against `today` and returns the measurement or every problem.
    pub fn validate(&self, today: Date) -> Result<Body, Vec<BodyError>> {
        let mut errors = Vec::new();
        let weight = value(&mut errors, "weight", "72.5", &self.weight).and_then(|w| {
            let kg = match self.weight_unit.trim() {
                "kg" => w,
                "lb" => w * KG_PER_LB,
                _ => {
                    errors.push(BodyError::Unit {
                        field: "weight_unit",
                        allowed: "kg or lb",
                    });
                    return None;
                }
            };
            if (MIN_WEIGHT_KG..=MAX_WEIGHT_KG).contains(&kg) {
                Some(kg)
            } else {
                errors.push(BodyError::WeightOutOfRange);
                None
            }
        });
        let height = value(&mut errors, "height", "170", &self.height).and_then(|h| {
            let cm = match self.height_unit.trim() {
                "cm" => h,
                "in" => h * CM_PER_IN,
                _ => {
                    errors.push(BodyError::Unit {
                        field: "height_unit",
                        allowed: "cm or in",
                    });
                    return None;
                }
            };
            if (MIN_HEIGHT_CM..=MAX_HEIGHT_CM).contains(&cm) {
                Some(cm)
            } else {
                errors.push(BodyError::HeightOutOfRange);
                None
            }
        });
        if self.weight.trim().is_empty() && self.height.trim().is_empty() {
            errors.push(BodyError::Empty);
        }
        let measured_on = match self.measured_on.trim() {
            "" => Some(today),
            text => match text.parse::<Date>() {
                Ok(d) if d > today => {
                    errors.push(BodyError::DateInFuture { date: d, today });
                    None
                }
                Ok(d) => Some(d),
                Err(_) => {
                    errors.push(BodyError::DateUnreadable);
                    None
                }
            },
        };
        match (measured_on, errors.is_empty()) {
            (Some(measured_on), true) => Ok(Body {
                measured_on,
                weight_kg: weight,
                height_cm: height,
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn input(weight: &str, wu: &str, height: &str, hu: &str) -> BodyInput {
        BodyInput {
            weight: weight.into(),
            weight_unit: wu.into(),
            height: height.into(),
            height_unit: hu.into(),
            measured_on: String::new(),
        }
    }

    #[test]
    fn pounds_and_inches_are_kept_in_kilograms_and_centimetres() {
        let today = date(2026, 12, 1);
        let b = input("180", "lb", "70", "in").validate(today).unwrap();
        assert!((b.weight_kg.unwrap() - 81.646_626_6).abs() < 1e-6);
        assert!((b.height_cm.unwrap() - 177.8).abs() < 1e-9);
        assert_eq!(b.measured_on, today);
        assert!((bmi(81.646_626_6, 177.8) - 25.83).abs() < 0.01);
        let weight_only = input("72.5", "kg", "", "cm").validate(today).unwrap();
        assert_eq!(weight_only.height_cm, None);
    }

    #[test]
    fn each_problem_is_named_at_its_field() {
        let today = date(2026, 12, 1);
        let fields = |i: BodyInput| {
            i.validate(today)
                .unwrap_err()
                .iter()
                .map(BodyError::field)
                .collect::<Vec<_>>()
        };
        assert_eq!(fields(input("", "kg", "", "cm")), ["weight"]);
        assert_eq!(fields(input("11", "stone", "170", "cm")), ["weight_unit"]);
        assert_eq!(fields(input("0", "kg", "30", "cm")), ["weight", "height"]);
        assert_eq!(
            fields(input("eighty", "kg", "5ft", "cm")),
            ["weight", "height"]
        );
        let future = BodyInput {
            measured_on: "2027-01-01".into(),
            ..input("70", "kg", "", "cm")
        };
        assert_eq!(fields(future), ["measured_on"]);
        assert_eq!(
            input("-82", "kg", "", "cm").validate(today).unwrap_err()[0].to_string(),
            "weight must be between 2 and 350 kg (4.4 and 771.6 lb); check the number and the unit"
        );
    }
}
