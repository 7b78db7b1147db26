//! Model comparison across law forms on the same runs (issue 13, item 4): every form fitted
//! with the same objective, starts and optimiser to the same rows, and set side by side by
//! objective, residual scale, number of parameters, AIC and BIC, and, with a cutoff, by the
//! error of each form's predictions of the runs beyond it when fitted to the runs below it
//! (the backtest of [`crate::validate::backtest`]).
//!
//! ## Reference
//! Akaike, H. (1974), "A new look at the statistical model identification", IEEE TAC 19(6):
//! AIC = 2k - 2 ln L_max. Schwarz, G. (1978), "Estimating the dimension of a model", Ann.
//! Statist. 6(2): BIC = k ln n - 2 ln L_max. Both are taken here under a Gaussian likelihood
//! on the fit's residuals with its variance at the maximum-likelihood value RSS / n
//! (Burnham and Anderson 2002, Sec. 2.2), so -2 ln L_max = n (ln(2 pi RSS / n) + 1) and the
//! variance counts as one more parameter.

use serde::{Deserialize, Serialize};

use crate::accounting::{load_runs, LoadRequest};
use crate::data::{Needs, RunTable};
use crate::error::{Error, Result};
use crate::fit::{self, Fit, FitNames, Status};

use crate::uncertainty::{fit_table, FitRequest};

use super::backtest::{backtest, Axis, BacktestRequest, Inflation, Split, Summary};

/// Which forms to compare and how to fit them.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FormsRequest {
    /// The forms: built-in names (`chinchilla`, `kaplan`, ...) or formulas
    /// (`E + A*N^-alpha`), at least one. Each is fitted to the same runs.
    pub laws: Vec<String>,
    /// The shared settings: objective, delta, space, reduction, starts, iteration limit,
    /// parameter settings (`params`, applied to every form) and fixed E. Its `law` is ignored;
    /// its variable `x` applies to the forms that take one (`power`, `broken-power`).
    #[serde(default)]
    pub settings: FitNames,
    /// Also score each form by held-out error: fit it to the runs at or below this cutoff and
    /// predict the rest (`None`: in-sample criteria only).
    #[serde(default)]
    pub holdout: Option<Holdout>,
}

/// A cutoff for the held-out comparison: train on the runs whose value on `axis` is at most
/// `value`, predict the others.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Holdout {
    /// The quantity compared (C, N or a column).
    pub axis: Axis,
    /// The largest value trained on.
    pub value: f64,
}

/// One form's held-out score: its errors on the runs beyond the cutoff when fitted to the
/// runs below it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HeldOutScore {
    /// Runs the form was fitted to.
    pub train_runs: usize,
    /// Errors over the held-out runs (relative error = predicted / loss - 1).
    pub summary: Summary,
    /// Root mean square of ln loss - ln predicted over the held-out runs.
    pub log_rmse: f64,
    /// Largest extrapolation distance, in decades beyond the largest training run.
    pub max_decades: f64,
}

/// One form's row of the comparison.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FormRow {
    /// The form as the user gave it.
    pub law: String,
    /// Its formula.
    pub formula: String,
    /// The objective at the optimum (the same objective for every form).
    pub objective: f64,
    /// Residual scale: sqrt(RSS / n), the root mean square of the residuals at the optimum
    /// (log or linear as `conventions.space` of the comparison says).
    pub residual_rms: f64,
    /// Residual sum of squares at the optimum.
    pub rss: f64,
    /// Number of fitted parameters k of the law (fixed ones excluded; the residual variance
    /// of the likelihood is not counted here but is in AIC and BIC).
    pub parameters: usize,
    /// Gaussian log-likelihood of the residuals at sigma^2 = RSS / n:
    /// ln L = -n/2 (ln(2 pi RSS / n) + 1).
    pub log_likelihood: Option<f64>,
    /// Akaike (1974): AIC = 2 (k + 1) - 2 ln L (k + 1 counts the residual variance).
    pub aic: Option<f64>,
    /// Schwarz (1978): BIC = (k + 1) ln n - 2 ln L.
    pub bic: Option<f64>,
    /// AIC minus the smallest AIC among the forms.
    pub delta_aic: Option<f64>,
    /// BIC minus the smallest BIC among the forms.
    pub delta_bic: Option<f64>,
    /// Why AIC and BIC are not given, when they are not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub criteria_note: Option<String>,
    /// How the fit ended.
    pub status: Status,
    /// Parameters the data cannot identify (none when every parameter is determined).
    pub not_identified: Vec<String>,
    /// The held-out score (with a cutoff).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_out: Option<HeldOutScore>,
    /// Why this form has no held-out score although a cutoff was given (its training fit
    /// failed or left a parameter undetermined).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_out_note: Option<String>,
    /// The whole fit, as `scaling fit` gives it.
    pub fit: Fit,
}

/// How the comparison was made.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FormsConventions {
    /// The objective every form minimised (the fit's description).
    pub objective: String,
    /// Residuals of ln L (`log`) or of L (`linear`), for RMS, AIC and BIC alike.
    pub space: String,
    /// The likelihood behind AIC and BIC.
    pub likelihood: String,
    /// AIC's formula.
    pub aic: String,
    /// BIC's formula.
    pub bic: String,
    /// Said when the objective is not least squares: the criteria then use the squared
    /// residuals at the objective's optimum, which is not the maximum of the Gaussian
    /// likelihood.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub huber_note: Option<String>,
    /// The held-out split, when one was asked for: which runs each form was fitted to and
    /// which it predicted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holdout: Option<String>,
}

/// Forms compared on the same runs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FormComparison {
    /// The table's name (file).
    pub source: String,
    /// Runs every form was fitted to (the rows that have every quantity any form reads).
    pub runs: usize,
    /// One row per form, in the order asked.
    pub forms: Vec<FormRow>,
    /// The form with the smallest AIC, if any has one.
    pub best_aic: Option<String>,
    /// The form with the smallest BIC, if any has one.
    pub best_bic: Option<String>,
    /// The form with the smallest held-out log RMSE (with a cutoff).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub best_held_out: Option<String>,
    /// How the comparison was made.
    pub conventions: FormsConventions,
}

/// Gaussian information criteria of residuals `r` for a law of `k` fitted parameters:
/// `(ln L, AIC, BIC)` with ln L = -n/2 (ln(2 pi RSS/n) + 1), AIC = 2(k+1) - 2 ln L and
/// BIC = (k+1) ln n - 2 ln L (Akaike 1974; Schwarz 1978; the residual variance is the
/// (k+1)-th parameter). `Err` says why they do not apply: fewer runs than k + 2, or a perfect
/// fit (RSS = 0, where ln L is unbounded).
pub fn gaussian_criteria(r: &[f64], k: usize) -> std::result::Result<(f64, f64, f64), String> {
    let n = r.len();
    if n < k + 2 {
        return Err(format!(
            "{n} runs for {} parameters (k + 1 with the residual variance): AIC and BIC need at least k + 2 runs",
            k + 1
        ));
    }
    let rss: f64 = r.iter().map(|x| x * x).sum();
    if rss <= 0.0 || !rss.is_finite() {
        return Err(format!(
            "residual sum of squares {rss:e}: the Gaussian likelihood is unbounded"
        ));
    }
    let nf = n as f64;
    let ll = -0.5 * nf * ((2.0 * std::f64::consts::PI * rss / nf).ln() + 1.0);
    let kk = (k + 1) as f64;
    Ok((ll, 2.0 * kk - 2.0 * ll, kk * nf.ln() - 2.0 * ll))
}

/// Fit every form of `req` to the same runs of `table` (loaded once under `load`, keeping
/// the rows that have every quantity any of the forms reads) with the same objective, and
/// compare them by objective, residual RMS, number of parameters, AIC and BIC (see
/// [`gaussian_criteria`]). The table should be prepared (`accounting::prepare_table`) as
/// for [`fit_table`].
///
/// # Examples
/// ```
/// use scaling::accounting::LoadRequest;
/// use scaling::data::RunTable;
/// use scaling::validate::{compare_forms, FormsRequest};
/// let law = scaling::law::presets::get("chinchilla").unwrap().law.unwrap();
/// let design = scaling::simulate::isoflop_design(&law, &[1e18, 1e19, 1e20], 6, 1.5, 6.0);
/// let runs = scaling::simulate::sample_runs(&law, &design, 0.01, 1, "synthetic").unwrap();
/// let t = RunTable::from_csv_str("runs.csv", &scaling::report::lab::runs_csv(&runs)).unwrap();
/// let req = FormsRequest { laws: vec!["chinchilla".into(), "E + A*N^-alpha".into()],
///                          settings: Default::default(), holdout: None };
/// let c = compare_forms(&t, &req, &LoadRequest::default()).unwrap();
/// assert_eq!(c.forms.len(), 2);
/// assert_eq!(c.best_bic.as_deref(), Some("chinchilla")); // the law the runs follow
/// ```
///
/// # Errors
/// No form, a form that is not understood (named in the message), a setting a form refuses,
/// and every error of loading and fitting, prefixed with the form it concerns.
pub fn compare_forms(
    table: &RunTable,
    req: &FormsRequest,
    load: &LoadRequest,
) -> Result<FormComparison> {
    if req.laws.is_empty() {
        return Err(Error::InvalidSetting(
            "laws: give at least one law form to compare".into(),
        ));
    }
    let headers: Vec<&str> = table.columns.iter().map(|c| c.as_str()).collect();
    let mut configs = Vec::with_capacity(req.laws.len());
    let mut needs = Needs::default();
    for law in &req.laws {
        let lower = law.trim().to_ascii_lowercase();
        let mut names = req.settings.clone();
        names.law = law.clone();
        if lower != "power" && lower != "broken-power" {
            names.x = None;
        }
        let config = names
            .config_for(&headers)
            .map_err(|e| Error::InvalidSetting(format!("law {law:?}: {e}")))?;
        let n = fit::needs(&config.form);
        needs.params |= n.params;
        needs.tokens |= n.tokens;
        needs.flops |= n.flops;
        configs.push(config);
    }
    if let Some(h) = &req.holdout {
        if !(h.value > 0.0 && h.value.is_finite()) {
            return Err(Error::setting(
                format!("{{}} must be a positive number, got {}", h.value),
                &["cutoff"],
            ));
        }
        needs.flops |= h.axis == Axis::Flops;
        needs.params |= h.axis == Axis::Params;
    }
    let runs = load_runs(table, needs, load, None)?;
    let mut forms = Vec::with_capacity(configs.len());
    for (law, config) in req.laws.iter().zip(configs) {
        let request = FitRequest {
            config,
            bootstrap: None,
        };
        let f = fit_table(table, &runs, &request, &|| {}).map_err(|e| with_law(law, e))?;
        let mut r = row(law, f);
        if let Some(h) = &req.holdout {
            match held_out(table, &runs, request, h) {
                Ok(score) => r.held_out = Some(score),
                Err(e @ (Error::InsufficientData(_) | Error::Numerical(_))) => {
                    r.held_out_note = Some(e.to_string())
                }
                Err(e) => return Err(with_law(law, e)),
            }
        }
        forms.push(r);
    }
    let best_held_out = forms
        .iter()
        .filter_map(|r| r.held_out.as_ref().map(|h| (r.law.clone(), h.log_rmse)))
        .filter(|(_, v)| v.is_finite())
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|b| b.0);
    let best = |get: fn(&FormRow) -> Option<f64>| -> Option<(String, f64)> {
        forms
            .iter()
            .filter_map(|r| get(r).map(|v| (r.law.clone(), v)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
    };
    let best_aic = best(|r| r.aic);
    let best_bic = best(|r| r.bic);
    for r in &mut forms {
        r.delta_aic = r.aic.zip(best_aic.as_ref()).map(|(v, b)| v - b.1);
        r.delta_bic = r.bic.zip(best_bic.as_ref()).map(|(v, b)| v - b.1);
    }
    let first = &forms[0].fit.conventions;
    let space = match first.space {
        fit::Space::Log => "log",
        fit::Space::Linear => "linear",
    };
    let huber_note = (first.penalty == "huber").then(|| {
        format!(
            "the objective is Huber (delta {}), not least squares: AIC and BIC use the squared residuals at the Huber optimum, which is not the Gaussian maximum-likelihood fit",
            first.delta.map_or("?".into(), |d| format!("{d:e}"))
        )
    });
    let conventions = FormsConventions {
        objective: first.objective.clone(),
        space: space.into(),
        likelihood: format!(
            "Gaussian on the {space} residuals, variance at its maximum-likelihood value RSS/n: ln L = -n/2 (ln(2 pi RSS/n) + 1)"
        ),
        aic: "AIC = 2 (k + 1) - 2 ln L, k fitted law parameters plus the residual variance (Akaike 1974)".into(),
        bic: "BIC = (k + 1) ln n - 2 ln L (Schwarz 1978)".into(),
        huber_note,
        holdout: req.holdout.as_ref().map(|h| {
            format!(
                "each form fitted to the runs with {} <= {:e} and scored on the others (no bootstrap)",
                h.axis.label(),
                h.value
            )
        }),
    };
    Ok(FormComparison {
        source: table.path.clone(),
        runs: runs.len(),
        forms,
        best_aic: best_aic.map(|b| b.0),
        best_bic: best_bic.map(|b| b.0),
        best_held_out,
        conventions,
    })
}

/// The held-out score of one form: the backtest at the cutoff, without a bootstrap.
fn held_out(
    table: &RunTable,
    runs: &crate::data::Runs,
    fit: FitRequest,
    h: &Holdout,
) -> Result<HeldOutScore> {
    let req = BacktestRequest {
        fit,
        split: Split::Cutoff {
            axis: h.axis.clone(),
            value: h.value,
        },
        distance_axis: None,
        inflation: Inflation::None,
    };
    let b = backtest(table, runs, &req)?;
    let n = b.held_out.len().max(1) as f64;
    let log_rmse = (b.held_out.iter().map(|r| r.log_error.powi(2)).sum::<f64>() / n).sqrt();
    let max_decades = b
        .held_out
        .iter()
        .map(|r| r.decades)
        .fold(f64::NEG_INFINITY, f64::max);
    Ok(HeldOutScore {
        train_runs: b.train_runs,
        summary: b.summary,
        log_rmse,
        max_decades,
    })
}

/// An error of one form's fit, naming the form.
fn with_law(law: &str, e: Error) -> Error {
    match e {
        Error::InvalidSetting(m) => Error::InvalidSetting(format!("law {law:?}: {m}")),
        Error::InsufficientData(m) => Error::InsufficientData(format!("law {law:?}: {m}")),
        Error::Numerical(m) => Error::Numerical(format!("law {law:?}: {m}")),
        other => other,
    }
}

/// The comparison row of one fit.
fn row(law: &str, f: Fit) -> FormRow {
    let k = f
        .params
        .keys()
        .filter(|p| !f.conventions.fixed.contains_key(*p))
        .count();
    let rss: f64 = f.residuals.iter().map(|x| x * x).sum();
    let n = f.residuals.len().max(1) as f64;
    let (ll, aic, bic, note) = match gaussian_criteria(&f.residuals, k) {
        Ok((ll, a, b)) => (Some(ll), Some(a), Some(b), None),
        Err(why) => (None, None, None, Some(why)),
    };
    let not_identified = f
        .params
        .iter()
        .filter(|(_, v)| v.is_none())
        .map(|(k, _)| k.clone())
        .collect();
    FormRow {
        law: law.to_string(),
        formula: f.formula.clone(),
        objective: f.objective,
        residual_rms: (rss / n).sqrt(),
        rss,
        parameters: k,
        log_likelihood: ll,
        aic,
        bic,
        delta_aic: None,
        delta_bic: None,
        criteria_note: note,
        status: f.status,
        not_identified,
        held_out: None,
        held_out_note: None,
        fit: f,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn criteria_follow_their_formulas() {
        // n = 4, RSS = 0.04, k = 2: ln L = -2 (ln(2 pi 0.01) + 1).
        let r = [0.1, -0.1, 0.1, -0.1];
        let (ll, aic, bic) = gaussian_criteria(&r, 2).unwrap();
        let want = -2.0 * ((2.0 * std::f64::consts::PI * 0.01).ln() + 1.0);
        assert!((ll - want).abs() < 1e-12);
        assert!((aic - (6.0 - 2.0 * want)).abs() < 1e-12);
        assert!((bic - (3.0 * 4f64.ln() - 2.0 * want)).abs() < 1e-12);
        assert!(gaussian_criteria(&r, 3).is_err());
        assert!(gaussian_criteria(&[0.0; 6], 1).is_err());
    }
}
