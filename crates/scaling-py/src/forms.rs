//! Law forms compared on the same runs from Python (`scaling.compare_forms`): one call of
//! `scaling::validate::compare_forms`, returning its JSON and text.

use pyo3::prelude::*;

use scaling::accounting::{prepare_table, LoadRequest};
use scaling::validate::{compare_forms as compare, FormsRequest};

use crate::{table, to_py};

/// What Python sends: how to load the runs and which forms to compare how.
#[derive(serde::Deserialize)]
struct Request {
    #[serde(default)]
    load: LoadRequest,
    forms: FormsRequest,
}

/// Compare law forms on the same runs; returns `(json, text)` as `scaling forms` prints them.
/// Off the interpreter: Ctrl-C returns at once, and `progress(done, 0)` shows the time taken
/// after a second.
#[pyfunction]
#[pyo3(signature = (data, request, progress=None))]
fn compare_forms(
    data: &Bound<'_, PyAny>,
    request: &str,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<(String, String)> {
    let py = data.py();
    let mut t = table(data)?;
    let req: Request = serde_json::from_str(request)
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("bad request: {e}")))?;
    crate::run::detached(py, 0, progress, move |_| {
        prepare_table(&mut t, &req.load)?;
        let c = compare(&t, &req.forms, &req.load)?;
        let json = serde_json::to_string_pretty(&c)
            .map_err(|e| scaling::Error::Numerical(format!("cannot serialise: {e}")))?
            + "\n";
        Ok((json, scaling::report::forms::forms_text(&c)))
    })?
    .map_err(|e: scaling::Error| to_py(py, e))
}

/// Add `compare_forms` to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(compare_forms, m)?)?;
    Ok(())
}
