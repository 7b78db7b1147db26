//! Python bindings of `scaling design` and `scaling sensitivity`: the request's JSON -> one
//! library call -> the library's JSON and text (the same as the command line's
//! `--format json`).

use pyo3::prelude::*;

use scaling::allocate::Source;
use scaling::validate::{self, DesignRequest, Quantity, SimulateRequest, Target};

use crate::{table, to_py, Request};

#[derive(serde::Deserialize)]
struct DesignNames {
    #[serde(flatten)]
    fit: Request,
    #[serde(default)]
    budget: Option<f64>,
    #[serde(default)]
    params: Option<f64>,
    #[serde(default)]
    tokens: Option<f64>,
    allowance: f64,
    k: usize,
    quantity: String,
    level: f64,
    #[serde(default)]
    simulate: Option<usize>,
    simulate_bootstrap: usize,
    seed: u64,
}

fn target(
    py: Python<'_>,
    budget: Option<f64>,
    params: Option<f64>,
    tokens: Option<f64>,
    k: f64,
) -> PyResult<Target> {
    match (budget, params, tokens) {
        (Some(c), None, None) => Ok(Target::Budget {
            flops: c,
            flops_per_param_token: k,
        }),
        (None, Some(n), Some(d)) => Ok(Target::Point {
            params: n,
            tokens: d,
        }),
        _ => Err(crate::input_error(
            py,
            "give budget=C, or params=N and tokens=D",
        )),
    }
}

/// `scaling design`: `(json, text)`. `data` is a run table (then the request's fit settings
/// fit it) or `None` with `fit_json`, a saved fit's text.
#[pyfunction]
#[pyo3(signature = (data, fit_json, label, request))]
fn design(
    py: Python<'_>,
    data: Option<&Bound<'_, PyAny>>,
    fit_json: Option<&str>,
    label: &str,
    request: &str,
) -> PyResult<(String, String)> {
    let req: DesignNames = serde_json::from_str(request)
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("bad request: {e}")))?;
    let mut tbl = match data {
        Some(d) => Some(table(d)?),
        None => None,
    };
    let headers: Vec<&str> = tbl
        .as_ref()
        .map(|t| t.columns.iter().map(|c| c.as_str()).collect())
        .unwrap_or_default();
    let fr = req.fit.fit_request(&headers).map_err(|e| to_py(py, e))?;
    let fit = py
        .detach(|| -> scaling::Result<scaling::fit::Fit> {
            match (fit_json, tbl.as_mut()) {
                (Some(text), _) => scaling::fit::Fit::from_json_str(label, text),
                (None, Some(t)) => {
                    let load = &req.fit.load;
                    scaling::accounting::prepare_table(t, load)?;
                    let mut needs = scaling::fit::needs(&fr.config.form);
                    needs.params = true;
                    needs.tokens = true;
                    let runs = scaling::accounting::load_runs(t, needs, load, None)?;
                    let plain = scaling::uncertainty::FitRequest {
                        config: fr.config.clone(),
                        bootstrap: None,
                    };
                    scaling::uncertainty::fit_table(t, &runs, &plain, &|| {})
                }
                (None, None) => Err(scaling::Error::InvalidSetting(
                    "design needs runs or a saved fit".into(),
                )),
            }
        })
        .map_err(|e| to_py(py, e))?;
    let target = target(
        py,
        req.budget,
        req.params,
        req.tokens,
        fit.conventions.flops_per_param_token,
    )?;
    let dr = DesignRequest {
        target,
        quantity: Quantity::parse(&req.quantity),
        allowance: req.allowance,
        runs: req.k,
        level: req.level,
        simulate: req.simulate.map(|r| SimulateRequest {
            repetitions: r,
            bootstrap: req.simulate_bootstrap,
            seed: req.seed,
        }),
    };
    let source = label.to_string();
    py.detach(move || -> scaling::Result<(String, String)> {
        let d = validate::design(&fit, &dr, &|| {})?;
        let json = serde_json::to_string_pretty(&d)
            .map_err(|e| scaling::Error::Numerical(format!("cannot serialise the design: {e}")))?
            + "\n";
        Ok((json, scaling::report::backtest::design_text(&d, &source)))
    })
    .map_err(|e| to_py(py, e))
}

#[derive(serde::Deserialize)]
struct SensitivityNames {
    #[serde(default)]
    flops: Option<f64>,
    #[serde(default)]
    params: Option<f64>,
    #[serde(default)]
    tokens: Option<f64>,
}

/// `scaling sensitivity`: `(json, text)`. `kind` is `"preset"` (then `source` is its name) or
/// `"json"` (a saved fit's or law file's text, labelled `label`).
#[pyfunction]
fn sensitivity(
    py: Python<'_>,
    kind: &str,
    source: &str,
    label: &str,
    request: &str,
) -> PyResult<(String, String)> {
    let req: SensitivityNames = serde_json::from_str(request)
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("bad request: {e}")))?;
    let src = match kind {
        "preset" => Source::preset(source),
        _ => Source::from_json_str(label, source),
    }
    .map_err(|e| to_py(py, e))?;
    let target = target(py, req.flops, req.params, req.tokens, src.k)?;
    let law = src.loss_law().map_err(|e| to_py(py, e))?;
    let s = validate::sensitivity(law, target).map_err(|e| to_py(py, e))?;
    let json = serde_json::to_string_pretty(&s).expect("a sensitivity serialises") + "\n";
    Ok((
        json,
        scaling::report::backtest::sensitivity_text(&s, &src.label),
    ))
}

/// Register the functions.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(design, m)?)?;
    m.add_function(wrap_pyfunction!(sensitivity, m)?)?;
    Ok(())
}
