//! Downstream accuracy from small runs: a two-step (or single-step) prediction of what a
//! large run will score on a benchmark, with intervals that carry both steps' uncertainty.
//!
//! # Method
//! Step 1 fits any law form from the runs' (N, D) or C to an intermediate feature (a task's
//! bits per byte, a validation loss). Step 2 fits accuracy (or error) as a function of that
//! feature: the sigmoid `a / (1 + exp(-k (x - x0))) + b` (Bhagia et al. 2024,
//! arXiv:2412.04403, Eq. 2; Llama 3, 2024, Sec. 3.2.1) or Gadre's
//! `Err(x) = eps - k exp(-gamma x)` (Gadre et al. 2024, arXiv:2403.08540, Eq. 5), both in
//! linear space of accuracy as the papers do (scipy `curve_fit` on raw values). The chained
//! prediction is step 2 at step 1's predicted feature. The single-step alternative fits the
//! sigmoid straight from log10 C to accuracy.
//!
//! # Intervals
//! The bootstrap resamples whole runs (all checkpoints of a run together), refits both steps
//! on each replicate (the same resampled runs in both), and takes percentile intervals of
//! the chained prediction ([`crate::uncertainty::summarise`]). The prediction interval adds
//! run-to-run noise of the target: the replicates' predictions combined with the step-2
//! fit's modified residuals ([`crate::uncertainty::new_run_interval`]).

mod backtest;
mod forms;
mod join;
mod options;

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

pub use backtest::{backtest, HeldOutScore, ScoreBacktest, ScoreBin, ScoreCutoff, ScoreSummary};
pub use forms::{step2_form, SigmoidBounds, Step2Law, FEATURE};
pub use join::join_tables;
pub use options::{checkpoints, DownstreamOptions};

use crate::accounting::{load_runs, LoadRequest};
use crate::data::{Column, RowFilter, RunTable, Runs};
use crate::error::{Error, Result};
use crate::fit::{self, Fit, FitConfig, FitNames};
use crate::law::{Domain, Law, LawForm, Var};
use crate::uncertainty::{
    fit_table, new_run_interval, new_run_residuals, replicate_weights, summarise, FitRequest,
};

/// One benchmark (or weighted average of benchmarks) to predict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    /// Its name in the output.
    pub name: String,
    /// The column of the intermediate feature (`None` in single-step mode).
    pub feature: Option<String>,
    /// The column of the accuracy (or error) to predict.
    pub metric: String,
    /// Chance accuracy (the sigmoid's lower plateau; a warning is given near it).
    pub chance: f64,
    /// The largest possible value of the metric (1 for accuracy).
    pub max: f64,
    /// Weight in the weighted average over tasks.
    pub weight: f64,
}

/// Which checkpoints of a run feed a step.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "rule")]
pub enum Checkpoints {
    /// The run's last row.
    Last,
    /// The mean over the run's last `k` rows (N, D and C of the last row).
    MeanLast {
        /// How many rows.
        k: usize,
    },
    /// Every row after dropping the first `ceil(skip_fraction * rows)`, each smoothed by a
    /// trailing moving average over `moving_average` rows (partial means at the start, as
    /// the OLMo-ladder code does).
    All {
        /// Fraction of each run's first rows dropped.
        skip_fraction: f64,
        /// Window of the trailing moving average (1: none).
        moving_average: usize,
    },
}

/// How the data feed the two steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Handling {
    /// The checkpoints of step 1 (one point per run with `Last` or `MeanLast`).
    pub step1: Checkpoints,
    /// The checkpoints of step 2.
    pub step2: Checkpoints,
    /// Add the point (feature 0, metric = the task's max) to step 2 (Bhagia et al. 2024).
    pub anchor: bool,
    /// A target's actual metric and feature: the mean of its last this many rows.
    pub actual_last: usize,
}

/// The default: step 1 on each run's last row, step 2 on every row, no smoothing, no anchor.
impl Default for Handling {
    fn default() -> Self {
        Handling {
            step1: Checkpoints::Last,
            step2: Checkpoints::All {
                skip_fraction: 0.0,
                moving_average: 1,
            },
            anchor: false,
            actual_last: 1,
        }
    }
}

/// A target to predict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Target {
    /// The run with this label (its last row's N, D and C; its actual values are compared).
    Run(String),
    /// A hypothetical run.
    Point {
        /// Parameters N.
        n: f64,
        /// Tokens D.
        d: f64,
    },
    /// A compute budget (a single-step fit, or a step-1 law in C alone).
    Compute {
        /// Compute C (FLOPs).
        c: f64,
    },
}

/// A downstream request.
#[derive(Debug, Clone)]
pub struct DownstreamRequest {
    /// The tasks.
    pub tasks: Vec<Task>,
    /// The column naming each row's run (rows of a run are its checkpoints, in file order);
    /// `None`: every row is a run of its own, labelled by its row number.
    pub run_col: Option<String>,
    /// N, D and C columns and conventions (its `loss_col` is ignored).
    pub load: LoadRequest,
    /// Rows used for fitting (both steps); targets are never fitted.
    pub fit_where: Option<String>,
    /// A further restriction of step 1's rows (Gadre et al. fit the loss law on five of the
    /// six models of the error law).
    pub step1_where: Option<String>,
    /// Step 1's law and objective; `None` is single-step (sigmoid from log10 C to the metric).
    pub step1: Option<FitNames>,
    /// Step 2's law.
    pub step2: Step2Law,
    /// Step 2's objective (its `law` is ignored; its `params` fix or bound parameters).
    pub step2_fit: FitNames,
    /// Sigmoid bounds (`None`: from each task's max).
    pub sigmoid_bounds: Option<SigmoidBounds>,
    /// Data handling.
    pub handling: Handling,
    /// The recipe name that set the above, if any.
    pub recipe: Option<String>,
    /// What to predict.
    pub targets: Vec<Target>,
    /// Bootstrap replicates (0: no intervals).
    pub replicates: usize,
    /// Seed of the bootstrap (replicate r draws from stream r).
    pub seed: u64,
    /// Interval level.
    pub level: f64,
    /// Notes printed with the result (a recipe's caveats).
    pub notes: Vec<String>,
    /// FLOPs per unit of the compute column (1e21 for a column in units of 1e21 FLOPs).
    pub flops_unit: f64,
    /// A column naming each run's model family: a fit across several families is warned about.
    pub family_col: Option<String>,
}

impl Default for DownstreamRequest {
    fn default() -> Self {
        DownstreamRequest {
            tasks: Vec::new(),
            run_col: None,
            load: LoadRequest::default(),
            fit_where: None,
            step1_where: None,
            step1: Some(FitNames::default()),
            step2: Step2Law::Sigmoid,
            step2_fit: step2_names_default(),
            sigmoid_bounds: None,
            handling: Handling::default(),
            recipe: None,
            targets: Vec::new(),
            replicates: 0,
            seed: 0,
            level: 0.95,
            notes: Vec::new(),
            flops_unit: 1.0,
            family_col: None,
        }
    }
}

/// Step 2's default objective: squared residuals of the metric in linear space, summed (the
/// papers' scipy `curve_fit`).
pub fn step2_names_default() -> FitNames {
    FitNames {
        law: "sigmoid".into(),
        objective: "squared".into(),
        space: "linear".into(),
        ..FitNames::default()
    }
}

/// The paper's eight tasks of Bhagia et al. (2024) with their chance levels (OLMo-ladder
/// `task_utils.py`): MMLU (the weighted average of its four test groups), HellaSwag,
/// ARC-Challenge, ARC-Easy, PIQA, CommonsenseQA, Social IQa, OpenBookQA; feature
/// `<task>_bpb`, metric `<task>_rc_acc`.
pub fn ladder_tasks() -> Vec<Task> {
    [
        ("mmlu_avg_test", 0.25),
        ("hellaswag_val", 0.25),
        ("arc_challenge_test", 0.25),
        ("arc_easy_test", 0.25),
        ("piqa_val", 0.5),
        ("csqa_val", 0.2),
        ("socialiqa_val", 1.0 / 3.0),
        ("openbookqa_test", 0.25),
    ]
    .into_iter()
    .map(|(t, chance)| Task {
        name: t.into(),
        feature: Some(format!("{t}_bpb")),
        metric: format!("{t}_rc_acc"),
        chance,
        max: 1.0,
        weight: 1.0,
    })
    .collect()
}

/// Apply a named recipe to `req`: `ladder` sets what Bhagia et al. (2024) did (OLMo-ladder
/// `step1.py`, `step2.py`, `predict.py` with `--moving_avg 5 --skip_perc 0.1`): step 1 the
/// Chinchilla form on the mean of each run's last 5 checkpoints, Huber(1e-3) on log
/// residuals; step 2 the sigmoid with a in [-1, 0], x0 >= 0, k >= 0, b in [0, 1], squared
/// linear residuals, on every checkpoint after dropping each run's first 10% with a trailing
/// moving average of 5, plus the point (0, 1); a target's actual value is the mean of its
/// last 5 rows; runs are the `run` column; the fit uses rows with `role == 'ladder'`; with no
/// tasks given, the paper's eight. `gadre` sets Gadre et al. (2024): step 1 their loss law
/// L = E + (a M^eta + b M^-eta) C^-eta, step 2 the exponential error law, both squared
/// linear residuals on one point per run. `ruan` sets Ruan et al. (2024),
/// arXiv:2405.10938, on their table of public base models: single step, the sigmoid from
/// log10 C (column `FLOPs (1E21)`, in units of 1e21) to each benchmark's accuracy, one row
/// per model, with their caveats as notes.
///
/// # Errors
/// An unknown recipe name.
pub fn apply_recipe(req: &mut DownstreamRequest, name: &str) -> Result<()> {
    match name {
        "ladder" => {
            req.step1 = Some(FitNames {
                law: "chinchilla".into(),
                objective: "huber".into(),
                delta: 1e-3,
                space: "log".into(),
                ..FitNames::default()
            });
            req.step2 = Step2Law::Sigmoid;
            req.step2_fit = step2_names_default();
            req.sigmoid_bounds = Some(SigmoidBounds::ladder());
            req.handling = Handling {
                step1: Checkpoints::MeanLast { k: 5 },
                step2: Checkpoints::All {
                    skip_fraction: 0.1,
                    moving_average: 5,
                },
                anchor: true,
                actual_last: 5,
            };
            if req.run_col.is_none() {
                req.run_col = Some("run".into());
            }
            if req.fit_where.is_none() {
                req.fit_where = Some("role == 'ladder'".into());
            }
            if req.tasks.is_empty() {
                req.tasks = ladder_tasks();
            }
            if req.load.params_col.is_none() {
                req.load.params_col = Some("N".into());
            }
            if req.load.tokens_col.is_none() {
                req.load.tokens_col = Some("D".into());
            }
        }
        "gadre" => {
            req.step1 = Some(FitNames {
                law: "overtraining".into(),
                objective: "squared".into(),
                space: "linear".into(),
                ..FitNames::default()
            });
            req.step2 = Step2Law::Exponential;
            req.step2_fit = FitNames {
                law: "exponential".into(),
                ..step2_names_default()
            };
            req.handling = Handling::default();
        }
        "ruan" => {
            req.step1 = None;
            req.step2 = Step2Law::Sigmoid;
            req.step2_fit = step2_names_default();
            req.handling = Handling::default();
            if req.run_col.is_none() {
                req.run_col = Some("Model".into());
            }
            if req.family_col.is_none() {
                req.family_col = Some("Model Family".into());
            }
            if req.load.flops_col.is_none() {
                req.load.flops_col = Some("FLOPs (1E21)".into());
                req.flops_unit = 1e21;
            }
            if req.fit_where.is_none() {
                req.fit_where = Some("`FLOPs (1E21)` > 0".into());
            }
            if req.tasks.is_empty() {
                req.tasks = [
                    ("MMLU", 0.25),
                    ("ARC-C", 0.25),
                    ("HellaSwag", 0.25),
                    ("Winograd", 0.5),
                    ("TruthfulQA", 0.0),
                    ("GSM8K", 0.0),
                    ("XWinograd", 0.5),
                    ("HumanEval", 0.0),
                ]
                .into_iter()
                .map(|(t, chance)| Task {
                    name: t.into(),
                    feature: None,
                    metric: t.into(),
                    chance,
                    max: 1.0,
                    weight: 1.0,
                })
                .collect();
            }
            req.notes.push(
                "Ruan et al. (2024) collect public base models from many families: one sigmoid in log10 C across them treats each family's data, architecture and tokenizer as noise. Model Size (B) mixes conventions for mixture-of-experts models (DeepSeek-V2 21, Mixtral-8x22B 39 and Jamba 12 are active parameters; Mixtral-8x7B 45 and deepseek-moe-16b 16 are totals; Qwen2-57B-A14B 24), and FLOPs = 6 N D inherits them; 25 models without a data size have no FLOPs and are left out.".into(),
            );
        }
        other => {
            return Err(Error::InvalidSetting(format!(
                "unknown recipe {other:?}: known recipes are \"ladder\" (Bhagia et al. 2024), \"gadre\" (Gadre et al. 2024) and \"ruan\" (Ruan et al. 2024)"
            )))
        }
    }
    req.recipe = Some(name.to_string());
    Ok(())
}

/// One prediction.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Prediction {
    /// The target's label (a run label, or `N=.. D=..`).
    pub target: String,
    /// Parameters N (`None` for a compute target).
    pub n: Option<f64>,
    /// Tokens D (`None` for a compute target).
    pub d: Option<f64>,
    /// Compute C (FLOPs).
    pub c: f64,
    /// Step 1's predicted feature (`None` in single-step mode).
    pub feature: Option<f64>,
    /// Interval on the predicted feature.
    pub feature_interval: Option<[f64; 2]>,
    /// The target's actual feature, when known.
    pub feature_actual: Option<f64>,
    /// The predicted metric (chained through both steps).
    pub predicted: f64,
    /// Percentile interval on the predicted metric (both steps refitted per replicate).
    pub interval: Option<[f64; 2]>,
    /// Interval for one new run: `interval` widened by the run-to-run noise of step 2.
    pub prediction_interval: Option<[f64; 2]>,
    /// Step 2 evaluated at the actual feature (step 2's own error), when known.
    pub step2_at_actual_feature: Option<f64>,
    /// The actual metric, when known.
    pub actual: Option<f64>,
    /// predicted - actual.
    pub error: Option<f64>,
    /// |predicted - actual| / actual.
    pub relative_error: Option<f64>,
    /// Whether `prediction_interval` holds the actual value.
    pub covered: Option<bool>,
    /// Warnings for this prediction.
    pub warnings: Vec<String>,
}

/// One task's fits and predictions.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaskResult {
    /// The task.
    pub task: Task,
    /// Step 1's fit (`None` in single-step mode).
    pub step1: Option<Fit>,
    /// Step 2's fit (in single-step mode: the sigmoid on log10 C).
    pub step2: Fit,
    /// The range of the feature step 2 was fitted on (without the anchor).
    pub step2_range: [f64; 2],
    /// Points of step 1 (one per run or checkpoint): run label, N, D, C, feature.
    pub step1_points: Vec<Point>,
    /// Points of step 2 (feature, metric), the anchor last when used.
    pub step2_points: Vec<[f64; 2]>,
    /// The predictions.
    pub predictions: Vec<Prediction>,
    /// Bootstrap replicates that failed to fit (left out of the intervals).
    pub failed_replicates: usize,
    /// Warnings for this task.
    pub warnings: Vec<String>,
}

/// A step-1 point.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Point {
    /// The run.
    pub run: String,
    /// N.
    pub n: f64,
    /// D.
    pub d: f64,
    /// C.
    pub c: f64,
    /// The feature (step 1's y).
    pub y: f64,
}

/// The weighted average over tasks at one target: `sum_i w_i p_i / sum_i w_i` over the tasks'
/// chained predictions `p_i` with the tasks' weights `w_i` (e.g. MMLU's four test groups
/// weighted by their question counts, OLMo-ladder `WEIGHT_BY_KEY`, Bhagia et al. 2024).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Average {
    /// The target.
    pub target: String,
    /// Weighted mean of the tasks' predictions.
    pub predicted: f64,
    /// Its percentile interval: bootstrap replicate r resamples the same runs for every task,
    /// refits both steps of each, and gives one weighted mean; replicates where any task
    /// failed to fit are left out.
    pub interval: Option<[f64; 2]>,
    /// Weighted mean of the actual values, when every task has one.
    pub actual: Option<f64>,
    /// `predicted - actual` of the weighted mean, when known.
    pub error: Option<f64>,
    /// Mean over tasks of |predicted - actual|, in points (x100), when known.
    pub mean_abs_error_points: Option<f64>,
    /// How many tasks' prediction intervals hold the actual value, of how many.
    pub covered: Option<[usize; 2]>,
}

/// The result of [`downstream`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DownstreamResult {
    /// The table.
    pub source: String,
    /// `two-step` or `single-step`.
    pub mode: String,
    /// The recipe, if one was used.
    pub recipe: Option<String>,
    /// Every choice that changes a number.
    pub conventions: BTreeMap<String, serde_json::Value>,
    /// Per task.
    pub tasks: Vec<TaskResult>,
    /// Weighted averages over tasks (with more than one task).
    pub average: Vec<Average>,
    /// Warnings that concern the whole analysis.
    pub warnings: Vec<String>,
    /// Notes (a recipe's caveats).
    pub notes: Vec<String>,
}

/// How a warning that the weighted average over tasks is left out begins.
const AVERAGE_LEFT_OUT: &str = "the weighted average over tasks is left out";

impl DownstreamResult {
    /// Every target some task predicted, once each (a task lacks a target whose prediction
    /// was not finite), in the request's order as far as the tasks show it (each task's
    /// predictions are in that order; a target new to the list goes after the one its task
    /// predicted before it): the first prediction of it, for its label, N, D and C.
    pub fn targets(&self) -> Vec<&Prediction> {
        let mut out: Vec<&Prediction> = Vec::new();
        for t in &self.tasks {
            let mut prev: Option<usize> = None;
            for p in &t.predictions {
                match out.iter().position(|q| q.target == p.target) {
                    Some(i) => prev = Some(i),
                    None => {
                        let at = prev.map_or(0, |i| i + 1);
                        out.insert(at, p);
                        prev = Some(at);
                    }
                }
            }
        }
        out
    }

    /// The weighted average at `target` (a prediction's label), if every task predicted it.
    pub fn average_at(&self, target: &str) -> Option<&Average> {
        self.average.iter().find(|a| a.target == target)
    }
}

impl TaskResult {
    /// This task's prediction at `target` (a prediction's label), if it has one.
    pub fn prediction(&self, target: &str) -> Option<&Prediction> {
        self.predictions.iter().find(|p| p.target == target)
    }
}

fn bad(table: &RunTable, row: usize, col: &str, value: &str, problem: &str) -> Error {
    Error::BadValue {
        location: table.location(row),
        column: col.to_string(),
        value: value.to_string(),
        problem: problem.to_string(),
    }
}

fn number(table: &RunTable, row: usize, col: usize) -> Result<f64> {
    let text = table.cell(row, col).trim();
    text.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| bad(table, row, &table.columns[col], text, "not a finite number"))
}

fn selected(table: &RunTable, filter: &Option<String>) -> Result<Vec<bool>> {
    match filter {
        None => Ok(vec![true; table.rows.len()]),
        Some(f) => RowFilter::parse(f)?.matches(table, &Default::default()),
    }
}

/// Trailing moving average with partial means over the first `n - 1` values.
pub fn moving_average(v: &[f64], n: usize) -> Vec<f64> {
    let n = n.max(1);
    let mut out = Vec::with_capacity(v.len());
    let mut sum = 0.0;
    for i in 0..v.len() {
        sum += v[i];
        if i >= n {
            sum -= v[i - n];
        }
        out.push(sum / (i + 1).min(n) as f64);
    }
    out
}

/// The kept rows of a run under `rule` and, for each kept point, the smoothing applied.
fn take(rows: &[usize], rule: Checkpoints) -> Vec<usize> {
    match rule {
        Checkpoints::Last => rows.last().copied().into_iter().collect(),
        Checkpoints::MeanLast { k } => rows[rows.len().saturating_sub(k.max(1))..].to_vec(),
        Checkpoints::All { skip_fraction, .. } => {
            let skip = (skip_fraction * rows.len() as f64).ceil() as usize;
            rows[skip.min(rows.len())..].to_vec()
        }
    }
}

/// Values of a run's kept rows after the rule's aggregation.
fn aggregate(values: &[f64], rule: Checkpoints) -> Vec<f64> {
    match rule {
        Checkpoints::Last => values.last().copied().into_iter().collect(),
        Checkpoints::MeanLast { .. } => {
            vec![values.iter().sum::<f64>() / values.len().max(1) as f64]
        }
        Checkpoints::All {
            moving_average: m, ..
        } => moving_average(values, m),
    }
}

/// The runs of the table: label -> 0-based rows in file order, in order of first appearance.
fn runs_of(table: &RunTable, run_col: &Option<String>) -> Result<Vec<(String, Vec<usize>)>> {
    let mut out: Vec<(String, Vec<usize>)> = Vec::new();
    let mut at: BTreeMap<String, usize> = BTreeMap::new();
    let col = match run_col {
        Some(c) => Some(table.named_column("run column", c)?),
        None => None,
    };
    for r in 0..table.rows.len() {
        let label = match col {
            Some(c) => table.cell(r, c).trim().to_string(),
            None => format!("row {}", r + 1),
        };
        match at.get(&label) {
            Some(&i) => out[i].1.push(r),
            None => {
                at.insert(label.clone(), out.len());
                out.push((label, vec![r]));
            }
        }
    }
    Ok(out)
}

/// The column [`sizes`] has `load_runs` validate as the loss for `task`: the feature (a loss)
/// in two steps, the compute column itself in one step (an accuracy may be 0).
fn size_column(req: &DownstreamRequest, task: &Task) -> String {
    match (&task.feature, req.step1.is_some()) {
        (Some(f), true) => f.clone(),
        _ => req
            .load
            .flops_col
            .clone()
            .unwrap_or_else(|| task.metric.clone()),
    }
}

/// N, D and C of the given 0-based rows (validated by [`load_runs`]).
fn sizes(
    table: &RunTable,
    load: &LoadRequest,
    rows: &[usize],
    loss_col: &str,
    needs_c: bool,
    flops_unit: f64,
) -> Result<BTreeMap<usize, [f64; 3]>> {
    let req = LoadRequest {
        loss_col: Some(loss_col.to_string()),
        ..load.clone()
    };
    let needs = crate::data::Needs {
        params: !needs_c,
        tokens: !needs_c,
        flops: true,
    };
    let runs = load_runs(table, needs, &req, Some(rows.to_vec()))?;
    let mut out = BTreeMap::new();
    for (i, &r) in runs.rows.iter().enumerate() {
        let g = |v: &Vec<f64>| v.get(i).copied().unwrap_or(f64::NAN);
        out.insert(
            r - 1,
            [
                g(&runs.params),
                g(&runs.tokens),
                flops_unit * g(&runs.flops),
            ],
        );
    }
    Ok(out)
}

/// Data of one task ready to fit: step-1 points (run index, N, D, C, y) and step-2 points
/// (run index, x, y).
#[derive(Debug, Clone)]
struct TaskData {
    step1: Vec<(usize, [f64; 3], f64)>,
    step2: Vec<(usize, f64, f64)>,
    anchor: Option<[f64; 2]>,
}

fn columns_table(name: &str, cols: Vec<(&str, Vec<f64>)>) -> Result<RunTable> {
    RunTable::from_columns(
        name,
        cols.into_iter()
            .map(|(n, v)| (n.to_string(), Column::Numbers(v)))
            .collect(),
    )
}

fn fit_points(table: &RunTable, config: &FitConfig) -> Result<(Fit, Runs)> {
    let runs = load_runs(
        table,
        fit::needs(&config.form),
        &LoadRequest::default(),
        None,
    )?;
    let req = FitRequest {
        config: config.clone(),
        bootstrap: None,
    };
    let f = fit_table(table, &runs, &req, &|| {})?;
    Ok((f, runs))
}

/// A target: label, (N, D, C), actual metric and actual feature when known.
type TargetRow = (String, [f64; 3], Option<f64>, Option<f64>);

/// A chained prediction: the predicted feature (two steps) and the predicted metric.
type Chained = (Option<f64>, f64);

/// The fitted pair of steps on one (possibly resampled) data set.
struct Fitted {
    step1: Option<Fit>,
    step2: Fit,
}

fn fit_task(
    data: &TaskData,
    weights: Option<&[f64]>,
    step1: Option<&FitConfig>,
    step2: &FitConfig,
    name: &str,
) -> Result<Fitted> {
    let reps = |run: usize| -> usize {
        match weights {
            None => 1,
            Some(w) => w[run] as usize,
        }
    };
    let step1_fit = match step1 {
        None => None,
        Some(cfg) => {
            let (mut n, mut d, mut c, mut y) = (vec![], vec![], vec![], vec![]);
            for (run, s, v) in &data.step1 {
                for _ in 0..reps(*run) {
                    n.push(s[0]);
                    d.push(s[1]);
                    c.push(s[2]);
                    y.push(*v);
                }
            }
            let t = columns_table(
                &format!("{name} step 1"),
                vec![("params", n), ("tokens", d), ("flops", c), ("loss", y)],
            )?;
            Some(fit_points(&t, cfg)?.0)
        }
    };
    let (mut x, mut y) = (vec![], vec![]);
    for (run, a, b) in &data.step2 {
        for _ in 0..reps(*run) {
            x.push(*a);
            y.push(*b);
        }
    }
    if let Some([a, b]) = data.anchor {
        x.push(a);
        y.push(b);
    }
    // Step 2's runs are built directly: an accuracy of 0 (GSM8K of a small model) is a
    // valid value in linear space, which the loss validation of a run table would refuse.
    let m = y.len();
    let runs = Runs {
        source: format!("{name} step 2"),
        total_rows: m,
        params: vec![],
        tokens: vec![],
        flops: vec![],
        loss: y,
        rows: (1..=m).collect(),
        sources: Default::default(),
        excluded: vec![],
        flops_per_param_token: 6.0,
        filters: Default::default(),
    };
    let mut columns = fit::Columns::new();
    columns.insert(FEATURE.to_string(), x);
    let step2_fit = fit::fit_with_columns(&runs, &columns, step2)?;
    Ok(Fitted {
        step1: step1_fit,
        step2: step2_fit,
    })
}

fn eval_step1(fit: &Fit, n: f64, d: f64, c: f64) -> Option<f64> {
    let law = fit.law()?;
    let v = law.predict_with(&|v: &Var| match v {
        Var::N => Some(n),
        Var::D => Some(d),
        Var::C => Some(c),
        Var::M => Some(d / n),
        _ => None,
    })?;
    v.is_finite().then_some(v)
}

/// Step 2 at feature `x`. The law is rebuilt from `form` (which carries the step's bounds)
/// and the fitted values by name: a fit's own form is re-read from its formula text with
/// default domains, which would refuse a negative sigmoid amplitude.
fn eval_step2(fit: &Fit, form: &LawForm, x: f64) -> Option<f64> {
    let params: Option<Vec<f64>> = form
        .param_names()
        .iter()
        .map(|n| fit.params.get(n).copied().flatten())
        .collect();
    let law = Law {
        form: form.clone(),
        params: params?,
    };
    let v = law.predict_with(&|v: &Var| (v.symbol() == FEATURE).then_some(x))?;
    v.is_finite().then_some(v)
}

/// A fitted step 1's feature at (N, D, C) (`None` where the law is not finite), for drawing
/// its curves from a [`TaskResult`].
pub fn step1_value(fit: &Fit, n: f64, d: f64, c: f64) -> Option<f64> {
    eval_step1(fit, n, d, c)
}

/// A fitted step 2's metric at feature `x` (log10 C in single-step mode), for drawing its
/// curve from a [`TaskResult`]: the form re-read from the fit's formula, evaluated without
/// checking the parameters' default domains (a falling sigmoid has a < 0).
pub fn step2_value(fit: &Fit, x: f64) -> Option<f64> {
    eval_step2(fit, &fit.try_form().ok()?, x)
}

/// The chained (or single-step) prediction of one fitted pair at (N, D, C).
fn chain(f: &Fitted, form: &LawForm, n: f64, d: f64, c: f64) -> Option<(Option<f64>, f64)> {
    match &f.step1 {
        Some(s1) => {
            let x = eval_step1(s1, n, d, c)?;
            Some((Some(x), eval_step2(&f.step2, form, x)?))
        }
        None => Some((None, eval_step2(&f.step2, form, c.log10())?)),
    }
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// Predict downstream accuracy: fit step 1 and step 2 per task on the fitting runs, chain
/// them at each target, and (with replicates) bootstrap over runs for intervals.
///
/// A target whose prediction is not a finite number (a step whose parameters the data do not
/// identify, a law that overflows far from the data) is left out of its task with a warning;
/// a task with no finite prediction is left out with a warning, and so is then the weighted
/// average over tasks (it would average different tasks); a weighted average is given only at
/// the targets every task predicted.
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
/// assert_eq!(r.tasks.len(), 1);
/// ```
///
/// # Errors
/// Missing columns, cells that are not numbers (naming file, row, column and value), a
/// target run that is not in the table, too few runs for a step, every error of the fits,
/// and no finite prediction in any task.
pub fn downstream(
    table: &RunTable,
    req: &DownstreamRequest,
    progress: &(dyn Fn() + Sync),
) -> Result<DownstreamResult> {
    predict(table, req, progress, TaskAverage::Weighted)
}

/// Whether a prediction also gives the weighted average over tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TaskAverage {
    /// At the targets every task predicted, with a warning where it is left out.
    Weighted,
    /// None, and no warning about it (a backtest scores each task on its own).
    Skipped,
}

/// [`downstream`], with or without the weighted average over tasks.
pub(crate) fn predict(
    table: &RunTable,
    req: &DownstreamRequest,
    progress: &(dyn Fn() + Sync),
    average_over_tasks: TaskAverage,
) -> Result<DownstreamResult> {
    if req.tasks.is_empty() {
        return Err(Error::InvalidSetting(
            "no task: give a metric column (and a feature column for two steps)".into(),
        ));
    }
    if !(req.level > 0.0 && req.level < 1.0) {
        return Err(Error::InvalidSetting(format!(
            "the interval level must be between 0 and 1, got {}",
            req.level
        )));
    }
    if req.replicates == 1 {
        return Err(Error::InvalidSetting(
            "the bootstrap needs at least 2 replicates".into(),
        ));
    }
    crate::limits::check(
        "bootstrap replicates",
        req.replicates,
        crate::limits::MAX_REPLICATES,
    )?;
    for t in &req.tasks {
        if !(t.weight.is_finite() && t.weight >= 0.0) {
            return Err(Error::setting(
                format!(
                    "{{}} of task {} must be a finite number >= 0, got {}",
                    t.name, t.weight
                ),
                &["task_weight"],
            ));
        }
    }
    if req.tasks.len() > 1 && req.tasks.iter().all(|t| t.weight == 0.0) {
        return Err(Error::setting(
            "{} are all 0: the weighted average needs a positive weight",
            &["task_weight"],
        ));
    }
    let two_step = req.step1.is_some();
    let step1_cfg = match &req.step1 {
        Some(names) => Some(names.config_for(&[])?),
        None => None,
    };
    let runs = runs_of(table, &req.run_col)?;
    let fit_sel = selected(table, &req.fit_where)?;
    let s1_sel = selected(table, &req.step1_where)?;
    let target_labels: Vec<&str> = req
        .targets
        .iter()
        .filter_map(|t| match t {
            Target::Run(l) => Some(l.as_str()),
            _ => None,
        })
        .collect();
    for l in &target_labels {
        if !runs.iter().any(|(r, _)| r == l) {
            return Err(Error::InvalidSetting(format!(
                "target {l:?} is not a run of {}{}",
                table.path,
                match &req.run_col {
                    Some(c) => format!(" (column {c:?})"),
                    None => String::new(),
                }
            )));
        }
    }
    // Fitting runs: rows selected by the filter, never a target.
    let fit_runs: Vec<(String, Vec<usize>)> = runs
        .iter()
        .filter(|(l, _)| !target_labels.contains(&l.as_str()))
        .map(|(l, rows)| {
            (
                l.clone(),
                rows.iter()
                    .copied()
                    .filter(|&r| fit_sel[r])
                    .collect::<Vec<_>>(),
            )
        })
        .filter(|(_, rows)| !rows.is_empty())
        .collect();
    if fit_runs.len() < 2 {
        return Err(Error::InsufficientData(format!(
            "{}: {} fitting run(s) after the filters; need at least 2",
            table.path,
            fit_runs.len()
        )));
    }
    let h = &req.handling;
    let mut conventions: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    let j = |v: &dyn erased::Ser| v.json();
    conventions.insert(
        "mode".into(),
        j(&if two_step { "two-step" } else { "single-step" }),
    );
    conventions.insert("recipe".into(), j(&req.recipe));
    conventions.insert("run_column".into(), j(&req.run_col));
    conventions.insert("fit_rows".into(), j(&req.fit_where));
    conventions.insert("step1_rows".into(), j(&req.step1_where));
    conventions.insert("step1_checkpoints".into(), j(&h.step1));
    conventions.insert("step2_checkpoints".into(), j(&h.step2));
    conventions.insert(
        "step2_anchor".into(),
        j(&h.anchor.then_some("(0, task max)")),
    );
    conventions.insert(
        "actual_value".into(),
        j(&format!(
            "mean of the target's last {} row(s)",
            h.actual_last.max(1)
        )),
    );
    conventions.insert("step2_law".into(), j(&req.step2.name()));
    conventions.insert(
        "step2_objective".into(),
        j(&format!(
            "{} residuals in {} space, {}",
            req.step2_fit.objective, req.step2_fit.space, req.step2_fit.reduction
        )),
    );
    conventions.insert(
        "sigmoid_bounds".into(),
        match (&req.step2, req.sigmoid_bounds) {
            (Step2Law::Sigmoid, Some(b)) => j(&b),
            (Step2Law::Sigmoid, None) if two_step => {
                j(&"a in [-max, 0], x0 real, k >= 0, b in [0, max] (max: the task's maximum)")
            }
            (Step2Law::Sigmoid, None) => {
                j(&"a in [0, max], x0 real, k >= 0, b in [0, max] (max: the task's maximum)")
            }
            _ => serde_json::Value::Null,
        },
    );
    conventions.insert(
        "single_step_feature".into(),
        j(&(!two_step).then_some("log10 C (FLOPs)")),
    );
    conventions.insert("bootstrap".into(), j(&(req.replicates > 0).then(|| format!("{} replicates resampling whole runs (all checkpoints of a run together), both steps refitted on each; seed {}; percentile intervals at level {}", req.replicates, req.seed, req.level))));
    conventions.insert(
        "prediction_interval".into(),
        j(&"replicate predictions combined with step 2's modified residuals (run-to-run noise)"),
    );
    if req.tasks.len() > 1 {
        let weights: BTreeMap<&str, f64> = req
            .tasks
            .iter()
            .map(|t| (t.name.as_str(), t.weight))
            .collect();
        conventions.insert("task_weights".into(), j(&weights));
        conventions.insert(
            "average".into(),
            j(&"sum of weight x prediction over tasks / sum of weights; its interval from the same bootstrap replicates (each resamples the same runs for every task)"),
        );
    }
    let mut warnings: Vec<String> = Vec::new();
    let mut results = Vec::new();
    let mut lost_tasks: Vec<String> = Vec::new();
    for task in &req.tasks {
        let tm = table.named_column("metric column", &task.metric)?;
        let tf = match &task.feature {
            Some(f) => Some(table.named_column("feature column", f)?),
            None => None,
        };
        if two_step && tf.is_none() {
            return Err(Error::InvalidSetting(format!(
                "task {}: two-step prediction needs a feature column",
                task.name
            )));
        }
        // Rows with a blank metric (or feature) are left out of this task.
        let blank = |r: usize| {
            table.cell(r, tm).trim().is_empty()
                || (two_step && tf.is_some_and(|c| table.cell(r, c).trim().is_empty()))
        };
        let mut n_blank = 0;
        // Each task run keeps its index among the fitting runs, so that replicate r
        // resamples the same runs for every task (the weighted average's interval).
        let (task_runs, global): (Vec<(String, Vec<usize>)>, Vec<usize>) = fit_runs
            .iter()
            .enumerate()
            .map(|(g, (l, rows))| {
                let k: Vec<usize> = rows.iter().copied().filter(|&r| !blank(r)).collect();
                n_blank += rows.len() - k.len();
                ((l.clone(), k), g)
            })
            .filter(|((_, k), _)| !k.is_empty())
            .unzip();
        if task_runs.len() < 2 {
            return Err(Error::InsufficientData(format!(
                "{}: task {} has {} fitting run(s) with a value in {}; need at least 2",
                table.path,
                task.name,
                task_runs.len(),
                task.metric
            )));
        }
        // Sizes of every row used (fit and targets).
        let size_col = size_column(req, task);
        let mut used_rows: Vec<usize> = Vec::new();
        let step1_rows_of = |rows: &[usize]| -> Vec<usize> {
            rows.iter().copied().filter(|&r| s1_sel[r]).collect()
        };
        let mut data = TaskData {
            step1: vec![],
            step2: vec![],
            anchor: None,
        };
        for (_, rows) in &task_runs {
            if two_step {
                used_rows.extend(take(&step1_rows_of(rows), h.step1));
            } else {
                used_rows.extend(take(rows, h.step2));
            }
        }
        for (l, rows) in &runs {
            if target_labels.contains(&l.as_str()) {
                used_rows.extend(rows.last());
            }
        }
        used_rows.sort_unstable();
        used_rows.dedup();
        let sz = sizes(
            table,
            &req.load,
            &used_rows,
            &size_col,
            !two_step,
            req.flops_unit,
        )?;
        for (i, (_, rows)) in task_runs.iter().enumerate() {
            if two_step {
                let k = take(&step1_rows_of(rows), h.step1);
                if let (Some(tf), Some(&last)) = (tf, k.last()) {
                    let vals = k
                        .iter()
                        .map(|&r| number(table, r, tf))
                        .collect::<Result<Vec<_>>>()?;
                    for v in aggregate(&vals, h.step1) {
                        data.step1.push((i, sz[&last], v));
                    }
                }
            }
            let k = take(rows, h.step2);
            let xs: Vec<f64> = match tf {
                Some(tf) if two_step => k
                    .iter()
                    .map(|&r| number(table, r, tf))
                    .collect::<Result<_>>()?,
                _ => k.iter().map(|r| sz[r][2].log10()).collect(),
            };
            let ys = k
                .iter()
                .map(|&r| number(table, r, tm))
                .collect::<Result<Vec<_>>>()?;
            let (xs, ys) = match h.step2 {
                Checkpoints::All {
                    moving_average: m, ..
                } if two_step => (moving_average(&xs, m), moving_average(&ys, m)),
                Checkpoints::MeanLast { .. } if two_step => {
                    (aggregate(&xs, h.step2), aggregate(&ys, h.step2))
                }
                _ if !two_step => (xs, ys),
                _ => (aggregate(&xs, h.step2), aggregate(&ys, h.step2)),
            };
            for (x, y) in xs.into_iter().zip(ys) {
                data.step2.push((i, x, y));
            }
        }
        if h.anchor {
            data.anchor = Some([0.0, task.max]);
        }
        let xr = data
            .step2
            .iter()
            .fold([f64::INFINITY, f64::NEG_INFINITY], |a, p| {
                [a[0].min(p.1), a[1].max(p.1)]
            });
        let bounds = req.sigmoid_bounds.unwrap_or(if two_step {
            SigmoidBounds::falling(task.max)
        } else {
            SigmoidBounds::rising(task.max)
        });
        let mut step2_cfg = FitNames {
            law: "chinchilla".into(),
            params: vec![],
            ..req.step2_fit.clone()
        }
        .config_for(&[])?;
        step2_cfg.form = step2_form(&req.step2, &bounds, xr)?;
        for p in &req.step2_fit.params {
            apply_param(&mut step2_cfg, p)?;
        }
        let full = fit_task(&data, None, step1_cfg.as_ref(), &step2_cfg, &task.name)?;
        // Targets.
        let mut targets: Vec<TargetRow> = Vec::new();
        for t in &req.targets {
            match t {
                Target::Run(l) => {
                    let rows = &runs.iter().find(|(r, _)| r == l).expect("checked").1;
                    let last = *rows.last().expect("a run has rows");
                    let tail = &rows[rows.len().saturating_sub(h.actual_last.max(1))..];
                    let avg = |c: usize| -> Option<f64> {
                        let v: Vec<f64> = tail
                            .iter()
                            .filter_map(|&r| number(table, r, c).ok())
                            .collect();
                        (v.len() == tail.len()).then(|| mean(&v))
                    };
                    targets.push((l.clone(), sz[&last], avg(tm), tf.and_then(avg)));
                }
                Target::Compute { c } => {
                    targets.push((target_label(t), [f64::NAN, f64::NAN, *c], None, None));
                }
                Target::Point { n, d } => {
                    let k = req.load.flops_per_param_token;
                    targets.push((target_label(t), [*n, *d, k * n * d], None, None));
                }
            }
        }
        // A target whose prediction is not finite (a law that overflows far beyond the data,
        // say) is left out of this task with a warning; the others are predicted.
        let mut kept: Vec<usize> = Vec::new();
        let mut firsts = Vec::new();
        let mut lost: Vec<String> = Vec::new();
        for (ti, (label, s, _, _)) in targets.iter().enumerate() {
            match chain(&full, &step2_cfg.form, s[0], s[1], s[2]) {
                Some(c) => {
                    kept.push(ti);
                    firsts.push(c);
                }
                None => {
                    // What failed: step 1's value there, and the parameters (None: not
                    // identified by the data).
                    let step1 = match &full.step1 {
                        Some(f) => format!(
                            "step 1 gives {:?} with parameters {:?}; ",
                            eval_step1(f, s[0], s[1], s[2]),
                            f.params
                        ),
                        None => String::new(),
                    };
                    lost.push(format!(
                        "{}: the prediction at {label} is not a finite number ({step1}step 2 parameters {:?})",
                        task.name, full.step2.params
                    ))
                }
            }
        }
        // No target of this task can be predicted: the task is left out after its warnings
        // are made (the request fails only when every task is), and it is not bootstrapped.
        let task_lost = kept.is_empty() && !lost.is_empty();
        let targets: Vec<TargetRow> = kept.iter().map(|&ti| targets[ti].clone()).collect();
        // Bootstrap over runs.
        let nf = fit_runs.len();
        let replicates = if task_lost { 0 } else { req.replicates };
        let reps: Vec<Option<Vec<Chained>>> = (0..replicates)
            .into_par_iter()
            .map(|r| {
                let all = replicate_weights(nf, None, nf, req.seed, r);
                let w: Vec<f64> = global.iter().map(|&g| all[g]).collect();
                let out = fit_task(&data, Some(&w), step1_cfg.as_ref(), &step2_cfg, &task.name)
                    .ok()
                    .and_then(|f| {
                        targets
                            .iter()
                            .map(|(_, s, _, _)| chain(&f, &step2_cfg.form, s[0], s[1], s[2]))
                            .collect::<Option<Vec<_>>>()
                    });
                progress();
                out
            })
            .collect();
        let ok: Vec<&Vec<(Option<f64>, f64)>> = reps.iter().flatten().collect();
        let failed = reps.len() - ok.len();
        let (resid, _) = new_run_residuals(&full.step2);
        let space = step2_cfg.objective.space;
        let mut task_warnings: Vec<String> = if task_lost {
            vec![]
        } else {
            lost.iter()
                .map(|w| format!("{w}; it is left out"))
                .collect()
        };
        if n_blank > 0 {
            task_warnings.push(format!(
                "{}: {n_blank} fitting row(s) with a blank {} left out",
                task.name,
                if two_step {
                    "metric or feature"
                } else {
                    "metric"
                }
            ));
        }
        if let Some(fc) = &req.family_col {
            let c = table.named_column("family column", fc)?;
            let mut fams: Vec<&str> = task_runs
                .iter()
                .map(|(_, rows)| table.cell(rows[0], c).trim())
                .collect();
            fams.sort_unstable();
            fams.dedup();
            if fams.len() > 1 {
                task_warnings.push(format!(
                    "{}: the fit mixes {} model families (column {fc:?}); their differences in data, architecture and parameter counting are treated as noise around one curve",
                    task.name,
                    fams.len()
                ));
            }
        }
        // Honest warnings.
        let last_acc: Vec<f64> = task_runs
            .iter()
            .map(|(_, rows)| number(table, *rows.last().expect("non-empty"), tm))
            .collect::<Result<_>>()?;
        let best = last_acc.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let is_error_metric = matches!(req.step2, Step2Law::Exponential);
        if !is_error_metric && best < task.chance + 0.1 * (task.max - task.chance) {
            task_warnings.push(format!(
                "{}: the fitting runs' best final {} is {:.4}, within 10% of the way from chance ({:.4}) to the maximum: the sigmoid's lower plateau, where emergence can hide; the prediction rests on its shape",
                task.name, task.metric, best, task.chance
            ));
        }
        if !full.step2.at_bound.is_empty() {
            task_warnings.push(format!(
                "{}: step 2 has {} at a bound ({})",
                task.name,
                full.step2.at_bound.join(", "),
                "the bounds shape the prediction"
            ));
        }
        if !full.step2.identifiability.identified {
            task_warnings.push(format!(
                "{}: step 2 is not identified by its data (Jacobian singular-value ratio {:.2e}): the sigmoid's plateaus or midpoint are not pinned down",
                task.name, full.step2.identifiability.jacobian_singular_ratio
            ));
        }
        if task_lost {
            let n_lost = lost.len();
            lost_tasks.push(format!(
                "{}; none of the task's {n_lost} target(s) is predicted",
                lost.swap_remove(0)
            ));
            lost_tasks.append(&mut task_warnings);
            continue;
        }
        let mut predictions = Vec::new();
        for (ti, ((label, s, actual, actual_feature), &(feature, predicted))) in
            targets.iter().zip(&firsts).enumerate()
        {
            let preds: Vec<f64> = ok.iter().map(|v| v[ti].1).collect();
            let feats: Vec<f64> = ok.iter().filter_map(|v| v[ti].0).collect();
            let interval = summarise(&preds, req.level).map(|x| x.0);
            let prediction_interval = (!preds.is_empty())
                .then(|| new_run_interval(space, &preds, &resid, req.level))
                .flatten();
            let mut w = Vec::new();
            let xf = feature.unwrap_or(s[2].log10());
            if xf < xr[0] || xf > xr[1] {
                w.push(format!(
                    "{} at {label}: the predicted {} {:.4} lies outside the range step 2 was fitted on ({:.4} to {:.4}); step 2 extrapolates",
                    task.name,
                    if two_step { "feature" } else { "log10 C" },
                    xf,
                    xr[0],
                    xr[1]
                ));
            }
            predictions.push(Prediction {
                target: label.clone(),
                n: s[0].is_finite().then_some(s[0]),
                d: s[1].is_finite().then_some(s[1]),
                c: s[2],
                feature,
                feature_interval: summarise(&feats, req.level).map(|x| x.0),
                feature_actual: *actual_feature,
                predicted,
                interval,
                prediction_interval,
                step2_at_actual_feature: actual_feature
                    .and_then(|x| eval_step2(&full.step2, &step2_cfg.form, x)),
                actual: *actual,
                error: actual.map(|a| predicted - a),
                relative_error: actual.map(|a| ((predicted - a) / a).abs()),
                covered: match (actual, prediction_interval) {
                    (Some(a), Some([lo, hi])) => Some(*a >= lo && *a <= hi),
                    _ => None,
                },
                warnings: w,
            });
        }
        if failed > 0 {
            task_warnings.push(format!(
                "{}: {failed} of {} bootstrap replicates failed to fit and are left out (a resample with fewer distinct runs than a step has parameters cannot be fitted); the interval rests on the rest",
                task.name, req.replicates
            ));
        }
        results.push((
            TaskResult {
                task: task.clone(),
                step1_points: data
                    .step1
                    .iter()
                    .map(|(i, s, y)| Point {
                        run: task_runs[*i].0.clone(),
                        n: s[0],
                        d: s[1],
                        c: s[2],
                        y: *y,
                    })
                    .collect(),
                step2_points: data
                    .step2
                    .iter()
                    .map(|(_, x, y)| [*x, *y])
                    .chain(data.anchor)
                    .collect(),
                step1: full.step1,
                step2: full.step2,
                step2_range: xr,
                predictions,
                failed_replicates: failed,
                warnings: task_warnings,
            },
            reps,
            kept,
        ));
    }
    if results.is_empty() && !lost_tasks.is_empty() {
        return Err(Error::Numerical(lost_tasks.swap_remove(0)));
    }
    let averaged = average_over_tasks == TaskAverage::Weighted;
    if averaged && !lost_tasks.is_empty() && req.tasks.len() > 1 {
        warnings.push(format!(
            "{AVERAGE_LEFT_OUT}: {} of {} tasks could not be predicted",
            lost_tasks.len(),
            req.tasks.len()
        ));
    }
    warnings.append(&mut lost_tasks);
    // Weighted average over tasks, at the targets every task predicted.
    let mut average = Vec::new();
    if averaged && results.len() > 1 && results.len() == req.tasks.len() {
        let wsum: f64 = results.iter().map(|(t, _, _)| t.task.weight).sum();
        for (ti, target) in req.targets.iter().enumerate() {
            // Where target ti sits among each task's predictions.
            let at: Option<Vec<usize>> = results
                .iter()
                .map(|(_, _, kept)| kept.iter().position(|&k| k == ti))
                .collect();
            let Some(at) = at else {
                warnings.push(format!(
                    "{AVERAGE_LEFT_OUT} at {}: not every task has a prediction there",
                    target_label(target)
                ));
                continue;
            };
            let pred = |k: usize| &results[k].0.predictions[at[k]];
            let label = pred(0).target.clone();
            let predicted = results
                .iter()
                .enumerate()
                .map(|(k, (t, _, _))| t.task.weight * pred(k).predicted)
                .sum::<f64>()
                / wsum;
            let actual = results
                .iter()
                .enumerate()
                .map(|(k, (t, _, _))| pred(k).actual.map(|a| t.task.weight * a))
                .sum::<Option<f64>>()
                .map(|s| s / wsum);
            let errs: Option<Vec<f64>> = (0..results.len())
                .map(|k| pred(k).error.map(f64::abs))
                .collect();
            let cov: Option<Vec<bool>> = (0..results.len()).map(|k| pred(k).covered).collect();
            // Replicate r's weighted mean, over replicates where every task fitted.
            let series: Vec<f64> = (0..req.replicates)
                .filter_map(|r| {
                    results
                        .iter()
                        .enumerate()
                        .map(|(k, (t, reps, _))| {
                            reps[r].as_ref().map(|v| t.task.weight * v[at[k]].1)
                        })
                        .sum::<Option<f64>>()
                        .map(|s| s / wsum)
                })
                .collect();
            average.push(Average {
                target: label,
                predicted,
                interval: summarise(&series, req.level).map(|x| x.0),
                actual,
                error: actual.map(|a| predicted - a),
                mean_abs_error_points: errs.map(|e| 100.0 * mean(&e)),
                covered: cov.map(|c| [c.iter().filter(|b| **b).count(), c.len()]),
            });
        }
    }
    let tasks: Vec<TaskResult> = results.into_iter().map(|(t, _, _)| t).collect();
    for t in &tasks {
        warnings.extend(t.warnings.iter().cloned());
        for p in &t.predictions {
            warnings.extend(p.warnings.iter().cloned());
        }
    }
    Ok(DownstreamResult {
        source: table.path.clone(),
        mode: if two_step { "two-step" } else { "single-step" }.into(),
        recipe: req.recipe.clone(),
        conventions,
        tasks,
        average,
        warnings,
        notes: req.notes.clone(),
    })
}

/// A target's label, as its predictions are labelled: the run's name, `C=...` or
/// `N=... D=...` (4 significant digits).
fn target_label(t: &Target) -> String {
    match t {
        Target::Run(l) => l.clone(),
        Target::Point { n, d } => {
            format!("N={} D={}", crate::num::sig(*n, 4), crate::num::sig(*d, 4))
        }
        Target::Compute { c } => format!("C={}", crate::num::sig(*c, 4)),
    }
}

fn apply_param(config: &mut FitConfig, p: &str) -> Result<()> {
    let (name, value) = p.split_once('=').ok_or_else(|| {
        Error::InvalidSetting(format!(
            "parameter setting {p:?} is not name=value (fix) or name=low:high (bounds)"
        ))
    })?;
    let name = name.trim().to_string();
    if !config.form.param_names().contains(&name) {
        return Err(Error::InvalidSetting(format!(
            "{name:?} is not a parameter of step 2 (its parameters: {})",
            config.form.param_names().join(", ")
        )));
    }
    if value.contains(':') {
        let d = Domain::parse(value)
            .filter(|d| d.lo < d.hi)
            .ok_or_else(|| {
                Error::InvalidSetting(format!(
                    "the bounds of {name} must be low:high with low < high, got {value:?}"
                ))
            })?;
        config.bounds.insert(name, d);
    } else {
        let v: f64 = value
            .trim()
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
            .ok_or_else(|| {
                Error::InvalidSetting(format!(
                    "the value of {name} must be a finite number, got {value:?}"
                ))
            })?;
        config.fixed.insert(name, v);
    }
    Ok(())
}

mod erased {
    /// Serialise anything to a JSON value (conventions map).
    pub trait Ser {
        fn json(&self) -> serde_json::Value;
    }
    impl<T: serde::Serialize> Ser for T {
        fn json(&self) -> serde_json::Value {
            serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moving_average_matches_the_ladder_code() {
        // OLMo-ladder utils.moving_average([1,2,3,4,5,6], 3) = [1, 1.5, 2, 3, 4, 5].
        assert_eq!(
            moving_average(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 3),
            vec![1.0, 1.5, 2.0, 3.0, 4.0, 5.0]
        );
    }

    #[test]
    fn take_skips_the_ceiling_of_the_fraction() {
        let rows: Vec<usize> = (0..11).collect();
        let rule = Checkpoints::All {
            skip_fraction: 0.1,
            moving_average: 1,
        };
        // ceil(0.1 * 11) = 2 rows dropped.
        assert_eq!(take(&rows, rule), (2..11).collect::<Vec<_>>());
        assert_eq!(
            take(&rows, Checkpoints::MeanLast { k: 5 }),
            (6..11).collect::<Vec<_>>()
        );
    }
}
