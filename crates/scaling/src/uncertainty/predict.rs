//! Predictions with intervals from a bootstrapped fit, and where the point lies relative to the
//! data.
//!
//! # Formula
//! With replicate laws L_r (r = 1..R) and the full fit's residuals r_j (j = 1..m, log space:
//! r_j = ln L_hat_j - ln L_j), two intervals answer two questions:
//! - **mean**: where the law's expected loss at (N, D) lies, the percentile interval of
//!   `L_r(N, D)` (parameter uncertainty only; JSON `interval`);
//! - **new run**: where the loss of one new training run at (N, D) should fall, the percentile
//!   interval of all `L_r(N, D) exp(-e_j)` (linear space: `L_r(N, D) - e_j`), where e_j are the
//!   residuals modified as in Davison & Hinkley (1997, Sec. 6.3.3, Algorithm 6.4): divided by
//!   sqrt(1 - h_j), h_j the leverage of run j (the hat matrix J (J'J)^-1 J' of the Jacobian of the
//!   predictions at the optimum; fitted residuals are smaller than a new run's error by that
//!   factor), then centred so that the fit's own location estimate of them is 0 (their mean for
//!   squared error, their Huber M-estimate of location for Huber). Every replicate is paired with
//!   every modified residual, so no random draw is made and the interval does not depend on the
//!   number of threads (JSON `new_run_interval`, also under its older name `prediction_interval`).
//!
//! ## Reference
//! Davison, A. C. and Hinkley, D. V. (1997), *Bootstrap Methods and their Application*,
//! Cambridge University Press, Sec. 6.2.3 (modified residuals) and Sec. 6.3.3 (prediction error).

use serde::{Deserialize, Serialize};

use crate::fit::{self, Fit, Penalty, Space};
use crate::law::Law;
use crate::linalg::symmetric_eigen;
use crate::num::summarise;

/// How new-run intervals are computed, as recorded in JSON (`new_run_method`).
pub const NEW_RUN_METHOD: &str = "percentile interval of every bootstrap replicate's prediction \
    combined with every residual of the fit (log space: L_r exp(-e_j)), the residuals divided by \
    sqrt(1 - leverage) and centred at the objective's location estimate (Davison & Hinkley 1997, \
    Algorithm 6.4); no random draws";

/// The same, when the leverages could not be computed (a fit without its data): the residuals
/// are centred but not divided by sqrt(1 - leverage).
pub const NEW_RUN_METHOD_NO_LEVERAGE: &str = "percentile interval of every bootstrap replicate's \
    prediction combined with every residual of the fit (log space: L_r exp(-e_j)), the residuals \
    centred at the objective's location estimate; leverages unavailable; no random draws";

/// Where a point lies relative to the runs a fit used.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Extrapolation {
    /// True when N, D and C all lie within the runs' ranges.
    pub inside: bool,
    /// log10(C / largest C in the runs): positive beyond the data, negative inside or below.
    pub decades_beyond_max_flops: Option<f64>,
    /// Each way the point leaves the data, in words.
    pub notes: Vec<String>,
}

/// A prediction with its intervals.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Prediction {
    /// The fitted law's loss at the point.
    pub loss: f64,
    /// Interval level.
    pub level: Option<f64>,
    /// Percentile interval of the replicate laws' predictions (parameter uncertainty).
    pub interval: Option<[f64; 2]>,
    /// Its standard error.
    pub std_error: Option<f64>,
    /// Parameter uncertainty plus the fit's residual noise: where a new run's loss should fall
    /// (the same as `new_run_interval`; kept under this name for scripts that read it).
    pub prediction_interval: Option<[f64; 2]>,
    /// The interval for one new run: parameter uncertainty plus run-to-run noise (see the
    /// module documentation). `interval` is the one on the mean loss.
    #[serde(default)]
    pub new_run_interval: Option<[f64; 2]>,
    /// How `new_run_interval` was computed.
    #[serde(default)]
    pub new_run_method: Option<String>,
    /// Where the point is relative to the data.
    pub extrapolation: Option<Extrapolation>,
}

fn human(x: f64) -> String {
    crate::num::human(x)
}

/// Where (n, d, c) lies relative to the fit's data range.
pub fn locate(fit: &Fit, n: f64, d: f64, c: f64) -> Extrapolation {
    let dr = &fit.data_range;
    let mut notes = Vec::new();
    for (sym, v, r) in [("N", n, dr.params), ("D", d, dr.tokens)] {
        if let (Some([lo, hi]), true) = (r, v.is_finite()) {
            if v > hi * (1.0 + 1e-12) {
                notes.push(format!(
                    "{sym} = {} is above the largest in the runs ({})",
                    human(v),
                    human(hi)
                ));
            } else if v < lo * (1.0 - 1e-12) {
                notes.push(format!(
                    "{sym} = {} is below the smallest in the runs ({})",
                    human(v),
                    human(lo)
                ));
            }
        }
    }
    let mut decades = None;
    if let (Some([lo, hi]), true) = (dr.flops, c.is_finite()) {
        let dec = (c / hi).log10();
        decades = Some(dec);
        if c > hi * (1.0 + 1e-12) {
            notes.push(format!(
                "C = {c:.3e} FLOPs is {dec:.2} decades beyond the largest run ({hi:.3e})"
            ));
        } else if c < lo * (1.0 - 1e-12) {
            notes.push(format!(
                "C = {c:.3e} FLOPs is {:.2} decades below the smallest run ({lo:.3e})",
                (lo / c).log10()
            ));
        }
    }
    Extrapolation {
        inside: notes.is_empty(),
        decades_beyond_max_flops: decades,
        notes,
    }
}

/// Predict the loss at (n, d, c) from `law`, with intervals when `fit` has bootstrap replicates
/// (`level` defaults to the bootstrap's).
///
/// # Examples
/// ```
/// let law = scaling::law::presets::get("chinchilla").unwrap().law.unwrap();
/// let p = scaling::uncertainty::predict(&law, None, 70e9, 1.4e12, 5.88e23, None);
/// assert_eq!(p.loss, law.predict(70e9, 1.4e12, 5.88e23));
/// assert!(p.interval.is_none()); // a law without a fit has no replicates
/// ```
pub fn predict(
    law: &Law,
    fit: Option<&Fit>,
    n: f64,
    d: f64,
    c: f64,
    level: Option<f64>,
) -> Prediction {
    let loss = law.predict(n, d, c);
    let mut p = Prediction {
        loss,
        level: None,
        interval: None,
        std_error: None,
        prediction_interval: None,
        new_run_interval: None,
        new_run_method: None,
        extrapolation: fit.map(|f| locate(f, n, d, c)),
    };
    let Some(fit) = fit else { return p };
    let Some(boot) = &fit.bootstrap else { return p };
    let level = level.unwrap_or(boot.level);
    let usable = boot.usable();
    let preds: Vec<f64> = boot
        .samples
        .iter()
        .zip(&usable)
        .filter(|(_, u)| **u)
        .map(|(s, _)| {
            Law {
                form: law.form.clone(),
                params: s.clone(),
            }
            .predict(n, d, c)
        })
        .collect();
    if let Some((ci, se)) = summarise(&preds, level) {
        p.interval = Some(ci);
        p.std_error = Some(se);
    }
    let (resid, method) = new_run_residuals(fit);
    p.new_run_interval = new_run_interval(fit.conventions.space, &preds, &resid, level);
    p.prediction_interval = p.new_run_interval;
    p.new_run_method = p.new_run_interval.map(|_| method.to_string());
    p.level = Some(level);
    p
}

/// The residuals a new run's error is drawn from, and which method produced them
/// ([`NEW_RUN_METHOD`] or [`NEW_RUN_METHOD_NO_LEVERAGE`]).
///
/// # Formula
/// e_j = r_j / sqrt(1 - h_j) - c, with h_j the diagonal of the hat matrix J (J'J)^+ J' of the
/// Jacobian J of the predictions (ln L_hat in log space, L_hat in linear space) with respect to
/// the free parameters at the optimum, and c the location estimate of the objective (mean for
/// squared error, Huber M-estimate with the fit's delta) of the r_j / sqrt(1 - h_j).
/// Davison & Hinkley (1997), Sec. 6.2.3.
pub fn new_run_residuals(fit: &Fit) -> (Vec<f64>, &'static str) {
    let raw = &fit.residuals;
    let (mut e, method) = match leverages(fit) {
        Some(h) if h.len() == raw.len() => (
            raw.iter()
                .zip(&h)
                .map(|(r, h)| r / (1.0 - h.min(0.99)).sqrt())
                .collect::<Vec<f64>>(),
            NEW_RUN_METHOD,
        ),
        _ => (raw.clone(), NEW_RUN_METHOD_NO_LEVERAGE),
    };
    e.retain(|v| v.is_finite());
    let c = location(&e, fit.config().objective.penalty);
    e.iter_mut().for_each(|v| *v -= c);
    (e, method)
}

/// The leverage of each run: the diagonal of J (J'J)^+ J' at the fit's optimum, with the columns
/// of J scaled to unit length (which leaves the hat matrix unchanged) and directions whose
/// eigenvalue is below 1e-12 of the largest dropped. `None` when the fitting problem cannot be
/// rebuilt from the fit.
fn leverages(fit: &Fit) -> Option<Vec<f64>> {
    let config = fit.config();
    let p = fit::problem(&fit.runs(), &config).ok()?;
    let q = p.dim();
    if fit.theta.len() != q || p.runs() != fit.residuals.len() {
        return None;
    }
    let linear = fit.conventions.space == Space::Linear;
    let mut jac = vec![vec![0.0; q]; p.runs()];
    for (i, row) in jac.iter_mut().enumerate() {
        let lp = p.ln_predict_grad(&fit.theta, i, row);
        if linear {
            row.iter_mut().for_each(|g| *g *= lp.exp());
        }
    }
    let norms: Vec<f64> = (0..q)
        .map(|k| jac.iter().map(|r| r[k] * r[k]).sum::<f64>().sqrt())
        .collect();
    if norms.iter().any(|n| !n.is_finite()) {
        return None;
    }
    for row in &mut jac {
        for (v, n) in row.iter_mut().zip(&norms) {
            *v = if *n > 0.0 { *v / n } else { 0.0 };
        }
    }
    let mut jtj = vec![0.0; q * q];
    for r in &jac {
        for a in 0..q {
            for b in 0..q {
                jtj[a * q + b] += r[a] * r[b];
            }
        }
    }
    let (vals, vecs) = symmetric_eigen(&jtj, q);
    let lmax = vals.iter().cloned().fold(0.0, f64::max);
    if !(lmax > 0.0) {
        return None;
    }
    Some(
        jac.iter()
            .map(|r| {
                vals.iter()
                    .zip(&vecs)
                    .filter(|(l, _)| **l > 1e-12 * lmax)
                    .map(|(l, v)| {
                        let proj: f64 = r.iter().zip(v).map(|(a, b)| a * b).sum();
                        proj * proj / l
                    })
                    .sum()
            })
            .collect(),
    )
}

/// The location the objective estimates from a sample: the mean for squared error, and for
/// Huber's penalty the M-estimate, the root of sum_j psi_delta(e_j - c) = 0 (found by bisection;
/// psi is monotone).
fn location(e: &[f64], penalty: Penalty) -> f64 {
    if e.is_empty() {
        return 0.0;
    }
    match penalty {
        Penalty::Squared => e.iter().sum::<f64>() / e.len() as f64,
        Penalty::Huber { delta } => {
            let psi_sum =
                |c: f64| -> f64 { e.iter().map(|v| (v - c).clamp(-delta, delta)).sum::<f64>() };
            let mut lo = e.iter().cloned().fold(f64::INFINITY, f64::min);
            let mut hi = e.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            for _ in 0..200 {
                let mid = 0.5 * (lo + hi);
                if psi_sum(mid) > 0.0 {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            0.5 * (lo + hi)
        }
    }
}

/// The new-run interval at `level` from replicate predictions `preds` (of the mean loss at one
/// point) and modified residuals `resid` (from [`new_run_residuals`]): the percentile interval
/// of every `pred exp(-e)` (log space) or `pred - e` (linear space). When the products exceed
/// two million, the residuals are thinned evenly. `None` with fewer than two finite values.
pub fn new_run_interval(
    space: Space,
    preds: &[f64],
    resid: &[f64],
    level: f64,
) -> Option<[f64; 2]> {
    if !(level > 0.0 && level < 1.0) {
        return None;
    }
    let finite: Vec<f64> = preds.iter().copied().filter(|v| v.is_finite()).collect();
    let m = resid.len().max(1);
    let stride = ((finite.len() * m) / 2_000_000).max(1);
    // exp(-e) of each residual once, not once per replicate (the same values).
    let factors: Vec<f64> = resid
        .iter()
        .step_by(stride)
        .map(|r| match space {
            Space::Log => (-r).exp(),
            Space::Linear => *r,
        })
        .collect();
    let mut all = Vec::with_capacity(finite.len() * factors.len());
    for &pr in &finite {
        for &e in &factors {
            all.push(match space {
                Space::Log => pr * e,
                Space::Linear => pr - e,
            });
        }
    }
    all.retain(|v| v.is_finite());
    if all.len() < 2 {
        return None;
    }
    let a = (1.0 - level) / 2.0;
    let q = crate::num::quantiles_select(&mut all, &[a, 1.0 - a]);
    Some([q[0], q[1]])
}
