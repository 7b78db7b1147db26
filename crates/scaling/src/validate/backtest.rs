//! Backtests: fit the runs below a cutoff, predict the held-out larger runs, and compare.
//!
//! # Formula
//! For a held-out run i with loss L_i and the training fit's prediction L_hat_i:
//! - relative error `L_hat_i / L_i - 1`, log error `ln L_i - ln L_hat_i`;
//! - extrapolation distance `d_i = log10(x_i / max_j x_j)` in decades, x the distance axis (C by
//!   default, N for a cutoff by N) and j over the training runs; `d_i <= 0` is interpolation;
//! - the **mean** interval (parameter uncertainty) and the **new-run** interval (plus run-to-run
//!   noise) of [`crate::uncertainty::predict`] (Davison & Hinkley 1997, Algorithm 6.4);
//! - the **extrapolation** interval: the new-run interval widened in log space by a
//!   misspecification term, normal with standard deviation `s_mis(d) = sqrt(sigma0^2 +
//!   kappa^2 max(d, 0)^2)` (sigma0 at the edge of the data, growing by kappa per decade): each
//!   side's log half-width h becomes `sqrt(h^2 + z^2 s_mis(d)^2)`, z the normal quantile of the
//!   level (see [`inflate`]).
//!
//! (sigma0, kappa) are calibrated on the training runs only ([`Inflation::Calibrated`]): inner
//! backtests cut the training runs at `max x / 10^(0.25 k)`, k = 1..8 (while at least
//! max(10, 2 p) runs remain below, p the number of parameters), fit and bootstrap below each
//! inner cutoff and predict the training runs above it. Each inner held-out run j gives a log
//! error r_j = ln L_j - ln L_hat_j, a distance d_j and the spread s_j = ln(hi_j / lo_j) / (2 z)
//! of its new-run interval; (sigma0, kappa) maximise the Gaussian likelihood
//! `r_j ~ N(0, s_j^2 + sigma0^2 + kappa^2 d_j^2)` with each inner cutoff weighted equally. The
//! held-out runs of the outer split are never used to set them.
//!
//! ## Reference
//! The leave-out-the-largest check follows the "fit small rungs, predict larger ones" ladder
//! evaluation of OLMo (Bhagia et al. 2024) and Gadre et al. (2024, Fig. 1); the new-run interval
//! is Davison & Hinkley (1997, Sec. 6.3.3).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::data::{ColumnOverrides, RowFilter, RunTable, Runs};
use crate::error::{Error, Result};
use crate::fit::{self, Fit, Status};
use crate::law::Law;
use crate::num::special::normal_sf;
use crate::num::{quantile_sorted, summarise};
use crate::uncertainty::{
    fit_table, law_columns, new_run_interval, new_run_residuals, replicate_series,
    BootstrapRequest, FitRequest,
};

/// The quantity a cutoff or an extrapolation distance is measured on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Axis {
    /// Training compute C (FLOPs; k N D when the table has no compute column).
    Flops,
    /// Parameters N.
    Params,
    /// A numeric column of the table, by header.
    Column(String),
}

impl Axis {
    /// The axis' name in text output (`C`, `N`, or the column's header).
    pub fn label(&self) -> String {
        match self {
            Axis::Flops => "C".into(),
            Axis::Params => "N".into(),
            Axis::Column(c) => c.clone(),
        }
    }
}

/// How the runs are split into training and held-out runs.
#[derive(Debug, Clone)]
pub enum Split {
    /// Train on the runs whose value on `axis` is at most `value`; hold out the rest.
    Cutoff {
        /// The quantity compared.
        axis: Axis,
        /// The largest value trained on.
        value: f64,
    },
    /// Train on the rows a filter selects (`name == 'a' or name == 'b'`); hold out the rows
    /// `test` selects (every other run when `None`).
    Where {
        /// Filter of the training rows.
        train: String,
        /// Filter of the held-out rows.
        test: Option<String>,
        /// The role columns the user named, so that `N`, `D`, `C` and `loss` resolve as in
        /// loading.
        columns: ColumnOverrides,
    },
}

/// How the extrapolation term of the interval is set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Inflation {
    /// No extrapolation term: the new-run interval as it is.
    None,
    /// kappa calibrated by inner backtests inside the training runs (module documentation).
    Calibrated,
    /// (sigma0, kappa) given by the user: the log-loss standard deviation at the edge of the
    /// data and its growth per decade of distance.
    Fixed(f64, f64),
}

/// A backtest: the fit, the split, and the extrapolation term.
#[derive(Debug, Clone)]
pub struct BacktestRequest {
    /// The law, objective and optimiser, and the bootstrap that gives the intervals (`None`:
    /// errors only, no intervals).
    pub fit: FitRequest,
    /// Which runs are trained on and which are predicted.
    pub split: Split,
    /// The axis distances are measured on (C or N); `None`: N for a cutoff on N, else C.
    pub distance_axis: Option<Axis>,
    /// The extrapolation term.
    pub inflation: Inflation,
}

/// One held-out run and its prediction.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HeldOut {
    /// 1-based file row.
    pub row: usize,
    /// N.
    pub params: Option<f64>,
    /// D.
    pub tokens: Option<f64>,
    /// C.
    pub flops: Option<f64>,
    /// The observed loss.
    pub loss: f64,
    /// The training fit's prediction.
    pub predicted: f64,
    /// predicted / loss - 1.
    pub relative_error: f64,
    /// ln loss - ln predicted.
    pub log_error: f64,
    /// Decades beyond the largest training run on the distance axis (negative inside).
    pub decades: f64,
    /// Percentile interval on the mean loss (parameter uncertainty).
    pub interval: Option<[f64; 2]>,
    /// The new-run interval (parameter uncertainty and run-to-run noise).
    pub new_run_interval: Option<[f64; 2]>,
    /// The new-run interval widened by the extrapolation term (equal to `new_run_interval`
    /// without one).
    pub extrapolation_interval: Option<[f64; 2]>,
    /// Whether the loss lies in `interval`.
    pub covered_mean: Option<bool>,
    /// Whether the loss lies in `new_run_interval`.
    pub covered_new_run: Option<bool>,
    /// Whether the loss lies in `extrapolation_interval`.
    pub covered: Option<bool>,
}

/// Errors and coverage over a set of held-out runs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Summary {
    /// Held-out runs.
    pub runs: usize,
    /// Median of |relative error|.
    pub median_abs_relative_error: Option<f64>,
    /// Mean of |relative error|.
    pub mean_abs_relative_error: Option<f64>,
    /// Largest |relative error|.
    pub max_abs_relative_error: Option<f64>,
    /// Mean relative error (its sign says whether the law over- or under-predicts).
    pub mean_relative_error: Option<f64>,
    /// Fraction of runs inside the mean interval.
    pub coverage_mean: Option<f64>,
    /// Fraction inside the new-run interval.
    pub coverage_new_run: Option<f64>,
    /// Fraction inside the extrapolation interval.
    pub coverage: Option<f64>,
    /// Runs inside the extrapolation interval.
    pub covered: Option<usize>,
}

impl Summary {
    /// The summary of `runs`.
    pub fn of(runs: &[&HeldOut]) -> Summary {
        let n = runs.len();
        if n == 0 {
            return Summary::default();
        }
        let mut abs: Vec<f64> = runs.iter().map(|r| r.relative_error.abs()).collect();
        abs.sort_by(|a, b| a.total_cmp(b));
        let frac = |f: &dyn Fn(&HeldOut) -> Option<bool>| -> (Option<f64>, Option<usize>) {
            let v: Vec<bool> = runs.iter().filter_map(|r| f(r)).collect();
            if v.len() < n {
                return (None, None);
            }
            let k = v.iter().filter(|b| **b).count();
            (Some(k as f64 / n as f64), Some(k))
        };
        let (coverage, covered) = frac(&|r| r.covered);
        Summary {
            runs: n,
            median_abs_relative_error: Some(quantile_sorted(&abs, 0.5)),
            mean_abs_relative_error: Some(abs.iter().sum::<f64>() / n as f64),
            max_abs_relative_error: abs.last().copied(),
            mean_relative_error: Some(
                runs.iter().map(|r| r.relative_error).sum::<f64>() / n as f64,
            ),
            coverage_mean: frac(&|r| r.covered_mean).0,
            coverage_new_run: frac(&|r| r.covered_new_run).0,
            coverage,
            covered,
        }
    }
}

/// The calibrated (or given) extrapolation term.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Misspecification {
    /// `calibrated` or `fixed`.
    pub source: String,
    /// Standard deviation of the log-loss misspecification error at the edge of the data
    /// (distance 0).
    pub sigma0: f64,
    /// Its growth: standard deviation per decade of distance.
    pub kappa: f64,
    /// The normal quantile z of the level that multiplies it.
    pub z: f64,
    /// Inner cutoffs used (on the distance axis).
    pub inner_cutoffs: Vec<f64>,
    /// Inner held-out runs (pooled over the inner cutoffs).
    pub inner_runs: usize,
    /// Largest inner extrapolation distance (decades).
    pub inner_max_decades: Option<f64>,
    /// Coverage of the inner held-out runs by the new-run interval alone.
    pub inner_coverage_new_run: Option<f64>,
    /// Coverage of the inner held-out runs with kappa applied.
    pub inner_coverage: Option<f64>,
    /// How kappa was found, in words.
    pub method: String,
}

/// The conventions a backtest's numbers depend on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BacktestConventions {
    /// The split, in words (`C <= 1e21`).
    pub split: String,
    /// The distance axis (`flops`, `params`).
    pub distance_axis: Axis,
    /// Interval level.
    pub level: Option<f64>,
    /// Bootstrap replicates of the training fit.
    pub replicates: Option<usize>,
    /// Bootstrap seed.
    pub seed: Option<u64>,
    /// The cluster column of the bootstrap.
    pub cluster_column: Option<String>,
    /// How the new-run interval is computed.
    pub new_run_method: Option<String>,
    /// How the extrapolation interval is computed.
    pub extrapolation_method: String,
}

/// A backtest's result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Backtest {
    /// The training fit's law name.
    pub law: String,
    /// Its formula.
    pub formula: String,
    /// The training fit's parameters.
    pub params: BTreeMap<String, Option<f64>>,
    /// How the training fit ended.
    pub status: Status,
    /// The training fit's conventions (objective, space, columns).
    pub fit_conventions: fit::Conventions,
    /// Training runs.
    pub train_runs: usize,
    /// Largest training value on the distance axis.
    pub train_max: f64,
    /// Each held-out run, in file order.
    pub held_out: Vec<HeldOut>,
    /// Errors and coverage over all held-out runs.
    pub summary: Summary,
    /// The extrapolation term.
    pub misspecification: Option<Misspecification>,
    /// Conventions.
    pub conventions: BacktestConventions,
    /// Things the reader should know (training-fit warnings included).
    pub warnings: Vec<String>,
}

/// z with P(|Z| <= z) = level.
fn normal_quantile(level: f64) -> f64 {
    let target = (1.0 - level) / 2.0;
    let (mut lo, mut hi) = (0.0, 40.0);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if normal_sf(mid) > target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// The interval `[lo, hi]` around `center` widened by the extrapolation term: each side's log
/// half-width h becomes `sqrt(h^2 + z^2 (sigma0^2 + kappa^2 max(d, 0)^2))`. A lower side at or
/// below zero (an interval of loss in linear space) is left as it is.
pub fn inflate(
    center: f64,
    [lo, hi]: [f64; 2],
    z: f64,
    sigma0: f64,
    kappa: f64,
    decades: f64,
) -> [f64; 2] {
    let m = z * sigma0.hypot(kappa * decades.max(0.0));
    if !(m > 0.0) || !(center > 0.0) {
        return [lo, hi];
    }
    let h_lo = if lo > 0.0 {
        (center / lo).ln().max(0.0)
    } else {
        return [lo, center * (hi / center).ln().max(0.0).hypot(m).exp()];
    };
    let h_hi = if hi > 0.0 {
        (hi / center).ln().max(0.0)
    } else {
        0.0
    };
    [
        center * (-(h_lo.hypot(m))).exp(),
        center * h_hi.hypot(m).exp(),
    ]
}

/// The values of `runs` on `axis` (C derived as k N D when the runs have no compute).
fn axis_values(table: &RunTable, runs: &Runs, axis: &Axis) -> Result<Vec<f64>> {
    let m = runs.len();
    match axis {
        Axis::Params if runs.params.len() == m => Ok(runs.params.clone()),
        Axis::Flops if runs.flops.len() == m => Ok(runs.flops.clone()),
        Axis::Flops if runs.params.len() == m && runs.tokens.len() == m => Ok((0..m)
            .map(|i| runs.flops_per_param_token * runs.params[i] * runs.tokens[i])
            .collect()),
        Axis::Column(name) => {
            let c = table.named_column("backtest column", name)?;
            table.numbers(
                &runs.rows,
                c,
                |_| true,
                "not a finite number (the backtest splits on it)",
            )
        }
        _ => Err(Error::InsufficientData(format!(
            "{}: a backtest on {} needs {} for every run",
            runs.source,
            axis.label(),
            match axis {
                Axis::Params => "N (parameters)",
                _ => "C (FLOPs, or N and D to derive it)",
            }
        ))),
    }
}

/// The runs at `idx` (indices into `runs`), with the same provenance.
fn subset(runs: &Runs, idx: &[usize]) -> Runs {
    let pick = |v: &Vec<f64>| -> Vec<f64> {
        if v.len() == runs.len() {
            idx.iter().map(|&i| v[i]).collect()
        } else {
            Vec::new()
        }
    };
    Runs {
        source: runs.source.clone(),
        total_rows: runs.total_rows,
        params: pick(&runs.params),
        tokens: pick(&runs.tokens),
        flops: pick(&runs.flops),
        loss: pick(&runs.loss),
        rows: idx.iter().map(|&i| runs.rows[i]).collect(),
        sources: runs.sources.clone(),
        excluded: runs.excluded.clone(),
        flops_per_param_token: runs.flops_per_param_token,
        filters: runs.filters.clone(),
    }
}

/// Point predictions at each run, and (with a bootstrap) each run's replicate predictions.
type Predictions = (Vec<f64>, Option<Vec<Vec<f64>>>);

/// Predictions of `law` (and, with a bootstrap, of each usable replicate) at the runs `test`.
fn predict_runs(table: &RunTable, test: &Runs, fit: &Fit, law: &Law) -> Result<Predictions> {
    let columns = law_columns(table, test, &law.form)?;
    let form = law.form.form();
    let design = fit::design(form, test, &columns)?;
    let nv = design.vars.len();
    let rows: Vec<&[f64]> = (0..test.len())
        .map(|i| &design.x[i * nv..(i + 1) * nv])
        .collect();
    let point: Vec<f64> = rows.iter().map(|x| form.predict(x, &law.params)).collect();
    let reps = fit.bootstrap.as_ref().map(|b| {
        replicate_series(b, law.form.clone(), |l| {
            rows.iter()
                .map(|x| Some(l.form.form().predict(x, &l.params)))
                .collect()
        })
    });
    Ok((point, reps))
}

/// Fit `train` and predict `test` (indices into `runs`); intervals when the request
/// bootstraps. `dist` holds every run's value on the distance axis.
fn one_split(
    table: &RunTable,
    runs: &Runs,
    train: &[usize],
    test: &[usize],
    dist: &[f64],
    fit_req: &FitRequest,
) -> Result<(Fit, f64, Vec<HeldOut>)> {
    let train_runs = subset(runs, train);
    let test_runs = subset(runs, test);
    let fit = fit_table(table, &train_runs, fit_req, &|| {})?;
    let law = fit.law().ok_or_else(|| {
        Error::InsufficientData(format!(
            "{}: the training runs ({}) do not determine every parameter of the {} law",
            runs.source,
            train.len(),
            fit.law
        ))
    })?;
    let (point, reps) = predict_runs(table, &test_runs, &fit, &law)?;
    let train_max = train.iter().map(|&i| dist[i]).fold(f64::MIN, f64::max);
    let level = fit.bootstrap.as_ref().map(|b| b.level);
    let resid = fit.bootstrap.as_ref().map(|_| new_run_residuals(&fit).0);
    let mut out = Vec::with_capacity(test.len());
    for (k, &i) in test.iter().enumerate() {
        let loss = runs.loss[i];
        let predicted = point[k];
        let get = |v: &Vec<f64>| (v.len() == runs.len()).then(|| v[i]);
        let mut h = HeldOut {
            row: runs.rows[i],
            params: get(&runs.params),
            tokens: get(&runs.tokens),
            flops: get(&runs.flops),
            loss,
            predicted,
            relative_error: predicted / loss - 1.0,
            log_error: loss.ln() - predicted.ln(),
            decades: (dist[i] / train_max).log10(),
            interval: None,
            new_run_interval: None,
            extrapolation_interval: None,
            covered_mean: None,
            covered_new_run: None,
            covered: None,
        };
        if let (Some(reps), Some(level), Some(resid)) = (&reps, level, &resid) {
            // replicate_series gives one column per derived quantity: run k's replicates.
            let preds_k: Vec<f64> = reps.get(k).cloned().unwrap_or_default();
            h.interval = summarise(&preds_k, level).map(|(ci, _)| ci);
            h.new_run_interval = new_run_interval(fit.conventions.space, &preds_k, resid, level);
            h.covered_mean = h.interval.map(|[a, b]| a <= loss && loss <= b);
            h.covered_new_run = h.new_run_interval.map(|[a, b]| a <= loss && loss <= b);
        }
        if !(predicted.is_finite()) {
            return Err(Error::Numerical(format!(
                "{}: the fit below the cutoff predicts {predicted} at row {}",
                runs.source, runs.rows[i]
            )));
        }
        out.push(h);
    }
    Ok((fit, train_max, out))
}

/// Gaussian maximum likelihood of (sigma0, kappa) on inner held-out runs: each log error
/// r_j ~ N(0, s_j^2 + sigma0^2 + kappa^2 d_j^2), s_j = ln(hi_j / lo_j) / (2 z) the spread of
/// its new-run interval, each run weighted by `w_j`. A grid over {0} and 1e-4 x 1.15^i (i <
/// 60) for both, refined once by a grid of 21 x 21 between the neighbours of the best point.
fn max_likelihood(points: &[(f64, f64, f64, f64)]) -> (f64, f64) {
    // (r, s, d, w) per run.
    let nll = |s0: f64, k: f64| -> f64 {
        points
            .iter()
            .map(|&(r, s, d, w)| {
                let v = s * s + s0 * s0 + k * k * d * d;
                w * (0.5 * v.ln() + r * r / (2.0 * v))
            })
            .sum()
    };
    let mut grid = vec![0.0];
    grid.extend((0..60).map(|i| 1e-4 * 1.15f64.powi(i)));
    let mut best = (f64::INFINITY, 0, 0);
    for (i, &s0) in grid.iter().enumerate() {
        for (j, &k) in grid.iter().enumerate() {
            let v = nll(s0, k);
            if v < best.0 {
                best = (v, i, j);
            }
        }
    }
    let around =
        |i: usize| -> (f64, f64) { (grid[i.saturating_sub(1)], grid[(i + 1).min(grid.len() - 1)]) };
    let ((a0, a1), (b0, b1)) = (around(best.1), around(best.2));
    let mut fine = (best.0, grid[best.1], grid[best.2]);
    for i in 0..=20 {
        for j in 0..=20 {
            let s0 = a0 + (a1 - a0) * i as f64 / 20.0;
            let k = b0 + (b1 - b0) * j as f64 / 20.0;
            let v = nll(s0, k);
            if v < fine.0 {
                fine = (v, s0, k);
            }
        }
    }
    (fine.1, fine.2)
}

/// Whether `h`'s loss lies in its new-run interval widened by (sigma0, kappa).
fn covered_by(h: &HeldOut, z: f64, sigma0: f64, kappa: f64) -> Option<bool> {
    h.new_run_interval.map(|ci| {
        let [a, b] = inflate(h.predicted, ci, z, sigma0, kappa, h.decades);
        a <= h.loss && h.loss <= b
    })
}

/// Calibrate (sigma0, kappa) by inner backtests on the training runs `train` (indices into
/// `runs`).
fn calibrate(
    table: &RunTable,
    runs: &Runs,
    train: &[usize],
    dist: &[f64],
    fit_req: &FitRequest,
    z: f64,
    warnings: &mut Vec<String>,
) -> Option<Misspecification> {
    let p = fit_req.config.form.param_names().len();
    let min_train = (2 * p).max(10);
    let top = train.iter().map(|&i| dist[i]).fold(f64::MIN, f64::max);
    let mut inner_req = fit_req.clone();
    if let Some(b) = &mut inner_req.bootstrap {
        b.replicates = b.replicates.min(200);
        b.budgets = Vec::new();
    }
    let mut cutoffs = Vec::new();
    let mut pooled: Vec<(HeldOut, f64)> = Vec::new();
    for k in 1..=8 {
        let cut = top / 10f64.powf(0.25 * k as f64);
        let (tr, te): (Vec<usize>, Vec<usize>) = train.iter().partition(|&&i| dist[i] <= cut);
        if tr.len() < min_train {
            break;
        }
        if te.is_empty() {
            continue;
        }
        match one_split(table, runs, &tr, &te, dist, &inner_req) {
            Ok((_, _, held)) => {
                cutoffs.push(cut);
                let w = 1.0 / held.len() as f64;
                pooled.extend(held.into_iter().map(|h| (h, w)));
            }
            Err(e) => warnings.push(format!(
                "inner backtest at distance-axis value <= {cut:.3e} failed ({e}); left out of \
                 the calibration"
            )),
        }
    }
    let points: Vec<(f64, f64, f64, f64)> = pooled
        .iter()
        .filter_map(|(h, w)| {
            let [lo, hi] = h.new_run_interval?;
            let r = (h.loss / h.predicted).ln();
            let s = (hi / lo).ln() / (2.0 * z);
            (r.is_finite() && s.is_finite() && s >= 0.0).then_some((r, s, h.decades.max(0.0), *w))
        })
        .collect();
    if cutoffs.len() < 2 || points.len() < 10 {
        warnings.push(format!(
            "only {} inner cutoffs with {} held-out runs below the cutoff: the extrapolation \
             term could not be calibrated, so the intervals carry no allowance for \
             extrapolation error",
            cutoffs.len(),
            points.len()
        ));
        return None;
    }
    let (sigma0, kappa) = max_likelihood(&points);
    let weight: f64 = pooled.iter().map(|(_, w)| w).sum();
    let frac = |f: &dyn Fn(&HeldOut) -> Option<bool>| -> Option<f64> {
        Some(
            pooled
                .iter()
                .filter(|(h, _)| f(h) == Some(true))
                .map(|(_, w)| w)
                .sum::<f64>()
                / weight,
        )
    };
    Some(Misspecification {
        source: "calibrated".into(),
        sigma0,
        kappa,
        z,
        inner_cutoffs: cutoffs,
        inner_runs: pooled.len(),
        inner_max_decades: pooled.iter().map(|(h, _)| h.decades).reduce(f64::max),
        inner_coverage_new_run: frac(&|h| h.covered_new_run),
        inner_coverage: frac(&|h| covered_by(h, z, sigma0, kappa)),
        method: format!(
            "inner backtests on the training runs only: cutoffs at max/10^(0.25 k), k = 1..8, \
             while at least {min_train} runs remain below; (sigma0, kappa) by Gaussian maximum \
             likelihood of the inner log errors, ln L - ln L_hat ~ N(0, s^2 + sigma0^2 + \
             kappa^2 d^2) with s = ln(hi/lo)/(2z) of each run's new-run interval, each inner \
             cutoff weighted equally"
        ),
    })
}

/// The training and held-out indices of a split, and the split in words.
fn split_indices(
    table: &RunTable,
    runs: &Runs,
    split: &Split,
) -> Result<(Vec<usize>, Vec<usize>, String)> {
    match split {
        Split::Cutoff { axis, value } => {
            if !(value.is_finite()) {
                return Err(Error::InvalidSetting(format!(
                    "the backtest cutoff must be a finite number, got {value}"
                )));
            }
            let v = axis_values(table, runs, axis)?;
            let (tr, te): (Vec<usize>, Vec<usize>) = (0..runs.len()).partition(|&i| v[i] <= *value);
            Ok((
                tr,
                te,
                format!("{} <= {}", axis.label(), crate::num::sig(*value, 4)),
            ))
        }
        Split::Where {
            train,
            test,
            columns,
        } => {
            let rows_of = |text: &str| -> Result<Vec<bool>> {
                let keep = RowFilter::parse(text)?.matches(table, columns)?;
                Ok(runs.rows.iter().map(|&r| keep[r - 1]).collect())
            };
            let tr_mask = rows_of(train)?;
            let te_mask = match test {
                Some(t) => rows_of(t)?,
                None => tr_mask.iter().map(|b| !b).collect(),
            };
            let tr: Vec<usize> = (0..runs.len()).filter(|&i| tr_mask[i]).collect();
            let te: Vec<usize> = (0..runs.len())
                .filter(|&i| te_mask[i] && !tr_mask[i])
                .collect();
            let words = match test {
                Some(t) => format!("train where {train}; predict where {t}"),
                None => format!("train where {train}; predict the rest"),
            };
            Ok((tr, te, words))
        }
    }
}

/// Fit the training runs of `req.split`, predict the held-out runs, and compare (module
/// documentation for the formulas).
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
/// assert_eq!(b.held_out.len(), 6); // the 1e21 budget's runs
/// ```
///
/// # Errors
/// [`Error::InsufficientData`] when either side of the split is empty or the training fit
/// leaves a parameter undetermined; every error of [`fit_table`]; a bad filter or column.
pub fn backtest(table: &RunTable, runs: &Runs, req: &BacktestRequest) -> Result<Backtest> {
    let (train, test, words) = split_indices(table, runs, &req.split)?;
    if train.is_empty() || test.is_empty() {
        return Err(Error::InsufficientData(format!(
            "{}: the split ({words}) leaves {} training and {} held-out runs; both must be non-empty",
            runs.source,
            train.len(),
            test.len()
        )));
    }
    let daxis = req.distance_axis.clone().unwrap_or(match &req.split {
        Split::Cutoff {
            axis: Axis::Params, ..
        } => Axis::Params,
        _ => Axis::Flops,
    });
    let dist = axis_values(table, runs, &daxis)?;
    if dist.iter().any(|v| !(*v > 0.0)) {
        return Err(Error::InvalidSetting(format!(
            "{}: distances are decades of {}, which must be positive for every run",
            runs.source,
            daxis.label()
        )));
    }
    let (fit, train_max, mut held) = one_split(table, runs, &train, &test, &dist, &req.fit)?;
    let mut warnings = fit.warnings.clone();
    let level = fit.bootstrap.as_ref().map(|b| b.level);
    let z = level.map(normal_quantile).unwrap_or(f64::NAN);
    let misspecification = match (req.inflation, level) {
        (_, None) => None,
        (Inflation::None, _) => None,
        (Inflation::Fixed(sigma0, kappa), Some(_)) => {
            if !(kappa >= 0.0 && kappa.is_finite() && sigma0 >= 0.0 && sigma0.is_finite()) {
                return Err(Error::InvalidSetting(format!(
                    "the extrapolation term's sigma0 and kappa must be non-negative numbers, got \
                     {sigma0} and {kappa}"
                )));
            }
            Some(Misspecification {
                source: "fixed".into(),
                sigma0,
                kappa,
                z,
                inner_cutoffs: Vec::new(),
                inner_runs: 0,
                inner_max_decades: None,
                inner_coverage_new_run: None,
                inner_coverage: None,
                method: "given by the user".into(),
            })
        }
        (Inflation::Calibrated, Some(_)) => {
            calibrate(table, runs, &train, &dist, &req.fit, z, &mut warnings)
        }
    };
    for h in &mut held {
        h.extrapolation_interval = match (&misspecification, h.new_run_interval) {
            (Some(m), Some(ci)) => {
                Some(inflate(h.predicted, ci, m.z, m.sigma0, m.kappa, h.decades))
            }
            (None, ci) => ci,
            _ => None,
        };
        h.covered = h
            .extrapolation_interval
            .map(|[a, b]| a <= h.loss && h.loss <= b);
    }
    if let Some(m) = &misspecification {
        let far = held.iter().map(|h| h.decades).fold(f64::MIN, f64::max);
        if let Some(inner) = m.inner_max_decades {
            if far > inner + 0.25 {
                warnings.push(format!(
                    "held-out runs reach {far:.2} decades beyond the training runs, the inner \
                     calibration only {inner:.2}: the extrapolation term assumes the error keeps \
                     growing linearly with distance"
                ));
            }
        }
    }
    let refs: Vec<&HeldOut> = held.iter().collect();
    let summary = Summary::of(&refs);
    let boot = req.fit.bootstrap.as_ref();
    Ok(Backtest {
        law: fit.law.clone(),
        formula: fit.formula.clone(),
        params: fit.params.clone(),
        status: fit.status,
        fit_conventions: fit.conventions.clone(),
        train_runs: train.len(),
        train_max,
        held_out: held,
        summary,
        conventions: BacktestConventions {
            split: words,
            distance_axis: daxis,
            level,
            replicates: boot.map(|b| b.replicates),
            seed: boot.map(|b| b.seed),
            // What the bootstrap resampled (model sizes when it chose them).
            cluster_column: fit
                .bootstrap
                .as_ref()
                .and_then(|b| b.cluster_column.clone()),
            new_run_method: level.map(|_| new_run_residuals(&fit).1.to_string()),
            extrapolation_method: match &misspecification {
                Some(_) => "new-run interval widened in log space: each side's half-width h \
                            becomes sqrt(h^2 + (z kappa max(d, 0))^2), d the distance in decades"
                    .into(),
                None => "none: the extrapolation interval is the new-run interval".into(),
            },
        },
        misspecification,
        warnings,
    })
}

/// Backtests at a series of cutoffs on one axis.
#[derive(Debug, Clone)]
pub struct RollingRequest {
    /// The fit, extrapolation term and distance axis (its split is replaced at each cutoff).
    pub base: BacktestRequest,
    /// The axis the cutoffs are on.
    pub axis: Axis,
    /// The cutoffs; empty: every half decade from the first that leaves max(10, 2 p) runs
    /// below to the last that leaves a run above.
    pub cutoffs: Vec<f64>,
    /// Width of the distance bins (decades).
    pub bin_width: f64,
}

/// One cutoff of a rolling backtest.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RollingStep {
    /// The cutoff.
    pub cutoff: f64,
    /// Training runs.
    pub train_runs: usize,
    /// The extrapolation term's kappa at this cutoff.
    pub kappa: Option<f64>,
    /// Its sigma0.
    pub sigma0: Option<f64>,
    /// Errors and coverage of its held-out runs.
    pub summary: Summary,
    /// Why the step failed, when it did (the other steps still count).
    pub error: Option<String>,
}

/// Held-out runs of every cutoff pooled by extrapolation distance.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RollingBin {
    /// Lower edge (decades, exclusive unless 0).
    pub from: f64,
    /// Upper edge (decades, inclusive).
    pub to: f64,
    /// Errors and coverage of the runs in the bin.
    pub summary: Summary,
}

/// A rolling backtest: error and coverage against extrapolation distance.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rolling {
    /// The axis of the cutoffs.
    pub axis: Axis,
    /// Each cutoff.
    pub steps: Vec<RollingStep>,
    /// Pooled by distance.
    pub bins: Vec<RollingBin>,
    /// Every held-out prediction, with its cutoff: (cutoff, run).
    pub points: Vec<(f64, HeldOut)>,
    /// All held-out predictions pooled.
    pub summary: Summary,
    /// Conventions of the backtests (those of the first successful step).
    pub conventions: Option<BacktestConventions>,
    /// Warnings.
    pub warnings: Vec<String>,
}

/// Backtests at each cutoff of `req`, pooled by extrapolation distance.
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
/// assert_eq!(r.steps.len(), 2);
/// ```
///
/// # Errors
/// A bad axis or bin width, or no cutoff that leaves runs on both sides; a failing step is
/// reported in its place instead.
pub fn rolling(table: &RunTable, runs: &Runs, req: &RollingRequest) -> Result<Rolling> {
    if !(req.bin_width > 0.0 && req.bin_width.is_finite()) {
        return Err(Error::InvalidSetting(format!(
            "the distance bin width must be a positive number of decades, got {}",
            req.bin_width
        )));
    }
    let v = axis_values(table, runs, &req.axis)?;
    let p = req.base.fit.config.form.param_names().len();
    let min_train = (2 * p).max(10);
    let cutoffs = if req.cutoffs.is_empty() {
        let mut sorted = v.clone();
        sorted.sort_by(|a, b| a.total_cmp(b));
        let (Some(&first), Some(&last)) = (sorted.get(min_train - 1), sorted.last()) else {
            return Err(Error::InsufficientData(format!(
                "{}: {} runs are too few for a rolling backtest (at least {min_train} below the first cutoff)",
                runs.source,
                runs.len()
            )));
        };
        if !(first > 0.0) {
            return Err(Error::setting(
                "automatic cutoffs need positive values on the axis; give {}",
                &["cutoffs"],
            ));
        }
        let mut c = Vec::new();
        let mut e = (first.log10() * 2.0).ceil() / 2.0;
        while 10f64.powf(e) < last && c.len() < 64 {
            c.push(10f64.powf(e));
            e += 0.5;
        }
        c
    } else {
        req.cutoffs.clone()
    };
    let mut steps = Vec::new();
    let mut points = Vec::new();
    let mut conventions = None;
    let mut warnings = Vec::new();
    for &cut in &cutoffs {
        let mut one = req.base.clone();
        one.split = Split::Cutoff {
            axis: req.axis.clone(),
            value: cut,
        };
        if one.distance_axis.is_none() {
            one.distance_axis = Some(match req.axis {
                Axis::Params => Axis::Params,
                _ => Axis::Flops,
            });
        }
        match backtest(table, runs, &one) {
            Ok(b) => {
                conventions.get_or_insert(b.conventions.clone());
                steps.push(RollingStep {
                    cutoff: cut,
                    train_runs: b.train_runs,
                    kappa: b.misspecification.as_ref().map(|m| m.kappa),
                    sigma0: b.misspecification.as_ref().map(|m| m.sigma0),
                    summary: b.summary.clone(),
                    error: None,
                });
                points.extend(b.held_out.into_iter().map(|h| (cut, h)));
            }
            Err(e) => steps.push(RollingStep {
                cutoff: cut,
                train_runs: 0,
                kappa: None,
                sigma0: None,
                summary: Summary::default(),
                error: Some(e.to_string()),
            }),
        }
    }
    if points.is_empty() {
        return Err(Error::InsufficientData(format!(
            "{}: no cutoff gave a backtest ({} tried{})",
            runs.source,
            steps.len(),
            steps
                .iter()
                .find_map(|s| s.error.clone())
                .map(|e| format!("; first error: {e}"))
                .unwrap_or_default()
        )));
    }
    let failed = steps.iter().filter(|s| s.error.is_some()).count();
    if failed > 0 {
        warnings.push(format!(
            "{failed} of {} cutoffs failed (see steps)",
            steps.len()
        ));
    }
    let decades: Vec<f64> = points.iter().map(|(_, h)| h.decades).collect();
    let bins: Vec<RollingBin> = crate::num::distance_bins(&decades, req.bin_width)
        .into_iter()
        .map(|(from, to, inside)| {
            let inside: Vec<&HeldOut> = inside.iter().map(|&i| &points[i].1).collect();
            RollingBin {
                from,
                to,
                summary: Summary::of(&inside),
            }
        })
        .collect();
    let all: Vec<&HeldOut> = points.iter().map(|(_, h)| h).collect();
    Ok(Rolling {
        axis: req.axis.clone(),
        steps,
        bins,
        summary: Summary::of(&all),
        points,
        conventions,
        warnings,
    })
}

/// A default request: the bootstrap the intervals need.
impl BacktestRequest {
    /// A backtest of `fit` at `split` with a bootstrap of `replicates` (seed 0, level 0.95)
    /// and the calibrated extrapolation term.
    pub fn new(fit: FitRequest, split: Split) -> BacktestRequest {
        BacktestRequest {
            fit,
            split,
            distance_axis: None,
            inflation: Inflation::Calibrated,
        }
    }
}

/// The bootstrap a backtest uses when none is given: 200 replicates, seed 0, level 0.95.
pub fn default_bootstrap() -> BootstrapRequest {
    BootstrapRequest {
        replicates: 200,
        ..BootstrapRequest::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_quantile_matches_tables() {
        // Abramowitz & Stegun Table 26.1: z(0.975) = 1.959964, z(0.95) = 1.644854.
        assert!((normal_quantile(0.95) - 1.959964).abs() < 1e-6);
        assert!((normal_quantile(0.90) - 1.644854).abs() < 1e-6);
    }

    #[test]
    fn inflate_adds_in_quadrature_per_side() {
        let [lo, hi] = inflate(2.0, [1.9, 2.2], 2.0, 0.0, 0.01, 1.5);
        let m: f64 = 2.0 * 0.01 * 1.5;
        assert!(((2.0 / lo).ln() - (2.0f64 / 1.9).ln().hypot(m)).abs() < 1e-12);
        assert!(((hi / 2.0).ln() - (2.2f64 / 2.0).ln().hypot(m)).abs() < 1e-12);
        // Inside the data nothing changes.
        assert_eq!(inflate(2.0, [1.9, 2.2], 2.0, 0.0, 0.01, -0.3), [1.9, 2.2]);
        // sigma0 widens even at distance 0.
        let [lo, _] = inflate(2.0, [1.9, 2.2], 2.0, 0.01, 0.0, 0.0);
        assert!(((2.0 / lo).ln() - (2.0f64 / 1.9).ln().hypot(0.02)).abs() < 1e-12);
    }
}
