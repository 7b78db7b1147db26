//! Sensitivity of a Chinchilla-form law's answers to its parameters: how the predicted loss,
//! N_opt and D_opt move per 0.01 of each exponent and per unit of each other parameter, and the
//! exponent change that moves the prediction by 1%, 5% or 10% (the seed document's warning, "a
//! 0.006 difference in the exponent can lead to 10-20% errors", as a number for one law).
//!
//! # Formula
//! L = E + A N^-alpha + B D^-beta (Hoffmann et al. 2022, Eq. 2). At a point (N, D):
//! dL/dE = 1, dL/dA = N^-alpha, dL/dB = D^-beta, dL/dalpha = -A ln(N) N^-alpha,
//! dL/dbeta = -B ln(D) D^-beta. At a budget C (C = k N D), N_opt = G (C/k)^a with
//! a = beta/(alpha+beta), G = (alpha A / (beta B))^(1/(alpha+beta)) (Eq. 4); with s =
//! alpha + beta and g = ln(alpha A / (beta B)):
//! d ln N_opt/dalpha = -g/s^2 + 1/(alpha s) - beta ln(C/k)/s^2,
//! d ln N_opt/dbeta = -g/s^2 - 1/(beta s) + alpha ln(C/k)/s^2,
//! d ln N_opt/dA = 1/(s A), d ln N_opt/dB = -1/(s B), d ln D_opt = -d ln N_opt; and the loss at
//! the optimum moves as dL/dtheta at (N_opt, D_opt) (the envelope theorem). Each change is
//! reported as derivative x step (0.01 for an exponent, 1 for the others).
//!
//! The exponent change that moves L by a fraction p at (N, D) is exact: with T = A N^-alpha,
//! `alpha + delta` gives T + p L when delta = -ln(1 + p L / T) / ln N (and likewise for beta).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::law::{Law, LawForm};

/// Where the sensitivity is evaluated.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// A run of N parameters on D tokens.
    Point {
        /// N.
        params: f64,
        /// D.
        tokens: f64,
    },
    /// The compute-optimal run at C FLOPs, C = k N D.
    Budget {
        /// C.
        flops: f64,
        /// k.
        flops_per_param_token: f64,
    },
}

/// How one parameter moves the answers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ParamSensitivity {
    /// The parameter.
    pub name: String,
    /// Its value.
    pub value: f64,
    /// The step the changes are per (0.01 for an exponent, 1 otherwise).
    pub step: f64,
    /// Change of the loss (nats) per step.
    pub loss: f64,
    /// The same relative to the loss.
    pub loss_relative: f64,
    /// Change of N_opt per step (budget targets).
    pub params_opt: Option<f64>,
    /// Change of D_opt per step (budget targets).
    pub tokens_opt: Option<f64>,
}

/// The exponent change that moves the predicted loss by a given fraction.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExponentShift {
    /// The exponent (alpha or beta).
    pub name: String,
    /// The fraction (0.01, 0.05, 0.10).
    pub fraction: f64,
    /// The change raising the loss by that fraction (negative: a smaller exponent).
    pub raise: f64,
    /// The change lowering it by that fraction; `None` when the term is smaller than that.
    pub lower: Option<f64>,
}

/// The sensitivity of a law's answers at a target.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sensitivity {
    /// The target.
    pub target: Target,
    /// N at the target (N_opt for a budget).
    pub params: f64,
    /// D at the target.
    pub tokens: f64,
    /// The predicted loss there.
    pub loss: f64,
    /// Per parameter.
    pub per_param: Vec<ParamSensitivity>,
    /// Exponent changes that move the loss by 1%, 5% and 10%.
    pub exponent_shifts: Vec<ExponentShift>,
    /// How the numbers are defined.
    pub method: String,
}

/// The sensitivity of `law` (Chinchilla form) at `target` (module documentation).
///
/// # Examples
/// ```
/// use scaling::validate::sensitivity::{sensitivity, Target};
/// let law = scaling::law::presets::get("chinchilla").unwrap().law.unwrap();
/// let s = sensitivity(&law, Target::Point { params: 70e9, tokens: 1.4e12 }).unwrap();
/// assert!((s.loss - law.predict(70e9, 1.4e12, 5.88e23)).abs() < 1e-12);
/// assert!(s.per_param.iter().any(|p| p.name == "alpha"));
/// ```
///
/// # Errors
/// [`Error::InvalidSetting`] for another form, non-positive exponents, or a target that is not
/// positive and finite.
pub fn sensitivity(law: &Law, target: Target) -> Result<Sensitivity> {
    if law.form != LawForm::Chinchilla {
        return Err(Error::InvalidSetting(format!(
            "sensitivity needs the Chinchilla form L = E + A/N^alpha + B/D^beta, not {}",
            law.form.name()
        )));
    }
    let p = &law.params;
    let (e, a, b, alpha, beta) = (p[0], p[1], p[2], p[3], p[4]);
    if !(alpha > 0.0 && beta > 0.0 && a > 0.0 && b > 0.0) {
        return Err(Error::InvalidSetting(
            "sensitivity needs positive A, B, alpha and beta".into(),
        ));
    }
    let s = alpha + beta;
    let g = (alpha * a / (beta * b)).ln();
    let (n, d, opt) = match target {
        Target::Point { params, tokens } => {
            if !(params > 0.0 && tokens > 0.0 && params.is_finite() && tokens.is_finite()) {
                return Err(Error::InvalidSetting(format!(
                    "the target needs positive N and D, got {params} and {tokens}"
                )));
            }
            (params, tokens, None)
        }
        Target::Budget {
            flops,
            flops_per_param_token: k,
        } => {
            if !(flops > 0.0 && flops.is_finite() && k > 0.0 && k.is_finite()) {
                return Err(Error::InvalidSetting(format!(
                    "the budget must be a positive number of FLOPs, got {flops}"
                )));
            }
            let lc = (flops / k).ln();
            let ln_n = g / s + beta / s * lc;
            let n = ln_n.exp();
            // d ln N_opt / d(E, A, B, alpha, beta).
            let dln = [
                0.0,
                1.0 / (s * a),
                -1.0 / (s * b),
                -g / (s * s) + 1.0 / (alpha * s) - beta * lc / (s * s),
                -g / (s * s) - 1.0 / (beta * s) + alpha * lc / (s * s),
            ];
            (n, (flops / k) / n, Some(dln))
        }
    };
    let (tn, td) = (a * n.powf(-alpha), b * d.powf(-beta));
    let loss = e + tn + td;
    let dl = [
        1.0,
        n.powf(-alpha),
        d.powf(-beta),
        -tn * n.ln(),
        -td * d.ln(),
    ];
    let names = ["E", "A", "B", "alpha", "beta"];
    let per_param = (0..5)
        .map(|i| {
            let step = if i >= 3 { 0.01 } else { 1.0 };
            ParamSensitivity {
                name: names[i].into(),
                value: p[i],
                step,
                loss: dl[i] * step,
                loss_relative: dl[i] * step / loss,
                params_opt: opt.map(|dln| n * dln[i] * step),
                tokens_opt: opt.map(|dln| -d * dln[i] * step),
            }
        })
        .collect();
    let mut exponent_shifts = Vec::new();
    for (name, t, x) in [("alpha", tn, n), ("beta", td, d)] {
        for frac in [0.01, 0.05, 0.10] {
            let up = -(1.0 + frac * loss / t).ln() / x.ln();
            let down = (frac * loss < t).then(|| -(1.0 - frac * loss / t).ln() / x.ln());
            exponent_shifts.push(ExponentShift {
                name: name.into(),
                fraction: frac,
                raise: up,
                lower: down,
            });
        }
    }
    Ok(Sensitivity {
        target,
        params: n,
        tokens: d,
        loss,
        per_param,
        exponent_shifts,
        method: "first-order: derivative x step (0.01 for exponents, 1 for E, A, B); at a \
                 budget N and D are the compute-optimal ones and move with the parameters; \
                 exponent shifts exact at the fixed (N, D)"
            .into(),
    })
}
