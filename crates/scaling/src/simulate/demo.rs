//! The demo: the whole job on a synthetic IsoFLOP sweep drawn from a published law.

use serde::{Deserialize, Serialize};

use crate::data::Runs;
use crate::error::{Error, Result};
use crate::fit::{self, Fit, FitConfig};
use crate::law::Law;
use crate::limits;
use crate::uncertainty::{self, BootstrapConfig};

use super::{isoflop_design, sample_runs, CHINCHILLA_BUDGETS};

/// Where the demo's true law comes from.
pub const DEMO_TRUTH_SOURCE: &str = "Besiroglu et al. 2024 (arXiv:2404.10102), Epoch AI's estimate";

/// Settings of the demo.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct DemoRequest {
    /// Seed of the synthetic noise (and of the bootstrap).
    pub seed: u64,
    /// Standard deviation of the noise in log loss.
    pub noise: f64,
    /// Models per IsoFLOP budget.
    pub per_budget: usize,
    /// Bootstrap replicates (0 for none).
    pub bootstrap: usize,
}

impl Default for DemoRequest {
    fn default() -> Self {
        DemoRequest {
            seed: 1,
            noise: 0.01,
            per_budget: 10,
            bootstrap: 1000,
        }
    }
}

/// The demo's design, as recorded in its JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DemoDesign {
    /// Chinchilla's nine IsoFLOP budgets (FLOPs).
    pub budgets: Vec<f64>,
    /// Models per budget.
    pub models_per_budget: usize,
    /// Decades of N spanned around each budget's optimum.
    pub span_decades: f64,
    /// Noise in log loss.
    pub noise_sd_log_loss: f64,
    /// Seed.
    pub seed: u64,
}

/// The demo's result: the truth, the design and the fit. Its JSON is `scaling demo --format
/// json`.
#[derive(Debug, Clone, Serialize)]
pub struct Demo {
    /// Always true: the runs are synthetic.
    pub synthetic: bool,
    /// The true law.
    pub truth: serde_json::Value,
    /// Where the true law comes from.
    pub truth_source: String,
    /// The design.
    pub design: DemoDesign,
    /// The fit of the synthetic runs (with intervals when bootstrapped).
    pub fit: Fit,
    /// The true law (for rendering).
    #[serde(skip)]
    pub truth_law: Law,
    /// The synthetic runs.
    #[serde(skip)]
    pub runs: Runs,
}

impl Demo {
    /// The synthetic runs as CSV (`params,tokens,flops,loss`), which `scaling fit` reads back.
    pub fn runs_csv(&self) -> String {
        let r = &self.runs;
        let mut csv = String::from("params,tokens,flops,loss\n");
        for i in 0..r.len() {
            csv.push_str(&format!(
                "{:e},{:e},{:e},{}\n",
                r.params[i], r.tokens[i], r.flops[i], r.loss[i]
            ));
        }
        csv
    }
}

/// Run the demo: draw an IsoFLOP sweep at Chinchilla's nine budgets from Epoch AI's estimate
/// of Chinchilla's law (Besiroglu et al. 2024), `per_budget` sizes over 1.5 decades around each
/// optimum, D = C / (6 N), loss x exp(Normal(0, noise)); fit it as `scaling fit` does and,
/// with `bootstrap >= 2`, bootstrap with intervals at 1e24 FLOPs.
///
/// # Examples
/// ```
/// use scaling::simulate::{demo, DemoRequest};
/// let d = demo(&DemoRequest { per_budget: 4, bootstrap: 0, ..Default::default() }, &|| {}).unwrap();
/// assert_eq!(d.runs.len(), 36);
/// assert!(d.runs_csv().starts_with("params,tokens,flops,loss\n"));
/// ```
///
/// # Errors
/// [`Error::Setting`] for fewer than 2 models per budget; sizes beyond [`crate::limits`].
pub fn demo(req: &DemoRequest, progress: &(dyn Fn() + Sync)) -> Result<Demo> {
    let truth = crate::law::presets::get("epoch")?
        .law
        .ok_or_else(|| Error::Numerical("the epoch preset carries no loss law".into()))?;
    if req.per_budget < 2 {
        return Err(Error::setting("{} must be at least 2", &["per_budget"]));
    }
    limits::check(
        "synthetic runs",
        req.per_budget.saturating_mul(CHINCHILLA_BUDGETS.len()),
        limits::MAX_DESIGN_RUNS,
    )?;
    limits::check(
        "bootstrap replicates",
        req.bootstrap,
        limits::MAX_REPLICATES,
    )?;
    let design = isoflop_design(&truth, &CHINCHILLA_BUDGETS, req.per_budget, 1.5, 6.0);
    let label = format!(
        "synthetic IsoFLOP sweep (9 Chinchilla budgets x {} models, noise {} in log loss, seed {})",
        req.per_budget, req.noise, req.seed
    );
    let runs = sample_runs(&truth, &design, req.noise, req.seed, &label)?;
    let config = FitConfig::default();
    let mut result = fit::fit(&runs, &config)?;
    if req.bootstrap >= 2 {
        let bc = BootstrapConfig {
            replicates: req.bootstrap,
            seed: req.seed,
            clusters: None,
            cluster_column: None,
            level: 0.95,
        };
        let boot = uncertainty::bootstrap(&runs, &config, &result, &bc, progress)?;
        uncertainty::attach(&mut result, boot, &[1e24], 0.95);
    }
    Ok(Demo {
        synthetic: true,
        truth: truth.to_json(),
        truth_source: DEMO_TRUTH_SOURCE.to_string(),
        design: DemoDesign {
            budgets: CHINCHILLA_BUDGETS.to_vec(),
            models_per_budget: req.per_budget,
            span_decades: 1.5,
            noise_sd_log_loss: req.noise,
            seed: req.seed,
        },
        fit: result,
        truth_law: truth,
        runs,
    })
}
