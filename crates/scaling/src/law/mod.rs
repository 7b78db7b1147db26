//! Functional forms of scaling laws, their named parameters, and law files.
//!
//! The forms:
//! - Chinchilla (Hoffmann et al. 2022, arXiv:2203.15556, Eq. 2):
//!   `L(N, D) = E + A / N^alpha + B / D^beta`.
//! - The saturating single-variable power law `L(x) = E + A x^-alpha` for x = N, D or C
//!   (Kaplan et al. 2020, arXiv:2001.08361, use the form with E = 0).
//! - Kaplan's joint law (Kaplan et al. 2020, Eq. 1.5):
//!   `L(N, D) = [(N_c / N)^(alpha_N / alpha_D) + D_c / D]^alpha_D`.
//! - Muennighoff et al.'s data-constrained law (2023, arXiv:2305.16264): Chinchilla's
//!   form with N and D replaced by effective counts that discount repeated data, given U unique
//!   tokens (see [`Law::predict_unique`]).
//!
//! - Gadre et al.'s over-training law L(C, M), the multiplicative form, a broken power law
//!   and Kaplan's L(N, S) ([`forms`]), and any formula the user writes ([`Formula`]).
//!
//! Every form implements [`Form`]; Chinchilla and the power law are fitted by their own fast
//! kernel, all others by the generic path of `fit`. All of them predict and plan. [`presets`]
//! holds published laws by name.

pub mod form;
pub mod forms;
pub mod formula;
pub mod joint;
pub mod presets;
mod rule;

pub use form::{Domain, Form, Grid, ParamSpec, Var};
pub use formula::{Formula, ParseError};
pub use joint::{Joint, JointSpec};
pub use rule::Rule;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The independent variable of a single-variable law.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Variable {
    /// Model size N (parameters).
    Params,
    /// Training tokens D.
    Tokens,
    /// Training compute C (FLOPs).
    Flops,
}

impl Variable {
    /// The symbol used in formulas.
    pub fn symbol(self) -> &'static str {
        match self {
            Variable::Params => "N",
            Variable::Tokens => "D",
            Variable::Flops => "C",
        }
    }

    /// The name used on the command line and in files.
    pub fn name(self) -> &'static str {
        match self {
            Variable::Params => "params",
            Variable::Tokens => "tokens",
            Variable::Flops => "flops",
        }
    }

    /// Parse `params`/`tokens`/`flops` (also `N`, `D`, `C`).
    pub fn parse(s: &str) -> Option<Variable> {
        match s.trim().to_ascii_lowercase().as_str() {
            "params" | "n" | "parameters" => Some(Variable::Params),
            "tokens" | "d" => Some(Variable::Tokens),
            "flops" | "c" | "compute" => Some(Variable::Flops),
            _ => None,
        }
    }
}

/// A functional form.
#[derive(Debug, Clone, PartialEq)]
pub enum LawForm {
    /// `L = E + A / N^alpha + B / D^beta` (Hoffmann et al. 2022, Eq. 2).
    Chinchilla,
    /// `L = E + A x^-alpha`.
    Power {
        /// The variable x.
        x: Variable,
    },
    /// `L = [(N_c / N)^(alpha_N / alpha_D) + D_c / D]^alpha_D` (Kaplan et al. 2020, Eq. 1.5).
    Kaplan,
    /// Muennighoff et al. (2023) data-constrained law.
    DataConstrained,
    /// `L = (N_c/N)^alpha_N + (S_c/S)^alpha_S` (Kaplan et al. 2020, Eq. 1.6).
    KaplanSteps,
    /// `L = E + (a M^eta + b M^-eta) C^-eta`, M = D/N (Gadre et al. 2024, Eq. 4).
    Overtraining,
    /// `L = E + A N^-alpha D^-beta`.
    Multiplicative,
    /// `L = E + b x^-c0 (1 + (x/d1)^(1/f1))^(-c1 f1)` (Caballero et al. 2022, one break).
    BrokenPower {
        /// The variable x.
        x: Variable,
    },
    /// A user's formula.
    Formula(Arc<Formula>),
    /// A base form fitted jointly over groups, with shared, per-group and tied parameters
    /// ([`joint`]).
    Joint(Arc<Joint>),
}

/// The names of the built-in forms (`--law NAME`); anything else is read as a formula.
pub const FORM_NAMES: [&str; 9] = [
    "chinchilla",
    "power",
    "kaplan",
    "kaplan-steps",
    "data-constrained",
    "overtraining",
    "multiplicative",
    "broken-power",
    "formula",
];

impl LawForm {
    /// The form's definition behind the [`Form`] interface.
    pub fn form(&self) -> &dyn Form {
        match self {
            LawForm::Chinchilla => forms::chinchilla(),
            LawForm::Power { x } => forms::power(*x),
            LawForm::Kaplan => forms::kaplan(),
            LawForm::DataConstrained => forms::data_constrained(),
            LawForm::KaplanSteps => forms::kaplan_steps(),
            LawForm::Overtraining => forms::overtraining(),
            LawForm::Multiplicative => forms::multiplicative(),
            LawForm::BrokenPower { x } => forms::broken_power(*x),
            LawForm::Formula(f) => &**f,
            LawForm::Joint(j) => &**j,
        }
    }

    /// A built-in form by name (`x` for the single-variable forms), or `None`.
    pub fn builtin(name: &str, x: Option<Variable>) -> Option<LawForm> {
        Some(match name.to_ascii_lowercase().as_str() {
            "chinchilla" => LawForm::Chinchilla,
            "power" => LawForm::Power { x: x? },
            "kaplan" => LawForm::Kaplan,
            "kaplan-steps" => LawForm::KaplanSteps,
            "data-constrained" | "muennighoff" => LawForm::DataConstrained,
            "overtraining" | "gadre" => LawForm::Overtraining,
            "multiplicative" => LawForm::Multiplicative,
            "broken-power" => LawForm::BrokenPower { x: x? },
            _ => return None,
        })
    }

    /// True for the two forms with their own fast kernel (Chinchilla, power).
    pub fn has_kernel(&self) -> bool {
        matches!(self, LawForm::Chinchilla | LawForm::Power { .. })
    }

    /// Parameter names in canonical order (the order of [`Law::params`]).
    pub fn param_names(&self) -> Vec<String> {
        self.form().param_names()
    }

    /// The short name used in files (`chinchilla`, `power`, `formula`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            LawForm::Chinchilla => "chinchilla",
            LawForm::Power { .. } => "power",
            LawForm::Kaplan => "kaplan",
            LawForm::DataConstrained => "data-constrained",
            LawForm::KaplanSteps => "kaplan-steps",
            LawForm::Overtraining => "overtraining",
            LawForm::Multiplicative => "multiplicative",
            LawForm::BrokenPower { .. } => "broken-power",
            LawForm::Formula(_) => "formula",
            LawForm::Joint(_) => "joint",
        }
    }

    /// The formula in plain text.
    pub fn formula(&self) -> String {
        match self {
            LawForm::Chinchilla => "L = E + A / N^alpha + B / D^beta".into(),
            LawForm::Power { x } => format!("L = E + A * {}^-alpha", x.symbol()),
            LawForm::Kaplan => "L = [(N_c / N)^(alpha_N / alpha_D) + D_c / D]^alpha_D".into(),
            LawForm::DataConstrained => {
                "L = E + A / N'^alpha + B / D'^beta, with N', D' the effective counts given U unique tokens"
                    .into()
            }
            other => other.form().formula(),
        }
    }

    /// The variable of a single-variable form (power law, broken power law).
    pub fn x(&self) -> Option<Variable> {
        match self {
            LawForm::Power { x } | LawForm::BrokenPower { x } => Some(*x),
            _ => None,
        }
    }

    /// The quantities among N, D and C the law reads from a run table (M = D/N needs N and D;
    /// U, S and other columns are read by name, see [`Var`]).
    pub fn variables(&self) -> Vec<Variable> {
        match self {
            LawForm::Chinchilla | LawForm::Kaplan | LawForm::DataConstrained => {
                vec![Variable::Params, Variable::Tokens]
            }
            LawForm::Power { x } => vec![*x],
            other => {
                let mut out = Vec::new();
                for v in other.form().variables() {
                    let add: &[Variable] = match v {
                        Var::N => &[Variable::Params],
                        Var::D => &[Variable::Tokens],
                        Var::C => &[Variable::Flops],
                        Var::M => &[Variable::Params, Variable::Tokens],
                        _ => &[],
                    };
                    for a in add {
                        if !out.contains(a) {
                            out.push(*a);
                        }
                    }
                }
                out
            }
        }
    }

    /// True when the law's loss depends on both N and D (directly, or through C and M), so
    /// it can say how to split a compute budget between them.
    pub fn splits_compute(&self) -> bool {
        let v = self.form().variables();
        v.contains(&Var::M) || (v.contains(&Var::N) && v.contains(&Var::D))
    }

    /// What a parameter means, with its unit.
    pub fn meaning(&self, name: &str) -> String {
        self.form()
            .params()
            .into_iter()
            .find(|s| s.name == name)
            .map(|s| s.meaning)
            .unwrap_or_default()
    }
}

/// A law: a form with values for its parameters (natural scale: E, A, B in nats).
#[derive(Debug, Clone, PartialEq)]
pub struct Law {
    /// The functional form.
    pub form: LawForm,
    /// Parameter values in the order of [`LawForm::param_names`].
    pub params: Vec<f64>,
}

/// The compute-optimal allocation of a Chinchilla law under C = k N D.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Optimum {
    /// Budget C (FLOPs).
    pub flops: f64,
    /// N_opt (parameters).
    pub params: f64,
    /// D_opt (tokens).
    pub tokens: f64,
    /// The loss at (N_opt, D_opt).
    pub loss: f64,
    /// D_opt / N_opt.
    pub tokens_per_param: f64,
}

impl Law {
    /// Build a law, checking the parameters (see [`Law::validate`]).
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] naming the offending parameter.
    pub fn new(form: LawForm, params: Vec<f64>) -> Result<Law> {
        let law = Law { form, params };
        law.validate()?;
        Ok(law)
    }

    /// Check the parameters against the domain of the form: the right number of them, all
    /// finite, E >= 0, and every coefficient (A, B, N_c, D_c, R_D*, R_N*) and exponent (alpha,
    /// beta, alpha_N, alpha_D) strictly positive. With a zero or negative exponent or
    /// coefficient the loss does not fall with scale, so the law's compute-optimal allocation
    /// is meaningless (the closed form would put one parameter on all the tokens) and its
    /// terms can be NaN. [`Law::new`] and law files call this; the planning functions call it
    /// too, because [`Law`]'s fields are public.
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] naming the offending parameter and its value.
    pub fn validate(&self) -> Result<()> {
        let names = self.form.param_names();
        if self.params.len() != names.len() {
            return Err(Error::InvalidSetting(format!(
                "the {} law has {} parameters ({}), got {}",
                self.form.name(),
                names.len(),
                names.join(", "),
                self.params.len()
            )));
        }
        let form = &self.form;
        let specs = form.form().params();
        for ((n, &v), spec) in names.iter().zip(&self.params).zip(&specs) {
            let n: &str = n.as_ref();
            if !v.is_finite() {
                return Err(Error::InvalidSetting(format!(
                    "parameter {n} = {v} is not finite"
                )));
            }
            let (ok, rule): (bool, String) = if form.has_kernel()
                || matches!(form, LawForm::Kaplan | LawForm::DataConstrained)
            {
                match n {
                    "E" => (v >= 0.0, "E >= 0".into()),
                    "alpha" | "beta" | "alpha_N" | "alpha_D" => (
                        v > 0.0,
                        "an exponent must be > 0: with a zero or negative exponent the loss does not fall with scale".into(),
                    ),
                    _ => (
                        v > 0.0,
                        "must be > 0: a zero or negative coefficient removes or inverts its term".into(),
                    ),
                }
            } else {
                (
                    spec.domain.contains(v),
                    format!("its domain is {}", spec.domain.describe()),
                )
            };
            if !ok {
                return Err(Error::InvalidSetting(format!(
                    "parameter {n} = {v} is out of range ({rule})"
                )));
            }
        }
        Ok(())
    }

    /// A parameter by name.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.form
            .param_names()
            .iter()
            .position(|n| *n == name)
            .map(|i| self.params[i])
    }

    /// The predicted loss at N = `n`, D = `d`, C = `c` (each form reads what it needs; the
    /// data-constrained law assumes every token is unique).
    pub fn predict(&self, n: f64, d: f64, c: f64) -> f64 {
        self.predict_unique(n, d, c, None)
    }

    /// The predicted loss with `unique` tokens available (only the data-constrained law uses
    /// it; `None` means all D tokens are unique).
    ///
    /// # Formula
    /// Data-constrained (Muennighoff et al. 2023): with U_D = min(U, D),
    /// R_D = max(D/U - 1, 0), N_opt(U) = G (U G)^(a/b) the compute-optimal size whose optimal
    /// data is U (Hoffmann et al. 2022, Eq. 4), U_N = min(N, N_opt(U)), R_N = max(N/U_N - 1, 0):
    /// `L = E + A / (U_N + U_N R_N* (1 - exp(-R_N/R_N*)))^alpha
    ///        + B / (U_D + U_D R_D* (1 - exp(-R_D/R_D*)))^beta`.
    pub fn predict_unique(&self, n: f64, d: f64, c: f64, unique: Option<f64>) -> f64 {
        let p = &self.params;
        match self.form {
            LawForm::Chinchilla => p[0] + p[1] * n.powf(-p[3]) + p[2] * d.powf(-p[4]),
            LawForm::Power { x } => {
                let v = match x {
                    Variable::Params => n,
                    Variable::Tokens => d,
                    Variable::Flops => c,
                };
                p[0] + p[1] * v.powf(-p[2])
            }
            LawForm::Kaplan => ((p[0] / n).powf(p[2] / p[3]) + p[1] / d).powf(p[3]),
            _ => self
                .predict_with(&|v: &Var| match v {
                    Var::N => Some(n),
                    Var::D => Some(d),
                    Var::C => Some(c),
                    Var::M => Some(d / n),
                    Var::U => Some(unique.unwrap_or(d)),
                    _ => None,
                })
                .unwrap_or(f64::NAN),
        }
    }

    /// The predicted loss with each variable's value given by `value` (`None` when the
    /// caller does not know it, which makes the prediction `None`).
    pub fn predict_with(&self, value: &dyn Fn(&Var) -> Option<f64>) -> Option<f64> {
        let form = self.form.form();
        let x: Option<Vec<f64>> = form.variables().iter().map(value).collect();
        Some(form.predict(&x?, &self.params))
    }

    /// N_opt(U) = G (U G)^(a/b): the compute-optimal model size whose optimal token count is U
    /// (Hoffmann et al. 2022, Eq. 4), as Muennighoff et al. (2023) use it.
    pub fn params_for_optimal_tokens(&self, tokens: f64) -> Option<f64> {
        let (a, b, g) = (self.params_exponent()?, self.tokens_exponent()?, self.g()?);
        Some(g * (tokens * g).powf(a / b))
    }

    /// Exponent a of N_opt ∝ C^a: beta/(alpha+beta) (Hoffmann et al. 2022, Eq. 4).
    /// `None` for forms without both N and D.
    pub fn params_exponent(&self) -> Option<f64> {
        let (alpha, beta) = self.alpha_beta()?;
        Some(beta / (alpha + beta))
    }

    /// Exponent b of D_opt ∝ C^b: alpha/(alpha+beta).
    pub fn tokens_exponent(&self) -> Option<f64> {
        let (alpha, beta) = self.alpha_beta()?;
        Some(alpha / (alpha + beta))
    }

    /// G = (alpha A / (beta B))^(1/(alpha+beta)) of Hoffmann et al. 2022, Eq. 4.
    pub fn g(&self) -> Option<f64> {
        let (alpha, beta) = self.alpha_beta()?;
        let (a, b) = (self.get("A")?, self.get("B")?);
        Some((alpha * a / (beta * b)).powf(1.0 / (alpha + beta)))
    }

    fn alpha_beta(&self) -> Option<(f64, f64)> {
        match self.form {
            LawForm::Chinchilla | LawForm::DataConstrained => {
                let (a, b) = (self.params[3], self.params[4]);
                (a > 0.0 && b > 0.0).then_some((a, b))
            }
            _ => None,
        }
    }

    /// The compute-optimal allocation for budget `flops` under C = k N D, in closed form
    /// (Hoffmann et al. 2022, Eq. 4, with 6 replaced by k): N_opt = G (C/k)^a,
    /// D_opt = G^-1 (C/k)^b. `None` when the law has no optimum, or when any of N_opt, D_opt,
    /// the loss there and D_opt / N_opt is not a positive finite number.
    pub fn optimum(&self, flops: f64, k: f64) -> Option<Optimum> {
        let (a, b, g) = (self.params_exponent()?, self.tokens_exponent()?, self.g()?);
        let x = flops / k;
        let n = g * x.powf(a);
        let d = x.powf(b) / g;
        let o = Optimum {
            flops,
            params: n,
            tokens: d,
            loss: self.predict(n, d, flops),
            tokens_per_param: d / n,
        };
        // Past the range of f64 (a budget of 1e308 FLOPs) there is no optimum to report.
        [o.flops, o.params, o.tokens, o.loss, o.tokens_per_param]
            .iter()
            .all(|v| v.is_finite() && *v > 0.0)
            .then_some(o)
    }

    /// Read a law from JSON text: `{"law": "chinchilla", "params": {"E":..,"A":..,"B":..,
    /// "alpha":..,"beta":..}}` or `{"law": "power", "x": "flops", "params": {"E":..,"A":..,
    /// "alpha":..}}`. A saved fit has these keys too, so fit files are law files.
    ///
    /// # Errors
    /// [`Error::LawFile`] naming the file and what is missing or wrong.
    pub fn from_json_str(path: &str, text: &str) -> Result<Law> {
        let err = |m: String| Error::LawFile {
            path: path.to_string(),
            message: m,
        };
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|e| err(format!("not valid JSON: {e}")))?;
        let law = v
            .get("law")
            .and_then(|l| l.as_str())
            .ok_or_else(|| err("no string \"law\" (e.g. \"chinchilla\" or \"power\")".into()))?;
        let x =
            match v.get("x").and_then(|x| x.as_str()) {
                None => None,
                Some(x) => Some(Variable::parse(x).ok_or_else(|| {
                    err(format!("unknown \"x\": {x:?} (params, tokens or flops)"))
                })?),
            };
        // A law file lists the columns it reads; a saved fit records its variables.
        let columns: Vec<String> = match v.get("columns").and_then(|c| c.as_array()) {
            Some(a) => a
                .iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect(),
            None => v
                .pointer("/conventions/variables")
                .and_then(|m| m.as_object())
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default(),
        };
        let cols: Vec<&str> = columns.iter().map(|s| s.as_str()).collect();
        let form = match law.to_ascii_lowercase().as_str() {
            "power" | "broken-power" if x.is_none() => {
                return Err(err(format!(
                    "a {law} law needs \"x\": \"params\", \"tokens\" or \"flops\""
                )))
            }
            "formula" => {
                let text = v
                    .get("formula")
                    .and_then(|f| f.as_str())
                    .ok_or_else(|| err("a formula law needs its \"formula\" as a string".into()))?;
                let f = Formula::parse(text, &cols).map_err(|e| err(e.to_string()))?;
                LawForm::Formula(Arc::new(f))
            }
            "joint" => {
                // A saved fit of a tied law or of groups records how its form was built.
                let spec = v
                    .pointer("/conventions/joint")
                    .or_else(|| v.get("joint"))
                    .ok_or_else(|| err("a joint law needs its \"joint\" spec".into()))?;
                let spec: JointSpec = serde_json::from_value(spec.clone())
                    .map_err(|e| err(format!("bad joint spec: {e}")))?;
                let j = Joint::from_spec(&spec, &cols).map_err(|e| err(e.to_string()))?;
                LawForm::Joint(Arc::new(j))
            }
            other => LawForm::builtin(other, x).ok_or_else(|| {
                err(format!(
                    "unknown law {other:?}: known laws are {}",
                    FORM_NAMES
                        .iter()
                        .map(|n| format!("\"{n}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?,
        };
        let params = v
            .get("params")
            .and_then(|p| p.as_object())
            .ok_or_else(|| err("no object \"params\"".into()))?;
        let mut values = Vec::new();
        let mut unidentified = Vec::new();
        for name in form.param_names() {
            match params.get(&name) {
                Some(serde_json::Value::Number(x)) => values.push(x.as_f64().unwrap_or(f64::NAN)),
                Some(serde_json::Value::Null) => {
                    unidentified.push(name);
                    values.push(f64::NAN);
                }
                Some(other) => return Err(err(format!("params.{name} is not a number: {other}"))),
                None => return Err(err(format!("params.{name} is missing"))),
            }
        }
        if !unidentified.is_empty() {
            return Err(err(format!(
                "the fit could not identify {} from its data, so it cannot be used as a law",
                unidentified.join(", ")
            )));
        }
        Law::new(form, values).map_err(|e| err(e.to_string()))
    }

    /// Read a law or fit file.
    pub fn read(path: impl AsRef<std::path::Path>) -> Result<Law> {
        let p = path.as_ref();
        let name = p.display().to_string();
        let text = std::fs::read_to_string(p).map_err(|source| Error::Io {
            path: name.clone(),
            source,
        })?;
        Law::from_json_str(&name, &text)
    }

    /// The law as a law-file JSON object.
    pub fn to_json(&self) -> serde_json::Value {
        let mut params = serde_json::Map::new();
        for (n, v) in self.form.param_names().iter().zip(&self.params) {
            params.insert(n.to_string(), serde_json::json!(v));
        }
        let mut obj = serde_json::Map::new();
        obj.insert("law".into(), self.form.name().into());
        if let Some(x) = self.form.x() {
            obj.insert("x".into(), x.name().into());
        }
        if let LawForm::Formula(f) = &self.form {
            obj.insert("formula".into(), f.text().into());
            let cols: Vec<String> = f
                .variables()
                .iter()
                .filter_map(|v| match v {
                    Var::Column(c) => Some(c.clone()),
                    _ => None,
                })
                .collect();
            obj.insert("columns".into(), cols.into());
        }
        obj.insert("params".into(), params.into());
        obj.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Chinchilla's published unrounded constants (Hoffmann et al. 2022, as used by later
    /// work; ../shared/REFERENCE.md): the Gopher budget 5.76e23 FLOPs gives about 40B
    /// parameters (Fig. 4 caption); the rounded constants give about 32B.
    #[test]
    fn chinchilla_optimum_golden() {
        let law = Law::new(
            LawForm::Chinchilla,
            vec![
                0.5267228f64.exp(),
                6.0073404f64.exp(),
                6.0179186f64.exp(),
                0.33917084,
                0.2849083,
            ],
        )
        .unwrap();
        let o = law.optimum(5.76e23, 6.0).unwrap();
        assert!((o.params / 40.4e9 - 1.0).abs() < 0.01, "{}", o.params);
        assert!((6.0 * o.params * o.tokens / 5.76e23 - 1.0).abs() < 1e-12);
        let rounded = Law::new(LawForm::Chinchilla, vec![1.69, 406.4, 410.7, 0.34, 0.28]).unwrap();
        let o = rounded.optimum(5.76e23, 6.0).unwrap();
        assert!((o.params / 32.2e9 - 1.0).abs() < 0.01, "{}", o.params);
    }

    #[test]
    fn law_file_round_trip() {
        let text = r#"{"law": "chinchilla", "params": {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}}"#;
        let law = Law::from_json_str("l.json", text).unwrap();
        assert_eq!(law.get("B"), Some(410.7));
        let back = Law::from_json_str("l.json", &law.to_json().to_string()).unwrap();
        assert_eq!(back, law);
        let p = Law::from_json_str(
            "p.json",
            r#"{"law": "power", "x": "flops", "params": {"E": 0, "A": 10, "alpha": 0.05}}"#,
        )
        .unwrap();
        assert_eq!(p.predict(1.0, 1.0, 1e20), 10.0 * 1e20f64.powf(-0.05));
    }

    #[test]
    fn law_file_errors_are_specific() {
        let e = Law::from_json_str("l.json", r#"{"law": "chinchilla", "params": {"E": 1}}"#)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("l.json") && e.contains("params.A is missing"),
            "{e}"
        );
        let e = Law::from_json_str("l.json", r#"{"law": "kaplan2", "params": {}}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown law"), "{e}");
        let e = Law::from_json_str(
            "l.json",
            r#"{"law": "chinchilla", "params": {"E": 1, "A": -1, "B": 1, "alpha": 0.3, "beta": 0.3}}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("A = -1"), "{e}");
    }
}
