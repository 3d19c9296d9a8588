//! Symptom trajectories as server-rendered SVG: one instrument's totals over time, with the
//! baseline and the response and remission thresholds drawn and labelled in words.
//! This module computes coordinates; `templates/partials/trajectory.html` draws them.

use clinical::instruments::Instrument;

/// The most points whose values are written beside them at all times; past it a value shows
/// when its point has keyboard focus or the pointer (and always in the table).
const VALUES_ALWAYS_SHOWN: usize = 12;

/// The least room between two date labels on the time axis, in SVG user units (a date
/// `2026-11-08` at 12 px is about 65 units wide).
const MIN_DATE_GAP: f64 = 78.0;

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
    /// Where the value is written, just above the point.
    pub(crate) value_y: String,
    /// The total as text.
    pub(crate) value: String,
    /// Date and total, for the point's accessible name and tooltip.
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
    /// Whether every point's value is written (few points) or only on focus.
    pub(crate) values_shown: bool,
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

/// Lays out a chart of `samples` (oldest first; the first is the baseline, drawn as a line
/// unless the instrument rates the acute effect of the moment).
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
            value_y: fmt(y_of(f64::from(s.total)) - 10.0),
            value: s.total.to_string(),
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
    // The axis ends at the instrument's maximum, and says so.
    if (v - step - hi).abs() > 1e-9 {
        if (hi - (v - step)) < step / 2.0 {
            y_ticks.pop();
        }
        y_ticks.push(Tick {
            pos: fmt(y_of(hi)),
            label: format!("{hi:.0}"),
        });
    }
    // Every point's date where there is room: the first and the last always, the others when
    // they stand clear of their labelled neighbours.
    let mut x_ticks: Vec<(f64, Tick)> = Vec::new();
    let last_x = samples.last().map(|s| x_of(s.at_ms));
    for (i, s) in samples.iter().enumerate() {
        let x = x_of(s.at_ms);
        let is_last = i + 1 == samples.len();
        let clear_of_previous = x_ticks
            .last()
            .is_none_or(|(prev, _)| x - prev >= MIN_DATE_GAP);
        let clear_of_last = is_last || last_x.is_none_or(|l| l - x >= MIN_DATE_GAP);
        if is_last && !clear_of_previous && x_ticks.len() > 1 {
            x_ticks.pop();
        }
        if is_last || (clear_of_previous && clear_of_last) {
            if x_ticks
                .last()
                .is_some_and(|(prev, t)| (x - prev).abs() < 1e-9 || t.label == s.date)
            {
                continue;
            }
            x_ticks.push((
                x,
                Tick {
                    pos: fmt(x),
                    label: s.date.clone(),
                },
            ));
        }
    }
    let x_ticks: Vec<Tick> = x_ticks.into_iter().map(|(_, t)| t).collect();

    let mut lines = Vec::new();
    // A scale of the moment has no baseline to come back to: no line for it.
    let baseline_of = samples
        .first()
        .filter(|_| !instrument.id.rates_acute_effect());
    if let Some(base) = baseline_of {
        lines.push(RefLine {
            y: fmt(y_of(f64::from(base.total))),
            label: format!("Baseline {}", base.total),
            class: "ref-baseline",
        });
        if let Some(rule) = instrument.response {
            let t = rule.threshold(base.total).clamp(lo, hi);
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
    let baseline = baseline_of.map_or(String::new(), |s| {
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
        values_shown: samples.len() <= VALUES_ALWAYS_SHOWN,
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

    fn weekly(n: usize) -> Vec<Sample> {
        (0..n)
            .map(|i| Sample {
                at_ms: i as i64 * 7 * 86_400_000,
                date: format!("2026-{:02}-{:02}", 1 + i / 4, 1 + (i % 4) * 7),
                total: 20 - i as i32,
            })
            .collect()
    }

    #[test]
    fn dates_label_every_point_that_has_room_and_the_axis_ends_at_the_maximum() {
        let phq = InstrumentId::Phq9.instrument();
        let c = trajectory(phq, &weekly(5));
        assert_eq!(c.x_ticks.len(), 5, "five weekly points all fit");
        assert_eq!(c.y_ticks.last().map(|t| t.label.as_str()), Some("27"));
        assert_eq!(c.y_ticks.last().map(|t| t.pos.clone()), Some(fmt(TOP)));
        assert!(c.values_shown);
        assert_eq!(c.points[1].value, "19");

        let many = weekly(20);
        let c = trajectory(phq, &many);
        assert!(c.x_ticks.len() < 20, "dates do not overlap");
        assert_eq!(
            c.x_ticks.first().map(|t| t.label.clone()),
            Some(many[0].date.clone())
        );
        assert_eq!(
            c.x_ticks.last().map(|t| t.label.clone()),
            Some(many[19].date.clone())
        );
        let xs: Vec<f64> = c.x_ticks.iter().map(|t| t.pos.parse().unwrap()).collect();
        assert!(
            xs.windows(2).all(|w| w[1] - w[0] >= MIN_DATE_GAP - 0.1),
            "{xs:?}"
        );
        assert!(!c.values_shown, "twenty values are shown on focus");
        // A scale whose ticks land on its maximum gets no second top tick.
        let gad = InstrumentId::Gad7.instrument();
        let c = trajectory(gad, &weekly(2));
        let tops = c.y_ticks.iter().filter(|t| t.label == "21").count();
        assert_eq!(tops, 1);
    }
}

/// A dosing mark under the concentration plot: a bar for an infusion, a tick for a bolus or device.
#[derive(Debug, Clone)]
pub(crate) struct DoseMark {
    pub(crate) x: String,
    pub(crate) width: String,
    pub(crate) label: String,
}

/// Everything the concentration template needs.
#[derive(Debug, Clone, askama::Template)]
#[template(path = "concentration.svg", escape = "html")]
pub(crate) struct ConcentrationChart {
    pub(crate) title: String,
    pub(crate) desc: String,
    pub(crate) x0: String,
    pub(crate) x1: String,
    pub(crate) y0: String,
    pub(crate) y1: String,
    pub(crate) plasma: String,
    pub(crate) effect: Option<String>,
    /// Polygon of the 5th–95th percentile band, when a population was simulated.
    pub(crate) spread: Option<String>,
    pub(crate) band: Option<(String, String, String)>,
    pub(crate) y_ticks: Vec<Tick>,
    pub(crate) x_ticks: Vec<Tick>,
    pub(crate) x_label: String,
    pub(crate) doses: Vec<DoseMark>,
    pub(crate) dose_y: String,
    pub(crate) legend_y: String,
}

/// Why a chart could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    /// The scenario could not be simulated.
    #[error(transparent)]
    Pk(#[from] pk::PkError),
    /// The drawing's template failed.
    #[error("the chart could not be drawn: {0}")]
    Render(#[from] askama::Error),
}

/// A concentration chart of a scenario as a standalone SVG document.
pub fn concentration_svg(scenario: &crate::scenario::Scenario) -> Result<String, ChartError> {
    use askama::Template;
    Ok(concentration_chart(scenario)?.render()?)
}

pub(crate) fn concentration_chart(
    scenario: &crate::scenario::Scenario,
) -> Result<ConcentrationChart, pk::PkError> {
    const W: f64 = 760.0;
    const L: f64 = 70.0;
    const R: f64 = 24.0;
    const T: f64 = 20.0;
    const PLOT_H: f64 = 260.0;
    let curve = scenario.dense(600)?;
    let (times, plasma, effect) = (curve.times, curve.plasma, curve.effect_site);
    let horizon = times.last().copied().unwrap_or(1.0).max(1.0);
    let peak = plasma
        .iter()
        .chain(effect.iter().flatten())
        .copied()
        .fold(0.0_f64, f64::max)
        .max(scenario.band().map_or(0.0, |b| b.1 * 1.1))
        .max(1e-6);
    // A round upper limit: 1, 2 or 5 times a power of ten.
    let magnitude = 10f64.powf(peak.log10().floor());
    let top = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|v| *v >= peak)
        .unwrap_or(peak);
    let x_of = |t: f64| L + (W - L - R) * t / horizon;
    let y_of = |c: f64| T + PLOT_H * (1.0 - c / top);
    let line = |values: &[f64]| {
        times
            .iter()
            .zip(values)
            .map(|(t, c)| format!("{:.1},{:.1}", x_of(*t), y_of(*c)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let hours = horizon > 300.0;
    let (unit, scale) = if hours { ("h", 60.0) } else { ("min", 1.0) };
    let span = horizon / scale;
    let step = [
        1.0, 2.0, 5.0, 10.0, 15.0, 20.0, 30.0, 60.0, 120.0, 240.0, 480.0,
    ]
    .iter()
    .copied()
    .find(|s| span / s <= 8.0)
    .unwrap_or(span / 8.0);
    let mut x_ticks = Vec::new();
    let mut v = 0.0;
    while v <= span + 1e-9 {
        x_ticks.push(Tick {
            pos: fmt(x_of(v * scale)),
            label: format!("{v}"),
        });
        v += step;
    }
    let y_ticks = (0..=5)
        .map(|i| {
            let c = top * f64::from(i) / 5.0;
            Tick {
                pos: fmt(y_of(c)),
                label: format!("{c:.3}")
                    .trim_end_matches('0')
                    .trim_end_matches('.')
                    .to_owned(),
            }
        })
        .collect();
    let dose_y = T + PLOT_H + 40.0;
    let doses = scenario
        .doses()
        .iter()
        .flat_map(|d| match d {
            pk::simulate::Dose::IvInfusion {
                start,
                amount,
                duration,
            } => vec![DoseMark {
                x: fmt(x_of(start.get())),
                width: fmt((x_of(start.get() + duration.get()) - x_of(start.get())).max(2.0)),
                label: format!("{:.1} mg over {:.0} min", amount.get(), duration.get()),
            }],
            pk::simulate::Dose::Extravascular {
                route,
                start,
                amount,
                ..
            } => vec![DoseMark {
                x: fmt(x_of(start.get()) - 1.5),
                width: "3".into(),
                label: format!("{:.1} mg {}", amount.get(), route.code()),
            }],
            pk::simulate::Dose::IvBolus { start, amount } => vec![DoseMark {
                x: fmt(x_of(start.get()) - 1.5),
                width: "3".into(),
                label: format!("{:.1} mg bolus", amount.get()),
            }],
            pk::simulate::Dose::NasalDevices {
                start,
                devices,
                mg_per_device,
                interval,
            } => (0..*devices)
                .map(|i| DoseMark {
                    x: fmt(x_of(start.get() + f64::from(i) * interval.get()) - 1.5),
                    width: "3".into(),
                    label: format!("device {} ({:.0} mg)", i + 1, mg_per_device.get()),
                })
                .collect(),
        })
        .collect();
    let info = scenario.model().info();
    let band = scenario.band().map(|(lo, hi)| {
        (
            fmt(y_of(hi.min(top))),
            fmt(y_of(lo) - y_of(hi.min(top))),
            format!("Dissociation reported {lo:.2}–{hi:.2} mg/L"),
        )
    });
    let spread_times: Vec<f64> = (0..=120).map(|i| horizon * f64::from(i) / 120.0).collect();
    let spread_grid: Vec<pk::units::Minutes> = spread_times
        .iter()
        .map(|&t| pk::units::Minutes::new("time", t))
        .collect::<Result<_, _>>()?;
    let spread = scenario
        .percentiles_at(&spread_grid, &pk::limits::NeverStop)?
        .map(|p| {
            let upper = spread_times
                .iter()
                .zip(&p.p95)
                .map(|(t, c)| format!("{:.1},{:.1}", x_of(*t), y_of(c.min(top))));
            let lower = spread_times
                .iter()
                .zip(&p.p5)
                .rev()
                .map(|(t, c)| format!("{:.1},{:.1}", x_of(*t), y_of(*c)));
            upper.chain(lower).collect::<Vec<_>>().join(" ")
        });
    let cmax = plasma.iter().copied().fold(0.0_f64, f64::max);
    Ok(ConcentrationChart {
        title: format!("Predicted plasma concentration, {}", info.name),
        desc: format!(
            "Plasma concentration in mg/L over {span:.0} {unit}; highest {cmax:.3} mg/L. Doses are drawn as bars below the time axis{}.",
            if band.is_some() {
                "; the shaded band is where dissociation is reported"
            } else {
                ""
            }
        ),
        x0: fmt(L),
        x1: fmt(W - R),
        y0: fmt(T),
        y1: fmt(T + PLOT_H),
        plasma: line(&plasma),
        effect: effect.as_deref().map(line),
        spread,
        band,
        y_ticks,
        x_ticks,
        x_label: format!("Time ({unit})"),
        doses,
        dose_y: fmt(dose_y),
        legend_y: fmt(dose_y + 40.0),
    })
}
