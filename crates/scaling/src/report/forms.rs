//! Text of a comparison of law forms on the same runs
//! ([`crate::validate::compare_forms`]).

use crate::validate::FormComparison;

use super::sig;

/// The comparison as a table: per form its objective, residual RMS, number of parameters k,
/// AIC and BIC (Gaussian on the residuals; Akaike 1974, Schwarz 1978) and their differences
/// from the best, its status, then each form's parameters.
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
/// assert!(scaling::report::forms::forms_text(&c).starts_with("Law forms compared on"));
/// ```
pub fn forms_text(c: &FormComparison) -> String {
    let mut s = format!(
        "Law forms compared on {} ({} runs, the same for every form)\n  objective: {}\n\n",
        c.source, c.runs, c.conventions.objective
    );
    let opt = |v: Option<f64>| v.map_or("-".to_string(), |x| format!("{x:.2}"));
    let width = c
        .forms
        .iter()
        .map(|r| r.law.len())
        .max()
        .unwrap_or(4)
        .max(4);
    s.push_str(&format!(
        "  {:<width$}  {:>12}  {:>10}  {:>2}  {:>10}  {:>8}  {:>10}  {:>8}  status\n",
        "law", "objective", "rms resid", "k", "AIC", "dAIC", "BIC", "dBIC"
    ));
    for r in &c.forms {
        let mut status = r.status.as_str().to_string();
        if !r.not_identified.is_empty() {
            status.push_str(&format!(
                "; not identified: {}",
                r.not_identified.join(", ")
            ));
        }
        s.push_str(&format!(
            "  {:<width$}  {:>12}  {:>10}  {:>2}  {:>10}  {:>8}  {:>10}  {:>8}  {}\n",
            r.law,
            format!("{:.6e}", r.objective),
            sig(r.residual_rms, 4),
            r.parameters,
            opt(r.aic),
            opt(r.delta_aic),
            opt(r.bic),
            opt(r.delta_bic),
            status
        ));
    }
    s.push('\n');
    for r in &c.forms {
        if let Some(note) = &r.criteria_note {
            s.push_str(&format!("  {}: no AIC/BIC: {note}\n", r.law));
        }
    }
    if let Some(b) = &c.best_aic {
        s.push_str(&format!("  smallest AIC: {b}\n"));
    }
    if let Some(b) = &c.best_bic {
        s.push_str(&format!("  smallest BIC: {b}\n"));
    }
    if let Some(h) = &c.conventions.holdout {
        s.push_str(&format!("\n  held out: {h}\n"));
        s.push_str(&format!(
            "  {:<width$}  {:>5}  {:>5}  {:>8}  {:>11}  {:>11}  {:>10}  {:>9}\n",
            "law", "train", "held", "decades", "median |e|", "mean |e|", "max |e|", "log RMSE"
        ));
        let pct = |v: Option<f64>| v.map_or("-".to_string(), |x| format!("{:.2}%", 100.0 * x));
        for r in &c.forms {
            match (&r.held_out, &r.held_out_note) {
                (Some(h), _) => s.push_str(&format!(
                    "  {:<width$}  {:>5}  {:>5}  {:>8.2}  {:>11}  {:>11}  {:>10}  {:>9}\n",
                    r.law,
                    h.train_runs,
                    h.summary.runs,
                    h.max_decades,
                    pct(h.summary.median_abs_relative_error),
                    pct(h.summary.mean_abs_relative_error),
                    pct(h.summary.max_abs_relative_error),
                    sig(h.log_rmse, 4)
                )),
                (None, Some(n)) => {
                    s.push_str(&format!("  {:<width$}  no held-out score: {n}\n", r.law))
                }
                (None, None) => {}
            }
        }
        if let Some(b) = &c.best_held_out {
            s.push_str(&format!("  smallest held-out log RMSE: {b}\n"));
        }
    }
    s.push('\n');
    for r in &c.forms {
        s.push_str(&format!("  {}: {}\n", r.law, r.formula));
        let params: Vec<String> = r
            .fit
            .params
            .iter()
            .map(|(k, v)| match v {
                Some(v) => format!("{k} = {}", sig(*v, 5)),
                None => format!("{k} = not identified"),
            })
            .collect();
        s.push_str(&format!("    {}\n", params.join(", ")));
    }
    s.push_str(&format!(
        "\nconventions: {}; {}; {}\n",
        c.conventions.likelihood, c.conventions.aic, c.conventions.bic
    ));
    if let Some(n) = &c.conventions.huber_note {
        s.push_str(&format!("  note: {n}\n"));
    }
    s
}
