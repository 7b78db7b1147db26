//! The options of a downstream prediction as plain data (what the command line's flags and
//! Python's keyword arguments say), turned into a [`DownstreamRequest`] in one place: a
//! recipe first, then every explicit option over it.

use serde::{Deserialize, Serialize};

use super::{apply_recipe, Checkpoints, DownstreamRequest, Step2Law, Target, Task};
use crate::error::{Error, Result};
use crate::fit::FitNames;

fn quantity(s: &str) -> Result<f64> {
    crate::data::parse_positive(s)
        .map_err(|p| Error::InvalidSetting(format!("{s:?}: {}", p.describe())))
}

/// Downstream options (the flags of `scaling downstream`; see its `--help`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct DownstreamOptions {
    /// Set a paper's data handling and laws: ladder (Bhagia et al. 2024), gadre (Gadre et al.
    /// 2024), ruan (Ruan et al. 2024); options given explicitly override it.
    pub recipe: Option<String>,
    /// A task as METRIC, FEATURE:METRIC or FEATURE:METRIC:CHANCE (repeatable); FEATURE is the
    /// step-1 target column (a task loss), METRIC the accuracy or error column.
    pub tasks: Vec<String>,
    /// A task's weight in the weighted average over tasks, as NAME=W (NAME: the task's
    /// name, its metric column); repeatable. Given for one task, it must be given for all.
    pub task_weights: Vec<String>,
    /// The one task's feature column (with --metric).
    pub feature: Option<String>,
    /// The one task's metric column.
    pub metric: Option<String>,
    /// Chance level of --metric / of every --task without one.
    pub chance: f64,
    /// The metric's largest possible value.
    pub max: f64,
    /// Column naming each row's run (rows of a run are its checkpoints, in file order).
    pub run_col: Option<String>,
    /// Column naming each run's model family (a fit across families is warned about).
    pub family_col: Option<String>,
    /// Rows used for fitting, e.g. "role == 'ladder'" (targets are never fitted).
    pub fit_where: Option<String>,
    /// A further restriction of step 1's rows.
    pub step1_where: Option<String>,
    /// Predict for this run (its last row's N and D; its actual values are compared); repeatable.
    pub targets: Vec<String>,
    /// Predict at N:D, e.g. 7B:4T; repeatable.
    pub at: Vec<String>,
    /// Predict at this compute (FLOPs); repeatable.
    pub at_flops: Vec<f64>,
    /// One step: the sigmoid from log10 C straight to the metric (no feature).
    pub single_step: bool,
    /// Step 1's law (a name or a formula), as `scaling fit --law`.
    pub law: Option<String>,
    /// Step 1's penalty: huber or squared.
    pub objective: Option<String>,
    /// Step 1's residual space: log or linear.
    pub space: Option<String>,
    /// Step 2's law: sigmoid, exponential (Gadre et al.), or a formula in x.
    pub step2: Option<String>,
    /// Fix or bound a step-2 parameter (`b=1`, `a=-1:0`); repeatable.
    pub step2_params: Vec<String>,
    /// Step 1's checkpoints: last, mean-last:K, or all.
    pub step1_checkpoints: Option<String>,
    /// Step 2's checkpoints: last, mean-last:K, or all (with --skip-fraction, --moving-average).
    pub step2_checkpoints: Option<String>,
    /// Fraction of each run's first checkpoints dropped (with `all`).
    pub skip_fraction: Option<f64>,
    /// Trailing moving average over this many checkpoints (with `all`).
    pub moving_average: Option<usize>,
    /// Add the point (feature 0, metric max) to step 2.
    pub anchor: bool,
    /// Column holding N.
    pub params_col: Option<String>,
    /// Column holding D.
    pub tokens_col: Option<String>,
    /// Column holding C.
    pub flops_col: Option<String>,
    /// FLOPs per unit of the C column (1e21 for a column in units of 1e21 FLOPs).
    pub flops_unit: Option<f64>,
    /// Bootstrap replicates (resampling whole runs, refitting both steps) for intervals.
    pub bootstrap: usize,
    /// Seed of the bootstrap.
    pub seed: u64,
    /// Interval level.
    pub level: f64,
    /// Backtest instead of predicting: fit on the runs at or below each of these compute
    /// cutoffs and predict the larger ones ([`super::backtest`]).
    pub backtest: Vec<f64>,
}

impl Default for DownstreamOptions {
    fn default() -> Self {
        DownstreamOptions {
            recipe: None,
            tasks: vec![],
            task_weights: vec![],
            feature: None,
            metric: None,
            chance: 0.25,
            max: 1.0,
            run_col: None,
            family_col: None,
            fit_where: None,
            step1_where: None,
            targets: vec![],
            at: vec![],
            at_flops: vec![],
            single_step: false,
            law: None,
            objective: None,
            space: None,
            step2: None,
            step2_params: vec![],
            step1_checkpoints: None,
            step2_checkpoints: None,
            skip_fraction: None,
            moving_average: None,
            anchor: false,
            params_col: None,
            tokens_col: None,
            flops_col: None,
            flops_unit: None,
            bootstrap: 0,
            seed: 0,
            level: 0.95,
            backtest: vec![],
        }
    }
}

/// Parse `last`, `mean-last:K` or `all`.
pub fn checkpoints(s: &str, skip: f64, ma: usize) -> Result<Checkpoints> {
    let s = s.trim();
    if s == "last" {
        return Ok(Checkpoints::Last);
    }
    if s == "all" {
        return Ok(Checkpoints::All {
            skip_fraction: skip,
            moving_average: ma,
        });
    }
    if let Some(k) = s.strip_prefix("mean-last:") {
        if let Ok(k) = k.parse::<usize>() {
            if k > 0 {
                return Ok(Checkpoints::MeanLast { k });
            }
        }
    }
    Err(Error::InvalidSetting(format!(
        "checkpoints {s:?} is not last, mean-last:K (K > 0) or all"
    )))
}

impl DownstreamOptions {
    /// The request these options describe: the recipe (if any) first, explicit options over it.
    ///
    /// # Errors
    /// An unknown recipe, a malformed task, checkpoint rule or N:D, nothing to predict.
    pub fn request(&self) -> Result<DownstreamRequest> {
        let mut req = DownstreamRequest::default();
        if let Some(r) = &self.recipe {
            apply_recipe(&mut req, r)?;
        }
        if self.single_step {
            req.step1 = None;
        }
        let mut tasks = Vec::new();
        for spec in &self.tasks {
            let parts: Vec<&str> = spec.split(':').collect();
            let (feature, metric, chance) = match parts.as_slice() {
                [m] => (None, m.to_string(), self.chance),
                [f, m] => (Some(f.to_string()), m.to_string(), self.chance),
                [f, m, c] => (
                    Some(f.to_string()),
                    m.to_string(),
                    c.parse::<f64>().map_err(|_| {
                        Error::setting(
                            format!("{{}} {spec:?}: chance {c:?} is not a number"),
                            &["task"],
                        )
                    })?,
                ),
                _ => {
                    return Err(Error::setting(
                        format!(
                            "{{}} {spec:?} is not METRIC, FEATURE:METRIC or FEATURE:METRIC:CHANCE"
                        ),
                        &["task"],
                    ))
                }
            };
            tasks.push(Task {
                name: metric.clone(),
                feature: feature.filter(|f| !f.is_empty()),
                metric,
                chance,
                max: self.max,
                weight: 1.0,
            });
        }
        if let Some(m) = &self.metric {
            tasks.push(Task {
                name: m.clone(),
                feature: self.feature.clone(),
                metric: m.clone(),
                chance: self.chance,
                max: self.max,
                weight: 1.0,
            });
        } else if self.feature.is_some() {
            return Err(Error::setting("{} needs {}", &["feature", "metric"]));
        }
        if !tasks.is_empty() {
            req.tasks = tasks;
        }
        set_weights(&mut req.tasks, &self.task_weights)?;
        if self.run_col.is_some() {
            req.run_col = self.run_col.clone();
        }
        if self.family_col.is_some() {
            req.family_col = self.family_col.clone();
        }
        if self.fit_where.is_some() {
            req.fit_where = self.fit_where.clone();
        }
        if self.step1_where.is_some() {
            req.step1_where = self.step1_where.clone();
        }
        if req.step1.is_some()
            && (self.law.is_some() || self.objective.is_some() || self.space.is_some())
        {
            let s1 = req.step1.get_or_insert_with(FitNames::default);
            if let Some(l) = &self.law {
                s1.law = l.clone();
            }
            if let Some(o) = &self.objective {
                s1.objective = o.clone();
            }
            if let Some(s) = &self.space {
                s1.space = s.clone();
            }
        }
        if let Some(s) = &self.step2 {
            req.step2 = Step2Law::parse(s);
        }
        req.step2_fit
            .params
            .extend(self.step2_params.iter().cloned());
        let (skip, ma) = match req.handling.step2 {
            Checkpoints::All {
                skip_fraction,
                moving_average,
            } => (skip_fraction, moving_average),
            _ => (0.0, 1),
        };
        let skip = self.skip_fraction.unwrap_or(skip);
        let ma = self.moving_average.unwrap_or(ma);
        if !(0.0..1.0).contains(&skip) {
            return Err(Error::setting(
                format!("{{}} must be in [0, 1), got {skip}"),
                &["skip_fraction"],
            ));
        }
        if let Some(c) = &self.step1_checkpoints {
            req.handling.step1 = checkpoints(c, skip, ma)?;
        }
        match &self.step2_checkpoints {
            Some(c) => req.handling.step2 = checkpoints(c, skip, ma)?,
            None => {
                if let Checkpoints::All { .. } = req.handling.step2 {
                    req.handling.step2 = Checkpoints::All {
                        skip_fraction: skip,
                        moving_average: ma.max(1),
                    };
                }
            }
        }
        if self.anchor {
            req.handling.anchor = true;
        }
        for (slot, v) in [
            (&mut req.load.params_col, &self.params_col),
            (&mut req.load.tokens_col, &self.tokens_col),
            (&mut req.load.flops_col, &self.flops_col),
        ] {
            if v.is_some() {
                *slot = v.clone();
            }
        }
        if let Some(u) = self.flops_unit {
            req.flops_unit = u;
        }
        let mut targets: Vec<Target> = self.targets.iter().cloned().map(Target::Run).collect();
        for p in &self.at {
            let (n, d) = p.split_once(':').ok_or_else(|| {
                Error::setting(format!("{{}} {p:?} is not N:D, e.g. 7B:4T"), &["at"])
            })?;
            targets.push(Target::Point {
                n: quantity(n)?,
                d: quantity(d)?,
            });
        }
        targets.extend(self.at_flops.iter().map(|&c| Target::Compute { c }));
        if targets.is_empty() && self.backtest.is_empty() {
            return Err(Error::setting(
                "nothing to predict: give {} RUN, {} N:D, {} C or {} C",
                &["target", "at", "at_flops", "backtest"],
            ));
        }
        if !targets.is_empty() && !self.backtest.is_empty() {
            return Err(Error::setting(
                "a backtest predicts the runs above each cutoff: give {} without {}, {} and {}",
                &["backtest", "target", "at", "at_flops"],
            ));
        }
        req.targets = targets;
        req.replicates = self.bootstrap;
        req.seed = self.seed;
        req.level = self.level;
        Ok(req)
    }
}

/// Set the tasks' weights from `NAME=W` settings: every task named exactly once (none named:
/// every weight stays as it is).
fn set_weights(tasks: &mut [Task], specs: &[String]) -> Result<()> {
    if specs.is_empty() {
        return Ok(());
    }
    let names = tasks
        .iter()
        .map(|t| t.name.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let mut seen = vec![false; tasks.len()];
    for spec in specs {
        let (name, w) = spec.rsplit_once('=').ok_or_else(|| {
            Error::setting(
                format!("{{}} {spec:?} is not NAME=WEIGHT"),
                &["task_weight"],
            )
        })?;
        let w: f64 = w
            .trim()
            .parse()
            .ok()
            .filter(|w: &f64| w.is_finite() && *w >= 0.0)
            .ok_or_else(|| {
                Error::setting(
                    format!("{{}} {spec:?}: the weight must be a finite number >= 0"),
                    &["task_weight"],
                )
            })?;
        let i = tasks
            .iter()
            .position(|t| t.name == name.trim())
            .ok_or_else(|| {
                Error::setting(
                    format!("{{}} {spec:?}: no task is named {name:?} (tasks: {names})"),
                    &["task_weight"],
                )
            })?;
        if std::mem::replace(&mut seen[i], true) {
            return Err(Error::setting(
                format!("{{}}: task {name:?} is given a weight twice"),
                &["task_weight"],
            ));
        }
        tasks[i].weight = w;
    }
    let missing: Vec<&str> = tasks
        .iter()
        .zip(&seen)
        .filter(|(_, s)| !**s)
        .map(|(t, _)| t.name.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(Error::setting(
            format!(
                "{{}} is given for some tasks but not for {}: give every task a weight",
                missing.join(", ")
            ),
            &["task_weight"],
        ));
    }
    Ok(())
}
