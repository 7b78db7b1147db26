//! Python binding of `scaling backtest`: the request's JSON -> one library call -> the
//! library's JSON and text (the same as `scaling backtest --format json`).

use pyo3::prelude::*;

use scaling::validate::{self, Axis, BacktestRequest, Inflation, RollingRequest, Split};

use crate::{table, to_py, Request};

#[derive(serde::Deserialize)]
struct BacktestNames {
    #[serde(flatten)]
    fit: Request,
    #[serde(default)]
    cutoff: Option<f64>,
    #[serde(default = "flops")]
    on: String,
    #[serde(default)]
    train_where: Option<String>,
    #[serde(default)]
    test_where: Option<String>,
    #[serde(default)]
    roll: bool,
    #[serde(default)]
    cutoffs: Vec<f64>,
    #[serde(default = "half")]
    bin_width: f64,
    #[serde(default)]
    distance: Option<String>,
    #[serde(default)]
    kappa: Option<f64>,
    #[serde(default)]
    sigma0: f64,
    #[serde(default)]
    no_extrapolation_term: bool,
}

fn flops() -> String {
    "flops".into()
}

fn half() -> f64 {
    0.5
}

fn axis(s: &str) -> Axis {
    match s {
        "flops" | "C" => Axis::Flops,
        "params" | "N" => Axis::Params,
        other => Axis::Column(other.to_string()),
    }
}

/// `scaling backtest`: `(json, text)`. Off the interpreter: Ctrl-C returns at once, and
/// `progress(done, 0)` shows the time taken after a second.
#[pyfunction]
#[pyo3(signature = (data, request, progress=None))]
fn backtest(
    data: &Bound<'_, PyAny>,
    request: &str,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<(String, String)> {
    let py = data.py();
    let mut table = table(data)?;
    let req: BacktestNames = serde_json::from_str(request)
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("bad request: {e}")))?;
    let modes = [req.cutoff.is_some(), req.train_where.is_some(), req.roll]
        .iter()
        .filter(|b| **b)
        .count();
    if modes != 1 {
        return Err(crate::input_error(
            py,
            "give one of cutoff=VALUE, train_where=FILTER or roll=True",
        ));
    }
    let distance = match req.distance.as_deref() {
        None => None,
        Some("flops") => Some(Axis::Flops),
        Some("params") => Some(Axis::Params),
        Some(o) => {
            return Err(crate::input_error(
                py,
                &format!("distance must be 'flops' or 'params', got {o:?}"),
            ))
        }
    };
    let headers: Vec<&str> = table.columns.iter().map(|c| c.as_str()).collect();
    let fr = req.fit.fit_request(&headers).map_err(|e| to_py(py, e))?;
    crate::run::detached(
        py,
        0,
        progress,
        move |_| -> scaling::Result<(String, String)> {
            let load = &req.fit.load;
            scaling::accounting::prepare_table(&mut table, load)?;
            let on = axis(&req.on);
            let mut needs = scaling::fit::needs(&fr.config.form);
            needs.flops |= on == Axis::Flops || distance != Some(Axis::Params);
            needs.params |= on == Axis::Params || distance == Some(Axis::Params);
            let runs = scaling::accounting::load_runs(&table, needs, load, None)?;
            let split = match (&req.train_where, req.cutoff) {
                (Some(t), _) => Split::Where {
                    train: t.clone(),
                    test: req.test_where.clone(),
                    columns: scaling::accounting::column_overrides(load)?,
                },
                (None, v) => Split::Cutoff {
                    axis: on.clone(),
                    value: v.unwrap_or(f64::INFINITY),
                },
            };
            let base = BacktestRequest {
                fit: fr,
                split,
                distance_axis: distance,
                inflation: match (req.kappa, req.no_extrapolation_term) {
                    (Some(k), _) => Inflation::Fixed(req.sigma0, k),
                    (None, true) => Inflation::None,
                    (None, false) => Inflation::Calibrated,
                },
            };
            let source = table.path.clone();
            let ser = |e: serde_json::Error| {
                scaling::Error::Numerical(format!("cannot serialise the backtest: {e}"))
            };
            if req.roll {
                let r = validate::rolling(
                    &table,
                    &runs,
                    &RollingRequest {
                        base,
                        axis: on,
                        cutoffs: req.cutoffs.clone(),
                        bin_width: req.bin_width,
                    },
                )?;
                Ok((
                    serde_json::to_string_pretty(&r).map_err(ser)? + "\n",
                    scaling::report::backtest::rolling_text(&r, &source),
                ))
            } else {
                let b = validate::backtest(&table, &runs, &base)?;
                Ok((
                    serde_json::to_string_pretty(&b).map_err(ser)? + "\n",
                    scaling::report::backtest::backtest_text(&b, &source),
                ))
            }
        },
    )?
    .map_err(|e| to_py(py, e))
}

/// Register the function.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(backtest, m)?)?;
    Ok(())
}
