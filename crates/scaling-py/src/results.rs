//! `scaling.predict`, `scaling.test_law`, `scaling.calibrate`, `scaling.demo`, `scaling.plot`
//! and `scaling.report` from Python: each converts its arguments, makes one library call and
//! returns the library's JSON and text (or SVG, or HTML), as the command line prints them.

use numpy::PyReadonlyArray1;
use pyo3::prelude::*;

use scaling::accounting::{load_runs, prepare_table, LoadRequest};
use scaling::allocate::{self, PointColumns, PointRequest, Source};
use scaling::fit::Fit;
use scaling::law::LawForm;
use scaling::methods::{self, OverviewRequest};
use scaling::report::{self, figure};

use crate::{run, table, to_py};

fn pretty<T: serde::Serialize + ?Sized>(v: &T) -> scaling::Result<String> {
    serde_json::to_string_pretty(v)
        .map(|s| s + "\n")
        .map_err(|e| scaling::Error::Numerical(format!("cannot serialise the result: {e}")))
}

fn bad_request(e: serde_json::Error) -> PyErr {
    pyo3::exceptions::PyValueError::new_err(format!("bad request: {e}"))
}

/// A law source: `kind` `"preset"` (then `source` is its name) or `"json"` (a saved fit's or
/// law file's text, labelled `label`).
fn source(kind: &str, source: &str, label: &str) -> scaling::Result<Source> {
    match kind {
        "preset" => Source::preset(source),
        _ => Source::from_json_str(label, source),
    }
}

/// One prediction: `(json, text)`, the JSON of `scaling predict --format json`.
#[pyfunction]
fn predict(
    py: Python<'_>,
    kind: &str,
    law: &str,
    label: &str,
    request: &str,
) -> PyResult<(String, String)> {
    let req: PointRequest = serde_json::from_str(request).map_err(bad_request)?;
    py.detach(|| -> scaling::Result<(String, String)> {
        let src = source(kind, law, label)?;
        let p = allocate::predict_point(&src, &req)?;
        Ok((pretty(&p)?, report::results::predict_text(&p)))
    })
    .map_err(|e| to_py(py, e))
}

/// Predictions at many points (numpy columns; `None` for a coordinate not given): the JSON
/// array of one `scaling predict` object per point.
#[pyfunction]
#[pyo3(signature = (kind, law, label, params=None, tokens=None, flops=None, unique_tokens=None, level=None))]
#[allow(clippy::too_many_arguments)]
fn predict_many(
    py: Python<'_>,
    kind: &str,
    law: &str,
    label: &str,
    params: Option<PyReadonlyArray1<'_, f64>>,
    tokens: Option<PyReadonlyArray1<'_, f64>>,
    flops: Option<PyReadonlyArray1<'_, f64>>,
    unique_tokens: Option<PyReadonlyArray1<'_, f64>>,
    level: Option<f64>,
) -> PyResult<String> {
    let col = |a: &Option<PyReadonlyArray1<'_, f64>>| {
        a.as_ref()
            .map(|a| a.as_array().to_vec())
            .unwrap_or_default()
    };
    let cols = PointColumns {
        params: col(&params),
        tokens: col(&tokens),
        flops: col(&flops),
        unique_tokens: col(&unique_tokens),
        level,
    };
    py.detach(|| -> scaling::Result<String> {
        let src = source(kind, law, label)?;
        pretty(&allocate::predict_points(&src, &cols)?)
    })
    .map_err(|e| to_py(py, e))
}

/// Test a law against a saved fit (`fit_json`, labelled `fit_label`): `(json, text)` of
/// `scaling test --format json`.
#[pyfunction]
fn test_law(
    py: Python<'_>,
    fit_json: &str,
    fit_label: &str,
    kind: &str,
    law: &str,
    label: &str,
    delta: f64,
) -> PyResult<(String, String)> {
    py.detach(|| -> scaling::Result<(String, String)> {
        let fitted = Fit::from_json_str(fit_label, fit_json)?;
        let src = source(kind, law, label)?;
        let t = allocate::test_against(&fitted, fit_label, &src, delta)?;
        let text = report::law_test_text(&t.test, &t.law_source, &t.fitted);
        Ok((pretty(&t)?, text))
    })
    .map_err(|e| to_py(py, e))
}

/// What `calibrate`, `plot` and `report` send: how to load, and the call's settings.
#[derive(serde::Deserialize)]
struct Request<R> {
    #[serde(default)]
    load: LoadRequest,
    request: R,
    /// The report's grouping columns (`by=`) and the joint fit's shared parameters.
    #[serde(default)]
    by: Vec<String>,
    #[serde(default)]
    shared: Vec<String>,
}

/// The runs of `data` for the Chinchilla law (with C for every run when `flops`), loaded as
/// the command line loads them.
fn runs_of(
    data: &Bound<'_, PyAny>,
    load: &LoadRequest,
    flops: bool,
) -> PyResult<scaling::Result<scaling::data::Runs>> {
    let mut t = table(data)?;
    Ok((|| {
        prepare_table(&mut t, load)?;
        let mut needs = scaling::fit::needs(&LawForm::Chinchilla);
        needs.flops |= flops;
        load_runs(&t, needs, load, None)
    })())
}

/// A calibration study on the design of `data`: `(json, text)` of `scaling calibrate
/// --format json`.
#[pyfunction]
#[pyo3(signature = (data, design, request, progress=None))]
fn calibrate(
    data: &Bound<'_, PyAny>,
    design: String,
    request: &str,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<(String, String)> {
    let py = data.py();
    let req: Request<scaling::uncertainty::CalibrateRequest> =
        serde_json::from_str(request).map_err(bad_request)?;
    let runs = runs_of(data, &req.load, false)?.map_err(|e| to_py(py, e))?;
    let total = req.request.datasets as u64;
    run::detached(py, total, progress, move |tick| {
        let c = scaling::uncertainty::calibrate_runs(&runs, &design, &req.request, tick)?;
        let text = report::calibration_text(&c.calibration, &c.truth_law, &design);
        Ok((pretty(&c)?, text))
    })?
    .map_err(|e: scaling::Error| to_py(py, e))
}

/// The demo: `(json, text, runs_csv, fit_json, fit_text)`, the first the JSON of `scaling demo
/// --format json`, the last two its fit as `scaling fit` prints it.
#[pyfunction]
#[pyo3(signature = (request, progress=None))]
fn demo(
    py: Python<'_>,
    request: &str,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<(String, String, String, String, String)> {
    let req: scaling::simulate::DemoRequest = serde_json::from_str(request).map_err(bad_request)?;
    let total = req.bootstrap as u64;
    run::detached(py, total, progress, move |tick| {
        let d = scaling::simulate::demo(&req, tick)?;
        Ok((
            pretty(&d)?,
            report::results::demo_text(&d),
            d.runs_csv(),
            pretty(&d.fit)?,
            report::fit_text(&d.fit),
        ))
    })?
    .map_err(|e: scaling::Error| to_py(py, e))
}

/// The analysis behind plots and reports, from runs (`data`) and/or a saved fit.
fn overview(
    data: Option<&Bound<'_, PyAny>>,
    fit_json: Option<&str>,
    load: &LoadRequest,
    req: &OverviewRequest,
    py: Python<'_>,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<methods::Overview> {
    let saved = fit_json
        .map(|t| Fit::from_json_str("fit", t))
        .transpose()
        .map_err(|e| to_py(py, e))?;
    let runs = match (data, &saved) {
        (Some(d), _) => runs_of(d, load, true)?.map_err(|e| to_py(py, e))?,
        (None, Some(f)) => f.runs(),
        (None, None) => {
            return Err(crate::input_error(py, "give data (runs) or a saved fit"));
        }
    };
    let req = req.clone();
    // Only a fit made here is bootstrapped (a saved fit brings its replicates).
    let total = match &saved {
        None if req.bootstrap >= 2 => req.bootstrap as u64,
        _ => 0,
    };
    run::detached(py, total, progress, move |tick| {
        methods::overview_with(&runs, saved, &req, tick)
    })?
    .map_err(|e| to_py(py, e))
}

/// One plot (`kind` as on the command line: "loss-compute", "isoflop", ...) as SVG text.
/// `progress(done, total)` follows the bootstrap after a second; Ctrl-C returns at once.
#[pyfunction]
#[pyo3(signature = (kind, request, data=None, fit_json=None, progress=None))]
fn plot(
    py: Python<'_>,
    kind: &str,
    request: &str,
    data: Option<&Bound<'_, PyAny>>,
    fit_json: Option<&str>,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<String> {
    let kind: figure::PlotKind = serde_json::from_value(serde_json::Value::String(kind.into()))
        .map_err(|_| {
            crate::input_error(
                py,
                &format!(
                    "unknown plot kind {kind:?}: loss-compute, isoflop, frontier, residuals, bootstrap or curves"
                ),
            )
        })?;
    let mut req: Request<OverviewRequest> = serde_json::from_str(request).map_err(bad_request)?;
    if !kind.needs_bootstrap() {
        req.request.bootstrap = 0;
    }
    req.request.isoflop = kind.needs_isoflop();
    let o = overview(data, fit_json, &req.load, &req.request, py, progress)?;
    figure::plot(kind, &o).map_err(|e| to_py(py, e))
}

/// The HTML report of the runs (`data`) and/or a saved fit, titled `source`. Progress and
/// Ctrl-C as for [`plot`].
#[pyfunction]
#[pyo3(signature = (source, request, data=None, fit_json=None, progress=None))]
fn report_html(
    py: Python<'_>,
    source: &str,
    request: &str,
    data: Option<&Bound<'_, PyAny>>,
    fit_json: Option<&str>,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<String> {
    let req: Request<OverviewRequest> = serde_json::from_str(request).map_err(bad_request)?;
    if req.by.is_empty() {
        let o = overview(data, fit_json, &req.load, &req.request, py, progress)?;
        return Ok(report::html::html_report(&o, source, &[]));
    }
    let (Some(data), None) = (data, fit_json) else {
        return Err(crate::input_error(
            py,
            "by= needs the runs (data) and no saved fit: a saved fit is one group's",
        ));
    };
    let mut table = crate::table(data)?;
    let total = req.request.bootstrap as u64;
    let source = source.to_string();
    run::detached(py, total, progress, move |tick| {
        scaling::accounting::prepare_table(&mut table, &req.load)?;
        let g =
            methods::overview_groups(&table, &req.load, &req.by, &req.shared, &req.request, tick)?;
        Ok(report::html::html_grouped(
            &g,
            &|e| e.to_string(),
            &source,
            &[],
        ))
    })?
    .map_err(|e: scaling::Error| to_py(py, e))
}

/// Add this group's functions to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(predict, m)?)?;
    m.add_function(wrap_pyfunction!(predict_many, m)?)?;
    m.add_function(wrap_pyfunction!(test_law, m)?)?;
    m.add_function(wrap_pyfunction!(calibrate, m)?)?;
    m.add_function(wrap_pyfunction!(demo, m)?)?;
    m.add_function(wrap_pyfunction!(plot, m)?)?;
    m.add_function(wrap_pyfunction!(report_html, m)?)?;
    Ok(())
}
