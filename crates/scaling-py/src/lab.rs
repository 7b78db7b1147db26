//! Python bindings of the accounting and lab commands (`count`, `shape`, `reconcile`,
//! `plateau`, `simulate`) and of the fit's inline plot. Conversion only: each function parses
//! the JSON request, makes one library call and returns the library's JSON and rendering.

use pyo3::prelude::*;

use scaling::law::Law;
use scaling::report;

use crate::{run, table, to_py};

fn request<T: serde::de::DeserializeOwned>(text: &str) -> PyResult<T> {
    serde_json::from_str(text)
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("bad request: {e}")))
}

fn json(v: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(v).expect("a result serialises") + "\n"
}

/// The law named by a file (a saved fit or law file) or a preset, with its label as the
/// command line prints it.
fn law_source(
    py: Python<'_>,
    path: Option<String>,
    preset: Option<String>,
) -> PyResult<(Law, String)> {
    let input = |m: &str| crate::input_error(py, m);
    match (path, preset) {
        (Some(_), Some(_)) => Err(input("give a law file or a preset, not both")),
        (None, None) => Err(input("name a law: a saved fit or law file, or a preset")),
        (None, Some(name)) => {
            let p = scaling::law::presets::get(&name).map_err(|e| to_py(py, e))?;
            let label = format!("preset {} ({})", p.name, p.source);
            let law = p
                .law
                .ok_or_else(|| input(&format!("{label} has no loss law")))?;
            Ok((law, label))
        }
        (Some(path), None) => {
            let text = std::fs::read_to_string(&path).map_err(|source| {
                to_py(
                    py,
                    scaling::Error::Io {
                        path: path.clone(),
                        source,
                    },
                )
            })?;
            let law = Law::from_json_str(&path, &text).map_err(|e| to_py(py, e))?;
            Ok((law, path))
        }
    }
}

/// `scaling count`: `(json, text)`; with `data`, the table with count columns as JSON rows and
/// as CSV.
#[pyfunction]
#[pyo3(signature = (request, data=None))]
fn count(
    py: Python<'_>,
    request: &str,
    data: Option<&Bound<'_, PyAny>>,
) -> PyResult<(String, String)> {
    let req: scaling::accounting::CountRequest = self::request(request)?;
    match data {
        None => {
            let r = scaling::accounting::count(&req).map_err(|e| to_py(py, e))?;
            Ok((json(&r), report::accounting::count_text(&r)))
        }
        Some(d) => {
            let mut t = table(d)?;
            scaling::accounting::count_table(&mut t, &req).map_err(|e| to_py(py, e))?;
            Ok((
                json(&report::accounting::table_json_rows(&t)),
                report::accounting::table_csv(&t),
            ))
        }
    }
}

/// `scaling shape`: `(json, text)`.
#[pyfunction]
fn shape(py: Python<'_>, request: &str) -> PyResult<(String, String)> {
    let req: scaling::accounting::ShapeRequest = self::request(request)?;
    let r = scaling::accounting::shape(&req).map_err(|e| to_py(py, e))?;
    Ok((json(&r), report::accounting::shape_text(&r)))
}

/// `scaling reconcile`: `(json, text)`.
#[pyfunction]
#[pyo3(signature = (request, law=None, preset=None))]
fn reconcile(
    py: Python<'_>,
    request: &str,
    law: Option<String>,
    preset: Option<String>,
) -> PyResult<(String, String)> {
    let req: scaling::accounting::ReconcileRequest = self::request(request)?;
    let (law, label) = law_source(py, law, preset)?;
    let r = scaling::accounting::reconcile_law(&law, &label, &req).map_err(|e| to_py(py, e))?;
    Ok((json(&r), report::accounting::reconcile_text(&r)))
}

/// `scaling plateau`: `(json, text)`. Off the interpreter: Ctrl-C returns at once, and
/// `progress(done, 0)` shows the time taken after a second.
#[pyfunction]
#[pyo3(signature = (data, request, progress=None))]
fn plateau(
    data: &Bound<'_, PyAny>,
    request: &str,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<(String, String)> {
    let py = data.py();
    let t = table(data)?;
    let req: scaling::plateau::PlateauRequest = self::request(request)?;
    let path = t.path.clone();
    let (r, req) = run::detached(py, 0, progress, move |_| {
        (scaling::plateau::plateau_table(&t, &req), req)
    })?;
    let r = r.map_err(|e| to_py(py, e))?;
    Ok((json(&r), report::lab::plateau_text(&r, &req, &path)))
}

/// `scaling simulate data-strategy`: `(json, text)`. Off the interpreter as [`plateau`].
#[pyfunction]
#[pyo3(signature = (request, progress=None))]
fn simulate_data_strategy(
    py: Python<'_>,
    request: &str,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<(String, String)> {
    let req: scaling::simulate::StrategyRequest = self::request(request)?;
    let r = run::detached(py, 0, progress, move |_| {
        scaling::simulate::data_strategy(&req)
    })?
    .map_err(|e| to_py(py, e))?;
    Ok((json(&r), report::lab::strategy_text(&r)))
}

/// `scaling simulate sweep`: `(json columns, csv, law label)`.
#[pyfunction]
#[pyo3(signature = (request, law=None, preset=None))]
fn simulate_sweep(
    py: Python<'_>,
    request: &str,
    law: Option<String>,
    preset: Option<String>,
) -> PyResult<(String, String, String)> {
    let req: scaling::simulate::SweepRequest = self::request(request)?;
    let (law, label) = law_source(py, law, preset)?;
    let runs = py
        .detach(|| scaling::simulate::sweep(&law, &req))
        .map_err(|e| to_py(py, e))?;
    let cols = serde_json::json!({
        "params": runs.params, "tokens": runs.tokens, "flops": runs.flops, "loss": runs.loss,
    });
    Ok((json(&cols), report::lab::runs_csv(&runs), label))
}

/// The loss-against-compute plot (SVG) of a fit given as its JSON.
#[pyfunction]
fn fit_svg(py: Python<'_>, fit_json: &str) -> PyResult<String> {
    let fit = scaling::fit::Fit::from_json_str("<fit>", fit_json).map_err(|e| to_py(py, e))?;
    Ok(report::plots::loss_compute(&fit))
}

/// Add this group's functions to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(count, m)?)?;
    m.add_function(wrap_pyfunction!(shape, m)?)?;
    m.add_function(wrap_pyfunction!(reconcile, m)?)?;
    m.add_function(wrap_pyfunction!(plateau, m)?)?;
    m.add_function(wrap_pyfunction!(simulate_data_strategy, m)?)?;
    m.add_function(wrap_pyfunction!(simulate_sweep, m)?)?;
    m.add_function(wrap_pyfunction!(fit_svg, m)?)?;
    Ok(())
}
