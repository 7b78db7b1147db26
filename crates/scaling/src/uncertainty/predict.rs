//! Predictions with intervals from a bootstrapped fit, and where the point lies relative to the
//! data.
//!
//! # Formula
//! With replicate laws L_r (r = 1..R) and the full fit's residuals r_j (j = 1..m, log space:
//! r_j = ln L_hat_j - ln L_j), the interval on the mean loss is the percentile interval of
//! `L_r(N, D)`, and the prediction interval is the percentile interval of all
//! `L_r(N, D) exp(-r_j)` (linear space: `L_r(N, D) - r_j`): parameter uncertainty plus
//! residual noise, with no random draws.

use serde::{Deserialize, Serialize};

use crate::fit::{Fit, Space};
use crate::law::Law;
use crate::num::{quantile_sorted, summarise};

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
    /// Parameter uncertainty plus the fit's residual noise: where a new run's loss should fall.
    pub prediction_interval: Option<[f64; 2]>,
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
    // Every replicate with every residual; thin the residuals evenly when that is large.
    let m = fit.residuals.len().max(1);
    let stride = ((preds.len() * m) / 2_000_000).max(1);
    let mut all = Vec::with_capacity(preds.len() * m / stride + 1);
    for &pr in preds.iter().filter(|v| v.is_finite()) {
        for r in fit.residuals.iter().step_by(stride) {
            all.push(match fit.conventions.space {
                Space::Log => pr * (-r).exp(),
                Space::Linear => pr - r,
            });
        }
    }
    if all.len() >= 2 {
        all.sort_by(|a, b| a.total_cmp(b));
        let a = (1.0 - level) / 2.0;
        p.prediction_interval = Some([quantile_sorted(&all, a), quantile_sorted(&all, 1.0 - a)]);
    }
    p.level = Some(level);
    p
}
