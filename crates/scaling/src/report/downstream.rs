//! Text rendering of a downstream prediction ([`crate::downstream::DownstreamResult`]).

use std::fmt::Write as _;

use super::svg::{render_grid, Axis, Mark, Panel, Series, TickStyle};
use crate::downstream::{step1_value, step2_value, DownstreamResult, TaskResult};
use crate::num::sig;

fn iv(i: &Option<[f64; 2]>) -> String {
    match i {
        Some([a, b]) => format!("[{:.4}, {:.4}]", a, b),
        None => "-".into(),
    }
}

fn opt(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.4}")).unwrap_or_else(|| "-".into())
}

/// The result as a table per target: task, predicted feature (actual), predicted metric, its
/// interval, the new-run interval, the actual value and the error; then the weighted average,
/// each step's law, the conventions, warnings and notes.
///
/// # Examples
/// ```
/// use scaling::downstream::*;
/// use scaling::data::RunTable;
/// let csv = "N,D,loss,acc\n1e8,2e9,3.9,0.27\n2e8,4e9,3.5,0.31\n4e8,8e9,3.2,0.38\n8e8,1.6e10,2.95,0.46\n1.6e9,3.2e10,2.75,0.55\n";
/// let table = RunTable::from_csv_str("runs.csv", csv).unwrap();
/// let opts = DownstreamOptions {
///     tasks: vec!["loss:acc".into()], params_col: Some("N".into()),
///     tokens_col: Some("D".into()), law: Some("E + A*C^-alpha".into()),
///     at_flops: vec![1e21], ..Default::default()
/// };
/// let r = downstream(&table, &opts.request().unwrap(), &|| {}).unwrap();
/// assert!(scaling::report::downstream::downstream_text(&r).starts_with("Downstream prediction"));
/// ```
pub fn downstream_text(r: &DownstreamResult) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Downstream prediction ({}{}) from {}",
        r.mode,
        r.recipe
            .as_ref()
            .map(|x| format!(", recipe {x}"))
            .unwrap_or_default(),
        r.source
    );
    if r.tasks.is_empty() {
        return s;
    }
    let tw = r
        .tasks
        .iter()
        .map(|t| t.task.name.chars().count())
        .max()
        .unwrap_or(0)
        .max(22);
    for p0 in r.targets() {
        if let (Some(n), Some(d)) = (p0.n, p0.d) {
            let _ = writeln!(
                s,
                "\ntarget {} (N {}, D {}, C {})",
                p0.target,
                sig(n, 4),
                sig(d, 4),
                sig(p0.c, 4)
            );
        } else {
            let _ = writeln!(s, "\ntarget {} (C {} FLOPs)", p0.target, sig(p0.c, 4));
        }
        let _ = writeln!(
            s,
            "  {:<tw$} {:>9} {:>9} {:>9} {:>20} {:>20} {:>8} {:>8}",
            "task",
            "feature",
            "(actual)",
            "predicted",
            "interval",
            "new-run interval",
            "actual",
            "error"
        );
        for t in &r.tasks {
            let Some(p) = t.prediction(&p0.target) else {
                let _ = writeln!(s, "  {:<tw$} not predicted (see the warnings)", t.task.name);
                continue;
            };
            let _ = writeln!(
                s,
                "  {:<tw$} {:>9} {:>9} {:>9.4} {:>20} {:>20} {:>8} {:>8}",
                t.task.name,
                opt(p.feature),
                opt(p.feature_actual),
                p.predicted,
                iv(&p.interval),
                iv(&p.prediction_interval),
                opt(p.actual),
                p.error
                    .map(|e| format!("{:+.4}", e))
                    .unwrap_or_else(|| "-".into()),
            );
        }
        if let Some(a) = r.average_at(&p0.target) {
            let ws: Vec<f64> = r.tasks.iter().map(|t| t.task.weight).collect();
            if ws.iter().any(|w| *w != ws[0]) {
                let total: f64 = ws.iter().sum();
                let _ = writeln!(
                    s,
                    "  weights: {}",
                    r.tasks
                        .iter()
                        .map(|t| format!("{} {}", t.task.name, sig(t.task.weight / total, 3)))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            let _ = writeln!(
                s,
                "  {:<tw$} {:>9} {:>9} {:>9.4} {:>20} {:>20} {:>8} {:>8}",
                "weighted average",
                "",
                "",
                a.predicted,
                iv(&a.interval),
                "",
                opt(a.actual),
                a.error
                    .map(|e| format!("{:+.4}", e))
                    .unwrap_or_else(|| "-".into()),
            );
            if let Some(e) = a.mean_abs_error_points {
                let _ = write!(s, "  mean absolute error {e:.2} points");
                if let Some([c, n]) = a.covered {
                    let _ = write!(s, "; new-run intervals hold {c} of {n} actual values");
                }
                let _ = writeln!(s);
            }
        }
    }
    let _ = writeln!(s, "\nlaws");
    for t in &r.tasks {
        if let Some(f) = &t.step1 {
            let _ = writeln!(
                s,
                "  {} step 1 ({} -> {}): {}  {}",
                t.task.name,
                if f.law == "formula" {
                    "formula"
                } else {
                    &f.law
                },
                t.task.feature.as_deref().unwrap_or("-"),
                f.formula,
                params(&f.params)
            );
        }
        let _ = writeln!(
            s,
            "  {} step 2 ({} -> {}): {}  {}  [fitted on {} points, x {:.4} to {:.4}]",
            t.task.name,
            if r.mode == "single-step" {
                "log10 C"
            } else {
                "x"
            },
            t.task.metric,
            t.step2.formula,
            params(&t.step2.params),
            t.step2_points.len(),
            t.step2_range[0],
            t.step2_range[1]
        );
    }
    let _ = writeln!(s, "\nconventions");
    for (k, v) in &r.conventions {
        if !v.is_null() {
            let _ = writeln!(s, "  {k}: {v}");
        }
    }
    if !r.warnings.is_empty() {
        let _ = writeln!(s, "\nwarnings");
        for w in &r.warnings {
            let _ = writeln!(s, "  {w}");
        }
    }
    for n in &r.notes {
        let _ = writeln!(s, "\nnote: {n}");
    }
    s
}

fn params(p: &std::collections::BTreeMap<String, Option<f64>>) -> String {
    p.iter()
        .map(|(k, v)| format!("{k}={}", v.map(|x| sig(x, 5)).unwrap_or_else(|| "?".into())))
        .collect::<Vec<_>>()
        .join(" ")
}

fn axis(label: &str, log: bool, ticks: TickStyle) -> Axis {
    Axis {
        label: label.into(),
        log,
        ticks,
        range: None,
    }
}

fn span(v: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    let (lo, hi) = v
        .filter(|x| x.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
            (a.min(x), b.max(x))
        });
    (lo <= hi).then_some((lo, hi))
}

/// Chained prediction per task against the actual value (x), with the bootstrap interval as
/// an error bar and the line y = x; without actual values, against the task's number.
fn summary_panel(r: &DownstreamResult) -> Panel {
    let known = r
        .tasks
        .iter()
        .any(|t| t.predictions.iter().any(|p| p.actual.is_some()));
    let mut series = Vec::new();
    for (ti, p0) in r.targets().into_iter().enumerate() {
        type Xy = Vec<(f64, f64)>;
        let (pts, bars): (Xy, Xy) = r
            .tasks
            .iter()
            .enumerate()
            .filter_map(|(k, t)| {
                let p = t.prediction(&p0.target)?;
                let x = if known { p.actual? } else { (k + 1) as f64 };
                let [lo, hi] = p.interval.unwrap_or([p.predicted, p.predicted]);
                Some(((x, p.predicted), (lo, hi)))
            })
            .unzip();
        series.push(Series {
            name: format!("{} predicted", p0.target),
            points: pts,
            mark: Mark::ErrorBars(bars),
            style: 1 + 2 * ti,
        });
    }
    if known {
        let all = r.tasks.iter().flat_map(|t| {
            t.predictions
                .iter()
                .flat_map(|p| [p.actual, Some(p.predicted)].into_iter().flatten())
        });
        if let Some((lo, hi)) = span(all) {
            series.push(Series {
                name: "predicted = actual".into(),
                points: vec![(lo, lo), (hi, hi)],
                mark: Mark::Dashed,
                style: 7,
            });
        }
    }
    let metric = if r.tasks.len() == 1 {
        r.tasks[0].task.metric.clone()
    } else {
        "metric".into()
    };
    Panel {
        title: if known {
            format!(
                "Chained prediction against actual ({} tasks)",
                r.tasks.len()
            )
        } else {
            "Chained prediction per task".into()
        },
        x: if known {
            axis(&format!("actual {metric}"), false, TickStyle::Plain)
        } else {
            axis(
                "task (in the order of the table)",
                false,
                TickStyle::Integer,
            )
        },
        y: axis(&format!("predicted {metric}"), false, TickStyle::Plain),
        series,
    }
}

/// Step 1: the feature against compute, the law along each fitted model size and along each
/// target's size (dashed, up to the target), the target's predicted feature with its interval
/// and its actual feature.
fn step1_panel(t: &TaskResult, feature: &str) -> Option<Panel> {
    let f = t.step1.as_ref()?;
    let mut series = vec![Series {
        name: "fitted runs".into(),
        points: t.step1_points.iter().map(|p| (p.c, p.y)).collect(),
        mark: Mark::Points,
        style: 0,
    }];
    // FLOPs per parameter-token of the data (C = k N D).
    let k = t
        .step1_points
        .iter()
        .map(|p| p.c / (p.n * p.d))
        .find(|k| k.is_finite() && *k > 0.0)
        .unwrap_or(6.0);
    let line = |n: f64, d0: f64, d1: f64| -> Vec<(f64, f64)> {
        (0..40)
            .filter_map(|i| {
                let d = (d0.ln() + (d1.ln() - d0.ln()) * i as f64 / 39.0).exp();
                step1_value(f, n, d, k * n * d).map(|y| (k * n * d, y))
            })
            .collect()
    };
    let mut sizes: Vec<f64> = t.step1_points.iter().map(|p| p.n).collect();
    sizes.sort_by(|a, b| a.total_cmp(b));
    sizes.dedup();
    // One line per model size where every size was trained to several lengths (a ladder).
    let by_n = sizes.iter().all(|n| n.is_finite())
        && sizes.len() <= 12
        && sizes
            .iter()
            .all(|&n| t.step1_points.iter().filter(|p| p.n == n).count() > 1);
    let curve_c = |c0: f64, c1: f64| -> Vec<(f64, f64)> {
        (0..60)
            .filter_map(|i| {
                let c = (c0.ln() + (c1.ln() - c0.ln()) * i as f64 / 59.0).exp();
                step1_value(f, f64::NAN, f64::NAN, c).map(|y| (c, y))
            })
            .collect()
    };
    if by_n {
        for (i, &n) in sizes.iter().enumerate() {
            let ds = span(t.step1_points.iter().filter(|p| p.n == n).map(|p| p.d));
            if let Some((d0, d1)) = ds {
                series.push(Series {
                    name: if i == 0 {
                        "step-1 law per N".into()
                    } else {
                        String::new()
                    },
                    points: line(n, d0, d1.max(d0 * 1.0001)),
                    mark: Mark::Line,
                    style: 7,
                });
            }
        }
    } else if let Some((c0, c1)) = span(t.step1_points.iter().map(|p| p.c)) {
        // A law in C alone: one curve over the data and on to the targets.
        let c1 = t.predictions.iter().map(|p| p.c).fold(c1, f64::max);
        let curve = curve_c(c0, c1);
        if curve.len() >= 2 {
            series.push(Series {
                name: "step-1 law".into(),
                points: curve,
                mark: Mark::Line,
                style: 7,
            });
        } else {
            // A law in N and D with one run per size: its value at each run.
            series.push(Series {
                name: "step-1 law at each run".into(),
                points: t
                    .step1_points
                    .iter()
                    .filter_map(|p| step1_value(f, p.n, p.d, p.c).map(|y| (p.c, y)))
                    .collect(),
                mark: Mark::Points,
                style: 7,
            });
        }
    }
    // Each target's line runs from the largest fitted compute (or a tenth of its own, if
    // smaller) to the target: the extrapolation.
    let cmax = span(t.step1_points.iter().map(|p| p.c)).map(|s| s.1);
    for (ti, p) in t.predictions.iter().enumerate() {
        if let (Some(n), Some(d), Some(c0)) = (p.n, p.d, cmax) {
            series.push(Series {
                name: format!("law at N = {}", super::human(n)),
                points: line(n, (c0 / (k * n)).min(d / 10.0), d),
                mark: Mark::Dashed,
                style: 1 + 2 * ti,
            });
        }
        if let Some(x) = p.feature {
            let [lo, hi] = p.feature_interval.unwrap_or([x, x]);
            series.push(Series {
                name: format!("{} predicted", p.target),
                points: vec![(p.c, x)],
                mark: Mark::ErrorBars(vec![(lo, hi)]),
                style: 1 + 2 * ti,
            });
        }
        if let Some(x) = p.feature_actual {
            series.push(Series {
                name: format!("{} actual", p.target),
                points: vec![(p.c, x)],
                mark: Mark::Points,
                style: 2 + 2 * ti,
            });
        }
    }
    Some(Panel {
        title: format!("{}: step 1", t.task.name),
        x: axis("training compute C (FLOPs)", true, TickStyle::Scientific),
        y: axis(feature, false, TickStyle::Plain),
        series,
    })
}

/// Step 2: the metric against the feature (log10 C in one step) with the fitted law, the
/// anchor when used, each target's chained prediction with its interval and its actual value.
fn step2_panel(t: &TaskResult, single: bool, anchor: bool) -> Panel {
    let mut pts: Vec<(f64, f64)> = t.step2_points.iter().map(|p| (p[0], p[1])).collect();
    let anchor_pt = if anchor { pts.pop() } else { None };
    let xs_of = |p: &crate::downstream::Prediction| -> [Option<f64>; 2] {
        if single {
            [Some(p.c.log10()), None]
        } else {
            [p.feature, p.feature_actual]
        }
    };
    let mut series = vec![Series {
        name: "fitted points".into(),
        points: pts.clone(),
        mark: Mark::Points,
        style: 0,
    }];
    if let Some(a) = anchor_pt {
        series.push(Series {
            name: "anchor".into(),
            points: vec![a],
            mark: Mark::Points,
            style: 5,
        });
    }
    let xs = pts.iter().map(|p| p.0).chain(anchor_pt.map(|a| a.0)).chain(
        t.predictions
            .iter()
            .flat_map(|p| xs_of(p).into_iter().flatten()),
    );
    if let Some((x0, x1)) = span(xs) {
        series.push(Series {
            name: "step-2 law".into(),
            points: (0..100)
                .filter_map(|i| {
                    let x = x0 + (x1 - x0) * i as f64 / 99.0;
                    step2_value(&t.step2, x).map(|y| (x, y))
                })
                .collect(),
            mark: Mark::Line,
            style: 7,
        });
    }
    for (ti, p) in t.predictions.iter().enumerate() {
        if let [Some(x), _] = xs_of(p) {
            let [lo, hi] = p.interval.unwrap_or([p.predicted, p.predicted]);
            series.push(Series {
                name: format!("{} predicted", p.target),
                points: vec![(x, p.predicted)],
                mark: Mark::ErrorBars(vec![(lo, hi)]),
                style: 1 + 2 * ti,
            });
        }
        let xa = if single { xs_of(p)[0] } else { xs_of(p)[1] };
        if let (Some(x), Some(a)) = (xa, p.actual) {
            series.push(Series {
                name: format!("{} actual", p.target),
                points: vec![(x, a)],
                mark: Mark::Points,
                style: 2 + 2 * ti,
            });
        }
    }
    Panel {
        title: format!("{}: step 2", t.task.name),
        x: axis(
            if single {
                "log10 training compute C (FLOPs)"
            } else {
                t.task.feature.as_deref().unwrap_or("feature")
            },
            false,
            TickStyle::Plain,
        ),
        y: axis(&t.task.metric, false, TickStyle::Plain),
        series,
    }
}

/// The figure of a downstream prediction (SVG): first the chained prediction per task
/// against the actual value when known (error bars: the bootstrap interval); then one row per
/// task with step 1 (the feature against compute with the law along each model size, and the
/// target's predicted feature) and step 2 (the metric against the feature with the fitted
/// sigmoid or exponential, and the target's predicted point with its interval).
///
/// # Examples
/// ```
/// # use scaling::downstream::*;
/// # use scaling::data::RunTable;
/// let csv = "N,D,loss,acc\n1e8,2e9,3.9,0.27\n2e8,4e9,3.5,0.31\n4e8,8e9,3.2,0.38\n8e8,1.6e10,2.95,0.46\n1.6e9,3.2e10,2.75,0.55\n";
/// let table = RunTable::from_csv_str("runs.csv", csv).unwrap();
/// let opts = DownstreamOptions {
///     tasks: vec!["loss:acc".into()], params_col: Some("N".into()),
///     tokens_col: Some("D".into()), law: Some("E + A*C^-alpha".into()),
///     at_flops: vec![1e21], ..Default::default()
/// };
/// let r = downstream(&table, &opts.request().unwrap(), &|| {}).unwrap();
/// let svg = scaling::report::downstream::downstream_svg(&r);
/// assert!(svg.contains("acc: step 2"));
/// ```
pub fn downstream_svg(r: &DownstreamResult) -> String {
    let mut rows = Vec::new();
    if r.tasks.is_empty() {
        return render_grid(&rows);
    }
    rows.push(vec![summary_panel(r)]);
    let single = r.mode == "single-step";
    let anchor = r
        .conventions
        .get("step2_anchor")
        .is_some_and(|v| !v.is_null());
    for t in &r.tasks {
        let mut row = Vec::new();
        if let Some(p) = step1_panel(t, t.task.feature.as_deref().unwrap_or("feature")) {
            row.push(p);
        }
        row.push(step2_panel(t, single, anchor));
        rows.push(row);
    }
    render_grid(&rows)
}

/// A downstream backtest as text: per cutoff the training and held-out runs, the errors in
/// points and the coverage of the new-run intervals; the predictions pooled by extrapolation
/// distance; every prediction when there is one cutoff; then the warnings of the fits.
///
/// # Examples
/// ```
/// use scaling::downstream::*;
/// use scaling::data::RunTable;
/// let mut csv = String::from("N,D,loss,acc\n");
/// for i in 0..8 {
///     let n = 1e8 * 2f64.powi(i);
///     let loss = 1.8 + 400.0 / n.powf(0.34) + 410.0 / (20.0 * n).powf(0.28);
///     csv.push_str(&format!("{n},{},{loss},{}\n", 20.0 * n, 1.0 - loss / 4.0));
/// }
/// let table = RunTable::from_csv_str("runs.csv", &csv).unwrap();
/// let opts = DownstreamOptions {
///     tasks: vec!["loss:acc".into()], params_col: Some("N".into()),
///     tokens_col: Some("D".into()), law: Some("E + A*C^-alpha".into()),
///     backtest: vec![1e20], ..Default::default()
/// };
/// let b = backtest(&table, &opts.request().unwrap(), &[1e20], &|| {}).unwrap();
/// assert!(scaling::report::downstream::backtest_text(&b).starts_with("Downstream backtest"));
/// ```
pub fn backtest_text(b: &crate::downstream::ScoreBacktest) -> String {
    use crate::downstream::ScoreSummary;
    let pts = |v: Option<f64>| v.map_or("-".into(), |x| format!("{x:.2}"));
    let cov = |s: &ScoreSummary| match (s.coverage, s.covered) {
        (Some(c), Some(k)) => format!("{:.1}% ({k} of {})", 100.0 * c, s.predictions),
        _ => "-".into(),
    };
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Downstream backtest ({}) on {}: the runs at or below each cutoff of C are fitted, the larger ones predicted",
        b.mode, b.source
    );
    let level = b
        .conventions
        .get("level")
        .and_then(|v| v.as_f64())
        .unwrap_or(0.95);
    let _ = writeln!(
        s,
        "  errors are predicted - actual in points (x100); coverage: the {}% new-run intervals (with a bootstrap)\n",
        (1e6 * 100.0 * level).round() / 1e6
    );
    let _ = writeln!(
        s,
        "  {:>10}  {:>5}  {:>4}  {:>11}  {:>8}  {:>9}  {:>8}  {:>8}  coverage",
        "cutoff", "train", "held", "predictions", "med|err|", "mean|err|", "max|err|", "mean err"
    );
    for c in &b.cutoffs {
        let m = &c.summary;
        let _ = writeln!(
            s,
            "  {:>10.3e}  {:>5}  {:>4}  {:>11}  {:>8}  {:>9}  {:>8}  {:>8}  {}",
            c.cutoff,
            c.train_runs,
            c.held_out_runs,
            m.predictions,
            pts(m.median_abs_error_points),
            pts(m.mean_abs_error_points),
            pts(m.max_abs_error_points),
            pts(m.mean_error_points),
            c.error
                .as_deref()
                .map_or_else(|| cov(m), |e| format!("- ({e})"))
        );
    }
    if !b.by_distance.is_empty() {
        let _ = writeln!(
            s,
            "\n  by extrapolation distance (decades of C beyond the largest training run):"
        );
        let _ = writeln!(
            s,
            "  {:>10}  {:>11}  {:>8}  {:>8}  {:>8}  coverage",
            "distance", "predictions", "med|err|", "max|err|", "mean err"
        );
        for d in &b.by_distance {
            let m = &d.summary;
            let _ = writeln!(
                s,
                "  {:>4.2}-{:<5.2}  {:>11}  {:>8}  {:>8}  {:>8}  {}",
                d.from_decades,
                d.to_decades,
                m.predictions,
                pts(m.median_abs_error_points),
                pts(m.max_abs_error_points),
                pts(m.mean_error_points),
                cov(m)
            );
        }
        let m = &b.pooled;
        let _ = writeln!(
            s,
            "  {:>10}  {:>11}  {:>8}  {:>8}  {:>8}  {}",
            "all",
            m.predictions,
            pts(m.median_abs_error_points),
            pts(m.max_abs_error_points),
            pts(m.mean_error_points),
            cov(m)
        );
    }
    if let [c] = b.cutoffs.as_slice() {
        if !c.held_out.is_empty() {
            let _ = writeln!(s, "\n  predictions at C <= {:.3e}:", c.cutoff);
            let _ = writeln!(
                s,
                "  {:<28}  {:<20}  {:>9}  {:>7}  {:>9}  {:>7}  {:>7}  new-run interval",
                "task", "run", "C", "d (dec)", "predicted", "actual", "error"
            );
            for h in &c.held_out {
                let _ = writeln!(
                    s,
                    "  {:<28}  {:<20}  {:>9.3e}  {:>7.2}  {:>9.4}  {:>7.4}  {:>+7.4}  {}{}",
                    h.task,
                    h.run,
                    h.flops,
                    h.decades,
                    h.predicted,
                    h.actual,
                    h.error,
                    iv(&h.prediction_interval),
                    if h.covered == Some(false) { "  *" } else { "" }
                );
            }
        }
    }
    // Per-prediction "step 2 extrapolates" warnings are counted, the others listed.
    const OUTSIDE: &str = "lies outside the range step 2 was fitted on";
    let mut warnings: Vec<String> = Vec::new();
    for c in &b.cutoffs {
        let outside = c.warnings.iter().filter(|w| w.contains(OUTSIDE)).count();
        if outside > 0 {
            warnings.push(format!(
                "C <= {:.3e}: for {outside} predictions the predicted feature {OUTSIDE} (step 2 extrapolates; the JSON lists them)",
                c.cutoff
            ));
        }
        warnings.extend(
            c.warnings
                .iter()
                .filter(|w| !w.contains(OUTSIDE))
                .map(|w| format!("C <= {:.3e}: {w}", c.cutoff)),
        );
    }
    warnings.dedup();
    for w in &warnings {
        let _ = writeln!(s, "WARNING: {}", crate::report::escape_control(w));
    }
    s
}

/// Two panels of a downstream backtest: |predicted - actual| in points of every held-out
/// prediction against its extrapolation distance (with the median of each half decade), and
/// the coverage of the new-run intervals by distance against the nominal level (with a
/// bootstrap).
///
/// # Examples
/// ```
/// use scaling::downstream::*;
/// use scaling::data::RunTable;
/// let mut csv = String::from("N,D,loss,acc\n");
/// for i in 0..8 {
///     let n = 1e8 * 2f64.powi(i);
///     let loss = 1.8 + 400.0 / n.powf(0.34) + 410.0 / (20.0 * n).powf(0.28);
///     csv.push_str(&format!("{n},{},{loss},{}\n", 20.0 * n, 1.0 - loss / 4.0 + 0.001 * (i % 3) as f64));
/// }
/// let table = RunTable::from_csv_str("runs.csv", &csv).unwrap();
/// let opts = DownstreamOptions {
///     tasks: vec!["loss:acc".into()], params_col: Some("N".into()),
///     tokens_col: Some("D".into()), law: Some("E + A*C^-alpha".into()),
///     backtest: vec![1e20], ..Default::default()
/// };
/// let b = backtest(&table, &opts.request().unwrap(), &[1e20], &|| {}).unwrap();
/// assert!(scaling::report::downstream::backtest_svg(&b).starts_with("<svg"));
/// ```
pub fn backtest_svg(b: &crate::downstream::ScoreBacktest) -> String {
    let axis = |label: &str, log: bool| Axis {
        label: label.into(),
        log,
        ticks: TickStyle::Plain,
        range: None,
    };
    let distance = "distance beyond the largest training run (decades of C)";
    let pts: Vec<(f64, f64)> = b
        .cutoffs
        .iter()
        .flat_map(|c| c.held_out.iter())
        .map(|h| (h.decades, 100.0 * h.error.abs()))
        .filter(|(_, e)| *e > 0.0)
        .collect();
    let mid = |d: &crate::downstream::ScoreBin| 0.5 * (d.from_decades + d.to_decades);
    let med: Vec<(f64, f64)> = b
        .by_distance
        .iter()
        .filter_map(|d| d.summary.median_abs_error_points.map(|m| (mid(d), m)))
        .filter(|(_, e)| *e > 0.0)
        .collect();
    let error = Panel {
        title: "Held-out benchmark error against extrapolation distance".into(),
        x: axis(distance, false),
        y: axis("|predicted - actual| (points)", true),
        series: vec![
            Series {
                name: "held-out prediction".into(),
                points: pts,
                mark: Mark::Points,
                style: 0,
            },
            Series {
                name: "median per half decade".into(),
                points: med,
                mark: Mark::Line,
                style: 7,
            },
        ],
    };
    let cov: Vec<(f64, f64)> = b
        .by_distance
        .iter()
        .filter_map(|d| d.summary.coverage.map(|c| (mid(d), 100.0 * c)))
        .collect();
    if cov.is_empty() {
        return super::svg::render(&[error]);
    }
    let level = b
        .conventions
        .get("level")
        .and_then(|v| v.as_f64())
        .unwrap_or(0.95);
    let (x0, x1) = (cov[0].0, cov[cov.len() - 1].0);
    let coverage = Panel {
        title: "Coverage of held-out scores by distance".into(),
        x: axis(distance, false),
        y: Axis {
            range: Some((0.0, 100.0)),
            ..axis("coverage (%)", false)
        },
        series: vec![
            Series {
                name: "new-run interval".into(),
                points: cov,
                mark: Mark::Line,
                style: 2,
            },
            Series {
                name: format!("nominal {}%", (1e6 * 100.0 * level).round() / 1e6),
                points: vec![(x0, 100.0 * level), (x1, 100.0 * level)],
                mark: Mark::Dashed,
                style: 7,
            },
        ],
    };
    super::svg::render(&[error, coverage])
}
