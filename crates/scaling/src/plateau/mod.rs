//! Is it really a plateau? Compare a pure power law, a saturating power law and a broken power
//! law on a curve, and say plainly what the data support.
//!
//! # Formula
//! Forms, fitted by least squares on ln y (BFGS with central-difference gradients):
//! - power: `y = A x^-alpha`;
//! - saturating: `y = E + A x^-alpha`;
//! - broken (Caballero et al. 2022, one break):
//!   `y = a + b x^-c0 (1 + (x / d)^(1/f))^(-c1 f)`.
//!
//! With m fitted points and k parameters: `AIC = m ln(RSS/m) + 2k` with the small-sample
//! correction `+ 2k(k+1)/(m-k-1)` (AICc; Hurvich & Tsai 1989), `BIC = m ln(RSS/m) + k ln m`.
//! The local exponent at the end of the data is `-d ln y / d ln x` there. Learning-curve types
//! follow Amari et al. (1992): t^-1, t^-2, t^-1/2 and c + t^-1.

use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::fit::bfgs;
use crate::num::summarise;

/// One form fitted to the curve.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FormFit {
    /// `power`, `saturating` or `broken`.
    pub name: String,
    /// The formula.
    pub formula: String,
    /// Fitted parameters.
    pub params: BTreeMap<String, f64>,
    /// Number of parameters.
    pub k: usize,
    /// Sum of squared log residuals on the fitted points.
    pub rss: f64,
    /// Akaike's information criterion with the small-sample correction (AICc).
    pub aic: f64,
    /// Bayes' information criterion.
    pub bic: f64,
    /// Root-mean-square log error on the held-out tail.
    pub heldout_rmse: Option<f64>,
    /// -d ln y / d ln x at the last fitted point.
    pub local_exponent_at_end: f64,
}

/// Amari et al.'s learning-curve type nearest the data.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LearningCurveType {
    /// `t^-1`, `t^-2`, `t^-1/2` or `c + t^-1`.
    pub closest: String,
    /// The exponent compared (of the saturating form for `c + t^-1`, else of the power form).
    pub exponent: f64,
    /// Its bootstrap interval.
    pub exponent_interval: Option<[f64; 2]>,
}

/// The verdict on a curve.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlateauResult {
    /// Each form.
    pub forms: Vec<FormFit>,
    /// The form with the lowest AIC.
    pub best_aic: String,
    /// The form with the lowest BIC.
    pub best_bic: String,
    /// E of the saturating form.
    pub asymptote: f64,
    /// Its bootstrap interval.
    pub asymptote_interval: Option<[f64; 2]>,
    /// (y - E) / y at the last fitted point: the share of the loss still reducible.
    pub reducible_fraction_at_end: f64,
    /// Whether the broken form is preferred (AIC lower by more than 2) with its break inside
    /// the data.
    pub break_supported: bool,
    /// Where the break is (x), when fitted.
    pub break_at: Option<f64>,
    /// `plateau`, `still falling` or `cannot tell`.
    pub verdict: String,
    /// Why.
    pub explanation: String,
    /// Amari et al.'s type.
    pub learning_curve_type: LearningCurveType,
    /// Points fitted.
    pub fit_points: usize,
    /// Points held out (the largest x).
    pub heldout_points: usize,
}

type Model = fn(&[f64], f64) -> f64;

fn power(p: &[f64], x: f64) -> f64 {
    (p[0] - p[1] * x.ln()).exp()
}

fn saturating(p: &[f64], x: f64) -> f64 {
    p[0].exp() + (p[1] - p[2] * x.ln()).exp()
}

fn broken(p: &[f64], x: f64) -> f64 {
    let (a, b, c0, c1, d, f) = (p[0].exp(), p[1].exp(), p[2], p[3], p[4].exp(), p[5].exp());
    a + b * x.powf(-c0) * (1.0 + (x / d).powf(1.0 / f)).powf(-c1 * f)
}

fn sse(m: Model, p: &[f64], x: &[f64], ly: &[f64]) -> f64 {
    let mut s = 0.0;
    for (xi, yi) in x.iter().zip(ly) {
        let v = m(p, *xi);
        if !(v > 0.0 && v.is_finite()) {
            return f64::INFINITY;
        }
        s += (v.ln() - yi).powi(2);
    }
    s
}

fn minimise(m: Model, x0: &[f64], x: &[f64], ly: &[f64]) -> (Vec<f64>, f64) {
    let f = |p: &[f64], g: &mut [f64]| {
        let v = sse(m, p, x, ly);
        let mut q = p.to_vec();
        for i in 0..p.len() {
            let h = 1e-6 * (1.0 + p[i].abs());
            q[i] = p[i] + h;
            let up = sse(m, &q, x, ly);
            q[i] = p[i] - h;
            let dn = sse(m, &q, x, ly);
            q[i] = p[i];
            g[i] = if up.is_finite() && dn.is_finite() {
                (up - dn) / (2.0 * h)
            } else {
                0.0
            };
        }
        v
    };
    let opts = bfgs::Options {
        max_iter: 3000,
        gtol: 1e-10,
        ..Default::default()
    };
    let o = bfgs::minimize(f, x0, &opts);
    (o.x, o.f)
}

fn fit_power(x: &[f64], ly: &[f64]) -> Vec<f64> {
    let lx: Vec<f64> = x.iter().map(|v| v.ln()).collect();
    let n = lx.len() as f64;
    let (mx, my) = (lx.iter().sum::<f64>() / n, ly.iter().sum::<f64>() / n);
    let sxx: f64 = lx.iter().map(|v| (v - mx).powi(2)).sum();
    let sxy: f64 = lx.iter().zip(ly).map(|(a, b)| (a - mx) * (b - my)).sum();
    let slope = sxy / sxx;
    vec![my - slope * mx, -slope]
}

fn fit_saturating(x: &[f64], ly: &[f64], from: Option<&[f64]>) -> (Vec<f64>, f64) {
    let ymin = ly.iter().cloned().fold(f64::INFINITY, f64::min).exp();
    let starts: Vec<Vec<f64>> = match from {
        Some(p) => vec![p.to_vec()],
        None => {
            let pw = fit_power(x, ly);
            [1e-3, 0.3, 0.6, 0.9]
                .iter()
                .flat_map(|&fr| {
                    let e = fr * ymin;
                    [0.3, 1.0].into_iter().map(move |al: f64| {
                        let a = ((ly[0].exp() - e).max(1e-9 * ymin) * x[0].powf(al)).ln();
                        vec![e.ln(), a, al]
                    })
                })
                .chain(std::iter::once(vec![(1e-6 * ymin).ln(), pw[0], pw[1]]))
                .collect()
        }
    };
    starts
        .iter()
        .map(|s| minimise(saturating, s, x, ly))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .expect("starts")
}

fn fit_broken(x: &[f64], ly: &[f64], sat: &[f64]) -> (Vec<f64>, f64) {
    let (lo, hi) = (x[0].ln(), x[x.len() - 1].ln());
    let mut starts = Vec::new();
    for q in [0.2, 0.4, 0.6, 0.8] {
        for (c0, c1) in [(sat[2], 0.5), (sat[2] * 0.5, 2.0), (0.1, 1.0)] {
            for lf in [-1.0f64, 0.0] {
                starts.push(vec![sat[0], sat[1], c0, c1, lo + q * (hi - lo), lf]);
            }
        }
    }
    starts
        .par_iter()
        .map(|s| minimise(broken, s, x, ly))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .expect("starts")
}

fn local_exponent(m: Model, p: &[f64], x: f64) -> f64 {
    for h in [1e-4, 1e-2, 0.1] {
        let v = -((m(p, x * (1.0 + h))).ln() - (m(p, x * (1.0 - h))).ln())
            / ((1.0 + h).ln() - (1.0 - h).ln());
        if v.is_finite() {
            return v;
        }
    }
    let h = 1e-4;
    -((m(p, x * (1.0 + h))).ln() - (m(p, x * (1.0 - h))).ln()) / ((1.0 + h).ln() - (1.0 - h).ln())
}

/// Diagnose a curve y(x): fit on all but the `holdout` points of largest x, hold those out.
///
/// # Errors
/// Fewer than 6 points to fit, non-positive values, or more replicates than
/// [`crate::limits::MAX_REPLICATES`].
pub fn plateau(
    x: &[f64],
    y: &[f64],
    holdout: usize,
    replicates: usize,
    seed: u64,
    level: f64,
) -> Result<PlateauResult> {
    if x.len() != y.len() || x.iter().chain(y).any(|v| !(v.is_finite() && *v > 0.0)) {
        return Err(Error::InvalidSetting(
            "plateau needs positive, finite x and y".into(),
        ));
    }
    crate::limits::check(
        "bootstrap replicates",
        replicates,
        crate::limits::MAX_REPLICATES,
    )?;
    let mut idx: Vec<usize> = (0..x.len()).collect();
    idx.sort_by(|&i, &j| x[i].total_cmp(&x[j]));
    let m = x.len().saturating_sub(holdout);
    if m < 6 {
        return Err(Error::InsufficientData(format!(
            "{} points to fit after holding out {holdout}: the broken form has 6 parameters, so at least 6 are needed",
            m
        )));
    }
    let xs: Vec<f64> = idx.iter().map(|&i| x[i]).collect();
    let distinct = xs.windows(2).filter(|w| w[1] > w[0]).count() + 1;
    if distinct < 3 {
        return Err(Error::InsufficientData(format!(
            "x takes only {distinct} distinct value(s): no curve to fit"
        )));
    }
    let ly: Vec<f64> = idx.iter().map(|&i| y[i].ln()).collect();
    let (xf, lyf) = (&xs[..m], &ly[..m]);
    let (xh, lyh) = (&xs[m..], &ly[m..]);
    let pw = fit_power(xf, lyf);
    let (sat, _) = fit_saturating(xf, lyf, None);
    let (brk, _) = fit_broken(xf, lyf, &sat);
    let end = xf[m - 1];
    let mf = m as f64;
    let make = |name: &str,
                formula: &str,
                model: Model,
                p: &[f64],
                names: &[&str],
                tr: &dyn Fn(usize, f64) -> f64| {
        let rss = sse(model, p, xf, lyf).max(1e-300);
        let heldout_rmse =
            (!xh.is_empty()).then(|| (sse(model, p, xh, lyh) / xh.len() as f64).sqrt());
        FormFit {
            name: name.into(),
            formula: formula.into(),
            params: names
                .iter()
                .enumerate()
                .map(|(i, n)| (n.to_string(), tr(i, p[i])))
                .collect(),
            k: p.len(),
            rss,
            aic: {
                let kf = p.len() as f64;
                let corr = if mf - kf - 1.0 > 0.0 {
                    2.0 * kf * (kf + 1.0) / (mf - kf - 1.0)
                } else {
                    f64::INFINITY
                };
                mf * (rss / mf).ln() + 2.0 * kf + corr
            },
            bic: mf * (rss / mf).ln() + p.len() as f64 * mf.ln(),
            heldout_rmse,
            local_exponent_at_end: local_exponent(model, p, end),
        }
    };
    let forms = vec![
        make(
            "power",
            "y = A x^-alpha",
            power,
            &pw,
            &["A", "alpha"],
            &|i, v| if i == 0 { v.exp() } else { v },
        ),
        make(
            "saturating",
            "y = E + A x^-alpha",
            saturating,
            &sat,
            &["E", "A", "alpha"],
            &|i, v| if i < 2 { v.exp() } else { v },
        ),
        make(
            "broken",
            "y = a + b x^-c0 (1 + (x/d)^(1/f))^(-c1 f)",
            broken,
            &brk,
            &["a", "b", "c0", "c1", "d", "f"],
            &|i, v| {
                if matches!(i, 0 | 1 | 4 | 5) {
                    v.exp()
                } else {
                    v
                }
            },
        ),
    ];
    let best = |key: &dyn Fn(&FormFit) -> f64| {
        forms
            .iter()
            .min_by(|a, b| key(a).total_cmp(&key(b)))
            .map(|f| f.name.clone())
            .unwrap_or_default()
    };
    let best_aic = best(&|f| f.aic);
    let best_bic = best(&|f| f.bic);
    // Bootstrap the saturating form (pairs) for E and alpha; the power form for its exponent.
    let boot: Vec<(f64, f64, f64)> = (0..replicates)
        .into_par_iter()
        .map(|r| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(r as u64);
            let mut pick: Vec<usize> = (0..m).map(|_| rng.random_range(0..m)).collect();
            pick.sort_unstable();
            let bx: Vec<f64> = pick.iter().map(|&i| xf[i]).collect();
            let by: Vec<f64> = pick.iter().map(|&i| lyf[i]).collect();
            let (p, _) = fit_saturating(&bx, &by, Some(&sat));
            let distinct = bx.windows(2).any(|w| w[0] != w[1]);
            let pa = if distinct {
                fit_power(&bx, &by)[1]
            } else {
                f64::NAN
            };
            (p[0].exp(), p[2], pa)
        })
        .collect();
    let e_iv = summarise(&boot.iter().map(|t| t.0).collect::<Vec<_>>(), level)
        .map(|(i, _)| i)
        .filter(|[lo, hi]| hi > lo);
    let sat_alpha_iv =
        summarise(&boot.iter().map(|t| t.1).collect::<Vec<_>>(), level).map(|(i, _)| i);
    let pow_alpha_iv =
        summarise(&boot.iter().map(|t| t.2).collect::<Vec<_>>(), level).map(|(i, _)| i);
    let e = sat[0].exp();
    let y_end = saturating(&sat, end);
    let frac = (y_end - e) / y_end;
    let f_of = |n: &str| forms.iter().find(|f| f.name == n).expect("form");
    let (fp, fs, fb) = (f_of("power"), f_of("saturating"), f_of("broken"));
    let d = brk[4].exp();
    let break_supported = fb.aic < fs.aic - 2.0 && fb.aic < fp.aic - 2.0 && d > xf[0] && d < end;
    let floor_real = e_iv.is_some_and(|[lo, _]| lo > 1e-3 * y_end);
    let too_wide = e_iv.is_none_or(|[lo, hi]| hi - lo > 0.5 * y_end);
    let e_collapsed = e < 1e-6 * y_end;
    let steepens = brk[3] > 0.0;
    let (verdict, explanation) = if break_supported
        && !steepens
        && fb.local_exponent_at_end.abs() < 0.05
    {
        (
            "plateau",
            format!(
                "the curve flattens after a break at x = {} (local exponent {:.3} at the end of the data)",
                crate::num::sig(d, 4),
                fb.local_exponent_at_end
            ),
        )
    } else if break_supported && steepens && fb.local_exponent_at_end > 0.05 {
        (
            "still falling",
            format!(
                "the curve changes slope at x = {} and falls steeply after it (local exponent {:.3} at the end of the data); a law fitted across the break would mislead",
                crate::num::sig(d, 4),
                fb.local_exponent_at_end
            ),
        )
    } else if e_collapsed {
        (
            "still falling",
            format!(
                "the saturating fit puts the floor at E = 0, so no floor is visible in the data; the local exponent at the end is {:.3}",
                fp.local_exponent_at_end
            ),
        )
    } else if fp.aic < fs.aic - 2.0 && !floor_real {
        (
            "still falling",
            format!(
                "a pure power law fits better than one with a floor (AIC {} vs {}): no sign of a plateau; the local exponent at the end is {:.3}",
                crate::num::sig(fp.aic, 4),
                crate::num::sig(fs.aic, 4),
                fp.local_exponent_at_end
            ),
        )
    } else if too_wide || !floor_real {
        (
            "cannot tell",
            format!(
                "the floor E = {} is not pinned down (interval {}): the data do not reach far enough to tell a plateau from a slow fall",
                crate::num::sig(e, 4),
                e_iv.map(|[l, h]| format!("[{}, {}]", crate::num::sig(l, 3), crate::num::sig(h, 3))).unwrap_or_else(|| "n/a".into())
            ),
        )
    } else if frac < 0.1 {
        (
            "plateau",
            format!(
                "the curve is within {:.1}% of its floor E = {} at the end of the data, and the floor is well determined",
                100.0 * frac,
                crate::num::sig(e, 4)
            ),
        )
    } else {
        (
            "still falling",
            format!(
                "there is a floor E = {}, but {:.0}% of the loss at the end of the data is still reducible",
                crate::num::sig(e, 4),
                100.0 * frac
            ),
        )
    };
    let mut explanation = explanation;
    if break_supported && !explanation.contains("changes slope") {
        explanation.push_str(&format!(
            "; a break in the slope at x = {} is supported (broken form AIC {} vs {}), so extrapolate from the last segment only",
            crate::num::sig(d, 4),
            crate::num::sig(fb.aic, 4),
            crate::num::sig(fs.aic, 4)
        ));
    }
    let lct = if floor_real {
        LearningCurveType {
            closest: "c + t^-1".into(),
            exponent: sat[2],
            exponent_interval: sat_alpha_iv,
        }
    } else {
        let a = pw[1];
        let closest = [("t^-1", 1.0), ("t^-2", 2.0), ("t^-1/2", 0.5)]
            .iter()
            .min_by(|p, q| (a - p.1).abs().total_cmp(&(a - q.1).abs()))
            .map(|p| p.0)
            .unwrap_or("t^-1");
        LearningCurveType {
            closest: closest.into(),
            exponent: a,
            exponent_interval: pow_alpha_iv,
        }
    };
    Ok(PlateauResult {
        asymptote: e,
        asymptote_interval: e_iv,
        reducible_fraction_at_end: frac,
        break_supported,
        break_at: Some(d),
        verdict: verdict.into(),
        explanation,
        learning_curve_type: lct,
        forms,
        best_aic,
        best_bic,
        fit_points: m,
        heldout_points: x.len() - m,
    })
}

fn default_bootstrap() -> usize {
    200
}
fn default_level() -> f64 {
    0.95
}

/// A curve in a table, as `scaling plateau` takes it.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct PlateauRequest {
    /// Column of x (N, D, C or examples).
    pub x: String,
    /// Column of y (loss or error).
    pub y: String,
    /// Points with the largest x held out to test extrapolation (default: a fifth of them when
    /// there are 10 or more, else none).
    #[serde(default)]
    pub holdout: Option<usize>,
    /// Bootstrap replicates for the interval on E (default 200).
    #[serde(default = "default_bootstrap")]
    pub bootstrap: usize,
    /// Seed (default 0).
    #[serde(default)]
    pub seed: u64,
    /// Interval level (default 0.95).
    #[serde(default = "default_level")]
    pub level: f64,
}

impl PlateauRequest {
    /// The request for columns `x` and `y` with every other setting at its default.
    pub fn new(x: &str, y: &str) -> Self {
        PlateauRequest {
            x: x.into(),
            y: y.into(),
            holdout: None,
            bootstrap: default_bootstrap(),
            seed: 0,
            level: default_level(),
        }
    }
}

/// [`plateau`] on two columns of a table: every cell must be a positive number (a bad one is
/// named by file, row, column and value); the held-out count defaults to a fifth of the points
/// when there are 10 or more.
///
/// # Examples
/// ```
/// use scaling::data::{Column, RunTable};
/// use scaling::plateau::{plateau_table, PlateauRequest};
/// let x: Vec<f64> = (0..12).map(|i| 10f64.powf(2.0 + 0.3 * i as f64)).collect();
/// // y = 1.5 + 20 x^-0.5: a curve flattening towards its floor 1.5.
/// let y: Vec<f64> = x.iter().map(|x| 1.5 + 20.0 * x.powf(-0.5)).collect();
/// let t = RunTable::from_columns("curve", vec![
///     ("x".into(), Column::Numbers(x)),
///     ("y".into(), Column::Numbers(y)),
/// ]).unwrap();
/// let mut req = PlateauRequest::new("x", "y");
/// req.bootstrap = 20;
/// let r = plateau_table(&t, &req).unwrap();
/// assert_eq!(r.heldout_points, 2);
/// assert!((r.asymptote - 1.5).abs() < 0.05);
/// ```
///
/// # Errors
/// A column that is not a header, a cell that is not a positive number, a level outside
/// (0, 1), and the errors of [`plateau`].
pub fn plateau_table(table: &crate::data::RunTable, req: &PlateauRequest) -> Result<PlateauResult> {
    if !(req.level > 0.0 && req.level < 1.0) {
        return Err(Error::InvalidSetting(format!(
            "the interval level must be between 0 and 1, got {}",
            req.level
        )));
    }
    let (xi, yi) = (
        table.named_column("x", &req.x)?,
        table.named_column("y", &req.y)?,
    );
    let mut xs = Vec::with_capacity(table.rows.len());
    let mut ys = Vec::with_capacity(table.rows.len());
    for r in 0..table.rows.len() {
        xs.push(table.positive(r, xi)?);
        ys.push(table.positive(r, yi)?);
    }
    let holdout = req
        .holdout
        .unwrap_or(if xs.len() >= 10 { xs.len() / 5 } else { 0 });
    plateau(&xs, &ys, holdout, req.bootstrap, req.seed, req.level)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_on_clean_curves() {
        let x: Vec<f64> = (0..20).map(|i| 10f64.powf(1.0 + 0.25 * i as f64)).collect();
        // Still falling: a pure power law.
        let y: Vec<f64> = x.iter().map(|v| 5.0 * v.powf(-0.3)).collect();
        let r = plateau(&x, &y, 3, 50, 1, 0.95).unwrap();
        assert_eq!(r.verdict, "still falling", "{}", r.explanation);
        // Plateau: a floor reached well inside the data.
        let y: Vec<f64> = x.iter().map(|v| 1.5 + 50.0 * v.powf(-1.0)).collect();
        let r = plateau(&x, &y, 3, 50, 1, 0.95).unwrap();
        assert_eq!(r.verdict, "plateau", "{}", r.explanation);
        assert!((r.asymptote - 1.5).abs() < 1e-3);
        assert_eq!(r.learning_curve_type.closest, "c + t^-1");
        assert_eq!(r.heldout_points, 3);
        assert!(r.forms.iter().all(|f| f.heldout_rmse.is_some()));
    }
}
