//! Symptom trajectories as server-rendered SVG: one instrument's totals over time, with the
//! baseline and the response and remission thresholds drawn and labelled in words.
//! This module computes coordinates; `templates/partials/trajectory.html` draws them.

use clinical::instruments::{ChangeRule, Instrument};

/// Drawing area in SVG user units.
const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 280.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 150.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 44.0;

/// A tick on an axis.
#[derive(Debug, Clone)]
pub(crate) struct Tick {
    pub(crate) pos: String,
    pub(crate) label: String,
}

/// A horizontal reference line (baseline, thresholds).
#[derive(Debug, Clone)]
pub(crate) struct RefLine {
    pub(crate) y: String,
    pub(crate) label: String,
    pub(crate) class: &'static str,
}

/// A plotted measurement.
#[derive(Debug, Clone)]
pub(crate) struct Point {
    pub(crate) x: String,
    pub(crate) y: String,
    pub(crate) label: String,
}

/// Everything the template needs to draw one chart.
#[derive(Debug, Clone)]
pub(crate) struct Chart {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) desc: String,
    pub(crate) width: String,
    pub(crate) height: String,
    pub(crate) x0: String,
    pub(crate) x1: String,
    pub(crate) y0: String,
    pub(crate) y1: String,
    pub(crate) label_x: String,
    pub(crate) polyline: String,
    pub(crate) points: Vec<Point>,
    pub(crate) y_ticks: Vec<Tick>,
    pub(crate) x_ticks: Vec<Tick>,
    pub(crate) lines: Vec<RefLine>,
    pub(crate) y_axis_label: String,
}

/// One measurement to plot: when (milliseconds), the date to print, the total.
pub(crate) struct Sample {
    pub(crate) at_ms: i64,
    pub(crate) date: String,
    pub(crate) total: i32,
}

fn fmt(v: f64) -> String {
    format!("{v:.1}")
}

/// The threshold a response rule sets for a baseline, as a total.
fn response_threshold(rule: ChangeRule, baseline: i32) -> f64 {
    match rule {
        ChangeRule::PercentReduction(p) => f64::from(baseline) * (1.0 - f64::from(p) / 100.0),
        ChangeRule::Points(n) => f64::from(baseline - n),
    }
}

/// Lays out a chart of `samples` (oldest first; the first is the baseline).
pub(crate) fn trajectory(instrument: &Instrument, samples: &[Sample]) -> Chart {
    let (lo, hi) = instrument.total_range();
    let (lo, hi) = (f64::from(lo), f64::from(hi.max(lo + 1)));
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let y_of = |v: f64| TOP + plot_h * (1.0 - (v - lo) / (hi - lo));
    let (t_first, t_last) = match (samples.first(), samples.last()) {
        (Some(a), Some(b)) => (a.at_ms, b.at_ms),
        _ => (0, 0),
    };
    let span = (t_last - t_first) as f64;
    let x_of = |t: i64| {
        if span <= 0.0 {
            LEFT + plot_w / 2.0
        } else {
            LEFT + plot_w * ((t - t_first) as f64 / span)
        }
    };

    let points: Vec<Point> = samples
        .iter()
        .map(|s| Point {
            x: fmt(x_of(s.at_ms)),
            y: fmt(y_of(f64::from(s.total))),
            label: format!("{}: {}", s.date, s.total),
        })
        .collect();
    let polyline = points
        .iter()
        .map(|p| format!("{},{}", p.x, p.y))
        .collect::<Vec<_>>()
        .join(" ");

    // About five ticks on the score axis, on whole numbers.
    let step = ((hi - lo) / 5.0).ceil().max(1.0);
    let mut y_ticks = Vec::new();
    let mut v = lo;
    while v <= hi + 1e-9 {
        y_ticks.push(Tick {
            pos: fmt(y_of(v)),
            label: format!("{v:.0}"),
        });
        v += step;
    }
    let mut x_ticks = Vec::new();
    if let Some(first) = samples.first() {
        x_ticks.push(Tick {
            pos: fmt(x_of(first.at_ms)),
            label: first.date.clone(),
        });
    }
    if let Some(last) = samples.last().filter(|_| samples.len() > 1) {
        x_ticks.push(Tick {
            pos: fmt(x_of(last.at_ms)),
            label: last.date.clone(),
        });
    }

    let mut lines = Vec::new();
    if let Some(base) = samples.first() {
        lines.push(RefLine {
            y: fmt(y_of(f64::from(base.total))),
            label: format!("Baseline {}", base.total),
            class: "ref-baseline",
        });
        if let Some(rule) = instrument.response {
            let t = response_threshold(rule, base.total).clamp(lo, hi);
            lines.push(RefLine {
                y: fmt(y_of(t)),
                label: format!("Response ≤ {t:.1}"),
                class: "ref-response",
            });
        }
    }
    if let Some(r) = instrument.remission {
        lines.push(RefLine {
            y: fmt(y_of(f64::from(r.at_most).clamp(lo, hi))),
            label: format!("Remission ≤ {}", r.at_most),
            class: "ref-remission",
        });
    }

    let latest = samples.last().map_or(String::new(), |s| {
        format!(" Latest {} on {}.", s.total, s.date)
    });
    let baseline = samples.first().map_or(String::new(), |s| {
        format!(" Baseline {} on {}.", s.total, s.date)
    });
    Chart {
        id: format!("chart-{}", instrument.id.code()),
        title: format!("{} total over time", instrument.short_name),
        desc: format!(
            "{} measurements of {}, scale {lo:.0} to {hi:.0}.{baseline}{latest} The table below lists every value.",
            samples.len(),
            instrument.short_name
        ),
        width: fmt(WIDTH),
        height: fmt(HEIGHT),
        x0: fmt(LEFT),
        x1: fmt(WIDTH - RIGHT),
        y0: fmt(TOP),
        y1: fmt(TOP + plot_h),
        label_x: fmt(WIDTH - RIGHT + 6.0),
        polyline,
        points,
        y_ticks,
        x_ticks,
        lines,
        y_axis_label: format!("{} total", instrument.short_name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clinical::instruments::InstrumentId;

    #[test]
    fn points_span_the_plot_and_thresholds_follow_the_baseline() {
        let phq = InstrumentId::Phq9.instrument();
        let samples = [
            Sample {
                at_ms: 0,
                date: "2026-11-01".into(),
                total: 20,
            },
            Sample {
                at_ms: 1_000,
                date: "2026-11-08".into(),
                total: 8,
            },
            Sample {
                at_ms: 2_000,
                date: "2026-11-15".into(),
                total: 27,
            },
        ];
        let c = trajectory(phq, &samples);
        assert_eq!(c.points[0].x, fmt(LEFT));
        assert_eq!(c.points[2].x, fmt(WIDTH - RIGHT));
        assert_eq!(c.points[2].y, fmt(TOP), "the maximum total sits at the top");
        let labels: Vec<_> = c.lines.iter().map(|l| l.label.as_str()).collect();
        assert_eq!(labels, ["Baseline 20", "Response ≤ 10.0", "Remission ≤ 4"]);
        assert_eq!(c.y_ticks.first().map(|t| t.label.as_str()), Some("0"));
        assert!(
            c.desc.contains("Baseline 20 on 2026-11-01")
                && c.desc.contains("Latest 27 on 2026-11-15")
        );
        let single = trajectory(phq, &samples[..1]);
        assert_eq!(single.points[0].x, fmt(LEFT + (WIDTH - LEFT - RIGHT) / 2.0));
        assert_eq!(single.x_ticks.len(), 1);
    }
}
