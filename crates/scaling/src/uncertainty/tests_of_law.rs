//! Tests of a given law against the data, after Besiroglu et al. (2024, arXiv:2404.10102):
//!
//! - a chi-squared test of the law's parameters against the fit's bootstrap covariance:
//!   `chi2 = (theta_law - theta_fit)' Sigma^-1 (theta_law - theta_fit)` on the fitting scale
//!   (ln E, ln A, ln B, alpha, beta: the scale Besiroglu et al. fit and test on, where the
//!   bootstrap distribution is close to normal; on the natural scale B's is strongly skewed),
//!   with as many degrees of freedom as parameters compared;
//! - a likelihood-ratio test under their Huber likelihood with a fitted scale: the density of a
//!   log-loss residual r is `f(r) = exp(-Huber_delta(r / sigma)) / (sigma Z(delta))`, with
//!   `Z(delta) = sqrt(2 pi) (1 - 2 Phi(-delta)) + 2 exp(-delta^2 / 2) / delta`;
//!   `LR = 2 (nll(law, sigma_law) - nll(theta_hat, sigma_hat))`, each scale fitted by maximum
//!   likelihood, compared with chi-squared.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::data::Runs;
use crate::error::{Error, Result};
use crate::fit::{self, bfgs, ETerm, Fit, FitConfig, Problem};
use crate::law::Law;
use crate::linalg::symmetric_eigen;
use crate::num::special::{chi2_sf, normal_sf};

/// One parameter compared.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Compared {
    /// The law's value.
    pub law: f64,
    /// The fit's value.
    pub fit: f64,
    /// `log` (E, A, B: compared as ln E, ...) or `linear` (exponents).
    pub scale: String,
    /// The bootstrap standard error on that scale.
    pub std_error: f64,
    /// (law - fit) / std_error on that scale.
    pub z: f64,
}

/// The result of testing a law against a fit and its data.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LawTest {
    /// Chi-squared statistic against the bootstrap covariance.
    pub chi2: f64,
    /// Its degrees of freedom.
    pub chi2_df: usize,
    /// P(chi2_df > chi2).
    pub chi2_p_value: f64,
    /// Monte Carlo standard error of `chi2`: the bootstrap covariance is estimated from a
    /// finite number of replicates, so the statistic moves with the seed (by about 15 between
    /// seeds on Epoch's runs with 4000 replicates). Delete-a-group jackknife (Efron & Stein
    /// 1981) over `JACKKNIFE_GROUPS` (10) consecutive groups of the usable replicates:
    /// `se = sqrt((G - 1) / G * sum_g (chi2_(-g) - mean)^2)`. NaN when it cannot be formed.
    #[serde(default)]
    pub chi2_mc_std_error: f64,
    /// Likelihood-ratio statistic under the Huber likelihood.
    pub lr_statistic: f64,
    /// Its degrees of freedom.
    pub lr_df: usize,
    /// P(chi2_df > lr_statistic).
    pub lr_p_value: f64,
    /// Fitted scale sigma at the maximum-likelihood parameters.
    pub scale_fit: f64,
    /// Fitted scale sigma with the law's parameters.
    pub scale_law: f64,
    /// Negative log-likelihood at the maximum.
    pub nll_fit: f64,
    /// Negative log-likelihood under the law.
    pub nll_law: f64,
    /// delta of the Huber likelihood (on standardised residuals).
    pub likelihood_delta: f64,
    /// The parameters compared.
    pub params: BTreeMap<String, Compared>,
    /// What the reader must know about these tests.
    pub warnings: Vec<String>,
}

/// Groups of the delete-a-group jackknife behind [`LawTest::chi2_mc_std_error`].
pub const JACKKNIFE_GROUPS: usize = 10;

/// The chi-squared statistic of `d` against the covariance of `samples` at the coordinates
/// `idx` (None when that covariance is singular).
fn chi2_of(samples: &[&Vec<f64>], idx: &[usize], d: &[f64]) -> Option<f64> {
    let q = idx.len();
    let n = samples.len();
    if n < q + 2 {
        return None;
    }
    let mean: Vec<f64> = idx
        .iter()
        .map(|&i| samples.iter().map(|s| s[i]).sum::<f64>() / n as f64)
        .collect();
    let mut cov = vec![0.0; q * q];
    for s in samples {
        for a in 0..q {
            for b in 0..q {
                cov[a * q + b] += (s[idx[a]] - mean[a]) * (s[idx[b]] - mean[b]) / (n as f64 - 1.0);
            }
        }
    }
    let (vals, vecs) = symmetric_eigen(&cov, q);
    let lmax = vals.iter().cloned().fold(0.0, f64::max);
    if !(vals[0] > 1e-14 * lmax) {
        return None;
    }
    Some(
        vals.iter()
            .zip(&vecs)
            .map(|(l, v)| {
                let proj: f64 = v.iter().zip(d).map(|(a, b)| a * b).sum();
                proj * proj / l
            })
            .sum(),
    )
}

/// Delete-a-group jackknife standard error of the chi-squared statistic over the replicates.
fn chi2_jackknife(samples: &[Vec<f64>], idx: &[usize], d: &[f64]) -> f64 {
    let g = JACKKNIFE_GROUPS;
    let n = samples.len();
    if n < 2 * g {
        return f64::NAN;
    }
    let mut vals = Vec::with_capacity(g);
    for k in 0..g {
        let (lo, hi) = (k * n / g, (k + 1) * n / g);
        let kept: Vec<&Vec<f64>> = samples[..lo].iter().chain(&samples[hi..]).collect();
        match chi2_of(&kept, idx, d) {
            Some(c) => vals.push(c),
            None => return f64::NAN,
        }
    }
    let m = vals.iter().sum::<f64>() / g as f64;
    ((g as f64 - 1.0) / g as f64 * vals.iter().map(|v| (v - m) * (v - m)).sum::<f64>()).sqrt()
}

/// ln Z(delta), the Huber density's normaliser.
fn ln_z(delta: f64) -> f64 {
    let central = (2.0 * std::f64::consts::PI).sqrt() * (1.0 - 2.0 * normal_sf(delta));
    (central + 2.0 * (-0.5 * delta * delta).exp() / delta).ln()
}

/// Negative log-likelihood and its gradient in (theta, s = ln sigma).
fn nll(
    problem: &Problem,
    x: &[f64],
    grad: &mut [f64],
    delta: f64,
    theta_fixed: Option<&[f64]>,
) -> f64 {
    let dim = problem.dim();
    let (theta, s) = match theta_fixed {
        Some(t) => (t.to_vec(), x[0]),
        None => (x[..dim].to_vec(), x[dim]),
    };
    let sig_inv = (-s).exp();
    let m = problem.runs();
    let lz = ln_z(delta);
    let mut f = 0.0;
    let mut gs = 0.0;
    let mut gt = vec![0.0; dim];
    let mut g1 = vec![0.0; dim];
    for i in 0..m {
        let lp = problem.ln_predict_grad(&theta, i, &mut g1);
        let r = problem.ln_loss_at(i) - lp;
        let z = r * sig_inv;
        let (rho, psi) = if z.abs() <= delta {
            (0.5 * z * z, z)
        } else {
            (delta * (z.abs() - 0.5 * delta), delta.copysign(z))
        };
        f += rho + lz + s;
        gs += 1.0 - psi * z;
        for k in 0..dim {
            gt[k] -= psi * sig_inv * g1[k];
        }
    }
    match theta_fixed {
        Some(_) => grad[0] = gs,
        None => {
            grad[..dim].copy_from_slice(&gt);
            grad[dim] = gs;
        }
    }
    if f.is_finite() {
        f
    } else {
        f64::INFINITY
    }
}

/// Test `law` against `fit` (which must carry bootstrap replicates) and the runs it was fitted
/// to.
///
/// # Examples
/// ```
/// use scaling::fit::{fit, FitConfig};
/// use scaling::uncertainty::{attach, bootstrap, test_law, BootstrapConfig};
/// let law = scaling::law::presets::get("chinchilla").unwrap().law.unwrap();
/// let design = scaling::simulate::isoflop_design(&law, &[1e18, 1e19, 1e20], 6, 1.5, 6.0);
/// let runs = scaling::simulate::sample_runs(&law, &design, 0.01, 1, "synthetic").unwrap();
/// let config = FitConfig::default();
/// let mut f = fit(&runs, &config).unwrap();
/// let bc = BootstrapConfig { replicates: 40, seed: 0, clusters: None, cluster_column: None,
///                            level: 0.95 };
/// let b = bootstrap(&runs, &config, &f, &bc, &|| {}).unwrap();
/// attach(&mut f, b, &[], 0.95);
/// // The law the runs were drawn from.
/// let t = test_law(&f, &runs, &config, &law, 1e-3).unwrap();
/// assert!((0.0..=1.0).contains(&t.chi2_p_value));
/// ```
///
/// # Errors
/// A law of another form, a fit without replicates, a singular covariance, or a law with
/// E = 0 where the fit estimates E.
pub fn test_law(
    fit: &Fit,
    runs: &Runs,
    config: &FitConfig,
    law: &Law,
    delta: f64,
) -> Result<LawTest> {
    if law.form != fit.form() {
        let describe = |f: &crate::law::LawForm| match f {
            crate::law::LawForm::Power { x } => format!("power law in {}", x.symbol()),
            other => format!("{} law", other.name()),
        };
        return Err(Error::InvalidSetting(format!(
            "the law is a {} but the fit is a {}",
            describe(&law.form),
            describe(&fit.form())
        )));
    }
    if let Some(e_fixed) = fit.conventions.fixed.get("E") {
        if (law.params[0] - e_fixed).abs() > 1e-12 * e_fixed.abs().max(1.0) {
            return Err(Error::setting(
                format!(
                    "the fit held E fixed at {e_fixed} but the law has E = {}: refit with {{}} {} \
                     (or without {{}}) to test this law",
                    law.params[0], law.params[0]
                ),
                &["fix_e", "fix_e"],
            ));
        }
    }
    let boot = fit.bootstrap.as_ref().ok_or_else(|| {
        Error::setting(
            "the fit has no bootstrap replicates: refit with {} R and save it with {} FIT",
            &["bootstrap", "out"],
        )
    })?;
    let problem = fit::problem(runs, config)?;
    let names = law.form.param_names();
    let free_e = problem.e_term == ETerm::Free;
    let idx: Vec<usize> = (0..names.len()).filter(|&i| i > 0 || free_e).collect();
    // Chi-squared against the bootstrap covariance.
    let q = idx.len();
    // The fitting scale: logs of E, A, B; exponents as they are.
    let k_terms = law.form.variables().len();
    let is_log = |i: usize| i <= k_terms;
    let tr = |i: usize, v: f64| if is_log(i) { v.ln() } else { v };
    let usable = boot.usable();
    let samples: Vec<Vec<f64>> = boot
        .samples
        .iter()
        .zip(&usable)
        .filter(|(_, u)| **u)
        .map(|(s, _)| s.iter().enumerate().map(|(i, v)| tr(i, *v)).collect())
        .collect();
    let n = samples.len();
    if n < 3 {
        return Err(Error::InsufficientData(format!(
            "only {n} bootstrap refits converged: too few for a covariance"
        )));
    }
    let mean: Vec<f64> = idx
        .iter()
        .map(|&i| samples.iter().map(|s| s[i]).sum::<f64>() / n as f64)
        .collect();
    let mut cov = vec![0.0; q * q];
    for s in &samples {
        for a in 0..q {
            for b in 0..q {
                cov[a * q + b] += (s[idx[a]] - mean[a]) * (s[idx[b]] - mean[b]) / (n as f64 - 1.0);
            }
        }
    }
    let fit_vals: Vec<f64> = idx
        .iter()
        .map(|&i| {
            fit.params
                .get(&names[i])
                .copied()
                .flatten()
                .unwrap_or(f64::NAN)
        })
        .collect();
    if fit_vals.iter().any(|v| !v.is_finite()) {
        return Err(Error::InsufficientData(
            "the fit did not identify every parameter, so the law cannot be tested against it"
                .into(),
        ));
    }
    let d: Vec<f64> = idx
        .iter()
        .zip(&fit_vals)
        .map(|(&i, f)| tr(i, law.params[i]) - tr(i, *f))
        .collect();
    if d.iter().any(|v| !v.is_finite()) {
        return Err(Error::InvalidSetting(
            "the law has a zero coefficient where the fit has a positive one; the tests compare logs"
                .into(),
        ));
    }
    let (vals, vecs) = symmetric_eigen(&cov, q);
    let lmax = vals.iter().cloned().fold(0.0, f64::max);
    if !(vals[0] > 1e-14 * lmax) {
        return Err(Error::Numerical(
            "the bootstrap covariance is singular, so the chi-squared test is undefined".into(),
        ));
    }
    let chi2: f64 = vals
        .iter()
        .zip(&vecs)
        .map(|(l, v)| {
            let proj: f64 = v.iter().zip(&d).map(|(a, b)| a * b).sum();
            proj * proj / l
        })
        .sum();
    let chi2_mc_std_error = chi2_jackknife(&samples, &idx, &d);
    // Likelihood ratio under the Huber likelihood with fitted scales.
    let k = problem.terms();
    let mut theta_law = Vec::new();
    if free_e {
        if law.params[0] <= 0.0 {
            return Err(Error::InvalidSetting(
                "the law has E = 0 but the fit estimates E: the likelihood ratio needs E > 0"
                    .into(),
            ));
        }
        theta_law.push(law.params[0].ln());
    }
    theta_law.extend((0..k).map(|j| law.params[1 + j].ln()));
    theta_law.extend((0..k).map(|j| law.params[1 + k + j]));
    let opts = bfgs::Options::default();
    let s0 = {
        let mut r: Vec<f64> = fit.residuals.iter().map(|v| v.abs()).collect();
        r.sort_by(|a, b| a.total_cmp(b));
        r[r.len() / 2].max(1e-12).ln()
    };
    let law_fit = bfgs::minimize(
        |x, g| nll(&problem, x, g, delta, Some(&theta_law)),
        &[s0],
        &opts,
    );
    let mut x0 = fit.free_theta();
    x0.push(s0);
    let full = bfgs::minimize(|x, g| nll(&problem, x, g, delta, None), &x0, &opts);
    // The unrestricted maximum is at least as high as the law's (the law is one of its points).
    let nll_fit = full.f.min(law_fit.f);
    let lr = (2.0 * (law_fit.f - nll_fit)).max(0.0);
    let mut params = BTreeMap::new();
    for (a, &i) in idx.iter().enumerate() {
        params.insert(
            names[i].to_string(),
            Compared {
                law: law.params[i],
                fit: fit_vals[a],
                scale: if is_log(i) {
                    "log".into()
                } else {
                    "linear".into()
                },
                std_error: cov[a * q + a].sqrt(),
                z: d[a] / cov[a * q + a].sqrt(),
            },
        );
    }
    let mut warnings = Vec::new();
    let mut bound_counts: BTreeMap<&str, usize> = BTreeMap::new();
    for b in &boot.at_bound {
        for p in b {
            *bound_counts.entry(p.as_str()).or_insert(0) += 1;
        }
    }
    for (p, c) in bound_counts {
        if c * 100 >= boot.replicates {
            warnings.push(format!(
                "{c} of {} replicates put {p} at its bound, so the bootstrap spread of ln {p} is \
                 inflated and the chi-squared test barely sees {p}",
                boot.replicates
            ));
        }
    }
    if boot.resampled == "clusters" {
        warnings.push(
            "the likelihood ratio treats runs as independent while the bootstrap resampled \
             clusters: with correlated runs its p-value is too small"
                .to_string(),
        );
    }
    Ok(LawTest {
        chi2,
        chi2_df: q,
        chi2_p_value: chi2_sf(chi2, q as f64),
        chi2_mc_std_error,
        lr_statistic: lr,
        lr_df: q,
        lr_p_value: chi2_sf(lr, q as f64),
        scale_fit: full.x[full.x.len() - 1].exp(),
        scale_law: law_fit.x[0].exp(),
        nll_fit,
        nll_law: law_fit.f,
        likelihood_delta: delta,
        params,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huber_normaliser_integrates_to_one() {
        // Z(delta) = integral of exp(-Huber_delta(u)) du, checked by the trapezoid rule.
        for delta in [0.3f64, 1.345, 3.0] {
            let h = 1e-3f64;
            let mut s = 0.0f64;
            let mut u = -300.0f64;
            while u < 300.0 {
                let rho = if u.abs() <= delta {
                    0.5 * u * u
                } else {
                    delta * (u.abs() - 0.5 * delta)
                };
                s += (-rho).exp() * h;
                u += h;
            }
            assert!(
                (s.ln() - ln_z(delta)).abs() < 1e-4,
                "delta {delta}: {} vs {}",
                s.ln(),
                ln_z(delta)
            );
        }
    }
}
