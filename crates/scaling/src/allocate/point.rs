//! Entry points that read a law source: predictions at given points, and tests of the law.
//!
//! Predictions at given points from a law source (a saved fit, a law file or a preset): the
//! point is completed from what the caller gave (any two of N, D and C give the third under
//! C = k N D), the law is evaluated, and a bootstrapped fit adds its intervals (see
//! [`crate::uncertainty::predict`] for the two intervals, on the mean and for a new run).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::law::{LawForm, Var, Variable};
use crate::uncertainty::{self, Extrapolation};

use super::Source;

/// Where to predict. Any two of `params`, `tokens` and `flops` give the third under
/// C = k N D, with k the source's FLOPs per parameter per token.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PointRequest {
    /// Parameters N.
    pub params: Option<f64>,
    /// Training tokens D.
    pub tokens: Option<f64>,
    /// Training compute C in FLOPs.
    pub flops: Option<f64>,
    /// Unique tokens U, for a law that reads them (the data-constrained law).
    pub unique_tokens: Option<f64>,
    /// Interval level (default: the level the fit was bootstrapped at).
    pub level: Option<f64>,
}

/// A prediction at one point: the law's loss, the completed point, the intervals of a
/// bootstrapped fit, and how the point relates to the fit's data. Its JSON is
/// `scaling predict --format json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PointPrediction {
    /// The law's loss at the point.
    pub loss: f64,
    /// N (given or derived), when the law's question involves it.
    pub params: Option<f64>,
    /// D (given or derived).
    pub tokens: Option<f64>,
    /// C (given or derived).
    pub flops: Option<f64>,
    /// Interval level (with replicates).
    pub level: Option<f64>,
    /// Percentile interval of the replicate laws' predictions: the mean loss.
    pub interval: Option<[f64; 2]>,
    /// Its standard error.
    pub std_error: Option<f64>,
    /// Older name of `new_run_interval`, kept for scripts that read it.
    pub prediction_interval: Option<[f64; 2]>,
    /// Where a new run's loss should fall (parameter uncertainty plus run-to-run noise).
    pub new_run_interval: Option<[f64; 2]>,
    /// How `new_run_interval` was computed.
    pub new_run_method: Option<String>,
    /// Where the point lies relative to the fit's data (a saved fit only).
    pub extrapolation: Option<Extrapolation>,
    /// The law: `{"law": name, "params": {...}}`.
    pub law: serde_json::Value,
    /// U, when given.
    pub unique_tokens: Option<f64>,
    /// Where the law came from (a file name, or the preset and its source).
    pub source: String,
    /// What was derived, and epochs over U.
    pub notes: Vec<String>,
    /// Replicates the intervals come from (0 without a bootstrap).
    #[serde(skip)]
    pub replicates: usize,
    /// The law form's name (for text).
    #[serde(skip)]
    pub form: String,
}

/// N, D and C (each when known) and a note per derived value.
type Completed = (Option<f64>, Option<f64>, Option<f64>, Vec<String>);

/// The point (N, D, C) the law needs, completed from the request under C = k N D, with a
/// note for each derived value.
///
/// # Errors
/// [`Error::Setting`] when a value the law reads is missing, when N, D and C are all given
/// and disagree, or when a derived value is not a positive finite number.
fn complete(form: &LawForm, reads: &[Var], k: f64, r: &PointRequest) -> Result<Completed> {
    let (mut n, mut d, mut c) = (r.params, r.tokens, r.flops);
    let mut notes = Vec::new();
    match form {
        LawForm::Chinchilla | LawForm::Kaplan | LawForm::DataConstrained => {
            let nn = n.ok_or_else(|| Error::setting("this law needs {}", &["params"]))?;
            if d.is_none() {
                let cc = c.ok_or_else(|| {
                    Error::setting(
                        "this law needs {} (or {}, to derive D = C / (6 N))",
                        &["tokens", "flops"],
                    )
                })?;
                d = Some(cc / (k * nn));
                notes.push(format!("D = C / ({k} N) (derived)"));
            }
            if c.is_none() {
                c = d.map(|dd| k * nn * dd);
                notes.push(format!("C = {k} N D (derived)"));
            }
        }
        LawForm::Power { x } => {
            let (given, field) = match x {
                Variable::Params => (n, "params"),
                Variable::Tokens => (d, "tokens"),
                Variable::Flops => (c, "flops"),
            };
            if given.is_none() {
                return Err(Error::setting(
                    format!("this power law in {} needs {{}}", x.symbol()),
                    &[field],
                ));
            }
        }
        _ => {
            match (n, d, c) {
                (Some(nn), None, Some(cc)) => {
                    d = Some(cc / (k * nn));
                    notes.push(format!("D = C / ({k} N) (derived)"));
                }
                (None, Some(dd), Some(cc)) => {
                    n = Some(cc / (k * dd));
                    notes.push(format!("N = C / ({k} D) (derived)"));
                }
                (Some(nn), Some(dd), None) => {
                    c = Some(k * nn * dd);
                    notes.push(format!("C = {k} N D (derived)"));
                }
                _ => {}
            }
            for v in reads {
                let missing: &[&str] = match v {
                    Var::N if n.is_none() => &["params"],
                    Var::D if d.is_none() => &["tokens"],
                    Var::C if c.is_none() => &["flops"],
                    Var::M if n.is_none() || d.is_none() => &["params", "tokens"],
                    Var::N | Var::D | Var::C | Var::M | Var::U => &[],
                    _ => {
                        return Err(Error::InvalidSetting(format!(
                            "this law reads {}, which a prediction cannot be given",
                            v.symbol()
                        )))
                    }
                };
                if !missing.is_empty() {
                    let give = vec!["{}"; missing.len()].join(" and ");
                    return Err(Error::setting(
                        format!("this law reads {} (give {give})", v.symbol()),
                        missing,
                    ));
                }
            }
        }
    }
    if let (Some(nn), Some(dd), Some(cc)) = (r.params, r.tokens, r.flops) {
        if ((k * nn * dd) / cc - 1.0).abs() > 1e-6 {
            return Err(Error::setting(
                format!(
                    "{{}}, {{}} and {{}} disagree: {k} N D = {:.4e} but {{}} is {cc:.4e}; give two of them",
                    k * nn * dd
                ),
                &["params", "tokens", "flops", "flops"],
            ));
        }
    }
    for (name, v) in [("D", d), ("C", c)] {
        if let Some(v) = v {
            if !(v.is_finite() && v > 0.0) {
                return Err(Error::setting(
                    format!("the derived {name} = {v} is not a positive finite number; check {{}}, {{}} and {{}}"),
                    &["params", "tokens", "flops"],
                ));
            }
        }
    }
    Ok((n, d, c, notes))
}

/// Predict the loss at a point from a law source, with the fit's intervals when the source is
/// a bootstrapped fit.
///
/// # Formula
/// L(N, D, C) of the source's law (with U for the data-constrained law, Muennighoff et al.
/// 2023, Eq. 5); missing coordinates from C = k N D. Intervals: percentile intervals of the
/// replicate laws' predictions (mean) and of every replicate combined with every modified
/// residual (new run; Davison & Hinkley 1997, Algorithm 6.4), see [`uncertainty::predict`].
///
/// # Examples
/// ```
/// use scaling::allocate::{predict_point, PointRequest, Source};
/// let src = Source::preset("chinchilla-rounded").unwrap();
/// let req = PointRequest { params: Some(70e9), tokens: Some(1.4e12), ..Default::default() };
/// let p = predict_point(&src, &req).unwrap();
/// let want = 1.69 + 406.4 * 70e9f64.powf(-0.34) + 410.7 * 1.4e12f64.powf(-0.28);
/// assert!((p.loss - want).abs() < 1e-12);
/// assert_eq!(p.flops, Some(6.0 * 70e9 * 1.4e12)); // derived, with a note
/// assert!(p.interval.is_none()); // a preset has no replicates
/// ```
///
/// # Errors
/// [`Error::InvalidSetting`] for a source with no loss law; [`Error::Setting`] naming the
/// request fields (`params`, `tokens`, `flops`, `unique_tokens`, `level`) for a point the law
/// cannot use; [`Error::Numerical`] when the law's value is not finite.
pub fn predict_point(source: &Source, req: &PointRequest) -> Result<PointPrediction> {
    let law = source.loss_law()?;
    let reads = law.form.form().variables();
    if req.unique_tokens.is_some() && !reads.contains(&Var::U) {
        return Err(Error::setting(
            "{} needs a law that reads unique tokens U (the data-constrained law, {} muennighoff)",
            &["unique_tokens", "preset"],
        ));
    }
    if let Some(level) = req.level {
        if !(level > 0.0 && level < 1.0) {
            return Err(Error::setting(
                format!("{{}} must be between 0 and 1, got {level}"),
                &["level"],
            ));
        }
    }
    for (name, v) in [
        ("params", req.params),
        ("tokens", req.tokens),
        ("flops", req.flops),
        ("unique_tokens", req.unique_tokens),
    ] {
        if let Some(v) = v {
            if !(v.is_finite() && v > 0.0) {
                return Err(Error::setting(
                    format!("{{}} must be a positive finite number, got {v}"),
                    &[name],
                ));
            }
        }
    }
    let (n, d, c, mut notes) = complete(&law.form, &reads, source.k, req)?;
    let nan = f64::NAN;
    let (nv, dv, cv) = (n.unwrap_or(nan), d.unwrap_or(nan), c.unwrap_or(nan));
    let saved = source.fit.as_ref();
    let mut p = uncertainty::predict(law, saved, nv, dv, cv, req.level);
    if let Some(u) = req.unique_tokens {
        p.loss = law.predict_unique(nv, dv, cv, Some(u));
        notes.push(format!(
            "{} unique tokens: {} epochs",
            crate::num::human(u),
            crate::num::sig(dv / u, 4)
        ));
    }
    if !p.loss.is_finite() {
        return Err(Error::Numerical(format!(
            "the prediction is not finite ({})",
            p.loss
        )));
    }
    Ok(PointPrediction {
        loss: p.loss,
        params: n,
        tokens: d,
        flops: c,
        level: p.level,
        interval: p.interval,
        std_error: p.std_error,
        prediction_interval: p.prediction_interval,
        new_run_interval: p.new_run_interval,
        new_run_method: p.new_run_method,
        extrapolation: p.extrapolation,
        law: law.to_json(),
        unique_tokens: req.unique_tokens,
        source: source.label.clone(),
        notes,
        replicates: saved
            .and_then(|f| f.bootstrap.as_ref())
            .map_or(0, |b| b.replicates),
        form: law.form.name().to_string(),
    })
}

/// Predictions at many points (vectorised: `params`, `tokens`, `flops` and `unique_tokens` are
/// columns of equal length, or empty when not given), each as [`predict_point`] gives it; the
/// first point that cannot be predicted is an error naming its index.
///
/// # Examples
/// ```
/// use scaling::allocate::{predict_points, PointColumns, Source};
/// let src = Source::preset("chinchilla").unwrap();
/// let cols = PointColumns { params: vec![1e9, 7e9], tokens: vec![2e10, 1.4e11], ..Default::default() };
/// let ps = predict_points(&src, &cols).unwrap();
/// assert_eq!(ps.len(), 2);
/// assert!(ps[1].loss < ps[0].loss);
/// ```
///
/// # Errors
/// As [`predict_point`], and [`Error::Setting`] when the columns differ in length.
pub fn predict_points(source: &Source, cols: &PointColumns) -> Result<Vec<PointPrediction>> {
    let lens: Vec<usize> = [&cols.params, &cols.tokens, &cols.flops, &cols.unique_tokens]
        .iter()
        .map(|c| c.len())
        .filter(|&l| l > 0)
        .collect();
    let len = lens.first().copied().unwrap_or(0);
    if lens.iter().any(|&l| l != len) {
        return Err(Error::setting(
            format!("{{}}, {{}}, {{}} and {{}} must have the same length (got {lens:?})"),
            &["params", "tokens", "flops", "unique_tokens"],
        ));
    }
    let at = |v: &Vec<f64>, i: usize| v.get(i).copied();
    (0..len)
        .map(|i| {
            let req = PointRequest {
                params: at(&cols.params, i),
                tokens: at(&cols.tokens, i),
                flops: at(&cols.flops, i),
                unique_tokens: at(&cols.unique_tokens, i),
                level: cols.level,
            };
            predict_point(source, &req).map_err(|e| match e {
                Error::Setting { template, names } => Error::Setting {
                    template: format!("point {i}: {template}"),
                    names,
                },
                Error::InvalidSetting(m) => Error::InvalidSetting(format!("point {i}: {m}")),
                other => other,
            })
        })
        .collect()
}

/// Columns of points for [`predict_points`] (an empty column: not given).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PointColumns {
    /// N per point.
    pub params: Vec<f64>,
    /// D per point.
    pub tokens: Vec<f64>,
    /// C per point.
    pub flops: Vec<f64>,
    /// U per point.
    pub unique_tokens: Vec<f64>,
    /// Interval level (default: the fit's).
    pub level: Option<f64>,
}

/// A law tested against a bootstrapped fit: the test's statistics and what was compared. Its
/// JSON is `scaling test --format json`.
#[derive(Debug, Clone, Serialize)]
pub struct LawTestReport {
    /// The chi-squared and likelihood-ratio tests.
    #[serde(flatten)]
    pub test: uncertainty::LawTest,
    /// The fit as the caller named it (its file).
    pub fit: String,
    /// Where the law came from.
    pub law_source: String,
    /// The law tested.
    pub law: serde_json::Value,
    /// Runs of the fit.
    pub runs: usize,
    /// Bootstrap replicates of the fit.
    pub replicates: usize,
    /// The fit tested against (for rendering).
    #[serde(skip)]
    pub fitted: Box<crate::fit::Fit>,
}

/// Test the loss law of `source` against a bootstrapped fit and the runs it keeps
/// (Besiroglu et al. 2024, arXiv:2404.10102, Sec. 3: a chi-squared test against the bootstrap
/// covariance of the parameters, and a likelihood ratio under the Huber likelihood with
/// fitted scale; see [`uncertainty::test_law`]).
///
/// # Examples
/// ```
/// use scaling::allocate::{test_against, Source};
/// use scaling::fit::{fit, FitConfig};
/// use scaling::uncertainty::{attach, bootstrap, BootstrapConfig};
/// let truth = Source::preset("epoch").unwrap();
/// let law = truth.law.clone().unwrap();
/// let design = scaling::simulate::isoflop_design(&law, &[1e18, 1e19, 1e20], 6, 1.5, 6.0);
/// let runs = scaling::simulate::sample_runs(&law, &design, 0.01, 1, "synthetic").unwrap();
/// let config = FitConfig::default();
/// let mut f = fit(&runs, &config).unwrap();
/// let bc = BootstrapConfig { replicates: 50, seed: 1, clusters: None, cluster_column: None, level: 0.95 };
/// let b = bootstrap(&runs, &config, &f, &bc, &|| {}).unwrap();
/// attach(&mut f, b, &[], 0.95);
/// let t = test_against(&f, "fit.json", &truth, 1e-3).unwrap();
/// assert_eq!(t.replicates, 50);
/// assert!(t.test.chi2_p_value >= 0.0 && t.test.chi2_p_value <= 1.0);
/// ```
///
/// # Errors
/// [`Error::InvalidSetting`] for a source without a loss law; those of
/// [`uncertainty::test_law`].
pub fn test_against(
    fitted: &crate::fit::Fit,
    fit_label: &str,
    source: &Source,
    delta: f64,
) -> Result<LawTestReport> {
    let law = source.law.as_ref().ok_or_else(|| {
        Error::InvalidSetting(format!("{} has no loss law to test", source.label))
    })?;
    let runs = fitted.runs();
    let test = uncertainty::test_law(fitted, &runs, &fitted.config(), law, delta)?;
    Ok(LawTestReport {
        test,
        fit: fit_label.to_string(),
        law_source: source.label.clone(),
        law: law.to_json(),
        runs: runs.len(),
        replicates: fitted.bootstrap.as_ref().map_or(0, |b| b.replicates),
        fitted: Box::new(fitted.clone()),
    })
}
