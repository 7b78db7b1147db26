//! Is it really a plateau? Compare a pure power law, a saturating power law and a broken power
//! law on a curve, and say plainly what the data support.
//!
//! # Formula
//! Forms, each a law form of [`crate::law::forms`] fitted by least squares on ln y through the
//! library's generic fit (variable projection over the linear parameters, a start grid over
//! the others with the break's location spanning the data, BFGS with exact gradients), and
//! bootstrapped by [`crate::uncertainty::bootstrap`]:
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

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::data::{Filters, RoleSources, Runs};
use crate::error::{Error, Result};
use crate::fit::{self, Bootstrap, Columns, Fit, FitConfig, Objective, Penalty, Reduction, Space};
use crate::law::{forms, Form, Formula, LawForm};
use crate::num::summarise;
use crate::uncertainty::{self, usable_samples, BootstrapConfig};

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
    /// How the fit ended (`converged`, `at_bound`, ...).
    #[serde(default)]
    pub status: String,
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

/// The column a curve's x is read from when its forms are fitted.
const X: &str = "x";

/// One form fitted to a curve through the generic fit path: the form, its natural-scale
/// parameters (in the form's order, including those the data cannot identify) and the fit.
struct CurveFit {
    form: Formula,
    p: Vec<f64>,
    fit: Fit,
}

impl CurveFit {
    fn y(&self, x: f64) -> f64 {
        self.form.predict(&[x], &self.p)
    }

    fn param(&self, name: &str) -> f64 {
        self.p[self
            .form
            .param_names()
            .iter()
            .position(|n| n == name)
            .expect("parameter")]
    }

    /// Sum of squared log residuals at points `x`, `ly` (infinite when the law leaves the
    /// positive reals).
    fn sse(&self, x: &[f64], ly: &[f64]) -> f64 {
        x.iter()
            .zip(ly)
            .map(|(&x, &l)| {
                let v = self.y(x);
                if v > 0.0 && v.is_finite() {
                    (v.ln() - l).powi(2)
                } else {
                    f64::INFINITY
                }
            })
            .sum()
    }
}

/// The curve's points as runs: y is the loss, x the column [`X`].
fn curve_runs(x: &[f64], ly: &[f64]) -> (Runs, Columns) {
    let m = x.len();
    let runs = Runs {
        source: "curve".into(),
        total_rows: m,
        params: Vec::new(),
        tokens: Vec::new(),
        flops: Vec::new(),
        loss: ly.iter().map(|l| l.exp()).collect(),
        rows: (1..=m).collect(),
        sources: RoleSources::default(),
        excluded: Vec::new(),
        flops_per_param_token: 6.0,
        filters: Filters::default(),
    };
    (runs, Columns::from([(X.to_string(), x.to_vec())]))
}

/// The plateau objective: least squares on ln y, summed.
fn config(form: &Formula) -> FitConfig {
    FitConfig {
        form: LawForm::Formula(Arc::new(form.clone())),
        objective: Objective {
            penalty: Penalty::Squared,
            space: Space::Log,
            reduction: Reduction::Sum,
        },
        ..FitConfig::default()
    }
}

/// Fit `form` to the curve with the library's generic fit (variable projection over the
/// linear parameters, a grid over the others, BFGS with exact gradients).
fn fit_form(form: Formula, x: &[f64], ly: &[f64]) -> Result<CurveFit> {
    let (runs, cols) = curve_runs(x, ly);
    let fit = fit::fit_with_columns(&runs, &cols, &config(&form))?;
    let p = natural(&form, &fit);
    Ok(CurveFit { form, p, fit })
}

/// A fit's natural-scale parameters in the form's order, from the optimiser's coordinates
/// (so a parameter the data cannot identify still has its value at the optimum).
fn natural(form: &Formula, fit: &Fit) -> Vec<f64> {
    form.params()
        .iter()
        .map(|s| s.domain.from_internal(fit.internal[&s.name]).0)
        .collect()
}

fn local_exponent(f: &CurveFit, x: f64) -> f64 {
    for h in [1e-4, 1e-2, 0.1] {
        let v = -(f.y(x * (1.0 + h)).ln() - f.y(x * (1.0 - h)).ln())
            / ((1.0 + h).ln() - (1.0 - h).ln());
        if v.is_finite() {
            return v;
        }
    }
    f64::NAN
}

/// Bootstrap a curve fit (resampling points, each refit warm-started from the fit of all
/// points) with the library's one bootstrap.
fn resample(
    f: &CurveFit,
    x: &[f64],
    ly: &[f64],
    replicates: usize,
    seed: u64,
    level: f64,
) -> Result<Bootstrap> {
    let (runs, _) = curve_runs(x, ly);
    let bc = BootstrapConfig {
        replicates,
        seed,
        clusters: None,
        cluster_column: None,
        level,
    };
    uncertainty::bootstrap(&runs, &config(&f.form), &f.fit, &bc, &|| {})
}

/// Diagnose a curve y(x): fit on all but the `holdout` points of largest x, hold those out.
///
/// # Examples
/// ```
/// let x: Vec<f64> = (0..12).map(|i| 10f64.powf(1.0 + 0.25 * i as f64)).collect();
/// let y: Vec<f64> = x.iter().map(|x| 0.8 + 5.0 * x.powf(-0.4)).collect();
/// let r = scaling::plateau::plateau(&x, &y, 2, 0, 0, 0.95).unwrap();
/// assert!((r.asymptote - 0.8).abs() < 0.02, "{}", r.asymptote);
/// ```
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
    let (lo, hi) = (xf[0], xf[m - 1]);
    let pw = fit_form(forms::power_on(X, Some(X), false), xf, lyf)?;
    let sat = fit_form(forms::power_on(X, Some(X), true), xf, lyf)?;
    let brk = fit_form(forms::broken_power_on(X, Some(X), lo, hi), xf, lyf)?;
    let end = xf[m - 1];
    let mf = m as f64;
    let make = |name: &str, formula: &str, f: &CurveFit, names: &[&str]| {
        let rss = f.sse(xf, lyf).max(1e-300);
        let heldout_rmse = (!xh.is_empty()).then(|| (f.sse(xh, lyh) / xh.len() as f64).sqrt());
        let k = f.p.len();
        FormFit {
            name: name.into(),
            formula: formula.into(),
            params: names
                .iter()
                .zip(&f.form.param_names())
                .map(|(shown, own)| (shown.to_string(), f.param(own)))
                .collect(),
            k,
            rss,
            aic: {
                let kf = k as f64;
                let corr = if mf - kf - 1.0 > 0.0 {
                    2.0 * kf * (kf + 1.0) / (mf - kf - 1.0)
                } else {
                    f64::INFINITY
                };
                mf * (rss / mf).ln() + 2.0 * kf + corr
            },
            bic: mf * (rss / mf).ln() + k as f64 * mf.ln(),
            heldout_rmse,
            local_exponent_at_end: local_exponent(f, end),
            status: f.fit.status.as_str().into(),
        }
    };
    let forms = vec![
        make("power", "y = A x^-alpha", &pw, &["A", "alpha"]),
        make(
            "saturating",
            "y = E + A x^-alpha",
            &sat,
            &["E", "A", "alpha"],
        ),
        make(
            "broken",
            "y = a + b x^-c0 (1 + (x/d)^(1/f))^(-c1 f)",
            &brk,
            &["a", "b", "c0", "c1", "d", "f"],
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
    let (sat_boot, pow_boot) = if replicates >= 2 {
        (
            Some(resample(&sat, xf, lyf, replicates, seed, level)?),
            Some(resample(&pw, xf, lyf, replicates, seed, level)?),
        )
    } else {
        (None, None)
    };
    let interval = |b: &Option<Bootstrap>, name: &str| {
        let b = b.as_ref()?;
        let j = b.param_names.iter().position(|n| n == name)?;
        let v: Vec<f64> = usable_samples(b).iter().map(|s| s[j]).collect();
        summarise(&v, level).map(|(i, _)| i)
    };
    let e_iv = interval(&sat_boot, "E");
    let sat_alpha_iv = interval(&sat_boot, "alpha");
    let pow_alpha_iv = interval(&pow_boot, "alpha");
    let e = sat.param("E");
    let y_end = sat.y(end);
    let frac = (y_end - e) / y_end;
    let f_of = |n: &str| forms.iter().find(|f| f.name == n).expect("form");
    let (fp, fs, fb) = (f_of("power"), f_of("saturating"), f_of("broken"));
    let d = brk.param("d1");
    let break_supported = fb.aic < fs.aic - 2.0 && fb.aic < fp.aic - 2.0 && d > xf[0] && d < end;
    let floor_real = e_iv.is_some_and(|[lo, _]| lo > 1e-3 * y_end);
    let too_wide = e_iv.is_none_or(|[lo, hi]| hi - lo > 0.5 * y_end);
    let e_collapsed = e < 1e-6 * y_end;
    let steepens = brk.param("c1") > 0.0;
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
            exponent: sat.param("alpha"),
            exponent_interval: sat_alpha_iv,
        }
    } else {
        let a = pw.param("alpha");
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
        return Err(Error::setting(
            format!("{{}} must be between 0 and 1, got {}", req.level),
            &["level"],
        ));
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

    /// The pure power law fitted through the generic path equals ordinary least squares of
    /// ln y on ln x (reference computation: the closed-form slope and intercept).
    #[test]
    fn power_form_is_least_squares_on_logs() {
        let x: Vec<f64> = (0..15).map(|i| 10f64.powf(1.0 + 0.3 * i as f64)).collect();
        let y: Vec<f64> = x
            .iter()
            .enumerate()
            .map(|(i, v)| 3.0 * v.powf(-0.4) * (1.0 + 0.03 * ((i * 7 % 5) as f64 - 2.0)))
            .collect();
        let (lx, ly): (Vec<f64>, Vec<f64>) =
            x.iter().zip(&y).map(|(a, b)| (a.ln(), b.ln())).unzip();
        let n = lx.len() as f64;
        let (mx, my) = (lx.iter().sum::<f64>() / n, ly.iter().sum::<f64>() / n);
        let sxy: f64 = lx.iter().zip(&ly).map(|(a, b)| (a - mx) * (b - my)).sum();
        let sxx: f64 = lx.iter().map(|a| (a - mx).powi(2)).sum();
        let slope = sxy / sxx;
        let r = plateau(&x, &y, 0, 0, 0, 0.95).unwrap();
        let p = &r.forms[0];
        assert_eq!(p.name, "power");
        assert!(
            (p.params["alpha"] + slope).abs() < 1e-7,
            "{:?} vs {}",
            p.params,
            -slope
        );
        assert!((p.params["A"].ln() - (my - slope * mx)).abs() < 1e-7);
    }
}
