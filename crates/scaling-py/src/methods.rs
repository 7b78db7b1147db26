//! Chinchilla's methods from Python: `isoflop`, `envelope`, `compare` and `powerlaw`, each one
//! library call per group (`by=`), returning the library's JSON and text.

use pyo3::prelude::*;
use serde::Serialize;

use scaling::accounting::{prepare_table, selected_rows, LoadRequest};
use scaling::data::{group_rows, Group, RunTable};
use scaling::methods::{self, CompareRequest, EnvelopeRequest, IsoflopRequest, PowerlawRequest};
use scaling::report::grouped::{print_groups, Unprinted};
use scaling::report::methods as render;

use crate::{error_chain, run, table, to_py};

/// What Python sends: how to load, the method's request, and the grouping columns.
#[derive(serde::Deserialize)]
struct Request<R> {
    #[serde(default)]
    load: LoadRequest,
    request: R,
    #[serde(default)]
    by: Vec<String>,
}

fn parse<R: serde::de::DeserializeOwned>(request: &str) -> PyResult<Request<R>> {
    serde_json::from_str(request)
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("bad request: {e}")))
}

fn pretty<T: Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string_pretty(v).expect("a result serialises") + "\n"
}

/// The JSON and text of per-group results, as the command line prints them: without grouping
/// the single result (its error is the call's error); with grouping an array in group order
/// with failed groups in their place, failing only when every group failed.
fn finish<T: Serialize>(
    outcomes: Vec<(Group, scaling::Result<T>)>,
    grouped: bool,
    text: &dyn Fn(&T, &str) -> String,
) -> scaling::Result<(String, String)> {
    match print_groups(outcomes, grouped, text, &|e| error_chain(e)) {
        Ok(p) => Ok((p.json, p.text)),
        Err(Unprinted::NoRows) => Err(scaling::Error::InsufficientData(
            "no rows to analyse".into(),
        )),
        Err(Unprinted::Failed { error, .. }) => Err(error),
    }
}

/// Rows the request's row filter keeps, split by `by`.
fn groups(t: &RunTable, load: &LoadRequest, by: &[String]) -> scaling::Result<Vec<Group>> {
    let rows = selected_rows(t, load)?;
    group_rows(t, by, &rows)
}

/// Approach 2 (IsoFLOP profiles); returns `(json, text)`. Off the interpreter: Ctrl-C
/// returns at once, and `progress(done, 0)` shows the time taken after a second.
#[pyfunction]
#[pyo3(signature = (data, request, progress=None))]
fn isoflop(
    data: &Bound<'_, PyAny>,
    request: &str,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<(String, String)> {
    let py = data.py();
    let mut t = table(data)?;
    let req: Request<IsoflopRequest> = parse(request)?;
    run::detached(py, 0, progress, move |_| {
        prepare_table(&mut t, &req.load)?;
        let gs = groups(&t, &req.load, &req.by)?;
        let grouped = !req.by.is_empty();
        let out = methods::for_groups(gs, |g| {
            let rows = grouped.then(|| g.rows.clone());
            let runs = methods::chinchilla_runs(&t, &req.load, rows)?;
            methods::isoflop_table(&t, &runs, &req.request)
        });
        let source = t.path.clone();
        finish(out, grouped, &|r, g| render::isoflop_text(r, &source, g))
    })?
    .map_err(|e| to_py(py, e))
}

/// Approach 1 (lower envelope of loss curves); returns `(json, text)`. Off the interpreter
/// as [`isoflop`].
#[pyfunction]
#[pyo3(signature = (data, request, progress=None))]
fn envelope(
    data: &Bound<'_, PyAny>,
    request: &str,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<(String, String)> {
    let py = data.py();
    let t = table(data)?;
    let req: Request<EnvelopeRequest> = parse(request)?;
    run::detached(py, 0, progress, move |_| {
        let gs = groups(&t, &req.load, &req.by)?;
        let out = methods::for_groups(gs, |g| methods::envelope_table(&t, &g.rows, &req.request));
        let source = t.path.clone();
        finish(out, !req.by.is_empty(), &|r, g| {
            render::envelope_text(r, &source, g)
        })
    })?
    .map_err(|e| to_py(py, e))
}

/// A power law between two columns; returns `(json, text)`.
#[pyfunction]
fn powerlaw(data: &Bound<'_, PyAny>, request: &str) -> PyResult<(String, String)> {
    let py = data.py();
    let t = table(data)?;
    let req: Request<PowerlawRequest> = parse(request)?;
    py.detach(|| {
        let gs = groups(&t, &req.load, &req.by)?;
        let out = methods::for_groups(gs, |g| methods::powerlaw_table(&t, &g.rows, &req.request));
        finish(out, !req.by.is_empty(), &|r, g| render::powerlaw_text(r, g))
    })
    .map_err(|e| to_py(py, e))
}

/// Chinchilla's three approaches side by side; returns `(json, text)`. Off the interpreter:
/// Ctrl-C returns at once, and `progress(done, total)` follows Approach 3's bootstrap after a
/// second.
#[pyfunction]
#[pyo3(signature = (data, request, progress=None))]
fn compare(
    data: &Bound<'_, PyAny>,
    request: &str,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<(String, String)> {
    let py = data.py();
    let mut t = table(data)?;
    let req: Request<CompareRequest> = parse(request)?;
    let total = if req.request.bootstrap >= 2 {
        req.request.bootstrap as u64
    } else {
        0
    };
    run::detached(py, total, progress, move |tick| {
        prepare_table(&mut t, &req.load)?;
        let runs = methods::chinchilla_runs(&t, &req.load, None)?;
        let c = methods::compare_with(&t, &runs, &req.load, &req.request, tick)?;
        Ok((pretty(&c), render::compare_text(&c, &t.path)))
    })?
    .map_err(|e: scaling::Error| to_py(py, e))
}

/// Add the methods to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(isoflop, m)?)?;
    m.add_function(wrap_pyfunction!(envelope, m)?)?;
    m.add_function(wrap_pyfunction!(powerlaw, m)?)?;
    m.add_function(wrap_pyfunction!(compare, m)?)?;
    Ok(())
}
