//! `scaling.downstream` from Python: the options as JSON -> the library's request (the same
//! resolution as the command line) -> one library call -> the library's JSON and text.

use pyo3::prelude::*;

use scaling::downstream::{self as ds, join_tables, DownstreamOptions};
use scaling::report::downstream::{backtest_svg, backtest_text, downstream_svg, downstream_text};

use crate::{table, to_py};

/// Downstream accuracy prediction, or its backtest when the options name cutoffs; `join` (a
/// table) is joined to `data` on column `on`. Returns `(json, text)`. Off the interpreter: Ctrl-C returns at once, and
/// `progress(done, 0)` shows the time taken after a second.
#[pyfunction]
#[pyo3(signature = (data, options, join=None, on=None, progress=None))]
fn downstream(
    data: &Bound<'_, PyAny>,
    options: &str,
    join: Option<&Bound<'_, PyAny>>,
    on: Option<String>,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<(String, String)> {
    let py = data.py();
    let mut t = table(data)?;
    let right = match join {
        Some(j) => Some(table(j)?),
        None => None,
    };
    let opts: DownstreamOptions = serde_json::from_str(options)
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("bad options: {e}")))?;
    crate::run::detached(py, 0, progress, move |tick| {
        if let Some(r) = &right {
            t = join_tables(&t, r, on.as_deref().unwrap_or_default())?;
        }
        let req = opts.request()?;
        if !opts.backtest.is_empty() {
            let b = ds::backtest(&t, &req, &opts.backtest, tick)?;
            let json = serde_json::to_string_pretty(&b).expect("a result serialises") + "\n";
            return Ok((json, backtest_text(&b)));
        }
        let result = ds::downstream(&t, &req, tick)?;
        let json = serde_json::to_string_pretty(&result).expect("a result serialises") + "\n";
        Ok((json, downstream_text(&result)))
    })?
    .map_err(|e: scaling::Error| to_py(py, e))
}

/// The figure (SVG) of a downstream result given as its JSON.
#[pyfunction]
fn downstream_svg_of(result_json: &str) -> PyResult<String> {
    let r: ds::DownstreamResult = serde_json::from_str(result_json).map_err(|e| {
        pyo3::exceptions::PyValueError::new_err(format!("not a downstream result: {e}"))
    })?;
    Ok(downstream_svg(&r))
}

/// The figure (SVG) of a downstream backtest given as its JSON.
#[pyfunction]
fn downstream_backtest_svg_of(result_json: &str) -> PyResult<String> {
    let b: ds::ScoreBacktest = serde_json::from_str(result_json).map_err(|e| {
        pyo3::exceptions::PyValueError::new_err(format!("not a downstream backtest: {e}"))
    })?;
    Ok(backtest_svg(&b))
}

/// Add the functions to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(downstream, m)?)?;
    m.add_function(wrap_pyfunction!(downstream_svg_of, m)?)?;
    m.add_function(wrap_pyfunction!(downstream_backtest_svg_of, m)?)?;
    Ok(())
}
