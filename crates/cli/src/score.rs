//! `ketaflow score INSTRUMENT --answers a,b,c`: scores answers from the command line.

use clinical::instruments::{Flag, InstrumentId, Score, parse_answers, score};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::InputError;

/// Output format of `ketaflow score`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum Format {
    /// Lines for people.
    Text,
    /// One JSON object.
    Json,
}

#[derive(Serialize)]
struct FlagOut {
    code: &'static str,
    message: &'static str,
    safety: bool,
}

/// The JSON shape of a score; instrument-specific fields are added beside the common ones.
fn to_json(s: &Score) -> Value {
    let mut out = Map::new();
    out.insert("instrument".into(), json!(s.instrument.code()));
    out.insert("total".into(), json!(s.total));
    out.insert("severity".into(), json!(s.severity.map(|b| b.code)));
    let flags: Vec<FlagOut> = s
        .flags
        .iter()
        .map(|f| FlagOut {
            code: f.code(),
            message: f.message(),
            safety: f.is_safety(),
        })
        .collect();
    out.insert("flags".into(), json!(flags));
    let subscales: Map<String, Value> = s
        .subscales
        .iter()
        .map(|(k, v)| ((*k).to_owned(), json!(v)))
        .collect();
    out.insert("subscales".into(), Value::Object(subscales));
    out.insert(
        "safety_follow_up_due".into(),
        json!(s.safety_follow_up_due()),
    );
    match s.instrument {
        InstrumentId::Phq9 => {
            out.insert(
                "suicidality_flag".into(),
                json!(s.flags.contains(&Flag::SuicidalityItem)),
            );
        }
        InstrumentId::Epds => {
            out.insert(
                "self_harm_flag".into(),
                json!(s.flags.contains(&Flag::SelfHarmItem)),
            );
            out.insert(
                "probable_depression".into(),
                json!(s.flags.contains(&Flag::ProbableDepression)),
            );
        }
        InstrumentId::Pcl5 => {
            if let Some(d) = s.pcl5 {
                out.insert(
                    "clusters".into(),
                    json!({"B": d.b, "C": d.c, "D": d.d, "E": d.e}),
                );
                out.insert("dsm5_criteria_met".into(), json!(d.dsm5_criteria_met));
            }
        }
        InstrumentId::Ybocs => {
            out.insert("obsessions".into(), json!(s.subscale("obsessions")));
            out.insert("compulsions".into(), json!(s.subscale("compulsions")));
        }
        _ => {}
    }
    out.insert(
        "scoring_version".into(),
        json!(s.instrument.instrument().scoring_version),
    );
    Value::Object(out)
}

fn to_text(s: &Score) -> String {
    let inst = s.instrument.instrument();
    let (lo, hi) = inst.total_range();
    let mut text = format!("{} total {} (range {lo} to {hi})", inst.short_name, s.total);
    if let Some(band) = s.severity {
        text.push_str(&format!(": {}", band.label));
    }
    text.push('\n');
    for (name, value) in &s.subscales {
        text.push_str(&format!("  {name}: {value}\n"));
    }
    for f in &s.flags {
        let mark = if f.is_safety() { "SAFETY" } else { "note" };
        text.push_str(&format!("{mark}: {}\n", f.message()));
    }
    text
}

pub(crate) fn run(instrument: &str, answers: &str, format: Format) -> anyhow::Result<()> {
    let input =
        |e: clinical::instruments::ScoreError| anyhow::Error::new(InputError(e.to_string()));
    let id = InstrumentId::parse(instrument).map_err(input)?;
    let numbers = parse_answers(id.instrument(), answers).map_err(input)?;
    let s = score(id, &numbers).map_err(input)?;
    match format {
        Format::Json => println!("{}", to_json(&s)),
        Format::Text => print!("{}", to_text(&s)),
    }
    Ok(())
}
