//! The whole analysis of a run table that the HTML report and the plots draw: the Chinchilla
//! fit (Approach 3) with its bootstrap, Approach 2 on the same runs, and the compute-optimal
//! allocation at round budgets with intervals. A saved fit can stand in for the fit, so a report
//! or a plot never bootstraps a second time.

use serde::{Deserialize, Serialize};

use crate::data::Runs;
use crate::error::Result;
use crate::fit::{self, Fit, FitConfig};
use crate::uncertainty::{self, BootstrapConfig};

use super::isoflop::{isoflop, Grouping, IsoflopConfig, IsoflopResult};

/// What to analyse.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct OverviewRequest {
    /// Bootstrap replicates of the fit (below 2: none). Ignored with a saved fit.
    pub bootstrap: usize,
    /// Seed of the bootstrap and of Approach 2's resamples.
    pub seed: u64,
    /// IsoFLOP budgets to snap runs to for Approach 2 (empty: runs whose FLOPs agree within 5%).
    pub budgets: Vec<f64>,
    /// Run Approach 2 at all.
    pub isoflop: bool,
}

impl Default for OverviewRequest {
    fn default() -> Self {
        OverviewRequest {
            bootstrap: 1000,
            seed: 0,
            budgets: Vec::new(),
            isoflop: true,
        }
    }
}

/// The compute-optimal allocation at one budget, with the 95% percentile interval of N* over
/// the usable bootstrap replicates.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AllocationRow {
    /// The budget C (FLOPs).
    pub flops: f64,
    /// N*.
    pub params: f64,
    /// D*.
    pub tokens: f64,
    /// D* / N*.
    pub tokens_per_param: f64,
    /// The law's loss at the optimum.
    pub loss: Option<f64>,
    /// 95% interval on N*.
    pub params_interval: Option<[f64; 2]>,
}

/// The analysis behind a report: the fit, Approach 2, and allocations at 1e19 to 1e26 FLOPs.
#[derive(Debug, Clone, Serialize)]
pub struct Overview {
    /// The Chinchilla fit (Approach 3), bootstrapped when asked or when saved so.
    pub fit: Fit,
    /// True when `fit` is a saved fit rather than one made here.
    pub saved_fit: bool,
    /// Approach 2 on the same runs, when budgets could be formed.
    pub isoflop: Option<IsoflopResult>,
    /// Why Approach 2 is missing, when it is.
    pub isoflop_error: Option<String>,
    /// The allocation at 1e19, 1e20, ..., 1e26 FLOPs (Hoffmann et al. 2022, Eq. 4).
    pub allocations: Vec<AllocationRow>,
    /// The runs analysed.
    #[serde(skip)]
    pub runs: Runs,
}

/// Analyse `runs`: fit the Chinchilla law (or take `saved`, a fit of the same runs with its
/// bootstrap), bootstrap it with intervals at the largest budget and 1e24, run Approach 2 on
/// the same runs, and allocate 1e19 to 1e26 FLOPs with N*'s percentile interval from the one
/// interval mechanism ([`uncertainty::derived_intervals`]).
///
/// # Examples
/// ```
/// use scaling::methods::{overview, OverviewRequest};
/// let law = scaling::law::presets::get("epoch").unwrap().law.unwrap();
/// let budgets = [1e18, 1e19, 1e20];
/// let design = scaling::simulate::isoflop_design(&law, &budgets, 7, 1.5, 6.0);
/// let runs = scaling::simulate::sample_runs(&law, &design, 0.01, 1, "synthetic").unwrap();
/// let req = OverviewRequest { bootstrap: 20, budgets: budgets.to_vec(), ..Default::default() };
/// let o = overview(&runs, None, &req).unwrap();
/// assert!(o.isoflop.is_some());
/// assert_eq!(o.allocations.len(), 8);
/// assert!(o.allocations[0].params_interval.is_some());
/// ```
///
/// # Errors
/// Those of [`fit::fit`] and [`uncertainty::bootstrap`].
pub fn overview(runs: &Runs, saved: Option<Fit>, req: &OverviewRequest) -> Result<Overview> {
    overview_with(runs, saved, req, &|| {})
}

/// [`overview`], calling `progress` once per finished bootstrap replicate (for a front end's
/// progress bar; `req.bootstrap` of them when the fit is made here, none for a saved fit).
///
/// # Examples
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use scaling::methods::{overview_with, OverviewRequest};
/// let law = scaling::law::presets::get("epoch").unwrap().law.unwrap();
/// let design = scaling::simulate::isoflop_design(&law, &[1e18, 1e19, 1e20], 6, 1.5, 6.0);
/// let runs = scaling::simulate::sample_runs(&law, &design, 0.01, 1, "synthetic").unwrap();
/// let done = AtomicUsize::new(0);
/// let req = OverviewRequest { bootstrap: 10, ..Default::default() };
/// overview_with(&runs, None, &req, &|| { done.fetch_add(1, Ordering::Relaxed); }).unwrap();
/// assert_eq!(done.load(Ordering::Relaxed), 10);
/// ```
///
/// # Errors
/// Those of [`overview`].
pub fn overview_with(
    runs: &Runs,
    saved: Option<Fit>,
    req: &OverviewRequest,
    progress: &(dyn Fn() + Sync),
) -> Result<Overview> {
    let saved_fit = saved.is_some();
    let f = match saved {
        Some(f) => f,
        None => {
            let config = FitConfig::default();
            let mut f = fit::fit(runs, &config)?;
            if req.bootstrap >= 2 && f.law().is_some() {
                let bc = BootstrapConfig {
                    replicates: req.bootstrap,
                    seed: req.seed,
                    clusters: None,
                    cluster_column: None,
                    level: 0.95,
                };
                let b = uncertainty::bootstrap(runs, &config, &f, &bc, progress)?;
                let budgets: Vec<f64> = f
                    .data_range
                    .flops
                    .map(|r| vec![r[1], 1e24])
                    .unwrap_or_else(|| vec![1e24]);
                uncertainty::attach(&mut f, b, &budgets, 0.95);
            }
            f
        }
    };
    let (iso, isoflop_error) = if req.isoflop {
        let grouping = if req.budgets.is_empty() {
            Grouping::Tolerance(0.05)
        } else {
            Grouping::Listed(req.budgets.clone())
        };
        let r = isoflop(
            &runs.params,
            &runs.tokens,
            &runs.flops,
            &runs.loss,
            &IsoflopConfig {
                grouping,
                replicates: 200,
                seed: req.seed,
                level: 0.95,
                keep_flagged: false,
            },
        );
        match r {
            Ok(r) => (Some(r), None),
            Err(e) => (None, Some(e.to_string())),
        }
    } else {
        (None, None)
    };
    let allocations = allocations(&f);
    Ok(Overview {
        fit: f,
        saved_fit,
        isoflop: iso,
        isoflop_error,
        allocations,
        runs: runs.clone(),
    })
}

/// The allocation at 1e19..1e26 FLOPs with N*'s 95% interval (none without a bootstrap).
fn allocations(f: &Fit) -> Vec<AllocationRow> {
    let (Some(law), Some(_)) = (f.law(), f.implied.as_ref()) else {
        return Vec::new();
    };
    let k = f.conventions.flops_per_param_token;
    let budgets: Vec<f64> = (19..=26).map(|e| 10f64.powi(e)).collect();
    let ivs = f.bootstrap.as_ref().map(|b| {
        uncertainty::derived_intervals(b, law.form.clone(), 0.95, |l| {
            budgets
                .iter()
                .map(|&c| l.optimum(c, k).map(|o| o.params))
                .collect()
        })
    });
    budgets
        .iter()
        .enumerate()
        .filter_map(|(i, &c)| {
            let al = crate::allocate::optimal(&law, c, k, None).ok()?;
            Some(AllocationRow {
                flops: c,
                params: al.params,
                tokens: al.tokens,
                tokens_per_param: al.tokens_per_param,
                loss: al.loss,
                params_interval: ivs
                    .as_ref()
                    .and_then(|v| v.get(i).copied().flatten())
                    .map(|(iv, _)| iv),
            })
        })
        .collect()
}
