//! Uncertainty: bootstrap refits, percentile intervals and standard errors on every parameter
//! and on what the law implies, and tests of a given law against the data.
//!
//! ## Reference
//! Efron, B. and Tibshirani, R. (1993), *An Introduction to the Bootstrap*: the nonparametric
//! (case-resampling) bootstrap, its cluster form, and percentile intervals. Besiroglu et al.
//! (2024, arXiv:2404.10102) bootstrap Chinchilla's Approach 3 the same way (4000 replicates).

mod calibration;
mod predict;
pub(crate) mod request;
mod tests_of_law;

use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

pub use crate::num::special as stats;
pub use crate::num::{quantile_sorted, summarise};
pub use calibration::{
    calibrate, calibrate_runs, check_calibration_size, grouped_noise, mad_sd, CalibrateRequest,
    Calibration, CalibrationConfig, CalibrationReport, Coverage, Noise, NoiseModel, Resampling,
};
pub use predict::{
    locate, new_run_interval, new_run_residuals, predict, Extrapolation, Prediction,
    NEW_RUN_METHOD, NEW_RUN_METHOD_NO_LEVERAGE,
};
pub use request::{
    automatic_clusters, cluster_labels, default_budgets, fit_inputs, fit_table, law_columns,
    weights_from, BootstrapRequest, Clusters, FitRequest, TableInputs, AUTO_CLUSTER_MIN_REPEATED,
    AUTO_CLUSTER_MIN_SIZES, RUN_LEVEL, SIZE_WORDS,
};
pub use tests_of_law::{test_law, LawTest};

use crate::data::Runs;
use crate::error::{Error, Result};
pub use crate::fit::Bootstrap;
use crate::fit::{self, bfgs, ETerm, Fit, FitConfig, GeneralProblem, Problem};
use crate::law::{Law, LawForm};

/// How to bootstrap.
#[derive(Debug, Clone)]
pub struct BootstrapConfig {
    /// Number of replicates.
    pub replicates: usize,
    /// Seed: replicate r draws from ChaCha8 stream r of this seed, so results do not depend on
    /// the number of threads.
    pub seed: u64,
    /// Resample whole groups: the group label of each run (in run order), or `None` for runs.
    pub clusters: Option<Vec<String>>,
    /// The column the groups came from (recorded in the output).
    pub cluster_column: Option<String>,
    /// Interval level in (0, 1).
    pub level: f64,
}

/// Draw replicate `r`'s weights: how many times each run (or each run's group) was drawn.
pub fn replicate_weights(
    n_runs: usize,
    groups: Option<&[usize]>,
    n_groups: usize,
    seed: u64,
    r: usize,
) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(r as u64);
    match groups {
        None => {
            let mut w = vec![0.0; n_runs];
            for _ in 0..n_runs {
                w[rng.random_range(0..n_runs)] += 1.0;
            }
            w
        }
        Some(g) => {
            let mut gw = vec![0.0; n_groups];
            for _ in 0..n_groups {
                gw[rng.random_range(0..n_groups)] += 1.0;
            }
            g.iter().map(|&k| gw[k]).collect()
        }
    }
}

/// Refit `runs` on `replicates` resamples, warm-started from `full` (the fit of all runs).
/// `progress` is called once per finished replicate (from worker threads).
///
/// Each replicate starts from the full fit's optimum and refits by damped Newton steps
/// ([`fit::newton::minimize`]): with the exact Hessian for the Chinchilla and power forms,
/// with forward differences (step 1e-8) of the exact gradient for other forms
/// ([`GeneralProblem::hessian`]); see [`fit::newton::refit`]. As a safeguard against a poor local minimum, the objective
/// is also evaluated at the full fit's other local optima, and any that is lower is polished
/// too. The best result is kept.
///
/// # Examples
/// ```
/// use scaling::fit::{fit, FitConfig};
/// use scaling::uncertainty::{bootstrap, BootstrapConfig};
/// let law = scaling::law::presets::get("chinchilla").unwrap().law.unwrap();
/// let design = scaling::simulate::isoflop_design(&law, &[1e18, 1e19, 1e20], 6, 1.5, 6.0);
/// let runs = scaling::simulate::sample_runs(&law, &design, 0.01, 1, "synthetic").unwrap();
/// let config = FitConfig::default();
/// let f = fit(&runs, &config).unwrap();
/// let bc = BootstrapConfig { replicates: 20, seed: 0, clusters: None, cluster_column: None,
///                            level: 0.95 };
/// let b = bootstrap(&runs, &config, &f, &bc, &|| {}).unwrap();
/// assert_eq!(b.replicates, 20);
/// ```
///
/// # Errors
/// Fewer than 2 replicates or more than [`crate::limits::MAX_REPLICATES`], cluster labels of
/// the wrong length, or a single cluster.
pub fn bootstrap(
    runs: &Runs,
    config: &FitConfig,
    full: &Fit,
    bc: &BootstrapConfig,
    progress: &(dyn Fn() + Sync),
) -> Result<Bootstrap> {
    if bc.replicates < 2 {
        return Err(Error::setting(
            "{} needs at least 2 replicates",
            &["bootstrap"],
        ));
    }
    crate::limits::check(
        "bootstrap replicates",
        bc.replicates,
        crate::limits::MAX_REPLICATES,
    )?;
    if !(bc.level > 0.0 && bc.level < 1.0) {
        return Err(Error::setting(
            format!("{{}} must be between 0 and 1, got {}", bc.level),
            &["level"],
        ));
    }
    let kernel = config.uses_kernel();
    let base = if kernel {
        Some(fit::problem(runs, config)?)
    } else {
        None
    };
    let general = if kernel {
        None
    } else {
        let design = fit::design(config.form.form(), runs, &full.data.columns)?;
        Some(GeneralProblem::for_config(&design, &runs.loss, config)?)
    };
    let (groups, n_groups) = match &bc.clusters {
        None => (None, runs.len()),
        Some(labels) => {
            if labels.len() != runs.len() {
                return Err(Error::InvalidSetting(
                    "one cluster label per run is needed".into(),
                ));
            }
            let mut ids: Vec<&String> = labels.iter().collect();
            ids.sort();
            ids.dedup();
            if ids.len() < 2 {
                return Err(Error::setting(
                    format!(
                        "{{}} {}: all runs are in one group, so groups cannot be resampled",
                        bc.cluster_column.clone().unwrap_or_default()
                    ),
                    &["cluster_column"],
                ));
            }
            let g: Vec<usize> = labels
                .iter()
                .map(|l| ids.binary_search(&l).unwrap())
                .collect();
            (Some(g), ids.len())
        }
    };
    let starts: Vec<Vec<f64>> = if full.basins.is_empty() {
        vec![full.theta.clone()]
    } else {
        full.basins.clone()
    };
    let opts = config.optimizer;
    let min_loss = runs.loss.iter().cloned().fold(f64::INFINITY, f64::min);
    let names = config.form.param_names();
    let results: Vec<(Vec<f64>, String, Vec<String>)> = (0..bc.replicates)
        .into_par_iter()
        .map(|r| {
            let w = replicate_weights(runs.len(), groups.as_deref(), n_groups, bc.seed, r);
            let (best, nat, bounds) = match (&base, &general) {
                (Some(base), _) => {
                    let mut p = base.clone();
                    p.set_weights(&w);
                    let best = fit::newton::refit(&p, &starts, &opts);
                    let nat = natural(&p, &best.x);
                    let bounds = at_bound(&p, &nat, min_loss, &names);
                    (best, nat, bounds)
                }
                (None, Some(general)) => {
                    let mut p = general.clone();
                    p.set_weights(&w);
                    let best = fit::newton::refit(&p, &starts, &opts);
                    let nat = p.natural(&best.x);
                    let bounds = p.at_bound(&nat);
                    (best, nat, bounds)
                }
                (None, None) => unreachable!("one of the two problems is built"),
            };
            progress();
            let status = match best.termination {
                bfgs::Termination::Converged if !bounds.is_empty() => "at_bound".to_string(),
                t => serde_json::to_value(t)
                    .unwrap()
                    .as_str()
                    .unwrap_or("unknown")
                    .to_string(),
            };
            (nat, status, bounds)
        })
        .collect();
    let mut statuses = BTreeMap::new();
    for (_, t, _) in &results {
        *statuses.entry(t.clone()).or_insert(0) += 1;
    }
    Ok(Bootstrap {
        replicates: bc.replicates,
        seed: bc.seed,
        level: bc.level,
        budgets: vec![],
        resampled: if groups.is_some() {
            "clusters".into()
        } else {
            "runs".into()
        },
        cluster_column: bc.cluster_column.clone(),
        units: n_groups,
        statuses,
        warm_start: if kernel {
            "damped Newton with the exact Hessian from the full fit's optimum; the full fit's \
             other local optima are evaluated and any lower than that refit is polished too, \
             keeping the best"
        } else {
            "damped Newton from the full fit's optimum, the Hessian by forward differences of \
             the exact gradient; the full fit's other local optima are evaluated and any lower \
             than that refit is polished too, keeping the best"
        }
        .into(),
        param_names: config
            .form
            .param_names()
            .iter()
            .map(|s| s.to_string())
            .collect(),
        replicate_status: results.iter().map(|(_, t, _)| t.clone()).collect(),
        at_bound: results.iter().map(|(_, _, b)| b.clone()).collect(),
        samples: results.into_iter().map(|(x, _, _)| x).collect(),
    })
}

/// Parameters at a bound: E below 1e-6 of the smallest loss, or the coefficient of a term
/// that contributes less than 1e-6 of the smallest loss on every run.
fn at_bound(p: &Problem, nat: &[f64], min_loss: f64, names: &[String]) -> Vec<String> {
    let k = p.terms();
    let mut out = Vec::new();
    if p.e_term == ETerm::Free && nat[0] < 1e-6 * min_loss {
        out.push("E".to_string());
    }
    for j in 0..k {
        let biggest = p
            .ln_x(j)
            .iter()
            .map(|lx| nat[1 + j] * (-nat[1 + k + j] * lx).exp())
            .fold(0.0, f64::max);
        if biggest < 1e-6 * min_loss {
            out.push(names[1 + j].to_string());
        }
    }
    out
}

/// Natural-scale parameters (E, A, B, alpha, beta order) from free parameters.
fn natural(p: &Problem, theta: &[f64]) -> Vec<f64> {
    let k = p.terms();
    let off = usize::from(p.e_term == ETerm::Free);
    let e = match p.e_term {
        ETerm::Free => theta[0].exp(),
        ETerm::Fixed { ln_e } => ln_e.exp(),
        ETerm::Absent => 0.0,
    };
    let mut out = vec![e];
    out.extend((0..k).map(|j| theta[off + j].exp()));
    out.extend((0..k).map(|j| theta[off + k + j]));
    out
}

/// The name of a quantity at a budget, e.g. `N_opt@1e24` or `N_opt@1.2956e22` (the budget to
/// five significant digits, trailing zeros dropped).
pub fn at_budget(name: &str, flops: f64) -> String {
    let s = format!("{flops:.4e}");
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let mant = mant.trim_end_matches('0').trim_end_matches('.');
    format!("{name}@{mant}e{exp}")
}

/// Attach a bootstrap to the fit it resampled: intervals and standard errors at `level` for
/// the parameters and, at each budget in `budgets`, the compute-optimal allocation (see
/// [`intervals`]); the seed in the fit's conventions; and the bootstrap's warnings (replicates
/// that failed or stopped at a bound) among the fit's.
pub fn attach(fit: &mut Fit, mut boot: Bootstrap, budgets: &[f64], level: f64) {
    boot.budgets = budgets.to_vec();
    let (iv, se) = intervals(fit, &boot, budgets, level);
    let wide = wide_exponents(fit, &iv, level);
    if !wide.is_empty() {
        for w in &wide {
            fit.identifiability.weak.retain(|u| u.param != w.param);
            fit.identifiability.weak.push(w.clone());
        }
        let names = fit.form().param_names();
        fit.identifiability
            .weak
            .sort_by_key(|u| names.iter().position(|n| *n == u.param));
        let list: Vec<String> = wide.iter().map(|w| w.reason.clone()).collect();
        fit.warnings.push(format!(
            "the bootstrap interval on an exponent is wider than the exponent itself ({}): the \
             data determine it only weakly",
            list.join("; ")
        ));
    }
    fit.intervals = Some(iv);
    fit.std_errors = Some(se);
    fit.conventions.seed = Some(boot.seed);
    fit.conventions.new_run_interval = Some(new_run_residuals(fit).1.to_string());
    fit.warnings.extend(boot.warnings());
    fit.bootstrap = Some(boot);
}

/// Exponents (parameters whose meaning starts "exponent") whose interval at `level` is wider
/// than the estimate's own magnitude: the data do not even fix their size.
fn wide_exponents(
    fit: &Fit,
    iv: &BTreeMap<String, [f64; 2]>,
    level: f64,
) -> Vec<crate::fit::Unidentified> {
    let mut out = vec![];
    for (name, meaning) in &fit.meanings {
        if !meaning.starts_with("exponent") {
            continue;
        }
        let (Some(v), Some(&[lo, hi])) = (fit.params.get(name).copied().flatten(), iv.get(name))
        else {
            continue;
        };
        if hi - lo > v.abs() {
            out.push(crate::fit::Unidentified {
                param: name.clone(),
                reason: format!(
                    "{name} = {} with a {}% interval [{}, {}]",
                    crate::num::sig(v, 3),
                    crate::num::sig(100.0 * level, 3),
                    crate::num::sig(lo, 3),
                    crate::num::sig(hi, 3)
                ),
            });
        }
    }
    out
}

/// The replicates that enter every interval: the bootstrap's parameter vectors whose refit
/// converged (or stopped at a bound). Refits that failed (iteration limit, line-search failure)
/// are left out here, once, for every quantity derived from the replicates; the fit's warnings
/// say how many (see [`Bootstrap::warnings`]).
pub fn usable_samples(boot: &Bootstrap) -> Vec<&Vec<f64>> {
    boot.samples
        .iter()
        .zip(boot.usable())
        .filter(|(_, u)| *u)
        .map(|(s, _)| s)
        .collect()
}

/// The one interval mechanism, first half: replicates -> any derived quantity. For each usable
/// replicate (see [`usable_samples`]) the law of form `form` with its parameters is handed to
/// `derive`, which returns the quantities of interest in a fixed order (`None` where the law
/// does not define one); the result holds one column per quantity, one entry per usable
/// replicate, with `NaN` for `None` (which [`summarise`] leaves out).
///
/// # Examples
/// ```
/// use scaling::fit::Bootstrap;
/// use scaling::law::LawForm;
/// use scaling::uncertainty::{replicate_series, summarise};
///
/// let boot = Bootstrap {
///     samples: vec![
///         vec![1.7, 400.0, 410.0, 0.34, 0.28],
///         vec![1.6, 380.0, 420.0, 0.33, 0.29],
///         vec![0.1, 9.0, 9e6, 0.9, 0.1],
///     ],
///     replicate_status: vec!["converged".into(), "converged".into(), "max_iterations".into()],
///     ..Bootstrap::default()
/// };
/// // Loss of a 70B model trained on 1.4T tokens, from the two converged replicates.
/// let cols = replicate_series(&boot, LawForm::Chinchilla, |law| {
///     vec![Some(law.predict(70e9, 1.4e12, 6.0 * 70e9 * 1.4e12))]
/// });
/// assert_eq!(cols[0].len(), 2);
/// let ([lo, hi], _se) = summarise(&cols[0], 0.95).unwrap();
/// assert!(lo > 1.8 && hi < 2.0);
/// ```
pub fn replicate_series(
    boot: &Bootstrap,
    form: LawForm,
    derive: impl Fn(&Law) -> Vec<Option<f64>>,
) -> Vec<Vec<f64>> {
    let mut cols: Vec<Vec<f64>> = Vec::new();
    for s in usable_samples(boot) {
        let law = Law {
            form: form.clone(),
            params: s.clone(),
        };
        let v = derive(&law);
        if cols.len() < v.len() {
            cols.resize_with(v.len(), Vec::new);
        }
        for (c, x) in cols.iter_mut().zip(v) {
            c.push(x.unwrap_or(f64::NAN));
        }
    }
    cols
}

/// The one interval mechanism, both halves: the percentile interval at `level` (and the
/// standard error) of each quantity `derive` gives, over the usable replicates; `None` for a
/// quantity with too few finite values. Use this for any quantity derived from a fit (a
/// prediction, an allocation, an exponent), so that every front end reports the same interval.
///
/// # Examples
/// ```
/// use scaling::fit::{fit, FitConfig};
/// use scaling::uncertainty::{bootstrap, BootstrapConfig};
/// let law = scaling::law::presets::get("chinchilla").unwrap().law.unwrap();
/// let design = scaling::simulate::isoflop_design(&law, &[1e18, 1e19, 1e20], 6, 1.5, 6.0);
/// let runs = scaling::simulate::sample_runs(&law, &design, 0.01, 1, "synthetic").unwrap();
/// let config = FitConfig::default();
/// let f = fit(&runs, &config).unwrap();
/// let bc = BootstrapConfig { replicates: 20, seed: 0, clusters: None, cluster_column: None,
///                            level: 0.95 };
/// let b = bootstrap(&runs, &config, &f, &bc, &|| {}).unwrap();
/// // The interval on the loss predicted at 10x the largest budget's compute-optimal point.
/// let iv = scaling::uncertainty::derived_intervals(&b, f.form(), 0.95, |l| {
///     vec![Some(l.predict(1e10, 2e11, 1.2e22))]
/// });
/// let ([lo, hi], se) = iv[0].unwrap();
/// assert!(lo < hi && se > 0.0);
/// ```
pub fn derived_intervals(
    boot: &Bootstrap,
    form: LawForm,
    level: f64,
    derive: impl Fn(&Law) -> Vec<Option<f64>>,
) -> Vec<Option<([f64; 2], f64)>> {
    replicate_series(boot, form, derive)
        .iter()
        .map(|c| summarise(c, level))
        .collect()
}

/// Intervals and standard errors for every parameter the fit identified and, for the
/// Chinchilla form, for a, b, G and, at each budget in `budgets`, N_opt, D_opt, L_opt and
/// tokens per parameter (Hoffmann et al. 2022, Eq. 4, under C = k N D).
///
/// `L_opt@C` is the interval on the mean loss at the optimum. `L_opt_new_run@C` is the interval
/// for the loss of one new run trained at the optimum: the replicates' L_opt combined with the
/// fit's modified residuals by [`new_run_interval`] (no standard error is given for it).
///
/// # Examples
/// ```
/// use scaling::fit::{fit, FitConfig};
/// use scaling::uncertainty::{bootstrap, BootstrapConfig};
/// let law = scaling::law::presets::get("chinchilla").unwrap().law.unwrap();
/// let design = scaling::simulate::isoflop_design(&law, &[1e18, 1e19, 1e20], 6, 1.5, 6.0);
/// let runs = scaling::simulate::sample_runs(&law, &design, 0.01, 1, "synthetic").unwrap();
/// let config = FitConfig::default();
/// let f = fit(&runs, &config).unwrap();
/// let bc = BootstrapConfig { replicates: 20, seed: 0, clusters: None, cluster_column: None,
///                            level: 0.95 };
/// let b = bootstrap(&runs, &config, &f, &bc, &|| {}).unwrap();
/// let (iv, se) = scaling::uncertainty::intervals(&f, &b, &[], 0.95);
/// assert!(iv.contains_key("alpha") && se["alpha"] > 0.0);
/// ```
pub fn intervals(
    fit: &Fit,
    boot: &Bootstrap,
    budgets: &[f64],
    level: f64,
) -> (BTreeMap<String, [f64; 2]>, BTreeMap<String, f64>) {
    let mut series: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let form = fit.form();
    let fixed: Vec<&String> = fit.conventions.fixed.keys().collect();
    let samples = usable_samples(boot);
    for (i, name) in boot.param_names.iter().enumerate() {
        if fit.params.get(name).copied().flatten().is_none() || fixed.contains(&name) {
            continue;
        }
        series.insert(name.clone(), samples.iter().map(|s| s[i]).collect());
    }
    if form == LawForm::Chinchilla && fit.implied.is_some() {
        let k = fit.conventions.flops_per_param_token;
        let mut names: Vec<String> = vec!["a".into(), "b".into(), "G".into()];
        for &c in budgets {
            for q in ["N_opt", "D_opt", "L_opt", "tokens_per_param"] {
                names.push(at_budget(q, c));
            }
        }
        let columns = replicate_series(boot, form, |law| {
            let mut v = vec![law.params_exponent(), law.tokens_exponent(), law.g()];
            for &c in budgets {
                let o = law.optimum(c, k);
                v.extend([
                    o.map(|o| o.params),
                    o.map(|o| o.tokens),
                    o.map(|o| o.loss),
                    o.map(|o| o.tokens_per_param),
                ]);
            }
            v
        });
        for (name, col) in names.into_iter().zip(columns) {
            series.insert(name, col);
        }
    }
    let mut iv = BTreeMap::new();
    let mut se = BTreeMap::new();
    if !budgets.is_empty() && series.contains_key(&at_budget("L_opt", budgets[0])) {
        let (resid, _) = new_run_residuals(fit);
        // One budget per core: each interval selects among up to two million products.
        let new_run: Vec<(f64, Option<[f64; 2]>)> = budgets
            .par_iter()
            .map(|&c| {
                let ci = series
                    .get(&at_budget("L_opt", c))
                    .and_then(|v| new_run_interval(fit.conventions.space, v, &resid, level));
                (c, ci)
            })
            .collect();
        for (c, ci) in new_run {
            if let Some(ci) = ci {
                iv.insert(at_budget("L_opt_new_run", c), ci);
            }
        }
    }
    let summaries: Vec<_> = series
        .into_par_iter()
        .filter_map(|(name, v)| summarise(&v, level).map(|s| (name, s)))
        .collect();
    for (name, (ci, s)) in summaries {
        iv.insert(name.clone(), ci);
        se.insert(name, s);
    }
    (iv, se)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_match_numpy() {
        // numpy.percentile([1, 2, 3, 4], [2.5, 97.5]) = [1.075, 3.925]
        let v = [1.0, 2.0, 3.0, 4.0];
        assert!((quantile_sorted(&v, 0.025) - 1.075).abs() < 1e-12);
        assert!((quantile_sorted(&v, 0.975) - 3.925).abs() < 1e-12);
        let (ci, se) = summarise(&[4.0, 1.0, 3.0, 2.0, f64::NAN], 0.95).unwrap();
        assert!((ci[0] - 1.075).abs() < 1e-12 && (ci[1] - 3.925).abs() < 1e-12);
        assert!((se - 1.2909944487358056).abs() < 1e-12);
    }

    #[test]
    fn budget_names() {
        assert_eq!(at_budget("N_opt", 1e24), "N_opt@1e24");
        assert_eq!(at_budget("N_opt", 1.2956022673438285e22), "N_opt@1.2956e22");
        assert_eq!(at_budget("L_opt", 5.76e23), "L_opt@5.76e23");
    }

    #[test]
    fn weights_are_a_resample() {
        let w = replicate_weights(10, None, 10, 7, 3);
        assert_eq!(w.iter().sum::<f64>(), 10.0);
        assert_eq!(w, replicate_weights(10, None, 10, 7, 3));
        assert_ne!(w, replicate_weights(10, None, 10, 7, 4));
        let g = [0, 0, 1, 1, 1, 2];
        let wg = replicate_weights(6, Some(&g), 3, 7, 0);
        assert_eq!(wg[0], wg[1]);
        assert_eq!(wg[2], wg[4]);
    }
}
