//! The `simulate` commands as library entry points: plain requests (`Deserialize`, with the
//! command line's defaults) in, results out.

use serde::{Deserialize, Serialize};

use super::{
    grid_design, isoflop_design, sample_runs_with, simulate_strategy, NoiseKind, Scenario,
    StrategyConfig, StrategyResult,
};
use crate::data::Runs;
use crate::error::{Error, Result};
use crate::law::Law;

/// A list of values or ranges ("1e2:1e5:3"), with errors that name the request field `what`
/// rather than the budgets.
fn values(spec: &str, what: &str) -> Result<Vec<f64>> {
    crate::allocate::parse_budgets(spec).map_err(|e| match e {
        Error::Setting { template, names } => Error::Setting {
            template,
            names: names.iter().map(|_| what.to_string()).collect(),
        },
        e => e,
    })
}

fn d_kappa() -> f64 {
    0.25
}
fn d_gamma() -> f64 {
    0.5
}
fn d_half() -> f64 {
    0.5
}
fn d_keep() -> String {
    "largest".into()
}
fn d_sizes() -> String {
    "1e2:1e5:3".into()
}
fn d_reps() -> usize {
    400
}
fn d_one() -> f64 {
    1.0
}
fn d_level() -> f64 {
    0.95
}

/// A data-strategy experiment as `scaling simulate data-strategy` takes it.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct StrategyRequest {
    /// `full-range`, `near-zero`, `low-noise`, `half-support` or `prune`.
    pub scenario: String,
    /// near-zero: training x ~ Uniform(-n^-kappa, n^-kappa) (default 0.25).
    #[serde(default = "d_kappa")]
    pub kappa: f64,
    /// low-noise: training noise sd sigma n^(-gamma/2) (default 0.5).
    #[serde(default = "d_gamma")]
    pub gamma: f64,
    /// The bias b the model does not have (y = x + b + eps; default 0).
    #[serde(default)]
    pub bias: f64,
    /// prune: the fraction of the candidate pool kept (default 0.5).
    #[serde(default = "d_half")]
    pub keep_fraction: f64,
    /// prune: keep the `largest` (default) or the `smallest` |x|.
    #[serde(default = "d_keep")]
    pub keep: String,
    /// Training-set sizes: values or ranges A:B (A:B:K for K per decade; default 1e2:1e5:3).
    #[serde(default = "d_sizes")]
    pub sizes: String,
    /// Repetitions per size (default 400).
    #[serde(default = "d_reps")]
    pub reps: usize,
    /// Seed (default 0).
    #[serde(default)]
    pub seed: u64,
    /// Noise sd sigma (default 1).
    #[serde(default = "d_one")]
    pub noise: f64,
    /// Interval level (default 0.95).
    #[serde(default = "d_level")]
    pub level: f64,
}

impl StrategyRequest {
    /// The request for `scenario` with every other setting at its default.
    pub fn new(scenario: &str) -> Self {
        StrategyRequest {
            scenario: scenario.into(),
            kappa: d_kappa(),
            gamma: d_gamma(),
            bias: 0.0,
            keep_fraction: d_half(),
            keep: d_keep(),
            sizes: d_sizes(),
            reps: d_reps(),
            seed: 0,
            noise: d_one(),
            level: d_level(),
        }
    }

    /// The experiment's settings.
    ///
    /// # Errors
    /// An unknown scenario or keep rule, or sizes that do not parse.
    pub fn config(&self) -> Result<StrategyConfig> {
        let scenario = match self.scenario.as_str() {
            "full-range" => Scenario::FullRange,
            "near-zero" => Scenario::NearZero { kappa: self.kappa },
            "low-noise" => Scenario::LowNoise { gamma: self.gamma },
            "half-support" => Scenario::HalfSupport,
            "prune" => Scenario::Prune {
                keep_fraction: self.keep_fraction,
                keep_largest: match self.keep.as_str() {
                    "largest" => true,
                    "smallest" => false,
                    k => {
                        return Err(Error::InvalidSetting(format!(
                            "keep must be \"largest\" or \"smallest\", got {k:?}"
                        )))
                    }
                },
            },
            s => {
                return Err(Error::InvalidSetting(format!(
                    "unknown scenario {s:?} (full-range, near-zero, low-noise, half-support, prune)"
                )))
            }
        };
        let sizes = values(&self.sizes, "sizes")?
            .into_iter()
            .map(|v| v.round() as usize)
            .collect();
        Ok(StrategyConfig {
            scenario,
            sizes,
            reps: self.reps,
            seed: self.seed,
            noise: self.noise,
            bias: self.bias,
            level: self.level,
        })
    }
}

/// The measured law of a data-strategy experiment: the JSON of `scaling simulate
/// data-strategy`, where the points are rows `[n, mean_error, low, high]` named by
/// `points_columns`.
#[derive(Debug, Clone)]
pub struct DataStrategyResult {
    /// The experiment's result.
    pub result: StrategyResult,
    /// The request answered.
    pub request: StrategyRequest,
}

impl Serialize for DataStrategyResult {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let r = &self.result;
        let mut v = serde_json::to_value(r).map_err(serde::ser::Error::custom)?;
        if let Some(o) = v.as_object_mut() {
            o.insert(
                "points".into(),
                serde_json::Value::Array(
                    r.points
                        .iter()
                        .map(|p| serde_json::json!([p.n, p.mean, p.low, p.high]))
                        .collect(),
                ),
            );
            o.insert(
                "points_columns".into(),
                serde_json::json!(["n", "mean_error", "low", "high"]),
            );
        }
        v.serialize(s)
    }
}

/// Run a data-strategy experiment of "Are Scaling Laws Really Plateauing?": a linear model
/// y = theta x fitted without intercept to data drawn under a strategy, its test error R(n)
/// measured over repetitions and the law R = R_inf + c n^-r fitted, beside the theory's rate
/// and floor (full range: rate 1; near zero: 1 - 2 kappa; low noise: 1 + gamma).
///
/// # Examples
/// ```
/// use scaling::simulate::{data_strategy, StrategyRequest};
/// let mut req = StrategyRequest::new("full-range");
/// req.sizes = "1e2:1e4:2".into();
/// req.reps = 100;
/// let r = data_strategy(&req).unwrap();
/// assert_eq!(r.result.rate_theory, 1.0);
/// assert!((r.result.rate - 1.0).abs() < 0.5);
/// ```
///
/// # Errors
/// See [`StrategyRequest::config`] and [`simulate_strategy`].
pub fn data_strategy(req: &StrategyRequest) -> Result<DataStrategyResult> {
    Ok(DataStrategyResult {
        result: simulate_strategy(&req.config()?)?,
        request: req.clone(),
    })
}

fn d_budgets() -> String {
    "6e18,1e19,3e19,6e19,1e20,3e20,6e20,1e21,3e21".into()
}
fn d_per_budget() -> usize {
    10
}
fn d_span() -> f64 {
    1.5
}
fn d_noise_kind() -> String {
    "gaussian".into()
}
fn d_noise() -> f64 {
    0.01
}

/// A synthetic sweep as `scaling simulate sweep` takes it (the law is passed beside it).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct SweepRequest {
    /// IsoFLOP design: these budgets (values or ranges; default Chinchilla's nine).
    #[serde(default = "d_budgets")]
    pub budgets: String,
    /// Models per budget (default 10, at least 2).
    #[serde(default = "d_per_budget")]
    pub per_budget: usize,
    /// Decades of N covered per budget around the optimum (default 1.5).
    #[serde(default = "d_span")]
    pub span: f64,
    /// A grid design instead: these model sizes ...
    #[serde(default)]
    pub grid_params: Option<String>,
    /// ... times these token counts.
    #[serde(default)]
    pub grid_tokens: Option<String>,
    /// `gaussian` (default) or `exponential` noise in ln L.
    #[serde(default = "d_noise_kind")]
    pub noise_kind: String,
    /// Its scale (sd, or mean for exponential; default 0.01).
    #[serde(default = "d_noise")]
    pub noise: f64,
    /// Seed (default 0).
    #[serde(default)]
    pub seed: u64,
}

impl Default for SweepRequest {
    fn default() -> Self {
        SweepRequest {
            budgets: d_budgets(),
            per_budget: d_per_budget(),
            span: d_span(),
            grid_params: None,
            grid_tokens: None,
            noise_kind: d_noise_kind(),
            noise: d_noise(),
            seed: 0,
        }
    }
}

/// Synthetic training runs drawn from `law` on an IsoFLOP design (`per_budget` models per
/// budget spread over `span` decades of N around the law's optimum, C = 6 N D) or on a grid of
/// N x D, with loss = law(N, D) exp(eps) from a ChaCha8 stream seeded with `seed`.
///
/// # Examples
/// ```
/// use scaling::simulate::{sweep, SweepRequest};
/// let law = scaling::law::presets::get("epoch").unwrap().law.unwrap();
/// let runs = sweep(&law, &SweepRequest::default()).unwrap();
/// assert_eq!(runs.len(), 90);
/// ```
///
/// # Errors
/// Unparseable budgets or grid, half a grid, fewer than 2 models per budget, a span outside
/// 0 to 20 decades, more runs than [`crate::limits::MAX_DESIGN_RUNS`], or a bad noise level.
pub fn sweep(law: &Law, req: &SweepRequest) -> Result<Runs> {
    let cap = |n: usize| crate::limits::check("synthetic runs", n, crate::limits::MAX_DESIGN_RUNS);
    let design = match (&req.grid_params, &req.grid_tokens) {
        (Some(p), Some(t)) => {
            let p = values(p, "grid_params")?;
            let t = values(t, "grid_tokens")?;
            cap(p.len().saturating_mul(t.len()))?;
            grid_design(&p, &t, 6.0)
        }
        (None, None) => {
            if req.per_budget < 2 {
                return Err(Error::InvalidSetting(
                    "an IsoFLOP design needs at least 2 models per budget".into(),
                ));
            }
            let b = values(&req.budgets, "budgets")?;
            cap(req.per_budget.saturating_mul(b.len()))?;
            if !(req.span.is_finite() && req.span >= 0.0 && req.span <= 20.0) {
                return Err(Error::InvalidSetting(format!(
                    "the span must be between 0 and 20 decades, got {}",
                    req.span
                )));
            }
            isoflop_design(law, &b, req.per_budget, req.span, 6.0)
        }
        _ => {
            return Err(Error::InvalidSetting(
                "a grid design needs both model sizes and token counts".into(),
            ))
        }
    };
    let kind = match req.noise_kind.as_str() {
        "gaussian" => NoiseKind::Gaussian,
        "exponential" => NoiseKind::Exponential,
        k => {
            return Err(Error::InvalidSetting(format!(
                "noise kind must be \"gaussian\" or \"exponential\", got {k:?}"
            )))
        }
    };
    sample_runs_with(law, &design, kind, req.noise, req.seed, "synthetic")
}
