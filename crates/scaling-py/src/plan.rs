//! `scaling.optimal` and `scaling.presets`: a law source (a saved fit's or law file's text, or
//! a preset name) and a JSON request in, the library's JSON and text out.

use pyo3::prelude::*;

use scaling::allocate::{plan, Source};

use crate::to_py;

/// Plan with a law source. `kind` is `"preset"` (then `source` is its name) or `"json"` (then
/// `source` is a saved fit's or law file's text, labelled `label`).
#[pyfunction]
fn optimal(
    py: Python<'_>,
    kind: &str,
    source: &str,
    label: &str,
    request: &str,
) -> PyResult<(String, String)> {
    let req: plan::PlanRequest = serde_json::from_str(request)
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("bad request: {e}")))?;
    py.detach(|| -> scaling::Result<(String, String)> {
        let src = match kind {
            "preset" => Source::preset(source)?,
            _ => Source::from_json_str(label, source)?,
        };
        let p = plan::plan(&src, &req)?;
        let json = serde_json::to_string_pretty(&p).expect("a plan serialises") + "\n";
        Ok((json, scaling::report::plan::plan_text(&p, false)))
    })
    .map_err(|e| to_py(py, e))
}

/// The published laws: `scaling presets --format json` and its text.
#[pyfunction]
fn presets() -> (String, String) {
    let all = scaling::law::presets::all();
    let v: Vec<serde_json::Value> = all.iter().map(|p| p.to_json()).collect();
    let json = serde_json::to_string_pretty(&v).expect("presets serialise") + "\n";
    (json, scaling::report::plan::presets_text(&all))
}

/// Add this group's functions to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(optimal, m)?)?;
    m.add_function(wrap_pyfunction!(presets, m)?)?;
    Ok(())
}
