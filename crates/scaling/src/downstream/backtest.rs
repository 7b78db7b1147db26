//! Backtests of the downstream prediction: fit both steps on the runs at or below a compute
//! cutoff, predict every larger run's benchmark score, and measure the error and the
//! coverage of the new-run intervals against the distance in decades of compute, as the OLMo
//! ladder evaluates its fits by predicting larger rungs from smaller ones (Bhagia et al. 2024,
//! arXiv:2412.04403, Sec. 4) and as [`crate::validate::backtest`] does for loss laws.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{runs_of, selected, size_column, sizes, DownstreamRequest, Target};
use crate::data::RunTable;
use crate::error::{Error, Result};
use crate::num::quantile_sorted;

/// One held-out run's prediction for one task.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HeldOutScore {
    /// The task.
    pub task: String,
    /// The run's label.
    pub run: String,
    /// The run's compute C (its last row), FLOPs.
    pub flops: f64,
    /// log10(C / the largest training run's C).
    pub decades: f64,
    /// The chained prediction.
    pub predicted: f64,
    /// The actual metric.
    pub actual: f64,
    /// predicted - actual (in units of the metric; x100 gives points).
    pub error: f64,
    /// The new-run interval (with a bootstrap).
    pub prediction_interval: Option<[f64; 2]>,
    /// Whether it holds the actual value.
    pub covered: Option<bool>,
}

/// Errors and coverage over a set of held-out predictions.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ScoreSummary {
    /// Predictions.
    pub predictions: usize,
    /// Median |predicted - actual|, in points (x100).
    pub median_abs_error_points: Option<f64>,
    /// Mean |predicted - actual|, in points.
    pub mean_abs_error_points: Option<f64>,
    /// Largest |predicted - actual|, in points.
    pub max_abs_error_points: Option<f64>,
    /// Mean of predicted - actual, in points (its sign: over- or under-prediction).
    pub mean_error_points: Option<f64>,
    /// Fraction of actual values inside the new-run interval (every prediction has one).
    pub coverage: Option<f64>,
    /// How many.
    pub covered: Option<usize>,
}

impl ScoreSummary {
    /// The summary of `scores`.
    pub fn of(scores: &[&HeldOutScore]) -> ScoreSummary {
        let n = scores.len();
        if n == 0 {
            return ScoreSummary::default();
        }
        let mut abs: Vec<f64> = scores.iter().map(|s| 100.0 * s.error.abs()).collect();
        abs.sort_by(|a, b| a.total_cmp(b));
        let cov: Vec<bool> = scores.iter().filter_map(|s| s.covered).collect();
        let covered = (cov.len() == n).then(|| cov.iter().filter(|c| **c).count());
        ScoreSummary {
            predictions: n,
            median_abs_error_points: Some(quantile_sorted(&abs, 0.5)),
            mean_abs_error_points: Some(abs.iter().sum::<f64>() / n as f64),
            max_abs_error_points: abs.last().copied(),
            mean_error_points: Some(100.0 * scores.iter().map(|s| s.error).sum::<f64>() / n as f64),
            coverage: covered.map(|k| k as f64 / n as f64),
            covered,
        }
    }
}

/// One cutoff of a downstream backtest.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScoreCutoff {
    /// The cutoff: runs with C at or below it are fitted, the others predicted.
    pub cutoff: f64,
    /// Runs at or below the cutoff.
    pub train_runs: usize,
    /// Runs above it.
    pub held_out_runs: usize,
    /// The largest training run's C.
    pub train_max_flops: Option<f64>,
    /// Every held-out run's prediction per task (runs without an actual value are left out).
    pub held_out: Vec<HeldOutScore>,
    /// Over `held_out`.
    pub summary: ScoreSummary,
    /// Why this cutoff gave no predictions (too few training runs, a fit that failed).
    pub error: Option<String>,
    /// The fits' warnings at this cutoff.
    pub warnings: Vec<String>,
}

/// Held-out predictions pooled over cutoffs within a band of distance.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScoreBin {
    /// Lower end of the band (decades).
    pub from_decades: f64,
    /// Upper end.
    pub to_decades: f64,
    /// Over the band's predictions.
    pub summary: ScoreSummary,
}

/// A downstream backtest: per cutoff, the held-out predictions and their errors and coverage,
/// and all cutoffs pooled by extrapolation distance.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScoreBacktest {
    /// The table.
    pub source: String,
    /// `two-step` or `single-step`.
    pub mode: String,
    /// Per cutoff, smallest first.
    pub cutoffs: Vec<ScoreCutoff>,
    /// All cutoffs' predictions by distance, in half decades.
    pub by_distance: Vec<ScoreBin>,
    /// All cutoffs' predictions.
    pub pooled: ScoreSummary,
    /// The conventions of the prediction (those of [`super::downstream`], from the first cutoff that
    /// fitted) and of the split.
    pub conventions: BTreeMap<String, serde_json::Value>,
}

/// Backtest a downstream prediction: for each cutoff, fit both steps (as [`super::downstream`] with
/// `req`) on the runs whose compute C (that of their last row) is at or below it, predict
/// every larger run as a target, and compare with its actual score. Distances are
/// log10(C / largest training C). A cutoff with fewer than two training runs, or whose fit
/// fails, is reported with its reason and the others go on.
///
/// # Examples
/// ```
/// use scaling::downstream::*;
/// use scaling::data::RunTable;
/// let mut csv = String::from("N,D,loss,acc\n");
/// for i in 0..8 {
///     let n = 1e8 * 2f64.powi(i);
///     let loss = 1.8 + 400.0 / n.powf(0.34) + 410.0 / (20.0 * n).powf(0.28);
///     let acc = 0.25 + 0.7 / (1.0 + (4.0 * (loss - 3.0)).exp());
///     csv.push_str(&format!("{n},{},{loss},{acc}\n", 20.0 * n));
/// }
/// let table = RunTable::from_csv_str("runs.csv", &csv).unwrap();
/// let opts = DownstreamOptions {
///     tasks: vec!["loss:acc".into()], params_col: Some("N".into()),
///     tokens_col: Some("D".into()), law: Some("E + A*C^-alpha".into()),
///     backtest: vec![1e20], ..Default::default()
/// };
/// let b = backtest(&table, &opts.request().unwrap(), &[1e20], &|| {}).unwrap();
/// // C = 6 N D = 120 N^2: the four runs up to N = 8e8 (7.7e19 FLOPs) are fitted.
/// assert_eq!((b.cutoffs[0].train_runs, b.cutoffs[0].held_out_runs), (4, 4));
/// assert!(b.cutoffs[0].held_out.iter().all(|h| h.decades > 0.0));
/// ```
///
/// # Errors
/// No cutoff, a cutoff that is not a positive number, a request with its own targets, and
/// the errors of reading the runs' N, D and C.
pub fn backtest(
    table: &RunTable,
    req: &DownstreamRequest,
    cutoffs: &[f64],
    progress: &(dyn Fn() + Sync),
) -> Result<ScoreBacktest> {
    if cutoffs.is_empty() {
        return Err(Error::InvalidSetting("a backtest needs a cutoff".into()));
    }
    if let Some(c) = cutoffs.iter().find(|c| !(c.is_finite() && **c > 0.0)) {
        return Err(Error::setting(
            format!("{{}} must be positive FLOPs, got {c}"),
            &["backtest"],
        ));
    }
    if !req.targets.is_empty() {
        return Err(Error::setting(
            "a backtest predicts the runs above each cutoff: it takes no {}",
            &["target"],
        ));
    }
    let (flops, left_out) = run_flops(table, req)?;
    let mut sorted = cutoffs.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    sorted.dedup();
    let mut out = Vec::new();
    let mut conventions = BTreeMap::new();
    let mut mode = String::new();
    for &cut in &sorted {
        type Runs<'a> = Vec<&'a (String, f64)>;
        let (train, held): (Runs, Runs) = flops.iter().partition(|(_, c)| *c <= cut);
        let train_max = train
            .iter()
            .map(|(_, c)| *c)
            .fold(None, |m: Option<f64>, c| Some(m.map_or(c, |m| m.max(c))));
        let mut cutoff = ScoreCutoff {
            cutoff: cut,
            train_runs: train.len(),
            held_out_runs: held.len(),
            train_max_flops: train_max,
            held_out: vec![],
            summary: ScoreSummary::default(),
            error: None,
            warnings: vec![],
        };
        if train.len() < 2 || held.is_empty() {
            cutoff.error = Some(format!(
                "{} run(s) at or below the cutoff and {} above: a backtest needs 2 and 1",
                train.len(),
                held.len()
            ));
            out.push(cutoff);
            continue;
        }
        let mut r = req.clone();
        r.targets = held.iter().map(|(l, _)| Target::Run(l.clone())).collect();
        match super::predict(table, &r, progress, super::TaskAverage::Skipped) {
            Err(e) => cutoff.error = Some(e.to_string()),
            Ok(res) => {
                if conventions.is_empty() {
                    conventions = res.conventions.clone();
                    mode = res.mode.clone();
                }
                cutoff.warnings.extend(res.warnings.iter().cloned());
                let top = train_max.expect("two training runs");
                for t in &res.tasks {
                    for w in &t.warnings {
                        if !cutoff.warnings.contains(w) {
                            cutoff.warnings.push(w.clone());
                        }
                    }
                    for p in &t.predictions {
                        let Some(actual) = p.actual else { continue };
                        cutoff.held_out.push(HeldOutScore {
                            task: t.task.name.clone(),
                            run: p.target.clone(),
                            flops: p.c,
                            decades: (p.c / top).log10(),
                            predicted: p.predicted,
                            actual,
                            error: p.predicted - actual,
                            prediction_interval: p.prediction_interval,
                            covered: p.covered,
                        });
                    }
                }
                let refs: Vec<&HeldOutScore> = cutoff.held_out.iter().collect();
                cutoff.summary = ScoreSummary::of(&refs);
            }
        }
        out.push(cutoff);
    }
    let all: Vec<&HeldOutScore> = out.iter().flat_map(|c| c.held_out.iter()).collect();
    if all.is_empty() {
        let why: Vec<String> = out
            .iter()
            .map(|c| {
                format!(
                    "C <= {:e}: {}",
                    c.cutoff,
                    c.error
                        .as_deref()
                        .unwrap_or("no held-out run has an actual value")
                )
            })
            .collect();
        return Err(Error::InsufficientData(format!(
            "{}: no cutoff gave a held-out prediction ({})",
            table.path,
            why.join("; ")
        )));
    }
    // Half decades of distance, as `scaling backtest --roll` bins by default.
    let decades: Vec<f64> = all.iter().map(|h| h.decades).collect();
    let by_distance: Vec<ScoreBin> = crate::num::distance_bins(&decades, 0.5)
        .into_iter()
        .map(|(from, to, inside)| ScoreBin {
            from_decades: from,
            to_decades: to,
            summary: ScoreSummary::of(&inside.iter().map(|&i| all[i]).collect::<Vec<_>>()),
        })
        .collect();
    conventions.insert(
        "split".into(),
        serde_json::json!("a run is fitted when its C (that of its last row) is at or below the cutoff, and predicted otherwise"),
    );
    conventions.insert("level".into(), serde_json::json!(req.level));
    conventions.insert(
        "runs".into(),
        serde_json::json!(
            "those with a row the fitting filter (the request's fit rows, or the recipe's) selects"
        ),
    );
    if !left_out.is_empty() {
        conventions.insert("left_out".into(), serde_json::json!(left_out));
    }
    conventions.insert(
        "distance".into(),
        serde_json::json!("log10(C / the largest training run's C), decades"),
    );
    conventions.insert(
        "error".into(),
        serde_json::json!("predicted - actual; summaries in points (x100)"),
    );
    let pooled = ScoreSummary::of(&all);
    Ok(ScoreBacktest {
        source: table.path.clone(),
        mode: if mode.is_empty() {
            if req.step1.is_some() {
                "two-step"
            } else {
                "single-step"
            }
            .into()
        } else {
            mode
        },
        by_distance,
        pooled,
        cutoffs: out,
        conventions,
    })
}

/// The backtest's runs: those with a row the fitting filter selects (`req.fit_where`), each
/// with its compute C (that of its last row, where a target is predicted), in order of
/// appearance; and a warning for runs left out because that row has no value.
type RunsAndWarnings = (Vec<(String, f64)>, Vec<String>);

fn run_flops(table: &RunTable, req: &DownstreamRequest) -> Result<RunsAndWarnings> {
    let runs = runs_of(table, &req.run_col)?;
    let sel = selected(table, &req.fit_where)?;
    let two_step = req.step1.is_some();
    let task = req
        .tasks
        .first()
        .ok_or_else(|| Error::InvalidSetting("no task".into()))?;
    let size_col = size_column(req, task);
    let c = table.named_column("feature column", &size_col)?;
    let mut warnings = Vec::new();
    let mut last: Vec<(String, usize)> = Vec::new();
    for (l, rows) in runs.iter().filter(|(_, rows)| rows.iter().any(|&r| sel[r])) {
        let &r = rows.last().expect("a run has a row");
        if table.cell(r, c).trim().is_empty() {
            warnings.push(format!(
                "run {l} is left out: its last row ({}) has no {size_col}",
                table.location(r)
            ));
        } else {
            last.push((l.clone(), r));
        }
    }
    let rows: Vec<usize> = last.iter().map(|(_, r)| *r).collect();
    let s = sizes(
        table,
        &req.load,
        &rows,
        &size_col,
        !two_step,
        req.flops_unit,
    )?;
    let flops = last
        .into_iter()
        .filter_map(|(l, r)| s.get(&r).map(|v| (l, v[2])))
        .filter(|(_, c)| c.is_finite() && *c > 0.0)
        .collect();
    Ok((flops, warnings))
}
