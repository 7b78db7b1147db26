//! Fitting a law to runs: the objective of Hoffmann et al. (2022, App. D.2), BFGS from
//! several starts in parallel, and an honest report of how the fit ended.
//!
//! # Formula
//! For the Chinchilla form the fit minimises
//! `sum_i Huber_delta(LSE(a - alpha ln N_i, b - beta ln D_i, e) - ln L_i)` over
//! `(e, a, b, alpha, beta)` with `E, A, B = exp(e, a, b)` and delta = 1e-3 by default.

pub mod bfgs;
mod general;
mod identify;
mod names;
pub mod newton;
pub mod objective;
mod replicates;
pub mod starts;

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

pub use general::{column_for, design, Columns, Design, GeneralProblem};
pub use identify::{
    collinear, Identifiability, Unidentified, COLLINEAR_REASON, SINGULAR_RATIO_THRESHOLD,
};
pub use names::{joint_config, FitNames, LAWS, PENALTIES, REDUCTIONS, SPACES, STARTS, VARIABLES};
pub use objective::{ETerm, Objective, Penalty, Problem, Reduction, Space};
pub use replicates::Bootstrap;

use crate::data::{Exclusion, Filters, RoleSources, Runs};
use crate::error::{Error, Result};
use crate::law::{Domain, Law, LawForm, Optimum, Variable};

/// How starting points are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StartStrategy {
    /// Variable projection over the exponents with exact NNLS for the coefficients, then a
    /// BFGS polish from the best distinct basins (the default).
    VarPro,
    /// The 4500-point grid of Hoffmann et al. (2022, App. D.2), BFGS from every point.
    Chinchilla,
    /// Every point of the form's start grid as a BFGS start, screened at scipy's stop with
    /// hopeless starts abandoned ([`starts::screen`]), the best [`POLISH`] polished. For the
    /// Chinchilla and power forms on their kernel the grid is the paper's
    /// ([`StartStrategy::Chinchilla`], which the fit then records); for other forms, formulas,
    /// and the two kernel forms when they take the generic path (bounds, fixed parameters
    /// other than E, weights, asymmetry) it is every point of their variable-projection grid,
    /// with the linear parameters solved at each.
    Grid,
}

impl StartStrategy {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            StartStrategy::VarPro => "varpro",
            StartStrategy::Chinchilla => "chinchilla",
            StartStrategy::Grid => "grid",
        }
    }
}

/// Everything that determines a fit besides the data.
#[derive(Debug, Clone)]
pub struct FitConfig {
    /// The law's form.
    pub form: LawForm,
    /// Fix E at this value (0 removes the term) instead of fitting it.
    pub fixed_e: Option<f64>,
    /// The objective.
    pub objective: Objective,
    /// The starting-point strategy.
    pub starts: StartStrategy,
    /// Number of basins polished by the variable-projection strategy.
    pub varpro_seeds: usize,
    /// Optimiser settings.
    pub optimizer: bfgs::Options,
    /// Parameters held fixed (name -> value; the generic path; E alone on the Chinchilla or
    /// power law is `fixed_e`).
    pub fixed: BTreeMap<String, f64>,
    /// Bounds on parameters (name -> domain; the generic path).
    pub bounds: BTreeMap<String, Domain>,
    /// Per-run weights w_i >= 0 multiplying each run's penalty (the generic path); `None`
    /// for equal weights.
    pub weights: Option<Vec<f64>>,
    /// The column the weights came from (recorded in the conventions).
    pub weight_column: Option<String>,
    /// Asymmetric penalty k > 0: a run whose loss the law over-predicts (residual > 0) is
    /// charged k times the penalty of an equal under-prediction (the generic path; OLMo-core
    /// and kyo-takano's fitting code use such an objective so the law follows the best
    /// achievable loss when some runs are under-tuned). `None` (or k = 1) is symmetric.
    pub asymmetric: Option<f64>,
    /// Extra starting points (natural parameters, in the form's order) polished besides the
    /// generic path's own seeds (a joint fit starts from its groups' separate fits).
    pub extra_starts: Vec<Vec<f64>>,
}

impl FitConfig {
    /// True when the fit runs on the fast four-lane kernel: the Chinchilla or power form with
    /// nothing fixed but E and no bounds.
    pub fn uses_kernel(&self) -> bool {
        self.form.has_kernel()
            && self.fixed.is_empty()
            && self.bounds.is_empty()
            && self.weights.is_none()
            && self.weight_column.is_none()
            && self.asymmetric.is_none()
            && self.extra_starts.is_empty()
    }
}

impl Default for FitConfig {
    fn default() -> Self {
        FitConfig {
            form: LawForm::Chinchilla,
            fixed_e: None,
            objective: Objective::default(),
            starts: StartStrategy::VarPro,
            varpro_seeds: 8,
            optimizer: bfgs::Options::default(),
            fixed: BTreeMap::new(),
            bounds: BTreeMap::new(),
            weights: None,
            weight_column: None,
            asymmetric: None,
            extra_starts: Vec::new(),
        }
    }
}

/// How the fit ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The best start converged and no parameter is at a bound.
    Converged,
    /// The best start hit the iteration limit.
    IterationLimit,
    /// The best start's line search failed with a gradient that is not small.
    LineSearchFailed,
    /// Converged, but a parameter sits at the edge of its domain (E = 0, a term vanished).
    AtBound,
    /// No start had a finite objective.
    NonFinite,
}

impl Status {
    /// The string written in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Converged => "converged",
            Status::IterationLimit => "iteration_limit",
            Status::LineSearchFailed => "line_search_failed",
            Status::AtBound => "at_bound",
            Status::NonFinite => "non_finite",
        }
    }
}

/// What the starts did.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StartsReport {
    /// `varpro`, `chinchilla` (the paper's grid) or `grid` (every point of a form's own grid).
    pub strategy: StartStrategy,
    /// Number of BFGS runs.
    pub count: usize,
    /// How many ended within `tolerance` (relative) of the best objective.
    pub reached_best: usize,
    /// The relative tolerance used for `reached_best`.
    pub tolerance: f64,
    /// Distinct optima (parameters apart by more than 1e-3 relative) that reached the best
    /// objective, which the data cannot tell apart, when the one reported is not the lowest
    /// (by rounding) but the one whose parameters the data determine best: the fewest
    /// unidentified, then weakly determined, parameters (see `most_identified`). Absent from
    /// the JSON (0) when the lowest is reported: a single optimum, or ties whose parameters the
    /// data determine equally (E at 0 with ln E at -20 or -30, say).
    #[serde(default, skip_serializing_if = "at_most_one")]
    pub tied_optima: usize,
    /// How the runs ended, by termination.
    pub terminations: BTreeMap<String, usize>,
    /// Exponent-grid points scanned by variable projection (0 for the grid strategy).
    pub profile_points: usize,
    /// How the grid's starts were screened and abandoned, and the evaluations spent (grid
    /// strategy only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screen: Option<starts::ScreenReport>,
    /// Where each BFGS run started, in natural parameters (the generic path of formulas and
    /// non-kernel forms; the kernel's starts are the grid or its variable-projection seeds).
    /// Absent when there are more than [`MAX_LISTED_STARTS`] (a grid over many nonlinear
    /// parameters), so that the JSON stays readable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seeds: Option<Vec<BTreeMap<String, f64>>>,
}

/// The optimiser's account of the best start.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OptimizerReport {
    /// The method.
    pub method: String,
    /// Iterations of the best start.
    pub iterations: usize,
    /// Objective evaluations of the best start.
    pub evaluations: usize,
    /// Largest gradient component at the optimum (free parameters, fitted scale).
    pub gradient_max_abs: f64,
    /// Gradient tolerance.
    pub gtol: f64,
    /// Iteration limit.
    pub max_iter: usize,
}

/// Which runs were used.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunsReport {
    /// The file.
    pub source: String,
    /// Data rows in the file.
    pub rows_in_file: usize,
    /// Runs used in the fit.
    pub used: usize,
    /// Rows left out.
    pub excluded_count: usize,
    /// Rows left out, with reasons.
    pub excluded: Vec<Exclusion>,
}

/// Every convention that changes a number, so a fit can be reproduced from its JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Conventions {
    /// The objective written out.
    pub objective: String,
    /// `huber` or `squared`.
    pub penalty: String,
    /// Huber's delta (null for squared error).
    pub delta: Option<f64>,
    /// `log` or `linear` residuals.
    pub space: Space,
    /// `sum` or `mean`.
    pub reduction: Reduction,
    /// How predictions are computed.
    pub prediction: String,
    /// Parameters held fixed (name -> value).
    pub fixed: BTreeMap<String, f64>,
    /// The FLOP model used to derive missing quantities and the optimum.
    pub flops_model: String,
    /// k in C = k N D.
    pub flops_per_param_token: f64,
    /// Where N, D, C and the loss came from.
    pub columns: RoleSources,
    /// Row filters.
    pub filters: Filters,
    /// Starting strategy.
    pub starts: StartStrategy,
    /// The optimiser.
    pub optimizer: String,
    /// Random seed (null: the fit uses no randomness).
    pub seed: Option<u64>,
    /// How free parameters map to the optimiser's coordinates (generic path).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parametrisation: Option<String>,
    /// Where each variable of the law came from (symbol -> source; generic path).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub variables: BTreeMap<String, String>,
    /// Parameter domains other than the real line (name -> [low, high], null for none).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub bounds: BTreeMap<String, [Option<f64>; 2]>,
    /// How intervals for a new run (`L_opt_new_run@C`, `predict`'s `new_run_interval`) combine
    /// the bootstrap replicates with the residuals (null without a bootstrap).
    #[serde(default)]
    pub new_run_interval: Option<String>,
    /// The asymmetric penalty's k: over-prediction charged k times under-prediction (null:
    /// symmetric).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asymmetric: Option<f64>,
    /// The column holding per-run weights (null: equal weights).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights: Option<String>,
    /// How a joint fit over groups was built (base law, groups, shared and tied parameters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub joint: Option<crate::law::JointSpec>,
}

/// Quantities implied by a Chinchilla-form fit (Hoffmann et al. 2022, Eq. 4).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Implied {
    /// a = beta / (alpha + beta): N_opt ∝ C^a.
    pub a: f64,
    /// b = alpha / (alpha + beta): D_opt ∝ C^b.
    pub b: f64,
    /// G = (alpha A / (beta B))^(1/(alpha+beta)).
    #[serde(rename = "G")]
    pub g: f64,
    /// The compute-optimal point at the largest budget in the data.
    pub optimum_at_max_flops: Optimum,
    /// The compute-optimal point at 1e24 FLOPs (an extrapolation for most data).
    pub optimum_at_1e24: Optimum,
}

/// Smallest and largest values of each quantity in the runs used.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DataRange {
    /// N range.
    pub params: Option<[f64; 2]>,
    /// D range.
    pub tokens: Option<[f64; 2]>,
    /// C range.
    pub flops: Option<[f64; 2]>,
    /// Loss range.
    pub loss: [f64; 2],
}

/// The runs a fit used, in order. Empty vectors for quantities the runs did not have.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FitData {
    /// N per run.
    pub params: Vec<f64>,
    /// D per run.
    pub tokens: Vec<f64>,
    /// C per run.
    pub flops: Vec<f64>,
    /// Loss per run.
    pub loss: Vec<f64>,
    /// 1-based file row per run.
    pub rows: Vec<usize>,
    /// Other columns the law read (U, S, named columns), by header.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub columns: BTreeMap<String, Vec<f64>>,
}

/// A fitted law with everything needed to judge and reproduce it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Fit {
    /// The form's name (`chinchilla`, `power`).
    pub law: String,
    /// The variable of a power law.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x: Option<Variable>,
    /// The formula.
    pub formula: String,
    /// Fitted parameters (natural scale); null for a parameter the data cannot identify.
    pub params: BTreeMap<String, Option<f64>>,
    /// What each parameter means.
    pub meanings: BTreeMap<String, String>,
    /// The fitted log-scale values (e = ln E, a = ln A, b = ln B) and exponents, exactly as
    /// optimised.
    pub internal: BTreeMap<String, f64>,
    /// The objective at the optimum.
    pub objective: f64,
    /// How the fit ended.
    pub status: Status,
    /// The same in words.
    pub status_detail: String,
    /// Parameters at the edge of their domain: `E` at 0, or the coefficient of a term that
    /// vanished (whose exponent is then not identified).
    pub at_bound: Vec<String>,
    /// What the starts did.
    pub starts: StartsReport,
    /// The optimiser's account.
    pub optimizer: OptimizerReport,
    /// Runs used and excluded.
    pub runs: RunsReport,
    /// Conventions.
    pub conventions: Conventions,
    /// Which parameters the data determine.
    pub identifiability: Identifiability,
    /// What the law implies (Chinchilla form with positive exponents).
    pub implied: Option<Implied>,
    /// The range of the data.
    pub data_range: DataRange,
    /// How strongly the log residuals are correlated within groups of runs (by model size):
    /// see [`residual_correlation`].
    #[serde(default)]
    pub residual_correlation: Vec<ResidualCorrelation>,
    /// Things the reader should know.
    pub warnings: Vec<String>,
    /// The runs fitted (N, D, C, loss and file row of each), so a saved fit can be tested
    /// and bootstrapped again without its source file.
    pub data: FitData,
    /// Residual of each run at the optimum (log or linear, as `conventions.space` says), in
    /// the order of the runs used.
    pub residuals: Vec<f64>,
    /// Percentile intervals (name -> [low, high]) when the fit was bootstrapped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intervals: Option<BTreeMap<String, [f64; 2]>>,
    /// Bootstrap standard errors (name -> value) when the fit was bootstrapped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub std_errors: Option<BTreeMap<String, f64>>,
    /// The bootstrap replicates, kept so later commands can put intervals on their answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bootstrap: Option<Bootstrap>,
    /// The optimum as free parameters of the fitting problem (not serialised).
    #[serde(skip)]
    pub theta: Vec<f64>,
    /// Distinct local optima the starts found, best first (free parameters; not serialised).
    #[serde(skip)]
    pub basins: Vec<Vec<f64>>,
    /// BFGS's inverse-Hessian approximation at the optimum (not serialised), used to
    /// warm-start refits of resampled data.
    #[serde(skip)]
    pub inv_hessian: Vec<f64>,
}

impl Fit {
    /// The fitted law, or `None` when the data could not identify some parameter.
    pub fn law(&self) -> Option<Law> {
        let form = self.form();
        let vals: Option<Vec<f64>> = form
            .param_names()
            .iter()
            .map(|n| self.params.get(n).copied().flatten())
            .collect();
        Law::new(form, vals?).ok()
    }

    /// The settings that produced this fit, rebuilt from its recorded conventions.
    pub fn config(&self) -> FitConfig {
        let form = self.form();
        let generic = !form.has_kernel() || self.conventions.parametrisation.is_some();
        let (fixed_e, fixed) = if generic {
            (None, self.conventions.fixed.clone())
        } else {
            (self.conventions.fixed.get("E").copied(), BTreeMap::new())
        };
        let bounds = if generic {
            self.conventions
                .bounds
                .iter()
                .map(|(n, [lo, hi])| {
                    (
                        n.clone(),
                        Domain::bounded(
                            lo.unwrap_or(f64::NEG_INFINITY),
                            hi.unwrap_or(f64::INFINITY),
                        ),
                    )
                })
                .filter(|(n, d)| {
                    form.form()
                        .params()
                        .iter()
                        .any(|s| &s.name == n && s.domain != *d)
                })
                .collect()
        } else {
            BTreeMap::new()
        };
        FitConfig {
            form,
            fixed_e,
            fixed,
            bounds,
            objective: Objective {
                penalty: match self.conventions.delta {
                    Some(delta) if self.conventions.penalty == "huber" => Penalty::Huber { delta },
                    _ => Penalty::Squared,
                },
                space: self.conventions.space,
                reduction: self.conventions.reduction,
            },
            starts: self.conventions.starts,
            asymmetric: self.conventions.asymmetric,
            ..FitConfig::default()
        }
    }

    /// The optimum as free parameters `[e, a_1.., alpha_1..]` (e only when E was fitted),
    /// from [`Fit::theta`] or, for a fit read from a file, from [`Fit::internal`].
    pub fn free_theta(&self) -> Vec<f64> {
        if !self.theta.is_empty() {
            return self.theta.clone();
        }
        if self.conventions.parametrisation.is_some() {
            return self
                .form()
                .param_names()
                .iter()
                .filter(|n| !self.conventions.fixed.contains_key(*n))
                .map(|n| self.internal.get(n).copied().unwrap_or(f64::NAN))
                .collect();
        }
        let names = self.form().param_names();
        let k = self.form().variables().len();
        let logs: &[&str] = if k == 2 { &["a", "b"] } else { &["a"] };
        let mut out = Vec::new();
        if let Some(e) = self.internal.get("e") {
            out.push(*e);
        }
        for l in logs {
            out.push(self.internal.get(*l).copied().unwrap_or(f64::NAN));
        }
        for n in &names[1 + k..] {
            out.push(self.internal.get(n).copied().unwrap_or(f64::NAN));
        }
        out
    }

    /// The runs this fit used, rebuilt from [`Fit::data`].
    pub fn runs(&self) -> Runs {
        Runs {
            source: self.runs.source.clone(),
            total_rows: self.runs.rows_in_file,
            params: self.data.params.clone(),
            tokens: self.data.tokens.clone(),
            flops: self.data.flops.clone(),
            loss: self.data.loss.clone(),
            rows: self.data.rows.clone(),
            sources: self.conventions.columns.clone(),
            excluded: self.runs.excluded.clone(),
            flops_per_param_token: self.conventions.flops_per_param_token,
            filters: self.conventions.filters.clone(),
        }
    }

    /// Read a saved fit (the JSON of `scaling fit --out`) and check it with [`Fit::validate`].
    ///
    /// # Errors
    /// [`Error::LawFile`] naming `path` when the text is not a fit or the fit is inconsistent.
    pub fn from_json_str(path: &str, text: &str) -> Result<Fit> {
        let fit: Fit = serde_json::from_str(text).map_err(|e| Error::LawFile {
            path: path.to_string(),
            message: format!("not a saved fit ({e})"),
        })?;
        fit.validate(path)?;
        Ok(fit)
    }

    /// Check a fit read from a file before anything indexes into it: a file edited by hand
    /// (or cut short) must give an error, not a panic or a NaN. Checks that the parameters
    /// are finite, the per-run data and residuals have one entry per run, the conventions'
    /// k is positive, and the bootstrap (when present) has a level in (0, 1), as many samples
    /// as it declares replicates, one value per parameter name in each sample, and per-replicate
    /// statuses of the same length.
    ///
    /// # Errors
    /// [`Error::LawFile`] naming `path` and the first inconsistency found.
    pub fn validate(&self, path: &str) -> Result<()> {
        let bad = |m: String| {
            Err(Error::LawFile {
                path: path.to_string(),
                message: format!("not a usable saved fit: {m}"),
            })
        };
        for (name, v) in &self.params {
            if let Some(v) = v {
                if !v.is_finite() {
                    return bad(format!("params.{name} is {v}"));
                }
            }
        }
        let k = self.conventions.flops_per_param_token;
        if !(k.is_finite() && k > 0.0) {
            return bad(format!("conventions.flops_per_param_token is {k}"));
        }
        let d = &self.data;
        let n = d.loss.len();
        if self.residuals.len() != n {
            return bad(format!(
                "{} residuals for {n} runs in data.loss",
                self.residuals.len()
            ));
        }
        for (key, col) in [
            ("params", &d.params),
            ("tokens", &d.tokens),
            ("flops", &d.flops),
        ] {
            if !col.is_empty() && col.len() != n {
                return bad(format!("data.{key} has {} values for {n} runs", col.len()));
            }
            if let Some(v) = col.iter().find(|v| !(v.is_finite() && **v > 0.0)) {
                return bad(format!("data.{key} holds {v}, not a positive number"));
            }
        }
        if let Some(v) = d.loss.iter().find(|v| !(v.is_finite() && **v > 0.0)) {
            return bad(format!("data.loss holds {v}, not a positive number"));
        }
        if !d.rows.is_empty() && d.rows.len() != n {
            return bad(format!(
                "data.rows has {} entries for {n} runs",
                d.rows.len()
            ));
        }
        let form = self.form();
        for v in form.variables() {
            let col = match v {
                Variable::Params => &d.params,
                Variable::Tokens => &d.tokens,
                Variable::Flops => &d.flops,
            };
            if col.len() != n {
                return bad(format!(
                    "the law uses {} but data has {} values of it for {n} runs",
                    v.symbol(),
                    col.len()
                ));
            }
        }
        if let Some(b) = &self.bootstrap {
            if !(b.level > 0.0 && b.level < 1.0) {
                return bad(format!(
                    "bootstrap.level is {}, not between 0 and 1",
                    b.level
                ));
            }
            if b.samples.len() != b.replicates {
                return bad(format!(
                    "bootstrap.samples has {} rows but bootstrap.replicates is {}",
                    b.samples.len(),
                    b.replicates
                ));
            }
            let names = form.param_names();
            if b.param_names.len() != names.len()
                || b.param_names.iter().zip(&names).any(|(a, b)| a != b)
            {
                return bad(format!(
                    "bootstrap.param_names is {:?}, the {} law's are {names:?}",
                    b.param_names,
                    form.name()
                ));
            }
            if let Some((i, s)) = b
                .samples
                .iter()
                .enumerate()
                .find(|(_, s)| s.len() != names.len())
            {
                return bad(format!(
                    "bootstrap sample {} has {} values for {} parameters",
                    i + 1,
                    s.len(),
                    names.len()
                ));
            }
            for (key, len) in [
                ("replicate_status", b.replicate_status.len()),
                ("at_bound", b.at_bound.len()),
            ] {
                if len != 0 && len != b.samples.len() {
                    return bad(format!(
                        "bootstrap.{key} has {len} entries for {} samples",
                        b.samples.len()
                    ));
                }
            }
            if let Some(c) = b.budgets.iter().find(|c| !(c.is_finite() && **c > 0.0)) {
                return bad(format!("bootstrap.budgets holds {c}"));
            }
        }
        Ok(())
    }

    /// The fitted form.
    ///
    /// # Panics
    /// For a formula fit whose formula does not parse; [`Fit::try_form`] checks a fit read
    /// from a file.
    pub fn form(&self) -> LawForm {
        self.try_form()
            .expect("a fit's formula parses (checked when it was read)")
    }

    /// The fitted form, or why a fit (read from a file, say) does not name a known one.
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] for an unknown law name or a formula that does not parse.
    pub fn try_form(&self) -> Result<LawForm> {
        if self.law == "joint" {
            let spec = self.conventions.joint.as_ref().ok_or_else(|| {
                Error::InvalidSetting("a joint fit without conventions.joint".into())
            })?;
            let cols: Vec<&str> = self
                .conventions
                .variables
                .keys()
                .map(|s| s.as_str())
                .collect();
            let j = crate::law::Joint::from_spec(spec, &cols)?;
            return Ok(LawForm::Joint(std::sync::Arc::new(j)));
        }
        if self.law == "formula" {
            let cols: Vec<&str> = self
                .conventions
                .variables
                .keys()
                .map(|s| s.as_str())
                .collect();
            let f = crate::law::Formula::parse(&self.formula, &cols)?;
            return Ok(LawForm::Formula(std::sync::Arc::new(f)));
        }
        LawForm::builtin(&self.law, self.x)
            .ok_or_else(|| Error::InvalidSetting(format!("unknown law {:?} in the fit", self.law)))
    }
}

/// Which quantities a form needs from the table.
///
/// # Examples
/// ```
/// use scaling::law::{LawForm, Variable};
/// let n = scaling::fit::needs(&LawForm::Power { x: Variable::Flops });
/// assert!(n.flops && !n.params && !n.tokens);
/// ```
pub fn needs(form: &LawForm) -> crate::data::Needs {
    let mut n = crate::data::Needs::default();
    for v in form.variables() {
        match v {
            Variable::Params => n.params = true,
            Variable::Tokens => n.tokens = true,
            Variable::Flops => n.flops = true,
        }
    }
    n
}

fn column_of(runs: &Runs, v: Variable) -> &[f64] {
    match v {
        Variable::Params => &runs.params,
        Variable::Tokens => &runs.tokens,
        Variable::Flops => &runs.flops,
    }
}

/// Build the optimisation problem for `runs` under `config`.
///
/// # Errors
/// Invalid settings (delta, fixed E) or missing quantities.
pub fn problem(runs: &Runs, config: &FitConfig) -> Result<Problem> {
    if !config.form.has_kernel() {
        return Err(Error::InvalidSetting(format!(
            "the {} law has no fast kernel problem; it is fitted by the generic path",
            config.form.name()
        )));
    }
    if let Penalty::Huber { delta } = config.objective.penalty {
        if !(delta.is_finite() && delta > 0.0) {
            return Err(Error::setting(
                format!("{{}} must be a positive number, got {delta}"),
                &["delta"],
            ));
        }
    }
    let e_term = match config.fixed_e {
        None => ETerm::Free,
        Some(0.0) => ETerm::Absent,
        Some(e) if e.is_finite() && e > 0.0 => ETerm::Fixed { ln_e: e.ln() },
        Some(e) => {
            return Err(Error::setting(
                format!("{{}} must be 0 or a positive loss, got {e}"),
                &["fix_e"],
            ))
        }
    };
    let mut ln_x = Vec::new();
    for v in config.form.variables() {
        let col = column_of(runs, v);
        if col.len() != runs.len() {
            return Err(Error::InsufficientData(format!(
                "{}: the {} law needs {} for every run",
                runs.source,
                config.form.name(),
                v.name()
            )));
        }
        ln_x.push(col.iter().map(|x| x.ln()).collect());
    }
    Ok(Problem::new(ln_x, &runs.loss, e_term, config.objective))
}

/// Relative tolerance for counting starts that reached the best objective.
pub const SAME_OPTIMUM_RTOL: f64 = 1e-7;

/// Absolute floor of the tolerance for counting starts that reached the best objective (and
/// so for the "several basins" warning): objectives that differ by less than this are the
/// same optimum. On noise-free data the optimum is near 1e-27 and a relative tolerance alone
/// would call rounding noise another basin. 1e-14 is a log residual of about 1.4e-7 in the
/// default mean Huber objective, far below any real data's objective (1e-4 to 1e-2).
pub const SAME_OPTIMUM_ATOL: f64 = 1e-14;

pub use starts::SCREEN_FTOL_REL;

/// A screened grid start counts as having reached the best objective within this relative
/// tolerance of the polished optimum.
pub const SCREEN_REACH_RTOL: f64 = 1e-6;

/// A fit lists its starts (`starts.seeds`) only up to this many.
pub const MAX_LISTED_STARTS: usize = 10_000;

/// Number of best screened grid starts polished to full convergence.
pub const POLISH: usize = 8;

/// Fit `config.form` to `runs`.
///
/// # Examples
/// ```
/// let law = scaling::law::presets::get("epoch").unwrap().law.unwrap();
/// let design = scaling::simulate::isoflop_design(&law, &[1e18, 1e19, 1e20], 6, 1.5, 6.0);
/// let runs = scaling::simulate::sample_runs(&law, &design, 0.001, 1, "synthetic").unwrap();
/// let f = scaling::fit::fit(&runs, &scaling::fit::FitConfig::default()).unwrap();
/// assert!((f.params["alpha"].unwrap() - law.params[3]).abs() < 0.01);
/// assert_eq!(f.status, scaling::fit::Status::Converged);
/// ```
///
/// # Errors
/// [`Error::InvalidSetting`] for bad settings, [`Error::InsufficientData`] when there are
/// fewer runs than free parameters.
pub fn fit(runs: &Runs, config: &FitConfig) -> Result<Fit> {
    fit_with_columns(runs, &Columns::new(), config)
}

/// Fit `config.form` to `runs`, reading the variables the runs do not hold (U, S, named
/// columns) from `columns` (header -> one value per run). The Chinchilla and power forms
/// with at most E fixed run on the fast kernel; every other form, and any fit with fixed or
/// bounded parameters, on the generic path over [`crate::law::Form`].
///
/// # Errors
/// As [`fit`]; also a variable the runs and `columns` lack.
pub fn fit_with_columns(runs: &Runs, columns: &Columns, config: &FitConfig) -> Result<Fit> {
    let mut fit = if config.uses_kernel() {
        if config.starts == StartStrategy::Grid {
            // The kernel forms' exhaustive grid is the paper's.
            let mut paper = config.clone();
            paper.starts = StartStrategy::Chinchilla;
            fit_kernel(runs, &paper)?
        } else {
            fit_kernel(runs, config)?
        }
    } else {
        general::fit_general(runs, columns, config)?
    };
    if runs.params.len() == runs.len() && fit.residuals.len() == runs.len() {
        // Borrowed in log space: a fit of 1e6 runs needs no second copy of its residuals.
        let ln_res: std::borrow::Cow<[f64]> = match config.objective.space {
            Space::Log => std::borrow::Cow::Borrowed(&fit.residuals),
            // r = L_hat - L, so ln L_hat - ln L = ln(1 + r / L).
            Space::Linear => fit
                .residuals
                .iter()
                .zip(&runs.loss)
                .map(|(r, l)| (r / l).ln_1p())
                .collect(),
        };
        let keys = size_ids(&runs.params, SIZE_TOLERANCE);
        if let Some(rc) = residual_correlation("N", &keys, &ln_res) {
            if rc.material {
                fit.warnings.push(rc.warning(false));
            }
            fit.residual_correlation.push(rc);
        }
    }
    Ok(fit)
}

/// Relative tolerance within which two parameter counts are one model size (0.1%): published
/// tables are often digitised, so one model's N appears as 1.0e8, 1.0004e8, ... (Epoch AI's
/// 245 runs hold 142 distinct values of N but 43 sizes at this tolerance).
pub const SIZE_TOLERANCE: f64 = 1e-3;

/// A label per value naming its model size: sorted values whose consecutive ratio is at most
/// `1 + rel_tol` form one size (single linkage), labelled by its smallest value (`{:e}`).
/// Non-finite values are their own size.
///
/// ```
/// let n = [1e8, 2e8, 1.0004e8, 2.0001e8, 5e8];
/// let k = scaling::fit::size_clusters(&n, 1e-3);
/// assert_eq!(k[0], k[2]);
/// assert_eq!(k[1], k[3]);
/// assert_ne!(k[0], k[1]);
/// assert_eq!(k[4], "5e8");
/// ```
pub fn size_clusters(values: &[f64], rel_tol: f64) -> Vec<String> {
    let ids = size_ids(values, rel_tol);
    let mut smallest: Vec<Option<f64>> =
        vec![None; ids.iter().max().map_or(0, |m| *m as usize + 1)];
    for (&id, &v) in ids.iter().zip(values) {
        let s = &mut smallest[id as usize];
        if s.is_none_or(|m| v.total_cmp(&m).is_lt()) {
            *s = Some(v);
        }
    }
    let labels: Vec<String> = smallest
        .iter()
        .map(|v| format!("{:e}", v.unwrap_or(f64::NAN)))
        .collect();
    ids.iter().map(|&id| labels[id as usize].clone()).collect()
}

/// The model size of each value as a number (0, 1, ... from the smallest): sorted values whose
/// consecutive ratio is at most `1 + rel_tol` share a size (single linkage), and each
/// non-finite value is its own. 4 bytes per run; [`size_clusters`] labels the same sizes.
///
/// ```
/// let ids = scaling::fit::size_ids(&[1e8, 2e8, 1.0004e8, 5e8], 1e-3);
/// assert_eq!(ids[0], ids[2]);
/// assert_ne!(ids[0], ids[1]);
/// ```
pub fn size_ids(values: &[f64], rel_tol: f64) -> Vec<u32> {
    let mut order: Vec<u32> = (0..values.len() as u32).collect();
    order.sort_by(|&a, &b| values[a as usize].total_cmp(&values[b as usize]));
    let mut out = vec![0u32; values.len()];
    let (mut id, mut prev) = (0u32, f64::NAN);
    for (k, i) in order.into_iter().enumerate() {
        let v = values[i as usize];
        if k > 0 && !(v.is_finite() && prev.is_finite() && v <= prev * (1.0 + rel_tol)) {
            id += 1;
        }
        out[i as usize] = id;
        prev = v;
    }
    out
}

/// Intra-class correlation above which correlated residuals are called material (with at
/// least [`ICC_MIN_GROUPS`] groups of which some hold two or more runs).
pub const ICC_MATERIAL: f64 = 0.05;

/// Fewest groups for a material intra-class correlation.
pub const ICC_MIN_GROUPS: usize = 5;

/// Fewest groups holding two runs or more for a material intra-class correlation.
pub const ICC_MIN_REPEATED: usize = 3;

/// The intra-class correlation of the log residuals within groups of runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResidualCorrelation {
    /// What the groups are (`N`: runs of one model size).
    pub by: String,
    /// Number of groups.
    pub groups: usize,
    /// One-way ANOVA estimate of the intra-class correlation (may be negative).
    pub icc: f64,
    /// `icc > ICC_MATERIAL` with at least `ICC_MIN_GROUPS` groups, `ICC_MIN_REPEATED` of them
    /// holding two runs or more, and residuals above rounding (RMS > 1e-9).
    pub material: bool,
}

impl ResidualCorrelation {
    /// The warning a material correlation gives: that runs of one size are not independent,
    /// with the advice to resample model sizes, or, once a bootstrap has resampled them
    /// (`sizes_resampled`), saying so.
    pub fn warning(&self, sizes_resampled: bool) -> String {
        let head = format!(
            "the log residuals are correlated within a model size (intra-class correlation {} \
             over {} sizes): runs of one size are not independent, so the run-level bootstrap \
             understates the uncertainty",
            crate::num::sig(self.icc, 2),
            self.groups
        );
        if sizes_resampled {
            head + "; the bootstrap resampled model sizes, as it should"
        } else {
            head + "; resample by model size (cluster column N)"
        }
    }
}

/// One-way random-effects ANOVA estimate of the intra-class correlation of `values` grouped by
/// `keys` (Fisher 1925; unbalanced groups as in Searle, Casella & McCulloch 1992, 3.6):
/// `ICC = (MSB - MSW) / (MSB + (n0 - 1) MSW)` with `n0 = (n - sum n_g^2 / n) / (G - 1)`.
/// None when there are fewer than 2 groups or no group holds two runs.
///
/// ```
/// // Groups {1, 3} and {5, 7}: MSB = 16, MSW = 2, n0 = 2, so ICC = 14 / 18.
/// let keys: Vec<String> = ["a", "a", "b", "b"].iter().map(|s| s.to_string()).collect();
/// let rc = scaling::fit::residual_correlation("N", &keys, &[1.0, 3.0, 5.0, 7.0]).unwrap();
/// assert!((rc.icc - 14.0 / 18.0).abs() < 1e-12);
/// assert_eq!(rc.groups, 2);
/// ```
pub fn residual_correlation<K: Ord>(
    by: &str,
    keys: &[K],
    values: &[f64],
) -> Option<ResidualCorrelation> {
    // Runs sorted by group, then one pass per group: memory of one index per run.
    let mut idx: Vec<u32> = (0..keys.len().min(values.len()) as u32)
        .filter(|&i| values[i as usize].is_finite())
        .collect();
    idx.sort_by(|&a, &b| keys[a as usize].cmp(&keys[b as usize]));
    let n = idx.len();
    // (size, mean) of every group.
    let mut groups: Vec<(usize, f64)> = Vec::new();
    let (mut ssw, mut sum_sq_sizes, mut total) = (0.0, 0.0, 0.0);
    let mut start = 0;
    while start < n {
        let key = &keys[idx[start] as usize];
        let mut end = start + 1;
        while end < n && keys[idx[end] as usize] == *key {
            end += 1;
        }
        let v = |k: usize| values[idx[k] as usize];
        let len = end - start;
        let m = (start..end).map(v).sum::<f64>() / len as f64;
        ssw += (start..end).map(|k| (v(k) - m) * (v(k) - m)).sum::<f64>();
        sum_sq_sizes += (len * len) as f64;
        for k in start..end {
            total += v(k);
        }
        groups.push((len, m));
        start = end;
    }
    let g = groups.len();
    if g < 2 || n <= g {
        return None;
    }
    let grand = total / n as f64;
    let ssb: f64 = groups
        .iter()
        .map(|&(len, m)| len as f64 * (m - grand) * (m - grand))
        .sum();
    let msb = ssb / (g - 1) as f64;
    let msw = ssw / (n - g) as f64;
    let n0 = (n as f64 - sum_sq_sizes / n as f64) / (g - 1) as f64;
    let denom = msb + (n0 - 1.0) * msw;
    let icc = if denom > 0.0 {
        (msb - msw) / denom
    } else {
        0.0
    };
    // Material only when several groups repeat a size (one pair says nothing) and the
    // residuals are above rounding (exact data has no correlation to speak of).
    let repeated = groups.iter().filter(|(len, _)| *len >= 2).count();
    let rms = ((ssb + ssw) / n as f64).sqrt();
    Some(ResidualCorrelation {
        by: by.to_string(),
        groups: g,
        icc,
        material: icc > ICC_MATERIAL
            && g >= ICC_MIN_GROUPS
            && repeated >= ICC_MIN_REPEATED
            && rms > 1e-9,
    })
}

/// Fit a form with a fast kernel, in six steps a reader can follow: set up the problem
/// ([`problem`], [`check_kernel_problem`]), the starts and their optimisation
/// ([`grid_search`] or [`varpro_search`]), the best end and its basins ([`Ending::of`]),
/// parameters at their bounds and identifiability ([`bounds_at`], [`identifiability_at`]),
/// how the fit ended ([`classify_end`]), and the quantities the law implies
/// ([`data_range`], [`implied`]); [`kernel_report`] assembles the result.
fn fit_kernel(runs: &Runs, config: &FitConfig) -> Result<Fit> {
    // 1. Set up the problem.
    let problem = problem(runs, config)?;
    check_kernel_problem(runs, config, &problem)?;
    let dim = problem.dim();
    // 2-3. Starts, and their optimisation.
    let search = match config.starts {
        StartStrategy::Chinchilla | StartStrategy::Grid => grid_search(runs, &problem, config)?,
        StartStrategy::VarPro => varpro_search(runs, &problem, config)?,
    };
    let e_free = problem.e_term == ETerm::Free;
    let ending = Ending::of(&search, config.starts, |x| {
        let law = Estimate::at(&problem, x, &config.form).law;
        let mut bounds = bounds_at(runs, config, &law, e_free);
        let id = identifiability_at(runs, config, &law, e_free, &mut bounds);
        (id.unidentified.len(), id.weak.len())
    });
    let estimate = Estimate::at(&problem, &ending.best.x, &config.form);
    // The problem holds five padded columns of the runs: free them before the report is
    // built (for a million runs that is 40 MB off the peak).
    let residuals = problem.residuals(&ending.best.x);
    drop(problem);
    // 4. Parameters at their bounds, and what the data identify.
    let mut nat = estimate.law.params.clone();
    let mut bounds = bounds_at(runs, config, &estimate.law, e_free);
    if bounds.e_at_zero {
        nat[0] = 0.0;
    }
    let identifiability = identifiability_at(runs, config, &estimate.law, e_free, &mut bounds);
    // 5. How the fit ended.
    let mut warnings = Vec::new();
    // A C column that disagrees with k N D: say which one each number uses.
    if let Some(w) = runs
        .sources
        .flops_check
        .as_ref()
        .and_then(|c| c.warning.clone())
    {
        warnings.push(w);
    }
    warnings.append(&mut bounds.warnings);
    warnings.extend(design_warnings(
        runs,
        config.form.param_names().len(),
        dim,
        e_free,
        &identifiability,
    ));
    warnings.extend(identifiability.weak_warning());
    warnings.extend(search_warnings(&search, &ending, config.starts));
    let (status, status_detail) = classify_end(&ending.best, &bounds.at_bound, config, runs.len());
    // 6. Quantities the law implies.
    let range = data_range(runs);
    let implied = if identifiability.identified {
        implied(runs, &config.form, &estimate.law, &range)
    } else {
        None
    };
    Ok(kernel_report(
        runs,
        config,
        KernelEnd {
            search,
            ending,
            internal: estimate.internal,
            nat,
            status,
            status_detail,
            bound_params: bounds.bound_params,
            identifiability,
            implied,
            data_range: range,
            warnings,
            residuals,
        },
    ))
}

/// Settings that only the data can rule out: a fixed E at or above the smallest loss, and
/// fewer runs than free parameters.
fn check_kernel_problem(runs: &Runs, config: &FitConfig, problem: &Problem) -> Result<()> {
    let dim = problem.dim();
    if let ETerm::Fixed { ln_e } = problem.e_term {
        let min_loss = runs.loss.iter().cloned().fold(f64::INFINITY, f64::min);
        if ln_e.exp() >= min_loss {
            return Err(Error::setting(
                format!(
                    "{{}} {} is not below the smallest loss in the data ({}): the law could not \
                     reach that run",
                    crate::num::sig(ln_e.exp(), 5),
                    crate::num::sig(min_loss, 5)
                ),
                &["fix_e"],
            ));
        }
    }
    if runs.len() < dim {
        return Err(Error::setting(
            format!(
                "{}: {} run(s) cannot determine the {dim} free parameters of the {} law ({}); \
                 add runs or fix E with {{}}",
                runs.source,
                runs.len(),
                config.form.name(),
                free_names(&config.form, &problem.e_term).join(", ")
            ),
            &["fix_e"],
        ));
    }
    Ok(())
}

/// Finite data that still overflow the law's arithmetic everywhere (values near 1e308 or
/// 1e-320) are the data's problem, not a numerical failure of the tool: exit code 2.
fn no_finite_start(runs: &Runs) -> Error {
    Error::InsufficientData(format!(
        "{}: no finite starting point: the objective overflows for these runs' values (loss {} to {}); check the table for values near the limits of floating point (1e308, 1e-308)",
        runs.source,
        crate::num::sig(runs.loss.iter().cloned().fold(f64::INFINITY, f64::min), 4),
        crate::num::sig(runs.loss.iter().cloned().fold(f64::NEG_INFINITY, f64::max), 4)
    ))
}

/// Every start and where the optimiser took it.
struct Search {
    /// Each start's end (screened for the grid, fully converged for variable projection).
    outcomes: Vec<bfgs::Outcome>,
    /// How each start ended, as written in `starts.terminations`.
    endings: Vec<String>,
    /// Indices of the finite outcomes, best first (ties by index).
    order: Vec<usize>,
    /// The best screened starts polished to full convergence (grid only).
    polished: Vec<bfgs::Outcome>,
    /// How the grid was screened.
    screen: Option<starts::ScreenReport>,
    /// Points of the exponent profile scanned for variable-projection seeds.
    profile_points: usize,
}

impl Search {
    fn new(
        runs: &Runs,
        outcomes: Vec<bfgs::Outcome>,
        endings: Vec<String>,
        profile_points: usize,
    ) -> Result<Search> {
        let mut order: Vec<usize> = (0..outcomes.len())
            .filter(|&i| outcomes[i].f.is_finite())
            .collect();
        order.sort_by(|&i, &j| outcomes[i].f.total_cmp(&outcomes[j].f).then(i.cmp(&j)));
        if order.is_empty() {
            return Err(no_finite_start(runs));
        }
        Ok(Search {
            outcomes,
            endings,
            order,
            polished: vec![],
            screen: None,
            profile_points,
        })
    }
}

/// The paper's grid of starts: every start is screened at scipy's stop rule, abandoning
/// hopeless starts after a few iterations, then the best [`POLISH`] are polished to full
/// convergence.
fn grid_search(runs: &Runs, problem: &Problem, config: &FitConfig) -> Result<Search> {
    let seeds = starts::chinchilla_grid(problem);
    if seeds.is_empty() {
        return Err(no_finite_start(runs));
    }
    let full = config.optimizer;
    let screened = starts::screen(|x, g| problem.value_grad(x, g), &seeds, full.max_iter);
    let mut screen = starts::ScreenReport::new(&screened);
    let (outcomes, endings): (Vec<bfgs::Outcome>, Vec<String>) = screened
        .starts
        .into_iter()
        .map(|s| {
            let e = s.ending();
            (s.outcome, e)
        })
        .unzip();
    let mut search = Search::new(runs, outcomes, endings, 0)?;
    let polished: Vec<bfgs::Outcome> = search
        .order
        .iter()
        .take(POLISH)
        .collect::<Vec<_>>()
        .par_iter()
        .map(|&&i| {
            bfgs::minimize(
                |x, g| problem.value_grad(x, g),
                &search.outcomes[i].x,
                &full,
            )
        })
        .collect();
    screen.polished = polished.len();
    screen.polish_evaluations = polished.iter().map(|o| o.evaluations).sum();
    search.polished = polished;
    search.screen = Some(screen);
    Ok(search)
}

/// Variable-projection seeds (a profile over the exponents with the coefficients solved
/// exactly), each polished directly with BFGS to full convergence, started from the seed's
/// exact curvature ([`newton::bfgs_from_hessian`]).
fn varpro_search(runs: &Runs, problem: &Problem, config: &FitConfig) -> Result<Search> {
    let seeds: Vec<Vec<f64>> = starts::varpro_seeds(problem, config.varpro_seeds.max(1))
        .into_iter()
        .map(|s| s.theta)
        .collect();
    let profile_points = if problem.terms() == 2 { 28 * 28 } else { 120 };
    if seeds.is_empty() {
        return Err(no_finite_start(runs));
    }
    let full = config.optimizer;
    let (outcomes, endings): (Vec<bfgs::Outcome>, Vec<String>) = seeds
        .par_iter()
        .map(|x0| {
            let outcome = newton::bfgs_from_hessian(problem, x0, &full);
            let ending = outcome.termination.name().to_string();
            (outcome, ending)
        })
        .unzip();
    Search::new(runs, outcomes, endings, profile_points)
}

/// The kernel's optimiser as the fit's JSON names it: BFGS; from variable-projection seeds
/// started with each seed's exact curvature ([`newton::bfgs_from_hessian`]), from the grid's
/// screened starts with the identity.
fn optimizer_method(strategy: StartStrategy) -> String {
    match strategy {
        StartStrategy::VarPro => format!(
            "{}, each seed's inverse-Hessian approximation started from its exact Hessian \
             (eigenvalues |l| floored at {:e} of the largest)",
            bfgs::METHOD,
            newton::SEED_CURVATURE_FLOOR
        ),
        StartStrategy::Chinchilla | StartStrategy::Grid => bfgs::METHOD.to_string(),
    }
}

/// Among optima the data cannot tell apart, the one whose parameters they determine best.
///
/// `ends` are a search's finished ends, lowest objective first; those within `tol` of
/// `lowest` (the lowest objective of the whole search) reach the best objective. When they
/// hold more than one distinct optimum (parameters apart by more than 1e-3 relative), each
/// distinct optimum is scored by `score` (the counts of unidentified and of weakly determined
/// parameters there) and the lowest score wins, then the lowest objective. On data that leave
/// a term without effect, optima an optimiser may end in differ only at rounding level: the
/// term vanished (A -> 0, E determined) or its exponent fell to 0 (the term a constant beside
/// E, neither determined). Which had the lower objective by 1e-29 is rounding; which one the
/// data determine is not. The chosen optimum's objective may then exceed the lowest by up to
/// `tol` (the same-optimum tolerance). Returns the index into `ends` of the chosen optimum
/// (0 when at most one distinct optimum reaches the best, or their scores tie with the
/// first's; optima outside `tol` of `lowest` are never chosen) and the number of distinct optima that reach the best.
pub(crate) fn most_identified(
    ends: &[&bfgs::Outcome],
    lowest: f64,
    tol: f64,
    score: impl Fn(&[f64]) -> (usize, usize),
) -> (usize, usize) {
    let mut distinct: Vec<usize> = Vec::new();
    for (i, o) in ends.iter().enumerate() {
        if !((o.f - lowest).abs() <= tol) {
            break;
        }
        if distinct.iter().all(|&j| apart(&ends[j].x, &o.x)) {
            distinct.push(i);
        }
    }
    let count = distinct.len();
    if count < 2 {
        return (0, count);
    }
    let chosen = distinct
        .into_iter()
        .map(|i| (score(&ends[i].x), i))
        .min()
        .map_or(0, |(_, i)| i);
    (chosen, count)
}

fn at_most_one(n: &usize) -> bool {
    *n <= 1
}

/// Two parameter vectors are distinct optima: some component differs by more than 1e-3
/// relative (the rule of [`Ending::of`]'s basins).
fn apart(u: &[f64], v: &[f64]) -> bool {
    u.iter()
        .zip(v)
        .any(|(a, b)| (a - b).abs() > 1e-3 * (1.0 + a.abs()))
}

/// The best end of a search, its distinct basins, and how many starts reached it.
struct Ending {
    /// The best outcome (polished or not).
    best: bfgs::Outcome,
    /// Distinct local optima (by parameters), best first, for later warm starts.
    basins: Vec<Vec<f64>>,
    /// Starts whose objective is within `tol` of the best.
    reached_best: usize,
    /// Distinct optima that reach the best objective when the one reported is not the
    /// lowest ([`most_identified`]); 0 otherwise.
    tied_optima: usize,
    /// The lowest objective of any end (`best`'s, unless several optima tie).
    lowest: f64,
    /// The relative tolerance behind `tol`.
    reach_rtol: f64,
    /// The absolute tolerance for "reached the best objective".
    tol: f64,
}

impl Ending {
    /// The best end of `search`: the lowest objective, or among optima the data cannot tell
    /// apart the one whose parameters they determine best ([`most_identified`], scored by
    /// `score`).
    fn of(
        search: &Search,
        strategy: StartStrategy,
        score: impl Fn(&[f64]) -> (usize, usize),
    ) -> Ending {
        let Search {
            outcomes,
            order,
            polished,
            ..
        } = search;
        let mut ends: Vec<&bfgs::Outcome> = polished
            .iter()
            .chain(order.iter().map(|&i| &outcomes[i]))
            .filter(|o| o.f.is_finite())
            .collect();
        ends.sort_by(|a, b| a.f.total_cmp(&b.f));
        let lowest = *ends.first().expect("at least one finite outcome");
        let reach_rtol = match strategy {
            StartStrategy::Chinchilla | StartStrategy::Grid => SCREEN_REACH_RTOL,
            StartStrategy::VarPro => SAME_OPTIMUM_RTOL,
        };
        let tol = (reach_rtol * lowest.f.abs()).max(SAME_OPTIMUM_ATOL);
        // Optima: the polished ends of a grid (its screened starts stopped at scipy's
        // tolerance), every seed's end otherwise.
        let mut optima: Vec<&bfgs::Outcome> = if polished.is_empty() {
            outcomes.iter().collect()
        } else {
            polished.iter().collect()
        };
        optima.retain(|o| o.f.is_finite());
        optima.sort_by(|a, b| a.f.total_cmp(&b.f));
        let (chosen, tied) = most_identified(&optima, lowest.f, tol, score);
        let (best, tied_optima) = match chosen {
            0 => (lowest, 0),
            i => (optima[i], tied),
        };
        // The reported optimum first: the bootstrap refits from it, and moves to another basin
        // only when that is lower. When a tie was broken, the optima it passed over are left
        // out: they are lower by rounding, and a refit would move every replicate to them.
        let mut basins: Vec<Vec<f64>> = vec![best.x.clone()];
        for o in ends {
            if basins.len() >= 4 {
                break;
            }
            let passed_over = tied_optima > 0 && (o.f - lowest.f).abs() <= tol;
            if !passed_over && basins.iter().all(|b| apart(b, &o.x)) {
                basins.push(o.x.clone());
            }
        }
        let reached_best = outcomes
            .iter()
            .filter(|o| o.f.is_finite() && (o.f - lowest.f).abs() <= tol)
            .count();
        Ending {
            best: best.clone(),
            basins,
            reached_best,
            tied_optima,
            lowest: lowest.f,
            reach_rtol,
            tol,
        }
    }
}

/// The optimum in natural parameters.
struct Estimate {
    /// The law at the optimum (E, coefficients, exponents on the natural scale).
    law: Law,
    /// The optimiser's own parameters by name (logarithms of E and the coefficients).
    internal: BTreeMap<String, f64>,
}

impl Estimate {
    /// Natural-scale parameters from the optimiser's `theta` (`(e, a.., alpha..)`, e only
    /// when free).
    fn at(problem: &Problem, theta: &[f64], form: &LawForm) -> Estimate {
        let names = form.param_names();
        let k = problem.terms();
        let off = usize::from(problem.e_term == ETerm::Free);
        let e_nat = match problem.e_term {
            ETerm::Free => theta[0].exp(),
            ETerm::Fixed { ln_e } => ln_e.exp(),
            ETerm::Absent => 0.0,
        };
        let mut nat = vec![e_nat];
        for j in 0..k {
            nat.push(theta[off + j].exp());
        }
        for j in 0..k {
            nat.push(theta[off + k + j]);
        }
        let mut internal = BTreeMap::new();
        let log_names: &[&str] = if k == 2 { &["a", "b"] } else { &["a"] };
        if off == 1 {
            internal.insert("e".to_string(), theta[0]);
        }
        for j in 0..k {
            internal.insert(log_names[j].to_string(), theta[off + j]);
            internal.insert(names[1 + k + j].to_string(), theta[off + k + j]);
        }
        Estimate {
            law: Law {
                form: form.clone(),
                params: nat,
            },
            internal,
        }
    }
}

/// Parameters the optimum pushed to a bound, and exponents with the wrong sign.
struct Bounds {
    /// Each bound reached, in words.
    at_bound: Vec<String>,
    /// The parameters at a bound.
    bound_params: Vec<String>,
    /// E is reported as 0.
    e_at_zero: bool,
    /// Indices (into the form's variables) of the terms that vanished.
    vanished: Vec<usize>,
    /// Warnings (negative exponents).
    warnings: Vec<String>,
}

/// E below 1e-6 of the smallest loss is at its bound 0; a term contributing less than 1e-6 of
/// the loss on every run has vanished; a negative exponent makes the loss rise.
fn bounds_at(runs: &Runs, config: &FitConfig, law: &Law, e_free: bool) -> Bounds {
    let names = config.form.param_names();
    let nat = &law.params;
    let k = config.form.variables().len();
    let min_loss = runs.loss.iter().cloned().fold(f64::INFINITY, f64::min);
    let mut b = Bounds {
        at_bound: vec![],
        bound_params: vec![],
        e_at_zero: false,
        vanished: vec![],
        warnings: vec![],
    };
    if e_free && nat[0] < 1e-6 * min_loss {
        b.at_bound.push(
            "E is at its lower bound 0: the data prefer no irreducible loss (consider fixing E at 0)"
                .to_string(),
        );
        b.bound_params.push("E".to_string());
        b.e_at_zero = true;
    }
    for (j, v) in config.form.variables().iter().enumerate() {
        let col = column_of(runs, *v);
        let amp = nat[1 + j];
        let alpha = nat[1 + k + j];
        let biggest = col.iter().map(|x| amp * x.powf(-alpha)).fold(0.0, f64::max);
        let (cn, en) = (names[1 + j].as_str(), names[1 + k + j].as_str());
        if biggest < 1e-6 * min_loss {
            b.at_bound.push(format!(
                "the {} term vanished: it contributes less than 1e-6 of the loss on every run",
                v.symbol()
            ));
            b.bound_params.push(cn.to_string());
            b.vanished.push(j);
        } else if alpha < 0.0 {
            b.warnings.push(format!(
                "{en} = {alpha:.4} is negative: the fitted loss rises with {}",
                v.symbol()
            ));
        }
    }
    b
}

/// The runs' N, D and C columns, empty when the runs lack one.
fn design_columns(runs: &Runs) -> [&[f64]; 3] {
    let full = |v: &'_ [f64]| -> bool { v.len() == runs.len() };
    let empty: &[f64] = &[];
    [&runs.params, &runs.tokens, &runs.flops].map(|v| if full(v) { v.as_slice() } else { empty })
}

/// Which free parameters the data determine: the Jacobian check of [`identify::check`], plus
/// the terms that vanished and a collinear N-D design (whose "vanished" bounds it withdraws:
/// nothing is at a bound when nothing is determined).
fn identifiability_at(
    runs: &Runs,
    config: &FitConfig,
    law: &Law,
    e_free: bool,
    bounds: &mut Bounds,
) -> Identifiability {
    let names = config.form.param_names();
    let k = config.form.variables().len();
    let mut free = vec![true; names.len()];
    free[0] = e_free;
    let [n, d, c] = design_columns(runs);
    // A vanished term contributes nothing and its parameters are not determined (below):
    // check the others with it at 0. Its coefficient may have overflowed (ln B = 1300 with
    // beta = 63 is a vanished term too), and B = inf times D^-beta = 0 would make every
    // prediction NaN and every parameter look undetermined.
    let mut effective = law.clone();
    for &j in &bounds.vanished {
        effective.params[1 + j] = 0.0;
        free[1 + j] = false;
        free[1 + k + j] = false;
    }
    let mut identifiability = identify::check(&effective, &free, n, d, c);
    for &j in &bounds.vanished {
        let v = config.form.variables()[j];
        let (cn, en) = (names[1 + j].as_str(), names[1 + k + j].as_str());
        for p in [cn, en] {
            identifiability.unidentified.retain(|u| u.param != p);
            identifiability.unidentified.push(Unidentified {
                param: p.to_string(),
                reason: format!(
                    "the {} term vanished at the optimum (less than 1e-6 of the loss on every \
                     run), so {cn} and {en} are not determined",
                    v.symbol()
                ),
            });
        }
        identifiability.identified = false;
    }
    if config.form == LawForm::Chinchilla && identify::collinear(n, d) {
        for p in ["A", "alpha", "B", "beta"] {
            identifiability.unidentified.retain(|u| u.param != p);
            identifiability.unidentified.push(Unidentified {
                param: p.to_string(),
                reason: COLLINEAR_REASON.to_string(),
            });
        }
        identifiability.identified = false;
        bounds.at_bound.retain(|m| !m.contains("term vanished"));
        bounds.bound_params.retain(|p| p != "A" && p != "B");
    }
    identifiability
        .unidentified
        .sort_by_key(|u| names.iter().position(|n| *n == u.param));
    // An exponent outside the range the starts scanned was reached by descent alone.
    let [lo, hi] = match config.starts {
        StartStrategy::Chinchilla | StartStrategy::Grid => starts::GRID_EXPONENTS,
        StartStrategy::VarPro => starts::VARPRO_EXPONENTS,
    };
    for j in 0..k {
        let en = names[1 + k + j].as_str();
        let v = law.params[1 + k + j];
        let determined = !identifiability.unidentified.iter().any(|u| u.param == en);
        if determined && !(lo..=hi).contains(&v) {
            identifiability.weak.retain(|w| w.param != en);
            identifiability.weak.push(Unidentified {
                param: en.to_string(),
                reason: format!(
                    "{en} = {} is outside the exponents the starts scanned ({lo} to {hi})",
                    crate::num::sig(v, 4)
                ),
            });
        }
    }
    identifiability
        .weak
        .sort_by_key(|u| names.iter().position(|n| *n == u.param));
    identifiability
}

/// Warnings about the design: no degrees of freedom left, parameters not identified.
fn design_warnings(
    runs: &Runs,
    names_len: usize,
    dim: usize,
    e_free: bool,
    identifiability: &Identifiability,
) -> Vec<String> {
    let mut warnings = vec![];
    if runs.len() == dim {
        warnings.push(format!(
            "{} runs for {dim} free parameters: the law passes through the data with no \
             degrees of freedom left to judge it",
            runs.len()
        ));
    }
    if !identifiability.identified {
        let free_count = names_len - usize::from(!e_free);
        let list: Vec<&str> = identifiability
            .unidentified
            .iter()
            .map(|u| u.param.as_str())
            .collect();
        warnings.push(if list.len() >= free_count {
            "the data identify none of the law's parameters: no values are reported".to_string()
        } else {
            format!(
                "the data do not identify {}: no values are reported for them",
                list.join(", ")
            )
        });
    }
    warnings
}

/// Warnings about the search: seeds that did not converge, a best optimum that only one start
/// found while others converged elsewhere.
fn search_warnings(search: &Search, ending: &Ending, strategy: StartStrategy) -> Vec<String> {
    let outcomes = &search.outcomes;
    let mut warnings = vec![];
    let unconverged = outcomes
        .iter()
        .filter(|o| {
            !matches!(
                o.termination,
                bfgs::Termination::Converged | bfgs::Termination::Stalled
            )
        })
        .count();
    let other_basins = outcomes
        .iter()
        .filter(|o| {
            o.termination == bfgs::Termination::Converged
                && (o.f - ending.lowest).abs() > ending.tol
        })
        .count();
    if unconverged > 0 && strategy == StartStrategy::VarPro {
        warnings.push(format!(
            "{unconverged} of {} polished seeds did not converge (raise the iteration limit, max_iter)",
            outcomes.len()
        ));
    }
    if ending.reached_best == 1 && other_basins > 0 {
        warnings.push(match strategy {
            StartStrategy::VarPro => format!(
                "only 1 of {} polished seeds reached the best objective and {other_basins} \
                 converged elsewhere: the objective has several basins here; confirm with \
                 the paper's grid of starts (starts = chinchilla)",
                outcomes.len()
            ),
            StartStrategy::Chinchilla | StartStrategy::Grid => format!(
                "only 1 of {} grid starts reached the best objective: the optimum is hard to \
                 find on this data",
                outcomes.len()
            ),
        });
    }
    warnings
}

/// The fit's status from the optimiser's termination and the bounds reached, with a sentence
/// that says what it means.
/// Largest gradient component per run below which a failed line search on an objective summed
/// over the runs is called rounding (when the gradient is also below 1e-5 of the objective):
/// the sum of 1e7 runs' penalties carries about 1e-16 x n of rounding, so its gradient cannot
/// be driven to the absolute tolerance.
const ROUNDING_GRADIENT_PER_RUN: f64 = 1e-9;

fn classify_end(
    best: &bfgs::Outcome,
    at_bound: &[String],
    config: &FitConfig,
    n_runs: usize,
) -> (Status, String) {
    let status = match best.termination {
        bfgs::Termination::Converged if !at_bound.is_empty() => Status::AtBound,
        bfgs::Termination::Converged => Status::Converged,
        // Screening stops are always polished, so the final run never ends this way.
        bfgs::Termination::IterationLimit | bfgs::Termination::Stalled => Status::IterationLimit,
        bfgs::Termination::LineSearchFailed => Status::LineSearchFailed,
        bfgs::Termination::NonFinite => Status::NonFinite,
    };
    let gmax = gradient_max_abs(best);
    let mut status_detail = match status {
        Status::Converged => format!(
            "converged: largest gradient component {gmax:.2e} after {} iterations",
            best.iterations
        ),
        Status::IterationLimit => format!(
            "stopped at the iteration limit ({}) with largest gradient component {gmax:.2e}: \
             the optimum may not have been reached",
            config.optimizer.max_iter
        ),
        Status::LineSearchFailed
            if config.objective.reduction == Reduction::Sum
                && n_runs > 0
                && gmax / n_runs as f64 <= ROUNDING_GRADIENT_PER_RUN
                && gmax <= 1e-5 * best.f.abs() =>
        {
            format!(
                "the line search stopped at rounding level: largest gradient component \
                 {gmax:.2e} on a sum over {n_runs} runs, {:.1e} per run; the optimum is reached \
                 to the precision the sum allows",
                gmax / n_runs as f64
            )
        }
        Status::LineSearchFailed => format!(
            "the line search failed with largest gradient component {gmax:.2e}: the optimum \
             may not have been reached"
        ),
        Status::AtBound => format!(
            "converged with a parameter at a bound: {}",
            at_bound.join("; ")
        ),
        Status::NonFinite => "the objective is not finite at the optimum".into(),
    };
    if status != Status::AtBound && !at_bound.is_empty() {
        status_detail.push_str(&format!("; also {}", at_bound.join("; ")));
    }
    (status, status_detail)
}

fn gradient_max_abs(best: &bfgs::Outcome) -> f64 {
    best.grad.iter().fold(0.0f64, |m, v| m.max(v.abs()))
}

/// The ranges of N, D, C (from the FLOP model when no C column was read) and loss; no range
/// when a value is not finite (C = k N D overflows for N = 1e308).
fn data_range(runs: &Runs) -> DataRange {
    let kf = runs.flops_per_param_token;
    let range = |v: &[f64]| -> Option<[f64; 2]> {
        (v.len() == runs.len() && !v.is_empty() && v.iter().all(|x| x.is_finite())).then(|| {
            [
                v.iter().cloned().fold(f64::INFINITY, f64::min),
                v.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
            ]
        })
    };
    let derived_c: Vec<f64> = if runs.flops.len() == runs.len() {
        runs.flops.clone()
    } else if runs.params.len() == runs.len() && runs.tokens.len() == runs.len() {
        (0..runs.len())
            .map(|i| kf * runs.params[i] * runs.tokens[i])
            .collect()
    } else {
        vec![]
    };
    DataRange {
        params: range(&runs.params),
        tokens: range(&runs.tokens),
        flops: range(&derived_c),
        loss: range(&runs.loss).unwrap_or([f64::NAN; 2]),
    }
}

/// For an identified Chinchilla law: the allocation exponents a, b, the constant G, and the
/// compute-optimal point at the largest budget in the data and at 1e24 FLOPs (Hoffmann et al.
/// 2022, App. D.3).
fn implied(runs: &Runs, form: &LawForm, law: &Law, range: &DataRange) -> Option<Implied> {
    if *form != LawForm::Chinchilla {
        return None;
    }
    let kf = runs.flops_per_param_token;
    let max_c = range.flops.map(|r| r[1]).unwrap_or_else(|| {
        (0..runs.len())
            .map(|i| kf * runs.params[i] * runs.tokens[i])
            .filter(|c| c.is_finite())
            .fold(0.0, f64::max)
    });
    match (law.optimum(max_c, kf), law.optimum(1e24, kf)) {
        (Some(o1), Some(o2)) => Some(Implied {
            a: law.params_exponent().unwrap(),
            b: law.tokens_exponent().unwrap(),
            g: law.g().unwrap(),
            optimum_at_max_flops: o1,
            optimum_at_1e24: o2,
        }),
        _ => None,
    }
}

/// Everything the kernel fit decided, for [`kernel_report`].
struct KernelEnd {
    search: Search,
    ending: Ending,
    internal: BTreeMap<String, f64>,
    /// Natural parameters as reported (E at its bound shown as 0).
    nat: Vec<f64>,
    status: Status,
    status_detail: String,
    bound_params: Vec<String>,
    identifiability: Identifiability,
    implied: Option<Implied>,
    data_range: DataRange,
    warnings: Vec<String>,
    residuals: Vec<f64>,
}

/// The fit report of a kernel fit: parameters (none for those not identified), the starts,
/// the optimiser, the runs, and the conventions behind every number.
fn kernel_report(runs: &Runs, config: &FitConfig, end: KernelEnd) -> Fit {
    let KernelEnd {
        search,
        ending,
        internal,
        nat,
        status,
        status_detail,
        bound_params,
        identifiability,
        implied,
        data_range,
        warnings,
        residuals,
    } = end;
    let names = config.form.param_names();
    let best = &ending.best;
    let mut terminations = BTreeMap::new();
    for e in search.endings {
        *terminations.entry(e).or_insert(0) += 1;
    }
    let unid: Vec<&str> = identifiability
        .unidentified
        .iter()
        .map(|u| u.param.as_str())
        .collect();
    let mut params = BTreeMap::new();
    let mut meanings = BTreeMap::new();
    for (i, name) in names.iter().enumerate() {
        let v = if unid.contains(&name.as_str()) {
            None
        } else {
            Some(nat[i])
        };
        params.insert(name.to_string(), v);
        meanings.insert(name.to_string(), config.form.meaning(name));
    }
    let kf = runs.flops_per_param_token;
    let (penalty, delta) = match config.objective.penalty {
        Penalty::Huber { delta } => ("huber".to_string(), Some(delta)),
        Penalty::Squared => ("squared".to_string(), None),
    };
    let mut fixed = BTreeMap::new();
    if let Some(e) = config.fixed_e {
        fixed.insert("E".to_string(), e);
    }
    let prediction = match config.form {
        LawForm::Chinchilla => {
            "ln L_hat = LSE(a - alpha ln N, b - beta ln D, e), A, B, E = exp(a, b, e)".to_string()
        }
        LawForm::Power { x } => format!(
            "ln L_hat = LSE(a - alpha ln {}, e), A, E = exp(a, e)",
            x.symbol()
        ),
        _ => String::new(),
    };
    Fit {
        law: config.form.name().to_string(),
        x: match config.form {
            LawForm::Power { x } => Some(x),
            _ => None,
        },
        formula: config.form.formula(),
        params,
        meanings,
        internal,
        objective: best.f,
        status,
        status_detail,
        at_bound: bound_params,
        starts: StartsReport {
            strategy: config.starts,
            count: search.outcomes.len(),
            reached_best: ending.reached_best,
            tolerance: ending.reach_rtol,
            tied_optima: ending.tied_optima,
            terminations,
            profile_points: search.profile_points,
            seeds: None,
            screen: search.screen,
        },
        optimizer: OptimizerReport {
            method: optimizer_method(config.starts),
            iterations: best.iterations,
            evaluations: best.evaluations,
            gradient_max_abs: gradient_max_abs(best),
            gtol: config.optimizer.gtol,
            max_iter: config.optimizer.max_iter,
        },
        runs: RunsReport {
            source: runs.source.clone(),
            rows_in_file: runs.total_rows,
            used: runs.len(),
            excluded_count: runs.excluded.len(),
            excluded: runs.excluded.clone(),
        },
        conventions: Conventions {
            objective: config.objective.describe(),
            penalty,
            delta,
            space: config.objective.space,
            reduction: config.objective.reduction,
            prediction,
            fixed,
            flops_model: format!("C = {kf} N D"),
            flops_per_param_token: kf,
            columns: runs.sources.clone(),
            filters: runs.filters.clone(),
            starts: config.starts,
            optimizer: "BFGS".into(),
            seed: None,
            parametrisation: None,
            variables: BTreeMap::new(),
            bounds: BTreeMap::new(),
            new_run_interval: None,
            asymmetric: None,
            weights: None,
            joint: None,
        },
        identifiability,
        implied,
        data_range,
        residual_correlation: vec![],
        warnings,
        residuals,
        data: FitData {
            params: runs.params.clone(),
            tokens: runs.tokens.clone(),
            flops: runs.flops.clone(),
            loss: runs.loss.clone(),
            rows: runs.rows.clone(),
            columns: BTreeMap::new(),
        },
        intervals: None,
        std_errors: None,
        bootstrap: None,
        theta: ending.best.x.clone(),
        basins: ending.basins,
        inv_hessian: ending.best.inv_hessian.clone(),
    }
}

fn free_names(form: &LawForm, e: &ETerm) -> Vec<String> {
    form.param_names()
        .into_iter()
        .filter(|n| *n != "E" || *e == ETerm::Free)
        .collect()
}

/// A fit report for the generic path with everything that does not depend on the optimum
/// filled in (the runs, the conventions, the data); the caller fills in the rest.
fn kernel_free_report(runs: &Runs, config: &FitConfig, form: &LawForm) -> Fit {
    let kf = runs.flops_per_param_token;
    let range = |v: &[f64]| -> Option<[f64; 2]> {
        (v.len() == runs.len() && !v.is_empty()).then(|| {
            [
                v.iter().cloned().fold(f64::INFINITY, f64::min),
                v.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
            ]
        })
    };
    let derived_c: Vec<f64> = if runs.flops.len() == runs.len() {
        runs.flops.clone()
    } else if runs.params.len() == runs.len() && runs.tokens.len() == runs.len() {
        (0..runs.len())
            .map(|i| kf * runs.params[i] * runs.tokens[i])
            .collect()
    } else {
        vec![]
    };
    let (penalty, delta) = match config.objective.penalty {
        Penalty::Huber { delta } => ("huber".to_string(), Some(delta)),
        Penalty::Squared => ("squared".to_string(), None),
    };
    let formula = match form {
        LawForm::Formula(f) => f.text().to_string(),
        other => other.formula(),
    };
    Fit {
        law: form.name().to_string(),
        x: form.x(),
        formula,
        params: BTreeMap::new(),
        meanings: BTreeMap::new(),
        internal: BTreeMap::new(),
        objective: f64::NAN,
        status: Status::NonFinite,
        status_detail: String::new(),
        at_bound: vec![],
        starts: StartsReport {
            strategy: config.starts,
            count: 0,
            reached_best: 0,
            tied_optima: 0,
            tolerance: SAME_OPTIMUM_RTOL,
            terminations: BTreeMap::new(),
            profile_points: 0,
            seeds: None,
            screen: None,
        },
        optimizer: OptimizerReport {
            method: String::new(),
            iterations: 0,
            evaluations: 0,
            gradient_max_abs: f64::NAN,
            gtol: config.optimizer.gtol,
            max_iter: config.optimizer.max_iter,
        },
        runs: RunsReport {
            source: runs.source.clone(),
            rows_in_file: runs.total_rows,
            used: runs.len(),
            excluded_count: runs.excluded.len(),
            excluded: runs.excluded.clone(),
        },
        conventions: Conventions {
            objective: config.objective.describe(),
            penalty,
            delta,
            space: config.objective.space,
            reduction: config.objective.reduction,
            prediction: String::new(),
            fixed: config.fixed.clone(),
            flops_model: format!("C = {kf} N D"),
            flops_per_param_token: kf,
            columns: runs.sources.clone(),
            filters: runs.filters.clone(),
            starts: config.starts,
            optimizer: "BFGS".into(),
            seed: None,
            parametrisation: None,
            variables: BTreeMap::new(),
            bounds: BTreeMap::new(),
            new_run_interval: None,
            asymmetric: config.asymmetric,
            weights: config.weight_column.clone(),
            joint: match &config.form {
                LawForm::Joint(j) => Some(j.spec().clone()),
                _ => None,
            },
        },
        identifiability: Identifiability {
            identified: true,
            unidentified: vec![],
            jacobian_singular_ratio: f64::NAN,
            weak: vec![],
        },
        implied: None,
        data_range: DataRange {
            params: range(&runs.params),
            tokens: range(&runs.tokens),
            flops: range(&derived_c),
            loss: range(&runs.loss).unwrap_or([f64::NAN; 2]),
        },
        residual_correlation: vec![],
        warnings: vec![],
        data: FitData {
            params: runs.params.clone(),
            tokens: runs.tokens.clone(),
            flops: runs.flops.clone(),
            loss: runs.loss.clone(),
            rows: runs.rows.clone(),
            columns: BTreeMap::new(),
        },
        residuals: vec![],
        intervals: None,
        std_errors: None,
        bootstrap: None,
        theta: vec![],
        basins: vec![],
        inv_hessian: vec![],
    }
}

#[cfg(test)]
mod classify_tests {
    use super::*;

    fn ended(f: f64, g: f64) -> bfgs::Outcome {
        bfgs::Outcome {
            x: vec![0.0; 5],
            f,
            grad: vec![g, 0.0, 0.0, 0.0, 0.0],
            termination: bfgs::Termination::LineSearchFailed,
            iterations: 40,
            evaluations: 90,
            inv_hessian: vec![],
        }
    }

    /// A 1e7-run fit (sum of Huber penalties 75, largest gradient component 5.9e-4) stopped its
    /// line search at rounding; it is said so. The same gradient on 240 runs is a real failure.
    #[test]
    fn line_search_at_rounding_of_a_large_sum_is_named() {
        let config = FitConfig::default();
        let (s, d) = classify_end(&ended(75.0, 5.93e-4), &[], &config, 10_000_000);
        assert_eq!(s, Status::LineSearchFailed);
        assert!(
            d.contains("rounding level") && d.contains("5.9e-11 per run"),
            "{d}"
        );
        let (_, d) = classify_end(&ended(1e-3, 5.93e-4), &[], &config, 240);
        assert!(d.contains("may not have been reached"), "{d}");
    }

    fn end_at(f: f64, x: &[f64]) -> bfgs::Outcome {
        bfgs::Outcome {
            x: x.to_vec(),
            f,
            grad: vec![0.0; x.len()],
            termination: bfgs::Termination::Converged,
            iterations: 1,
            evaluations: 1,
            inv_hessian: vec![],
        }
    }

    /// Of optima tied in objective, the one with the fewest unidentified parameters wins,
    /// then the fewest weak ones; ends beyond the tolerance or within 1e-3 of a scored one
    /// are not candidates; a single optimum is returned without scoring.
    #[test]
    fn most_identified_breaks_ties_by_what_the_data_determine() {
        let ends = [
            end_at(1e-29, &[0.58, -5.4, 0.0]),  // exponent 0: E not determined
            end_at(2e-29, &[0.58, -5.4, 1e-7]), // the same optimum
            end_at(5e-24, &[0.59, -1.3, 1.3]),  // the term vanished
            end_at(8e-16, &[0.59, 49.0, 3.6]),  // vanished as well, higher objective
            end_at(1e-3, &[0.1, 0.1, 0.1]),     // another basin
        ];
        let refs: Vec<&bfgs::Outcome> = ends.iter().collect();
        let score = |x: &[f64]| if x[2] < 0.5 { (2, 1) } else { (2, 0) };
        assert_eq!(most_identified(&refs, 1e-29, 1e-14, score), (2, 3));
        // Tied in score: the lowest objective.
        assert_eq!(most_identified(&refs, 1e-29, 1e-14, |_| (0, 0)), (0, 3));
        // One optimum within the tolerance: no scoring.
        let never = |_: &[f64]| -> (usize, usize) { panic!("scored a single optimum") };
        assert_eq!(most_identified(&refs[..2], 1e-29, 1e-14, never), (0, 1));
        assert_eq!(most_identified(&refs[3..], 8e-16, 1e-14, never), (0, 1));
        // The search's lowest objective lies below every end by more than the tolerance
        // (a screened start, say): nothing ties with it and nothing is chosen.
        assert_eq!(most_identified(&refs, 1e-29 - 1e-13, 1e-14, never), (0, 0));
        assert_eq!(most_identified(&[], 0.0, 1e-14, never), (0, 0));
    }

    /// Regression: a vanished term whose coefficient overflowed (ln B = 1303 with beta = 63,
    /// as a fit of runs whose loss does not depend on D ended) leaves E, A and alpha
    /// determined. The check once evaluated inf times D^-beta = 0, got NaN predictions and
    /// reported no parameter at all.
    #[test]
    fn overflowed_vanished_term_leaves_the_others_identified() {
        let nd: Vec<(f64, f64)> = (0..40)
            .map(|i| {
                (
                    1e7 * 1.4f64.powi(i % 10),
                    1e9 * 1.6f64.powi(i / 10 * 2 + i % 3),
                )
            })
            .collect();
        let runs = Runs {
            source: "synthetic".into(),
            total_rows: nd.len(),
            params: nd.iter().map(|p| p.0).collect(),
            tokens: nd.iter().map(|p| p.1).collect(),
            flops: nd.iter().map(|p| 6.0 * p.0 * p.1).collect(),
            loss: nd.iter().map(|p| 1.8 + 480.0 * p.0.powf(-0.34)).collect(),
            rows: (1..=nd.len()).collect(),
            sources: RoleSources::default(),
            excluded: vec![],
            flops_per_param_token: 6.0,
            filters: Default::default(),
        };
        let config = FitConfig::default();
        let law = Law {
            form: LawForm::Chinchilla,
            params: vec![1.825, 510.2, 1303.0f64.exp(), 0.3448, 63.17],
        };
        let mut bounds = bounds_at(&runs, &config, &law, true);
        assert_eq!(bounds.vanished, vec![1]);
        let id = identifiability_at(&runs, &config, &law, true, &mut bounds);
        let unidentified: Vec<&str> = id.unidentified.iter().map(|u| u.param.as_str()).collect();
        assert_eq!(unidentified, ["B", "beta"], "{id:?}");
    }
}
