//! Renderers of the lab results: `plateau` and `simulate`. Pure functions of the results.

use std::fmt::Write;

use super::sig;
use crate::data::Runs;
use crate::plateau::{PlateauRequest, PlateauResult};
use crate::simulate::{DataStrategyResult, Scenario};

/// The text report of [`crate::plateau::plateau_table`]: each form's AIC, BIC, held-out error
/// and end slope, the floor with its interval, Amari et al.'s type and the verdict. `source`
/// names the table.
///
/// # Examples
/// ```
/// use scaling::data::{Column, RunTable};
/// use scaling::plateau::{plateau_table, PlateauRequest};
/// let x: Vec<f64> = (0..10).map(|i| 10f64.powf(1.0 + 0.3 * i as f64)).collect();
/// let y: Vec<f64> = x.iter().map(|x| 1.5 + 20.0 * x.powf(-0.5)).collect();
/// let t = RunTable::from_columns("curve", vec![
///     ("x".into(), Column::Numbers(x)), ("y".into(), Column::Numbers(y)),
/// ]).unwrap();
/// let mut req = PlateauRequest::new("x", "y");
/// req.bootstrap = 0;
/// let r = plateau_table(&t, &req).unwrap();
/// assert!(scaling::report::lab::plateau_text(&r, &req, "curve").contains("curve"));
/// ```
pub fn plateau_text(r: &PlateauResult, req: &PlateauRequest, source: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Is it a plateau? {} vs {} in {} ({} points fitted, {} held out at the largest {})\n",
        req.y, req.x, source, r.fit_points, r.heldout_points, req.x
    );
    let _ = writeln!(
        out,
        "  {:<11} {:>3} {:>10} {:>10} {:>14} {:>16}  parameters",
        "form", "k", "AIC", "BIC", "held-out RMSE", "slope at end"
    );
    for f in &r.forms {
        let params: Vec<String> = f
            .params
            .iter()
            .map(|(k, v)| format!("{k} = {}", sig(*v, 4)))
            .collect();
        let _ = writeln!(
            out,
            "  {:<11} {:>3} {:>10} {:>10} {:>14} {:>16}  {}",
            f.name,
            f.k,
            sig(f.aic, 4),
            sig(f.bic, 4),
            f.heldout_rmse
                .map(|v| sig(v, 3))
                .unwrap_or_else(|| "-".into()),
            format!("{:.3}", f.local_exponent_at_end),
            params.join(", ")
        );
    }
    let _ = writeln!(
        out,
        "  (RMSE and slope on ln y; slope = -d ln y / d ln x at the last fitted point)\n"
    );
    let iv = r
        .asymptote_interval
        .map(|[l, h]| format!("[{}, {}]", sig(l, 4), sig(h, 4)))
        .unwrap_or_else(|| "n/a".into());
    let at_zero = r
        .forms
        .iter()
        .any(|f| f.name == "saturating" && f.status == "at_bound");
    let _ = writeln!(
        out,
        "  floor E (saturating form) = {} ({}% interval {iv}){}",
        sig(r.asymptote, 4),
        (1e6 * 100.0 * req.level).round() / 1e6,
        if at_zero {
            ": at its bound 0, so the data show no floor"
        } else {
            ""
        }
    );
    let _ = writeln!(out, "  best by AIC: {}; by BIC: {}", r.best_aic, r.best_bic);
    let lct = &r.learning_curve_type;
    let _ = writeln!(
        out,
        "  learning-curve type (Amari et al. 1992): closest to {} (exponent {}{})",
        lct.closest,
        sig(lct.exponent, 3),
        lct.exponent_interval
            .map(|[l, h]| format!(", interval [{}, {}]", sig(l, 3), sig(h, 3)))
            .unwrap_or_default()
    );
    let _ = writeln!(out, "\n  VERDICT: {} — {}", r.verdict, r.explanation);
    out
}

/// The text report of [`crate::simulate::data_strategy`]: the mean error per size and the
/// fitted rate and floor beside the theory's.
///
/// # Examples
/// ```
/// use scaling::simulate::{data_strategy, StrategyRequest};
/// let mut req = StrategyRequest::new("full-range");
/// req.sizes = "1e2:1e3:2".into();
/// req.reps = 20;
/// let text = scaling::report::lab::strategy_text(&data_strategy(&req).unwrap());
/// assert!(!text.is_empty());
/// ```
pub fn strategy_text(d: &DataStrategyResult) -> String {
    let (r, q) = (&d.result, &d.request);
    let mut out = String::new();
    let name = match r.scenario {
        Scenario::FullRange => "full-range: training x ~ Uniform(-1, 1)".to_string(),
        Scenario::NearZero { kappa } => {
            format!("near-zero: training x ~ Uniform(-n^-{kappa}, n^-{kappa})")
        }
        Scenario::LowNoise { gamma } => {
            format!("low-noise: training noise sd sigma n^(-{gamma}/2)")
        }
        Scenario::HalfSupport => "half-support: training x ~ Uniform(0, 1)".to_string(),
        Scenario::Prune {
            keep_fraction,
            keep_largest,
        } => format!(
            "prune: keep the {} {}% of |x| from a pool of n / {keep_fraction}",
            if keep_largest { "largest" } else { "smallest" },
            100.0 * keep_fraction
        ),
    };
    let _ = writeln!(
        out,
        "Data strategy {name}; truth y = x + {} + Normal(0, {}^2); slope fitted without intercept; test x ~ Uniform(-1, 1)",
        q.bias, q.noise
    );
    let _ = writeln!(out, "{} repetitions per size, seed {}\n", r.reps, r.seed);
    let _ = writeln!(out, "  {:>9} {:>14} {:>28}", "n", "mean error", "interval");
    for p in &r.points {
        let _ = writeln!(
            out,
            "  {:>9} {:>14.8} {:>28}",
            p.n,
            p.mean,
            format!("[{:.8}, {:.8}]", p.low, p.high)
        );
    }
    let iv = |v: Option<[f64; 2]>| {
        v.map(|[l, h]| format!("[{}, {}]", sig(l, 4), sig(h, 4)))
            .unwrap_or_default()
    };
    let _ = writeln!(out, "\n  fitted R = R_inf + c n^-r:");
    let _ = writeln!(
        out,
        "    rate r      {:<10} {:<24} theory {}",
        sig(r.rate, 4),
        iv(r.rate_interval),
        sig(r.rate_theory, 4)
    );
    if r.rate_at_search_edge {
        let _ = writeln!(out, "    WARNING: the data do not determine the rate (at the edge of the range searched, 0.01 to 8, or an interval spanning half of it)");
    }
    let _ = writeln!(
        out,
        "    asymptote   {:<10} {:<24} theory {}",
        sig(r.asymptote, 5),
        iv(r.asymptote_interval),
        sig(r.asymptote_theory, 5)
    );
    out
}

/// Runs as the CSV `scaling simulate sweep` writes: `params,tokens,flops,loss`.
///
/// # Examples
/// ```
/// let law = scaling::law::presets::get("chinchilla").unwrap().law.unwrap();
/// let design = scaling::simulate::grid_design(&[1e8], &[1e10, 1e11], 6.0);
/// let runs = scaling::simulate::sample_runs(&law, &design, 0.0, 1, "grid").unwrap();
/// let csv = scaling::report::lab::runs_csv(&runs);
/// assert!(csv.starts_with("params,tokens,flops,loss\n"));
/// assert_eq!(csv.lines().count(), 3);
/// ```
pub fn runs_csv(runs: &Runs) -> String {
    let mut csv = String::from("params,tokens,flops,loss\n");
    for i in 0..runs.len() {
        let _ = writeln!(
            csv,
            "{:e},{:e},{:e},{}",
            runs.params[i], runs.tokens[i], runs.flops[i], runs.loss[i]
        );
    }
    csv
}
