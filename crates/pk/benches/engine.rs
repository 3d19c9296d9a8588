//! Benchmarks of the engine, each beside pharmsol's analytical solution of the same model in the
//! same run (run with `cargo bench -p pk`; figures and ratios go in BENCHMARKS.md).
//!
//! (a) One 24-hour curve at 1-minute resolution (1,441 points) after 0.5 mg/kg over 40 minutes.
//! (b) 10,000 virtual patients to 5/50/95th percentiles at 25 times: Kamp 2020 patients of
//!     weights 45–135 kg, beside pharmsol; and the product's own Perez-Ruixo population with its
//!     published variability.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use pharmsol::prelude::*;
use pharmsol::{Parameters, analytical};
use pk::model::Patient;
use pk::models::{ModelId, ModelOptions};
use pk::simulate::{Dose, simulate};
use pk::units::{Kg, Mg, Minutes};

fn m(v: f64) -> Minutes {
    Minutes::new("t", v).expect("finite")
}

fn patient(kg: f64) -> Patient {
    Patient {
        weight: Kg::new(kg).expect("in range"),
        age_years: Some(45.0),
        sex: None,
    }
}

fn infusion(kg: f64) -> Vec<Dose> {
    vec![Dose::infusion(m(0.0), Mg::new("a", 0.5 * kg).expect("finite"), m(40.0)).expect("valid")]
}

fn curves(c: &mut Criterion) {
    let grid: Vec<Minutes> = (0..=1440).map(|i| m(f64::from(i))).collect();
    let three = analytical! {
        name: "three_cmt_iv",
        params: [k10, k12, k13, k21, k31, v],
        states: [central, second, third],
        outputs: [cp],
        routes: [infusion(iv) -> central],
        structure: three_compartments,
        out: |x, _p, _t, _cov, y| { y[cp] = x[central] / v; },
    };
    let two = analytical! {
        name: "two_cmt_iv",
        params: [ke, kcp, kpc, v],
        states: [central, second],
        outputs: [cp],
        routes: [infusion(iv) -> central],
        structure: two_compartments,
        out: |x, _p, _t, _cov, y| { y[cp] = x[central] / v; },
    };
    let mut subject = Subject::builder("bench").infusion(0.0, 35.0, "iv", 40.0);
    for i in 0..=1440 {
        subject = subject.missing_observation(f64::from(i), "cp");
    }
    let subject = subject.build();

    let mut group = c.benchmark_group("a_curve_24h_1min");
    for id in [
        ModelId::Domino,
        ModelId::Kamp2020,
        ModelId::Clements250,
        ModelId::PerezRuixo2021,
    ] {
        let name = id.info().id;
        group.bench_function(format!("ketaflow/{name}"), |b| {
            b.iter(|| {
                let built = id.build(&patient(70.0), ModelOptions::default());
                let doses = if id == ModelId::PerezRuixo2021 {
                    vec![Dose::NasalDevices {
                        start: m(0.0),
                        devices: 2,
                        mg_per_device: Mg::new("a", 28.0).expect("finite"),
                        interval: m(5.0),
                    }]
                } else {
                    infusion(70.0)
                };
                black_box(simulate(&built, &doses, &grid).expect("valid"))
            })
        });
        let Some(k) = id
            .build(&patient(70.0), ModelOptions::default())
            .micro_constants()
        else {
            continue;
        };
        if k.k13 > 0.0 {
            let params = Parameters::with_model(
                &three,
                [
                    ("k10", k.k10),
                    ("k12", k.k12),
                    ("k13", k.k13),
                    ("k21", k.k21),
                    ("k31", k.k31),
                    ("v", k.v1),
                ],
            )
            .expect("parameters");
            group.bench_function(format!("pharmsol/{name}"), |b| {
                b.iter(|| {
                    black_box(
                        three
                            .estimate_predictions(&subject, &params)
                            .expect("predictions"),
                    )
                })
            });
        } else {
            let params = Parameters::with_model(
                &two,
                [("ke", k.k10), ("kcp", k.k12), ("kpc", k.k21), ("v", k.v1)],
            )
            .expect("parameters");
            group.bench_function(format!("pharmsol/{name}"), |b| {
                b.iter(|| {
                    black_box(
                        two.estimate_predictions(&subject, &params)
                            .expect("predictions"),
                    )
                })
            });
        }
    }
    group.finish();
}

/// Percentiles of each column of `rows` (patients × times).
fn percentiles(rows: &[Vec<f64>]) -> Vec<[f64; 3]> {
    let t = rows.first().map_or(0, Vec::len);
    (0..t)
        .map(|j| {
            let mut col: Vec<f64> = rows.iter().map(|r| r[j]).collect();
            col.sort_by(f64::total_cmp);
            let q = |p: f64| col[((col.len() - 1) as f64 * p).round() as usize];
            [q(0.05), q(0.5), q(0.95)]
        })
        .collect()
}

fn populations(c: &mut Criterion) {
    const N: usize = 10_000;
    let times: Vec<f64> = (0..25).map(|i| f64::from(i) * 10.0).collect();
    let grid: Vec<Minutes> = times.iter().map(|&t| m(t)).collect();
    let weights: Vec<f64> = (0..N).map(|i| 45.0 + 90.0 * i as f64 / N as f64).collect();
    let three = analytical! {
        name: "three_cmt_iv",
        params: [k10, k12, k13, k21, k31, v],
        states: [central, second, third],
        outputs: [cp],
        routes: [infusion(iv) -> central],
        structure: three_compartments,
        out: |x, _p, _t, _cov, y| { y[cp] = x[central] / v; },
    };
    let mut group = c.benchmark_group("b_population_10000");
    group.sample_size(10);
    group.bench_function("ketaflow/kamp2020_weights", |b| {
        b.iter(|| {
            use rayon::prelude::*;
            let rows: Vec<Vec<f64>> = weights
                .par_iter()
                .map(|&w| {
                    let built = ModelId::Kamp2020.build(&patient(w), ModelOptions::default());
                    simulate(&built, &infusion(w), &grid).expect("valid").plasma
                })
                .collect();
            black_box(percentiles(&rows))
        })
    });
    group.bench_function("pharmsol/kamp2020_weights", |b| {
        b.iter(|| {
            let rows: Vec<Vec<f64>> = weights
                .iter()
                .map(|&w| {
                    let k = ModelId::Kamp2020
                        .build(&patient(w), ModelOptions::default())
                        .micro_constants()
                        .expect("mammillary");
                    let mut s = Subject::builder("p").infusion(0.0, 0.5 * w, "iv", 40.0);
                    for &t in &times {
                        s = s.missing_observation(t, "cp");
                    }
                    let params = Parameters::with_model(
                        &three,
                        [
                            ("k10", k.k10),
                            ("k12", k.k12),
                            ("k13", k.k13),
                            ("k21", k.k21),
                            ("k31", k.k31),
                            ("v", k.v1),
                        ],
                    )
                    .expect("parameters");
                    three
                        .estimate_predictions(&s.build(), &params)
                        .expect("predictions")
                        .flat_predictions()
                })
                .collect();
            black_box(percentiles(&rows))
        })
    });
    let spravato = [Dose::NasalDevices {
        start: m(0.0),
        devices: 2,
        mg_per_device: Mg::new("a", 28.0).expect("finite"),
        interval: m(5.0),
    }];
    group.bench_function("ketaflow/perez_ruixo2021_published_iiv", |b| {
        b.iter(|| {
            black_box(
                pk::population::population(
                    ModelId::PerezRuixo2021,
                    &patient(75.0),
                    ModelOptions::default(),
                    &spravato,
                    &grid,
                    N,
                    1,
                )
                .expect("valid"),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, curves, populations);
criterion_main!(benches);
