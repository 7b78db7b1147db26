//! Python bindings of `scaling`: argument conversion, one library call, the library's JSON and
//! text. No analysis lives here; every number comes from the `scaling` crate, so a result's
//! `to_dict()` equals the command line's JSON for the same request.

use numpy::PyReadonlyArray1;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

use scaling::data::{Column, RunTable};

mod backtest;
mod design;
mod downstream;
mod forms;
mod groups;
mod lab;
mod methods;
mod plan;
mod results;
mod run;

/// Raise the library's error as the Python exception of its kind: `InputError` (also a
/// `ValueError`) for the user's input or settings, `NumericalError` otherwise. The message is
/// the library's, with the file, row, column and value it names.
fn to_py(py: Python<'_>, e: scaling::Error) -> PyErr {
    let kind = if e.is_user_error() {
        "InputError"
    } else {
        "NumericalError"
    };
    let msg = error_chain(&e);
    match py.import("scaling._errors").and_then(|m| m.getattr(kind)) {
        Ok(cls) => match cls.cast_into() {
            Ok(cls) => PyErr::from_type(cls, msg),
            Err(e) => e.into(),
        },
        Err(e) => e,
    }
}

/// A `scaling.InputError` (a `ValueError`) with `msg`, for inputs refused before the library.
fn input_error(py: Python<'_>, msg: &str) -> PyErr {
    match py
        .import("scaling._errors")
        .and_then(|m| m.getattr("InputError"))
    {
        Ok(cls) => match cls.cast_into() {
            Ok(cls) => PyErr::from_type(cls, msg.to_string()),
            Err(e) => e.into(),
        },
        Err(e) => e,
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(x) = src {
        s.push_str(": ");
        s.push_str(&x.to_string());
        src = x.source();
    }
    s
}

/// A run table from what Python passed: a path (`str`), or a list of `(name, column)` pairs
/// where each column is a float64 array or a list of strings.
fn table(data: &Bound<'_, PyAny>) -> PyResult<RunTable> {
    let py = data.py();
    if let Ok(path) = data.extract::<String>() {
        return py
            .detach(|| RunTable::read(&path))
            .map_err(|e| to_py(py, e));
    }
    let (name, cols): (String, Bound<'_, PyList>) = data.extract()?;
    let mut columns = Vec::with_capacity(cols.len());
    for item in cols.iter() {
        let pair = item.cast::<PyTuple>()?;
        let cname: String = pair.get_item(0)?.extract()?;
        let values = pair.get_item(1)?;
        let column = if let Ok(arr) = values.extract::<PyReadonlyArray1<'_, f64>>() {
            Column::Numbers(arr.as_array().to_vec())
        } else {
            Column::Labels(values.extract::<Vec<String>>()?)
        };
        columns.push((cname, column));
    }
    RunTable::from_columns(&name, columns).map_err(|e| to_py(py, e))
}

/// Fit a law; returns `(json, text)`: the fit as the command line's JSON and its text report.
/// `progress(done, total)` is called during a bootstrap that takes more than a second.
#[pyfunction]
#[pyo3(signature = (data, request, progress=None))]
fn fit(
    data: &Bound<'_, PyAny>,
    request: &str,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<(String, String)> {
    let py = data.py();
    let mut table = table(data)?;
    let req: Request = serde_json::from_str(request)
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("bad request: {e}")))?;
    let headers: Vec<&str> = table.columns.iter().map(|c| c.as_str()).collect();
    let fr = req.fit_request(&headers).map_err(|e| to_py(py, e))?;
    let total = fr.bootstrap.as_ref().map_or(0, |b| b.replicates as u64);
    run::detached(py, total, progress, move |tick| {
        let needs = scaling::fit::needs(&fr.config.form);
        scaling::accounting::prepare_table(&mut table, &req.load)?;
        let runs = scaling::accounting::load_runs(&table, needs, &req.load, None)?;
        let fit = scaling::uncertainty::fit_table(&table, &runs, &fr, tick)?;
        let json = serde_json::to_string_pretty(&fit)
            .map_err(|e| scaling::Error::Numerical(format!("cannot serialise the fit: {e}")))?
            + "\n";
        Ok((json, scaling::report::fit_text(&fit)))
    })?
    .map_err(|e: scaling::Error| to_py(py, e))
}

/// The request as Python sends it (keyword arguments, JSON-encoded).
#[derive(serde::Deserialize)]
struct Request {
    #[serde(default)]
    load: scaling::accounting::LoadRequest,
    #[serde(default)]
    fit: scaling::fit::FitNames,
    #[serde(default)]
    bootstrap: Option<BootstrapNames>,
}

#[derive(serde::Deserialize)]
struct BootstrapNames {
    replicates: usize,
    #[serde(default)]
    seed: u64,
    #[serde(default)]
    cluster_col: Option<String>,
    #[serde(default = "default_level")]
    level: f64,
    #[serde(default)]
    flops: Vec<f64>,
}

fn default_level() -> f64 {
    0.95
}

impl Request {
    fn fit_request(&self, headers: &[&str]) -> scaling::Result<scaling::uncertainty::FitRequest> {
        Ok(scaling::uncertainty::FitRequest {
            config: self.fit.config_for(headers)?,
            bootstrap: self
                .bootstrap
                .as_ref()
                .map(|b| scaling::uncertainty::BootstrapRequest {
                    replicates: b.replicates,
                    seed: b.seed,
                    cluster_column: b.cluster_col.clone(),
                    level: b.level,
                    budgets: b.flops.clone(),
                }),
        })
    }
}

/// The compiled core of the `scaling` package.
#[pymodule]
fn _scaling(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(fit, m)?)?;
    methods::register(m)?;
    forms::register(m)?;
    plan::register(m)?;
    lab::register(m)?;
    results::register(m)?;
    downstream::register(m)?;
    backtest::register(m)?;
    design::register(m)?;
    groups::register(m)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
