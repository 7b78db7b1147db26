//! The step-2 laws, from an intermediate feature x (a task loss, a validation loss) to a
//! benchmark's accuracy or error, as formulas over the data column `x`: the generic fit path
//! fits, bootstraps and predicts them like any other law form.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::law::{Domain, Form, Formula, Grid, LawForm, ParamSpec};

/// The data column holding the intermediate feature in a step-2 fit.
pub const FEATURE: &str = "x";

/// Which step-2 law.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Step2Law {
    /// `Acc(x) = a / (1 + exp(-k (x - x0))) + b` (Bhagia et al. 2024, arXiv:2412.04403,
    /// Eq. 2; Llama 3, 2024, Sec. 3.2.1). With a < 0 and k > 0 accuracy falls from b (at low
    /// loss) to a + b (the chance plateau at high loss).
    Sigmoid,
    /// `Err(x) = eps - k exp(-gamma x)` (Gadre et al. 2024, arXiv:2403.08540, Eq. 5): the
    /// average top-1 error as a function of the validation loss.
    Exponential,
    /// A user's formula in `x` (other names are parameters).
    Formula(String),
}

impl Step2Law {
    /// Parse `sigmoid`, `exponential` (or `gadre`), or a formula in `x`.
    pub fn parse(s: &str) -> Step2Law {
        match s.trim().to_ascii_lowercase().as_str() {
            "sigmoid" => Step2Law::Sigmoid,
            "exponential" | "gadre" => Step2Law::Exponential,
            _ => Step2Law::Formula(s.trim().to_string()),
        }
    }

    /// The name recorded in results.
    pub fn name(&self) -> String {
        match self {
            Step2Law::Sigmoid => "sigmoid".into(),
            Step2Law::Exponential => "exponential".into(),
            Step2Law::Formula(f) => f.clone(),
        }
    }
}

/// Bounds of the sigmoid's parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SigmoidBounds {
    /// Domain of the amplitude a.
    pub a: Domain,
    /// Domain of the midpoint x0.
    pub x0: Domain,
    /// Domain of the slope k.
    pub k: Domain,
    /// Domain of the offset b.
    pub b: Domain,
}

impl SigmoidBounds {
    /// Accuracy falling with the feature (a loss), between chance and `max`:
    /// `-(max - chance') <= a <= 0` with chance' = 0, `0 <= b <= max`, k >= 0, x0 real.
    pub fn falling(max: f64) -> SigmoidBounds {
        SigmoidBounds {
            a: Domain::bounded(-max, 0.0),
            x0: Domain::REAL,
            k: Domain::POSITIVE,
            b: Domain::bounded(0.0, max),
        }
    }

    /// Accuracy rising with the feature (log compute): `0 <= a <= max`, `0 <= b <= max`.
    pub fn rising(max: f64) -> SigmoidBounds {
        SigmoidBounds {
            a: Domain::bounded(0.0, max),
            x0: Domain::REAL,
            k: Domain::POSITIVE,
            b: Domain::bounded(0.0, max),
        }
    }

    /// The bounds of the authors' code (OLMo-ladder `step2.py`): a in [-1, 0], x0 >= 0,
    /// k >= 0, b in [0, 1].
    pub fn ladder() -> SigmoidBounds {
        SigmoidBounds {
            a: Domain::bounded(-1.0, 0.0),
            x0: Domain::POSITIVE,
            k: Domain::POSITIVE,
            b: Domain::bounded(0.0, 1.0),
        }
    }
}

/// The step-2 law as a law form over the column [`FEATURE`]; `range` is the feature's range
/// in the data (it places the start grid of x0 and k).
///
/// # Errors
/// A user formula that does not parse, or that does not read `x`.
pub fn step2_form(law: &Step2Law, bounds: &SigmoidBounds, range: [f64; 2]) -> Result<LawForm> {
    let parse = |text: &str| {
        Formula::parse(text, &[FEATURE]).map_err(|e| Error::InvalidSetting(e.to_string()))
    };
    let width = (range[1] - range[0]).abs().max(1e-3);
    let f = match law {
        Step2Law::Sigmoid => parse("b + a/(1 + exp(-k*(x - x0)))")?.with_specs(
            "sigmoid",
            vec![
                ParamSpec::new(
                    "a",
                    "amplitude: accuracy moves from b to a + b as x grows",
                    bounds.a,
                    false,
                    None,
                ),
                ParamSpec::new(
                    "x0",
                    "midpoint of the transition (units of the feature)",
                    bounds.x0,
                    false,
                    Some(Grid::Linear {
                        lo: range[0].max(if bounds.x0.lo.is_finite() {
                            bounds.x0.lo + 1e-3
                        } else {
                            f64::NEG_INFINITY
                        }),
                        hi: range[1] + 0.5 * width,
                    }),
                ),
                ParamSpec::new(
                    "k",
                    "slope of the transition (per unit of the feature)",
                    bounds.k,
                    false,
                    Some(Grid::Geometric {
                        lo: 0.3 / width,
                        hi: 60.0 / width,
                    }),
                ),
                ParamSpec::new(
                    "b",
                    "accuracy as x falls far below x0",
                    bounds.b,
                    false,
                    None,
                ),
            ],
        ),
        Step2Law::Exponential => parse("eps - k*exp(-gamma*x)")?.with_specs(
            "exponential",
            vec![
                ParamSpec::new(
                    "eps",
                    "error as the feature grows without bound",
                    Domain::POSITIVE,
                    true,
                    None,
                ),
                ParamSpec::new(
                    "k",
                    "coefficient of the exponential",
                    Domain::POSITIVE,
                    true,
                    None,
                ),
                ParamSpec::new(
                    "gamma",
                    "rate (per unit of the feature)",
                    Domain::POSITIVE,
                    false,
                    Some(Grid::Geometric {
                        lo: 0.01 / width.max(1.0),
                        hi: 10.0,
                    }),
                ),
            ],
        ),
        Step2Law::Formula(text) => {
            let f = parse(text)?;
            if !f.variables().iter().any(|v| v.symbol() == FEATURE) {
                return Err(Error::InvalidSetting(format!(
                    "the step-2 formula {text:?} does not read the feature x"
                )));
            }
            f
        }
    };
    Ok(LawForm::Formula(Arc::new(f)))
}
