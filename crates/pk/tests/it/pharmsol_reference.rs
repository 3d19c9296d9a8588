//! Domino, Kamp (both weight scalings) and Clements 250, each at three weights, with a regimen of
//! a bolus, two infusion steps and a pause, compared point by point with pharmsol's analytical
//! solutions of the same micro-constants.

use pharmsol::prelude::*;
use pharmsol::{Parameters, analytical};
use pk::model::Patient;
use pk::models::{ModelId, ModelOptions, WeightScaling};
use pk::simulate::{Dose, simulate};
use pk::units::{Kg, Mg, Minutes};

const TIMES: [f64; 14] = [
    0.5, 1.0, 3.0, 10.0, 19.5, 20.0, 35.0, 40.0, 41.0, 60.0, 120.0, 240.0, 720.0, 1440.0,
];

fn m(v: f64) -> Minutes {
    Minutes::new("t", v).unwrap()
}

fn regimen(weight: f64) -> Vec<Dose> {
    vec![
        Dose::IvBolus {
            start: m(0.0),
            amount: Mg::new("a", 0.1 * weight).unwrap(),
        },
        Dose::infusion(m(0.0), Mg::new("a", 0.2 * weight).unwrap(), m(20.0)).unwrap(),
        Dose::infusion(m(25.0), Mg::new("a", 0.3 * weight).unwrap(), m(15.0)).unwrap(),
    ]
}

fn subject(weight: f64) -> Subject {
    let mut b = Subject::builder("ketaflow")
        .bolus(0.0, 0.1 * weight, "bolus")
        .infusion(0.0, 0.2 * weight, "iv", 20.0)
        .infusion(25.0, 0.3 * weight, "iv", 15.0);
    for t in TIMES {
        b = b.missing_observation(t, "cp");
    }
    b.build()
}

fn ours(id: ModelId, options: ModelOptions, weight: f64) -> (Vec<f64>, pk::model::MicroConstants) {
    let p = Patient {
        weight: Kg::new(weight).unwrap(),
        age_years: None,
        sex: None,
    };
    let built = id.build(&p, options);
    let times: Vec<Minutes> = TIMES.iter().map(|&t| m(t)).collect();
    let c = simulate(&built, &regimen(weight), &times).unwrap();
    (c.plasma, built.micro_constants().unwrap())
}

fn assert_close(label: &str, a: &[f64], b: &[f64]) {
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        let rel = (x - y).abs() / y.abs().max(1e-12);
        assert!(
            rel < 1e-6,
            "{label} at {} min: ketaflow {x} pharmsol {y} (rel {rel:e})",
            TIMES[i]
        );
    }
}

#[test]
fn three_compartment_models_agree_with_pharmsol() {
    let model = analytical! {
        name: "three_cmt_iv",
        params: [k10, k12, k13, k21, k31, v],
        states: [central, second, third],
        outputs: [cp],
        routes: [
            bolus(bolus) -> central,
            infusion(iv) -> central,
        ],
        structure: three_compartments,
        out: |x, _p, _t, _cov, y| {
            y[cp] = x[central] / v;
        },
    };
    let cases = [
        (ModelId::Domino, WeightScaling::Allometric),
        (ModelId::Kamp2020, WeightScaling::Allometric),
        (ModelId::Kamp2020, WeightScaling::Linear),
    ];
    for (id, scaling) in cases {
        for weight in [50.0, 70.0, 120.0] {
            let (mine, k) = ours(
                id,
                ModelOptions {
                    weight_scaling: scaling,
                },
                weight,
            );
            let params = Parameters::with_model(
                &model,
                [
                    ("k10", k.k10),
                    ("k12", k.k12),
                    ("k13", k.k13),
                    ("k21", k.k21),
                    ("k31", k.k31),
                    ("v", k.v1),
                ],
            )
            .unwrap();
            let theirs = model
                .estimate_predictions(&subject(weight), &params)
                .unwrap()
                .flat_predictions();
            assert_close(
                &format!("{} {scaling:?} {weight} kg", id.info().id),
                &mine,
                &theirs,
            );
        }
    }
}

#[test]
fn the_two_compartment_model_agrees_with_pharmsol() {
    let model = analytical! {
        name: "two_cmt_iv",
        params: [ke, kcp, kpc, v],
        states: [central, second],
        outputs: [cp],
        routes: [
            bolus(bolus) -> central,
            infusion(iv) -> central,
        ],
        structure: two_compartments,
        out: |x, _p, _t, _cov, y| {
            y[cp] = x[central] / v;
        },
    };
    for weight in [50.0, 70.0, 120.0] {
        let (mine, k) = ours(ModelId::Clements250, ModelOptions::default(), weight);
        let params = Parameters::with_model(
            &model,
            [("ke", k.k10), ("kcp", k.k12), ("kpc", k.k21), ("v", k.v1)],
        )
        .unwrap();
        let theirs = model
            .estimate_predictions(&subject(weight), &params)
            .unwrap()
            .flat_predictions();
        assert_close(&format!("clements250 {weight} kg"), &mine, &theirs);
    }
}
