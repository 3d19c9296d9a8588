//! `ketaflow simulate` and `ketaflow dose`.

use std::io::Read;
use std::path::Path;

use anyhow::Context;
use pk::dose::{DoseCaps, InfusionOrder, esketamine_devices, plan_infusion, round_to};
use pk::units::Kg;
use serde_json::json;
use web::scenario::ScenarioInput;

use crate::InputError;

/// Output format of `simulate`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum SimFormat {
    /// One JSON object.
    Json,
    /// One row per time.
    Csv,
    /// A chart as an SVG document.
    Svg,
}

/// Output format of `dose`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum DoseFormat {
    /// Lines for people.
    Text,
    /// One JSON object.
    Json,
}

fn input(message: String) -> anyhow::Error {
    anyhow::Error::new(InputError(message))
}

pub(crate) fn simulate(
    path: &Path,
    format: SimFormat,
    population: Option<usize>,
    seed: u64,
    caps: DoseCaps,
) -> anyhow::Result<()> {
    let text = if path == Path::new("-") {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("reading the scenario from standard input")?;
        s
    } else {
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?
    };
    let scenario: ScenarioInput = serde_json::from_str(&text)
        .map_err(|e| input(format!("scenario: not a valid scenario: {e}")))?;
    let scenario = scenario
        .validate(caps)
        .map_err(|e| input(format!("scenario: {e}")))?;
    let scenario = match population {
        Some(n) => scenario
            .with_population(n, seed)
            .map_err(|e| input(format!("--population: {e}")))?,
        None => scenario,
    };
    let out = scenario
        .run()
        .map_err(|e| input(format!("scenario: {e}")))?;
    match format {
        SimFormat::Json => println!("{}", serde_json::to_string(&out).context("writing JSON")?),
        SimFormat::Csv => print!("{}", web::scenario::to_csv(&out)),
        SimFormat::Svg => println!(
            "{}",
            web::concentration_svg(&scenario).map_err(|e| input(e.to_string()))?
        ),
    }
    Ok(())
}

/// The inputs of `ketaflow dose`.
pub(crate) struct DoseArgs {
    pub(crate) weight_kg: Option<f64>,
    pub(crate) weight_lb: Option<f64>,
    pub(crate) mg_per_kg: Option<f64>,
    pub(crate) duration_min: Option<f64>,
    pub(crate) stock_mg_per_ml: Option<f64>,
    pub(crate) bag_ml: f64,
    pub(crate) esketamine_mg: Option<f64>,
    pub(crate) format: DoseFormat,
    /// The clinic's cap for IV doses, mg/kg (`dosing.max_mg_per_kg`).
    pub(crate) max_mg_per_kg: f64,
}

pub(crate) fn dose(args: DoseArgs) -> anyhow::Result<()> {
    if let Some(mg) = args.esketamine_mg {
        let devices = esketamine_devices(mg).map_err(|e| input(format!("--esketamine-mg: {e}")))?;
        match args.format {
            DoseFormat::Json => println!(
                "{}",
                json!({"esketamine_mg": mg, "devices": devices, "mg_per_device": 28, "interval_min": 5})
            ),
            DoseFormat::Text => println!(
                "{mg} mg esketamine = {devices} Spravato device(s) of 28 mg, 5 minutes apart"
            ),
        }
        return Ok(());
    }
    let weight = match (args.weight_kg, args.weight_lb) {
        (Some(kg), None) => Kg::new(kg).map_err(|e| input(format!("--weight-kg: {e}")))?,
        (None, Some(lb)) => Kg::from_lb(lb).map_err(|e| input(format!("--weight-lb: {e}")))?,
        _ => {
            return Err(input(
                "give the weight once: --weight-kg KG or --weight-lb LB".into(),
            ));
        }
    };
    let need = |v: Option<f64>, flag: &str| {
        v.ok_or_else(|| input(format!("{flag} is required for an infusion")))
    };
    let order = InfusionOrder {
        weight,
        mg_per_kg: need(args.mg_per_kg, "--mg-per-kg")?,
        duration_min: need(args.duration_min, "--duration-min")?,
        stock_mg_per_ml: need(args.stock_mg_per_ml, "--stock-mg-per-ml")?,
        bag_ml: args.bag_ml,
        max_mg_per_kg: args.max_mg_per_kg,
    };
    let plan = plan_infusion(&order)
        .map_err(|e| input(format!("--{}: {e}", e.field().replace('_', "-"))))?;
    let rule = pk::dose::ROUNDING_RULE;
    match args.format {
        DoseFormat::Json => println!(
            "{}",
            json!({
                "weight_kg": weight.get(),
                "dose_mg": round_to(plan.dose_mg, 1),
                "stock_ml": round_to(plan.stock_ml, 2),
                "total_volume_ml": round_to(plan.total_ml, 2),
                "bag_concentration_mg_per_ml": round_to(plan.bag_mg_per_ml, 3),
                "pump_rate_ml_per_h": round_to(plan.rate_ml_per_h, 1),
                "dose_rate_mg_per_h": round_to(plan.dose_rate_mg_per_h, 1),
                "duration_min": order.duration_min,
                "rounding": rule,
            })
        ),
        DoseFormat::Text => {
            println!(
                "Patient {:.1} kg, {} mg/kg over {} min",
                weight.get(),
                order.mg_per_kg,
                order.duration_min
            );
            println!("  Dose:               {:.1} mg", plan.dose_mg);
            println!(
                "  Draw from stock:    {:.2} mL of {} mg/mL",
                plan.stock_ml, order.stock_mg_per_ml
            );
            println!(
                "  Add to bag:         {} mL → {:.2} mL at {:.3} mg/mL",
                order.bag_ml, plan.total_ml, plan.bag_mg_per_ml
            );
            println!(
                "  Pump rate:          {:.1} mL/h ({:.1} mg/h)",
                plan.rate_ml_per_h, plan.dose_rate_mg_per_h
            );
            println!("  Rounding: {rule}.");
        }
    }
    Ok(())
}
