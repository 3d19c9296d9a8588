//! Population variability: virtual patients with log-normal inter-individual variability where
//! a model publishes it, reduced to the 5th, 50th and 95th percentiles at each time.
//!
//! Reproducible: patient `i` draws from its own ChaCha8 stream `i` of the given seed, so the
//! result does not depend on how many threads run or in which order.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use rayon::prelude::*;

use crate::PkError;
use crate::limits::{MAX_POPULATION_VALUES, NeverStop, Stop};
use crate::model::Patient;
use crate::models::perez_ruixo::{self, Params};
use crate::models::{ModelId, ModelOptions};
#[cfg(test)]
use crate::simulate::simulate;
use crate::simulate::{Dose, check_times, simulate_inputs};
use crate::units::Minutes;

/// The most virtual patients one call simulates.
pub const MAX_PATIENTS: usize = 100_000;

/// Percentiles of the plasma concentration at each time, mg/L.
#[derive(Debug, Clone, PartialEq)]
pub struct Percentiles {
    /// 5th percentile.
    pub p5: Vec<f64>,
    /// Median.
    pub p50: Vec<f64>,
    /// 95th percentile.
    pub p95: Vec<f64>,
}

/// Log-normal variance from a coefficient of variation: ω² = ln(1 + CV²).
fn omega(cv: f64) -> f64 {
    (1.0 + cv * cv).ln().sqrt()
}

/// Perez-Ruixo 2021, Table 3 (via nlmixr2lib): inter-individual variability as CV, except FRn,
/// whose variability is additive on the logit scale (SD 0.708). The CV of kmet is blank in the
/// table, so kmet does not vary here.
struct PerezRuixoIiv {
    frn_logit_sd: f64,
    ka_n: f64,
    ka_sw: f64,
    vc: f64,
    vp1: f64,
    qh: f64,
    vh: f64,
    kel: f64,
    vcn: f64,
    cln: f64,
}

const PEREZ_RUIXO_IIV: PerezRuixoIiv = PerezRuixoIiv {
    frn_logit_sd: 0.708,
    ka_n: 0.615,
    ka_sw: 1.32,
    vc: 0.275,
    vp1: 0.493,
    qh: 0.232,
    vh: 0.346,
    kel: 1.20,
    vcn: 0.316,
    cln: 0.254,
};

fn sample_perez_ruixo(typical: Params, rng: &mut ChaCha8Rng) -> Params {
    let iiv = &PEREZ_RUIXO_IIV;
    let logit = (typical.frn / (1.0 - typical.frn)).ln();
    let eta_frn = Normal::new(0.0, iiv.frn_logit_sd).map_or(0.0, |n| n.sample(&mut *rng));
    let mut draw = |cv: f64| -> f64 {
        // omega(cv) is finite and positive for the constants above.
        Normal::new(0.0, omega(cv)).map_or(1.0, |n| n.sample(&mut *rng).exp())
    };
    Params {
        frn: 1.0 / (1.0 + (-(logit + eta_frn)).exp()),
        ka_n: typical.ka_n * draw(iiv.ka_n),
        ka_sw: typical.ka_sw * draw(iiv.ka_sw),
        vc: typical.vc * draw(iiv.vc),
        vp1: typical.vp1 * draw(iiv.vp1),
        qh: typical.qh * draw(iiv.qh),
        vh: typical.vh * draw(iiv.vh),
        kel: typical.kel * draw(iiv.kel),
        vcn: typical.vcn * draw(iiv.vcn),
        cln: typical.cln * draw(iiv.cln),
    }
}

/// The value at fraction `q` of sorted data (the reference for [`quantile_select`]), interpolating between order statistics
/// (Hyndman & Fan type 7, the default of R and NumPy).
#[cfg(test)]
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// The type-7 quantile of `values` by selection: the two order statistics around the position
/// are found without sorting the whole column. Reorders `values`.
fn quantile_select(values: &mut [f64], q: f64) -> f64 {
    let pos = q * (values.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let (_, lo_value, above) = values.select_nth_unstable_by(lo, f64::total_cmp);
    let lo_value = *lo_value;
    let frac = pos - lo as f64;
    if frac == 0.0 || above.is_empty() {
        return lo_value;
    }
    let hi_value = above.iter().copied().fold(f64::INFINITY, f64::min);
    lo_value + (hi_value - lo_value) * frac
}

/// Virtual patients simulated per chunk: each chunk's curves are written into the time-major
/// table and then dropped, so only one chunk of whole curves exists at a time.
const CHUNK: usize = 2048;

/// Simulates `n` virtual patients and returns plasma-concentration percentiles at `times`.
pub fn population(
    model: ModelId,
    patient: &Patient,
    options: ModelOptions,
    doses: &[Dose],
    times: &[Minutes],
    n: usize,
    seed: u64,
) -> Result<Percentiles, PkError> {
    population_until(model, patient, options, doses, times, n, seed, &NeverStop)
}

/// [`population`], checking `stop` between chunks of virtual patients.
///
/// Memory is bounded by [`MAX_POPULATION_VALUES`]: the concentrations are kept time-major (one
/// contiguous column of `n` values per time, filled chunk by chunk), and each column's
/// percentiles are selected in place.
#[allow(clippy::too_many_arguments)]
pub fn population_until(
    model: ModelId,
    patient: &Patient,
    options: ModelOptions,
    doses: &[Dose],
    times: &[Minutes],
    n: usize,
    seed: u64,
    stop: &dyn Stop,
) -> Result<Percentiles, PkError> {
    check_population_size(n, times.len())?;
    check_times(times)?;
    if model != ModelId::PerezRuixo2021 {
        return Err(PkError::NoPublishedVariability {
            model: model.info().id,
        });
    }
    // Fail on the doses once, before the threads start.
    let typical = model.build(patient, options);
    for d in doses {
        typical.inputs(d)?;
    }
    let typical_params = Params::typical(patient);
    let t = times.len();
    let mut columns = vec![0.0_f64; n * t];
    let mut start = 0;
    while start < n {
        if stop.stopped() {
            return Err(PkError::Stopped);
        }
        let end = (start + CHUNK).min(n);
        let rows: Vec<Vec<f64>> = (start..end)
            .into_par_iter()
            .map(|i| {
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                rng.set_stream(i as u64);
                let built =
                    perez_ruixo::build_plasma_only(sample_perez_ruixo(typical_params, &mut rng));
                // Times were checked once above; only the inputs differ between patients.
                let inputs: Result<Vec<_>, _> = doses.iter().map(|d| built.inputs(d)).collect();
                match inputs {
                    Ok(inputs) => simulate_inputs(&built, &inputs.concat(), times).plasma,
                    Err(_) => vec![f64::NAN; t],
                }
            })
            .collect();
        for (k, row) in rows.iter().enumerate() {
            for (j, &value) in row.iter().enumerate() {
                columns[j * n + start + k] = value;
            }
        }
        start = end;
    }
    if stop.stopped() {
        return Err(PkError::Stopped);
    }
    // Each time's column reduced on its own thread; the order statistics are selected, not
    // sorted (linear time), in place.
    let quantiles: Vec<[f64; 3]> = columns
        .par_chunks_mut(n)
        .map(|column| [0.05, 0.50, 0.95].map(|q| quantile_select(column, q)))
        .collect();
    let p5 = quantiles.iter().map(|q| q[0]).collect();
    let p50 = quantiles.iter().map(|q| q[1]).collect();
    let p95 = quantiles.iter().map(|q| q[2]).collect();
    Ok(Percentiles { p5, p50, p95 })
}

/// Refuses a population of `n` patients at `times` reported times that is empty or larger than
/// [`MAX_PATIENTS`] or [`MAX_POPULATION_VALUES`].
pub fn check_population_size(n: usize, times: usize) -> Result<(), PkError> {
    if !(1..=MAX_PATIENTS).contains(&n) {
        return Err(PkError::OutOfRange {
            field: "population",
            value: n as f64,
            min: 1.0,
            max: MAX_PATIENTS as f64,
        });
    }
    if n.saturating_mul(times) > MAX_POPULATION_VALUES {
        return Err(PkError::TooMany {
            field: "population",
            what: "virtual patients × reported times",
            count: n.saturating_mul(times),
            max: MAX_POPULATION_VALUES,
            hint: "; ask for fewer virtual patients or fewer times",
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::{Kg, Mg};

    fn setup() -> (Patient, Vec<Dose>, Vec<Minutes>) {
        let patient = Patient {
            weight: Kg::new(75.0).unwrap(),
            age_years: Some(45.0),
            sex: None,
        };
        let doses = vec![Dose::NasalDevices {
            start: Minutes::new("t", 0.0).unwrap(),
            devices: 2,
            mg_per_device: Mg::new("mg", 28.0).unwrap(),
            interval: Minutes::new("t", 5.0).unwrap(),
        }];
        let times = [10.0, 30.0, 40.0, 60.0, 120.0, 240.0]
            .map(|t| Minutes::new("t", t).unwrap())
            .to_vec();
        (patient, doses, times)
    }

    #[test]
    fn the_same_seed_gives_the_same_percentiles_and_another_seed_does_not() {
        let (p, doses, times) = setup();
        let run = |seed| {
            population(
                ModelId::PerezRuixo2021,
                &p,
                ModelOptions::default(),
                &doses,
                &times,
                500,
                seed,
            )
            .unwrap()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
    }

    #[test]
    fn percentiles_are_ordered_and_bracket_the_typical_patient() {
        let (p, doses, times) = setup();
        let pct = population(
            ModelId::PerezRuixo2021,
            &p,
            ModelOptions::default(),
            &doses,
            &times,
            2000,
            42,
        )
        .unwrap();
        let model = ModelId::PerezRuixo2021.build(&p, ModelOptions::default());
        let typical = simulate(&model, &doses, &times).unwrap().plasma;
        for (j, typical) in typical.iter().enumerate() {
            assert!(pct.p5[j] <= pct.p50[j] && pct.p50[j] <= pct.p95[j], "{j}");
            assert!(
                pct.p5[j] < *typical && *typical < pct.p95[j],
                "typical outside the 90 % band at {j}"
            );
            assert!(pct.p5[j].is_finite() && pct.p95[j].is_finite());
        }
    }

    #[test]
    fn models_without_published_variability_are_refused() {
        let (p, _, times) = setup();
        let iv = [Dose::IvBolus {
            start: Minutes::new("t", 0.0).unwrap(),
            amount: Mg::new("mg", 10.0).unwrap(),
        }];
        let err = population(
            ModelId::Domino,
            &p,
            ModelOptions::default(),
            &iv,
            &times,
            10,
            1,
        )
        .unwrap_err();
        assert!(err.to_string().contains("perez_ruixo2021"), "{err}");
        let err = population(
            ModelId::PerezRuixo2021,
            &p,
            ModelOptions::default(),
            &iv,
            &times,
            0,
            1,
        )
        .unwrap_err();
        assert_eq!(err.field(), "population");
    }

    #[test]
    fn the_plasma_only_build_gives_the_full_models_plasma() {
        let (p, doses, times) = setup();
        let typical = Params::typical(&p);
        let full = simulate(&perez_ruixo::build_with(typical), &doses, &times)
            .unwrap()
            .plasma;
        let lean = simulate(&perez_ruixo::build_plasma_only(typical), &doses, &times)
            .unwrap()
            .plasma;
        for (a, b) in full.iter().zip(&lean) {
            assert!((a - b).abs() <= 1e-12 * a.abs(), "{a} vs {b}");
        }
    }

    #[test]
    fn a_raised_stop_flag_stops_the_population_and_sizes_are_bounded() {
        let (p, doses, times) = setup();
        let stop = std::sync::atomic::AtomicBool::new(true);
        let err = population_until(
            ModelId::PerezRuixo2021,
            &p,
            ModelOptions::default(),
            &doses,
            &times,
            1000,
            1,
            &stop,
        )
        .unwrap_err();
        assert_eq!(err, PkError::Stopped);
        assert!(check_population_size(MAX_PATIENTS, MAX_POPULATION_VALUES / MAX_PATIENTS).is_ok());
        let err = check_population_size(MAX_PATIENTS, MAX_POPULATION_VALUES / MAX_PATIENTS + 1)
            .unwrap_err();
        assert_eq!(err.field(), "population");
        assert!(err.to_string().contains("at most 5000000"), "{err}");
    }

    #[test]
    fn chunked_columns_give_the_same_percentiles_as_one_pass() {
        // More patients than one chunk, so the time-major table is filled in several passes.
        let (p, doses, times) = setup();
        let n = CHUNK * 2 + 17;
        let pct = population(
            ModelId::PerezRuixo2021,
            &p,
            ModelOptions::default(),
            &doses,
            &times,
            n,
            3,
        )
        .unwrap();
        // The reference: every patient's curve kept whole, each column sorted.
        let typical = Params::typical(&p);
        let curves: Vec<Vec<f64>> = (0..n)
            .map(|i| {
                let mut rng = ChaCha8Rng::seed_from_u64(3);
                rng.set_stream(i as u64);
                let built = perez_ruixo::build_plasma_only(sample_perez_ruixo(typical, &mut rng));
                simulate(&built, &doses, &times).unwrap().plasma
            })
            .collect();
        for j in 0..times.len() {
            let mut column: Vec<f64> = curves.iter().map(|c| c[j]).collect();
            column.sort_by(f64::total_cmp);
            let want = [
                quantile(&column, 0.05),
                quantile(&column, 0.5),
                quantile(&column, 0.95),
            ];
            let got = [pct.p5[j], pct.p50[j], pct.p95[j]];
            for (w, g) in want.iter().zip(got) {
                assert!(
                    (w - g).abs() <= 1e-12 * w.abs().max(1e-12),
                    "time {j}: {w} vs {g}"
                );
            }
        }
    }

    #[test]
    fn the_quantile_interpolates_between_order_statistics() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(quantile(&v, 0.5), 3.0);
        assert_eq!(quantile(&v, 0.05), 1.2);
        assert_eq!(quantile(&v, 0.95), 4.8);
        // Selection gives the same as sorting, whatever the order.
        let shuffled = [4.0, 1.0, 5.0, 3.0, 2.0, 9.5, -1.0, 7.25];
        let mut sorted = shuffled;
        sorted.sort_by(f64::total_cmp);
        for q in [0.0, 0.05, 0.3, 0.5, 0.95, 1.0] {
            let mut work = shuffled;
            assert_eq!(quantile_select(&mut work, q), quantile(&sorted, q), "q {q}");
        }
    }
}
