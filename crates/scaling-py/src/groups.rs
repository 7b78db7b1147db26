//! `scaling.groups`: separate and joint fits across groups, the test of shared parameters,
//! paired-bootstrap differences and compute-equivalent gains.

use pyo3::prelude::*;

use crate::{run, table, to_py};

/// The request as Python sends it (keyword arguments, JSON-encoded).
#[derive(serde::Deserialize)]
struct Request {
    #[serde(default)]
    load: scaling::accounting::LoadRequest,
    #[serde(default)]
    names: scaling::groups::GroupsNames,
    /// Loss columns fitted one after the other on the same runs (empty: the loss column).
    #[serde(default)]
    targets: Vec<String>,
}

/// Fit groups of runs; returns one `(target, json, text)` per loss column of the request's
/// `targets` (one with target `None` without them): the command line's JSON and text.
/// `progress(done, total)` is called during a bootstrap that takes more than a second.
#[pyfunction]
#[pyo3(signature = (data, request, progress=None))]
fn groups(
    data: &Bound<'_, PyAny>,
    request: &str,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<Vec<(Option<String>, String, String)>> {
    let py = data.py();
    let mut table = table(data)?;
    let req: Request = serde_json::from_str(request)
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("bad request: {e}")))?;
    let headers: Vec<&str> = table.columns.iter().map(|c| c.as_str()).collect();
    let gr = req.names.request(&headers).map_err(|e| to_py(py, e))?;
    let per = gr.bootstrap.as_ref().map_or(0, |b| b.replicates as u64);
    let total = per * req.targets.len().max(1) as u64;
    run::detached(py, total, progress, move |tick| {
        scaling::accounting::prepare_table(&mut table, &req.load)?;
        let all = scaling::groups::fit_groups_targets(&table, &req.load, &gr, &req.targets, tick)?;
        all.into_iter()
            .map(|(t, r)| {
                let json = serde_json::to_string_pretty(&r)
                    .map_err(|e| scaling::Error::Numerical(format!("cannot serialise: {e}")))?
                    + "\n";
                Ok((t, json, scaling::report::groups::groups_text(&r)))
            })
            .collect::<scaling::Result<Vec<_>>>()
    })?
    .map_err(|e: scaling::Error| to_py(py, e))
}

/// Add this group's functions to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(groups, m)?)?;
    Ok(())
}
