//! Renderers of backtests ([`crate::validate`]): text tables and an SVG of error and coverage
//! against extrapolation distance. Pure functions of the results.

use std::fmt::Write;

use super::sig;
use super::svg::{render, Axis, Mark, Panel, Series, TickStyle};
use crate::validate::{Backtest, Rolling, Summary};

fn pct(x: Option<f64>) -> String {
    x.map(|v| format!("{:.1}%", 100.0 * v))
        .unwrap_or_else(|| "-".into())
}

fn iv(x: Option<[f64; 2]>) -> String {
    x.map(|[a, b]| format!("[{}, {}]", sig(a, 4), sig(b, 4)))
        .unwrap_or_else(|| "-".into())
}

fn summary_lines(out: &mut String, s: &Summary, level: Option<f64>) {
    let _ = writeln!(
        out,
        "  |relative error|: median {}, mean {}, max {}; mean signed {}",
        pct(s.median_abs_relative_error),
        pct(s.mean_abs_relative_error),
        pct(s.max_abs_relative_error),
        pct(s.mean_relative_error)
    );
    if let Some(l) = level {
        let _ = writeln!(
            out,
            "  coverage of the {}% intervals: mean {}, new run {}, new run + extrapolation {}{}",
            (1e6 * 100.0 * l).round() / 1e6,
            pct(s.coverage_mean),
            pct(s.coverage_new_run),
            pct(s.coverage),
            s.covered
                .map(|k| format!(" ({k} of {})", s.runs))
                .unwrap_or_default()
        );
    }
}

/// The text report of one backtest: the training fit, each held-out run with its error,
/// distance and intervals, the summary and the extrapolation term.
///
/// # Examples
/// ```
/// use scaling::accounting::{load_runs, LoadRequest};
/// use scaling::data::RunTable;
/// use scaling::uncertainty::FitRequest;
/// use scaling::validate::{backtest, Axis, BacktestRequest, Inflation, Split};
/// let law = scaling::law::presets::get("chinchilla").unwrap().law.unwrap();
/// let design = scaling::simulate::isoflop_design(&law, &[1e18, 1e19, 1e20, 1e21], 6, 1.5, 6.0);
/// let runs = scaling::simulate::sample_runs(&law, &design, 0.01, 1, "synthetic").unwrap();
/// let t = RunTable::from_csv_str("runs.csv", &scaling::report::lab::runs_csv(&runs)).unwrap();
/// let runs = load_runs(&t, scaling::methods::chinchilla_needs(), &LoadRequest::default(), None).unwrap();
/// let req = BacktestRequest {
///     fit: FitRequest::default(),
///     split: Split::Cutoff { axis: Axis::Flops, value: 2e20 },
///     distance_axis: None,
///     inflation: Inflation::None,
/// };
/// let b = backtest(&t, &runs, &req).unwrap();
/// let text = scaling::report::backtest::backtest_text(&b, "runs.csv");
/// assert!(text.starts_with("Backtest of the chinchilla law on runs.csv"));
/// ```
pub fn backtest_text(b: &Backtest, source: &str) -> String {
    let mut out = String::new();
    let c = &b.conventions;
    let _ = writeln!(
        out,
        "Backtest of the {} law on {source}: {} ({} training runs, {} held out)",
        b.law,
        c.split,
        b.train_runs,
        b.held_out.len()
    );
    let _ = writeln!(out, "  {}", b.formula);
    let params: Vec<String> = b
        .params
        .iter()
        .map(|(k, v)| format!("{k} = {}", v.map(|x| sig(x, 5)).unwrap_or("-".into())))
        .collect();
    let _ = writeln!(
        out,
        "  training fit: {} ({:?})",
        params.join(", "),
        b.status
    );
    let _ = writeln!(
        out,
        "  distance d = log10({} / {}), the largest training value\n",
        c.distance_axis.label(),
        sig(b.train_max, 4)
    );
    let _ = writeln!(
        out,
        "  {:>5} {:>9} {:>9} {:>10} {:>8} {:>8} {:>7}  {:<20} {:<20} {:<20}",
        "row", "N", "D", "C", "d (dec)", "loss", "error", "mean", "new run", "+ extrapolation"
    );
    for h in &b.held_out {
        let f = |x: Option<f64>| x.map(super::human).unwrap_or_else(|| "-".into());
        let mark = match h.covered {
            Some(false) => " *",
            _ => "",
        };
        let _ = writeln!(
            out,
            "  {:>5} {:>9} {:>9} {:>10} {:>8.2} {:>8} {:>+6.2}%  {:<20} {:<20} {:<20}{mark}",
            h.row,
            f(h.params),
            f(h.tokens),
            h.flops
                .map(|v| format!("{v:.2e}"))
                .unwrap_or_else(|| "-".into()),
            h.decades,
            sig(h.loss, 4),
            100.0 * h.relative_error,
            iv(h.interval),
            iv(h.new_run_interval),
            iv(h.extrapolation_interval)
        );
    }
    let _ = writeln!(
        out,
        "  (error = predicted / observed - 1; * = outside the widest interval)\n"
    );
    summary_lines(&mut out, &b.summary, c.level);
    if let Some(m) = &b.misspecification {
        let _ = writeln!(
            out,
            "  extrapolation term: sigma0 = {}, kappa = {} per decade ({}){}",
            sig(m.sigma0, 3),
            sig(m.kappa, 3),
            m.source,
            if m.inner_runs > 0 {
                format!(
                    "; {} inner held-out runs up to {} decades, coverage {} -> {}",
                    m.inner_runs,
                    m.inner_max_decades
                        .map(|d| format!("{d:.2}"))
                        .unwrap_or_else(|| "-".into()),
                    pct(m.inner_coverage_new_run),
                    pct(m.inner_coverage)
                )
            } else {
                String::new()
            }
        );
    }
    if c.level.is_none() {
        let _ = writeln!(
            out,
            "  (no bootstrap: errors only; bootstrap replicates give intervals)"
        );
    }
    for w in &b.warnings {
        let _ = writeln!(out, "  warning: {w}");
    }
    out
}

/// The text report of a rolling backtest: each cutoff, then errors and coverage by distance.
///
/// # Examples
/// ```
/// use scaling::accounting::{load_runs, LoadRequest};
/// use scaling::data::RunTable;
/// use scaling::uncertainty::FitRequest;
/// use scaling::validate::{rolling, Axis, BacktestRequest, Inflation, RollingRequest, Split};
/// let law = scaling::law::presets::get("chinchilla").unwrap().law.unwrap();
/// let design = scaling::simulate::isoflop_design(&law, &[1e18, 1e19, 1e20, 1e21], 6, 1.5, 6.0);
/// let runs = scaling::simulate::sample_runs(&law, &design, 0.01, 1, "synthetic").unwrap();
/// let t = RunTable::from_csv_str("runs.csv", &scaling::report::lab::runs_csv(&runs)).unwrap();
/// let runs = load_runs(&t, scaling::methods::chinchilla_needs(), &LoadRequest::default(), None).unwrap();
/// let req = BacktestRequest {
///     fit: FitRequest::default(),
///     split: Split::Cutoff { axis: Axis::Flops, value: 2e20 },
///     distance_axis: None,
///     inflation: Inflation::None,
/// };
/// let roll = RollingRequest { base: req, axis: Axis::Flops, cutoffs: vec![2e19, 2e20], bin_width: 0.5 };
/// let r = rolling(&t, &runs, &roll).unwrap();
/// assert!(scaling::report::backtest::rolling_text(&r, "runs.csv").starts_with("Rolling backtest on runs.csv"));
/// assert!(scaling::report::backtest::rolling_svg(&r).starts_with("<svg"));
/// ```
pub fn rolling_text(r: &Rolling, source: &str) -> String {
    let mut out = String::new();
    let level = r.conventions.as_ref().and_then(|c| c.level);
    let _ = writeln!(
        out,
        "Rolling backtest on {source}: cutoffs on {}, {} held-out predictions pooled\n",
        r.axis.label(),
        r.points.len()
    );
    let _ = writeln!(
        out,
        "  {:>10} {:>6} {:>5} {:>9} {:>9} {:>9} {:>9}  sigma0, kappa",
        "cutoff", "train", "held", "med|err|", "mean", "new run", "+extrap"
    );
    for s in &r.steps {
        if let Some(e) = &s.error {
            let _ = writeln!(out, "  {:>10.3e}  failed: {e}", s.cutoff);
            continue;
        }
        let _ = writeln!(
            out,
            "  {:>10.3e} {:>6} {:>5} {:>9} {:>9} {:>9} {:>9}  {}, {}",
            s.cutoff,
            s.train_runs,
            s.summary.runs,
            pct(s.summary.median_abs_relative_error),
            pct(s.summary.coverage_mean),
            pct(s.summary.coverage_new_run),
            pct(s.summary.coverage),
            s.sigma0.map(|k| sig(k, 3)).unwrap_or_else(|| "-".into()),
            s.kappa.map(|k| sig(k, 3)).unwrap_or_else(|| "-".into())
        );
    }
    let _ = writeln!(
        out,
        "\n  by extrapolation distance (decades; coverage of the {}% intervals):",
        level
            .map(|l| format!("{}", (1e6 * 100.0 * l).round() / 1e6))
            .unwrap_or_else(|| "-".into())
    );
    let _ = writeln!(
        out,
        "  {:>11} {:>5} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "distance", "runs", "med|err|", "max|err|", "mean", "new run", "+extrap"
    );
    for b in &r.bins {
        let s = &b.summary;
        let _ = writeln!(
            out,
            "  {:>5.2}-{:<5.2} {:>5} {:>9} {:>9} {:>9} {:>9} {:>9}",
            b.from,
            b.to,
            s.runs,
            pct(s.median_abs_relative_error),
            pct(s.max_abs_relative_error),
            pct(s.coverage_mean),
            pct(s.coverage_new_run),
            pct(s.coverage)
        );
    }
    let _ = writeln!(out, "\n  all cutoffs pooled:");
    summary_lines(&mut out, &r.summary, level);
    for w in &r.warnings {
        let _ = writeln!(out, "  warning: {w}");
    }
    out
}

fn axis(label: &str, log: bool, ticks: TickStyle) -> Axis {
    Axis {
        label: label.into(),
        log,
        ticks,
        range: None,
    }
}

/// Two panels: |relative error| of every held-out prediction against its extrapolation
/// distance (with the bins' medians), and each bin's coverage by the three intervals.
///
/// # Examples
/// ```
/// use scaling::accounting::{load_runs, LoadRequest};
/// use scaling::data::RunTable;
/// use scaling::uncertainty::FitRequest;
/// use scaling::validate::{rolling, Axis, BacktestRequest, Inflation, RollingRequest, Split};
/// let law = scaling::law::presets::get("chinchilla").unwrap().law.unwrap();
/// let design = scaling::simulate::isoflop_design(&law, &[1e18, 1e19, 1e20, 1e21], 6, 1.5, 6.0);
/// let runs = scaling::simulate::sample_runs(&law, &design, 0.01, 1, "synthetic").unwrap();
/// let t = RunTable::from_csv_str("runs.csv", &scaling::report::lab::runs_csv(&runs)).unwrap();
/// let runs = load_runs(&t, scaling::methods::chinchilla_needs(), &LoadRequest::default(), None).unwrap();
/// let req = BacktestRequest {
///     fit: FitRequest::default(),
///     split: Split::Cutoff { axis: Axis::Flops, value: 2e20 },
///     distance_axis: None,
///     inflation: Inflation::None,
/// };
/// let roll = RollingRequest { base: req, axis: Axis::Flops, cutoffs: vec![2e19, 2e20], bin_width: 0.5 };
/// let r = rolling(&t, &runs, &roll).unwrap();
/// assert!(scaling::report::backtest::rolling_svg(&r).starts_with("<svg"));
/// ```
pub fn rolling_svg(r: &Rolling) -> String {
    let pts: Vec<(f64, f64)> = r
        .points
        .iter()
        .map(|(_, h)| (h.decades, 100.0 * h.relative_error.abs()))
        .filter(|(_, e)| *e > 0.0)
        .collect();
    let mid = |b: &crate::validate::RollingBin| 0.5 * (b.from + b.to);
    let med: Vec<(f64, f64)> = r
        .bins
        .iter()
        .filter_map(|b| {
            b.summary
                .median_abs_relative_error
                .map(|m| (mid(b), 100.0 * m))
        })
        .filter(|(_, e)| *e > 0.0)
        .collect();
    let error = Panel {
        title: "Held-out error against extrapolation distance".into(),
        x: axis(
            "distance beyond the training runs (decades)",
            false,
            TickStyle::Plain,
        ),
        y: axis("|predicted / observed - 1| (%)", true, TickStyle::Plain),
        series: vec![
            Series {
                name: "held-out run".into(),
                points: pts,
                mark: Mark::Points,
                style: 0,
            },
            Series {
                name: "bin median".into(),
                points: med,
                mark: Mark::Line,
                style: 7,
            },
        ],
    };
    let cov = |f: &dyn Fn(&Summary) -> Option<f64>| -> Vec<(f64, f64)> {
        r.bins
            .iter()
            .filter_map(|b| f(&b.summary).map(|c| (mid(b), 100.0 * c)))
            .collect()
    };
    let level = r.conventions.as_ref().and_then(|c| c.level).unwrap_or(0.95);
    let xs: Vec<f64> = r.bins.iter().map(mid).collect();
    let (x0, x1) = (
        xs.iter().cloned().fold(f64::INFINITY, f64::min),
        xs.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
    );
    let mut coverage = Panel {
        title: "Coverage of held-out runs by distance".into(),
        x: axis(
            "distance beyond the training runs (decades)",
            false,
            TickStyle::Plain,
        ),
        y: Axis {
            range: Some((0.0, 100.0)),
            ..axis("coverage (%)", false, TickStyle::Plain)
        },
        series: vec![
            Series {
                name: "mean interval".into(),
                points: cov(&|s| s.coverage_mean),
                mark: Mark::Dashed,
                style: 1,
            },
            Series {
                name: "new-run interval".into(),
                points: cov(&|s| s.coverage_new_run),
                mark: Mark::Line,
                style: 2,
            },
            Series {
                name: "new run + extrapolation".into(),
                points: cov(&|s| s.coverage),
                mark: Mark::Line,
                style: 0,
            },
        ],
    };
    if x0.is_finite() && x1.is_finite() {
        coverage.series.push(Series {
            name: format!("nominal {}%", (1e6 * 100.0 * level).round() / 1e6),
            points: vec![(x0, 100.0 * level), (x1, 100.0 * level)],
            mark: Mark::Dashed,
            style: 7,
        });
    }
    coverage.series.retain(|s| !s.points.is_empty());
    render(&[error, coverage])
}

/// The text report of [`crate::validate::sensitivity()`]: each parameter's effect per step and
/// the exponent changes that move the loss by 1%, 5% and 10%. `label` names the law.
///
/// # Examples
/// ```
/// use scaling::validate::sensitivity::{sensitivity, Target};
/// let law = scaling::law::presets::get("chinchilla").unwrap().law.unwrap();
/// let s = sensitivity(&law, Target::Point { params: 70e9, tokens: 1.4e12 }).unwrap();
/// assert!(scaling::report::backtest::sensitivity_text(&s, "preset chinchilla").contains("alpha"));
/// ```
pub fn sensitivity_text(s: &crate::validate::Sensitivity, label: &str) -> String {
    let mut out = String::new();
    let at = match s.target {
        crate::validate::Target::Point { .. } => "at".to_string(),
        crate::validate::Target::Budget { flops, .. } => {
            format!("at the compute-optimal run for C = {flops:.3e} FLOPs:")
        }
    };
    let _ = writeln!(
        out,
        "Sensitivity of {label} {at} N = {}, D = {}, loss {}\n",
        super::human(s.params),
        super::human(s.tokens),
        sig(s.loss, 5)
    );
    let _ = writeln!(
        out,
        "  {:<6} {:>10} {:>6} {:>12} {:>9} {:>12} {:>12}",
        "param", "value", "step", "d loss", "relative", "d N_opt", "d D_opt"
    );
    for p in &s.per_param {
        let f = |x: Option<f64>| {
            x.map(|v| {
                format!(
                    "{}{}",
                    if v < 0.0 { "-" } else { "+" },
                    super::human(v.abs())
                )
            })
            .unwrap_or_else(|| "-".into())
        };
        let _ = writeln!(
            out,
            "  {:<6} {:>10} {:>6} {:>+12.5} {:>+8.3}% {:>12} {:>12}",
            p.name,
            sig(p.value, 5),
            p.step,
            p.loss,
            100.0 * p.loss_relative,
            f(p.params_opt),
            f(p.tokens_opt)
        );
    }
    let _ = writeln!(
        out,
        "\n  exponent change that moves the loss by (at this N and D):"
    );
    for e in &s.exponent_shifts {
        let _ = writeln!(
            out,
            "  {:<6} {:>4.0}%: {:+.5} raises it, {} lowers it",
            e.name,
            100.0 * e.fraction,
            e.raise,
            e.lower
                .map(|v| format!("{v:+.5}"))
                .unwrap_or_else(|| "nothing (the term is smaller)".into())
        );
    }
    let _ = writeln!(out, "\n  ({})", s.method);
    out
}

/// The text report of [`crate::validate::design()`]: today's width, the proposed runs with the
/// expected width after each, the alternatives of equal cost, and the simulation check.
/// `source` names the runs or the saved fit.
///
/// # Examples
/// ```
/// let law = scaling::law::presets::get("epoch").unwrap().law.unwrap();
/// let design = scaling::simulate::isoflop_design(&law, &[1e18, 1e19, 1e20], 6, 1.5, 6.0);
/// let runs = scaling::simulate::sample_runs(&law, &design, 0.01, 1, "synthetic").unwrap();
/// use scaling::validate::{DesignRequest, Quantity, Target};
/// let fit = scaling::fit::fit(&runs, &scaling::fit::FitConfig::default()).unwrap();
/// let req = DesignRequest {
///     target: Target::Budget { flops: 1e24, flops_per_param_token: 6.0 },
///     quantity: Quantity::NOpt,
///     allowance: 1e21,
///     runs: 2,
///     level: 0.95,
///     simulate: None,
/// };
/// let d = scaling::validate::design(&fit, &req, &|| {}).unwrap();
/// assert!(scaling::report::backtest::design_text(&d, "synthetic").contains("N_opt"));
/// ```
pub fn design_text(d: &crate::validate::Design, source: &str) -> String {
    let mut out = String::new();
    let at = match d.target {
        crate::validate::Target::Point { params, tokens } => {
            format!(
                "at N = {}, D = {}",
                super::human(params),
                super::human(tokens)
            )
        }
        crate::validate::Target::Budget { flops, .. } => format!("at C = {flops:.3e} FLOPs"),
    };
    let lvl = (1e6 * 100.0 * d.level).round() / 1e6;
    let show = |x: f64| {
        if d.quantity == "n_opt" {
            super::human(x)
        } else {
            sig(x, 5)
        }
    };
    let _ = writeln!(
        out,
        "Design: {} new runs within {:.3e} FLOPs to pin down {} {at}\n  {source}: {} runs, {} law, {}",
        d.runs, d.allowance, d.quantity, d.current_runs, d.law, d.formula
    );
    let _ = writeln!(
        out,
        "  {} today {}; {lvl}% interval [{}, {}], width {} (Fisher){}",
        d.quantity,
        show(d.estimate),
        show(d.current_interval[0]),
        show(d.current_interval[1]),
        sig(d.current_width, 4),
        d.current_bootstrap_width
            .map(|w| format!(", bootstrap width {}", sig(w, 4)))
            .unwrap_or_default()
    );
    let _ = writeln!(out, "  width: {}\n", d.conventions.width);
    let plan = |out: &mut String, p: &crate::validate::Plan| {
        let _ = writeln!(
            out,
            "{}: {} (cost {:.3e} FLOPs)",
            p.name, p.description, p.cost
        );
        let _ = writeln!(
            out,
            "  {:>3} {:>10} {:>10} {:>10} {:>8} {:>12}",
            "run", "N", "D", "C", "D/N", "width after"
        );
        for (i, r) in p.runs.iter().enumerate() {
            let _ = writeln!(
                out,
                "  {:>3} {:>10} {:>10} {:>10.3e} {:>8} {:>12}",
                i + 1,
                super::human(r.params),
                super::human(r.tokens),
                r.flops,
                sig(r.tokens_per_param, 3),
                sig(r.width_after, 4)
            );
        }
        let _ = writeln!(
            out,
            "  expected width {} ({:.0}% of today's), interval [{}, {}]\n",
            sig(p.width, 4),
            100.0 * p.width_ratio,
            show(p.interval[0]),
            show(p.interval[1])
        );
    };
    plan(&mut out, &d.proposal);
    let _ = writeln!(out, "Alternatives of equal cost:");
    for a in &d.alternatives {
        plan(&mut out, a);
    }
    if let Some(s) = &d.simulation {
        let _ = writeln!(
            out,
            "Simulated: {} repetitions, each plan's runs drawn from the fitted law with resampled residuals, refitted, {} bootstrap replicates (seed {}){}",
            s.repetitions,
            s.bootstrap,
            s.seed,
            s.current_width
                .map(|w| format!("; today's bootstrap width {}", sig(w, 4)))
                .unwrap_or_default()
        );
        for p in &s.plans {
            let _ = writeln!(
                out,
                "  {:<14} median width {}, mean {}{}",
                p.name,
                sig(p.median_width, 4),
                sig(p.mean_width, 4),
                if p.failed > 0 {
                    format!(" ({} refits failed)", p.failed)
                } else {
                    String::new()
                }
            );
        }
        for b in &s.beats {
            let _ = writeln!(
                out,
                "  the proposal is narrower than {} in {} of {} repetitions ({:.0}%)",
                b.alternative,
                b.wins,
                b.compared,
                100.0 * b.fraction
            );
        }
    }
    for w in &d.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    out
}
