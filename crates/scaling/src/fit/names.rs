//! A fit's settings by name, as every front end spells them (`law = "power"`, `x = "flops"`,
//! `objective = "huber"`): one translation into a [`FitConfig`] for the command line and
//! Python alike.

use serde::{Deserialize, Serialize};

use super::{bfgs, FitConfig, Objective, Penalty, Reduction, Space, StartStrategy};
use crate::error::{Error, Result};
use std::sync::Arc;

use crate::law::{Domain, Formula, LawForm, Variable, FORM_NAMES};

/// The laws a fit accepts by name.
pub const LAWS: [&str; 2] = ["chinchilla", "power"];
/// The variables of the power law by name.
pub const VARIABLES: [&str; 3] = ["params", "tokens", "flops"];
/// The penalties by name.
pub const PENALTIES: [&str; 2] = ["huber", "squared"];
/// The residual spaces by name.
pub const SPACES: [&str; 2] = ["log", "linear"];
/// The reductions by name.
pub const REDUCTIONS: [&str; 2] = ["sum", "mean"];
/// The start strategies by name.
pub const STARTS: [&str; 3] = ["varpro", "chinchilla", "grid"];

/// A fit's settings by name. The defaults are Chinchilla's recipe (Hoffmann et al. 2022,
/// App. D.2: Huber with delta 1e-3 on log-loss residuals, summed) with our default starts.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
#[serde(deny_unknown_fields)]
pub struct FitNames {
    /// `chinchilla` (L = E + A/N^alpha + B/D^beta), `power` (L = E + A x^-alpha), another
    /// built-in form (`kaplan`, `kaplan-steps`, `data-constrained`, `overtraining`,
    /// `multiplicative`, `broken-power`), or a formula such as `E + A*N^-alpha + B*D^-beta`.
    pub law: String,
    /// The variable of the power law: `params`, `tokens` or `flops`.
    pub x: Option<String>,
    /// Fix E at this value (0 removes the term).
    pub fix_e: Option<f64>,
    /// `huber` or `squared`.
    pub objective: String,
    /// Huber's delta.
    pub delta: f64,
    /// `log` or `linear` residuals.
    pub space: String,
    /// `sum` or `mean` over runs.
    pub reduction: String,
    /// `varpro`, `chinchilla` (the paper's 4500-point grid) or `grid` (every point of the
    /// form's start grid).
    pub starts: String,
    /// BFGS iteration limit per start.
    pub max_iter: usize,
    /// Parameter settings: `name=value` fixes a parameter, `name=low:high` bounds it (either
    /// side may be empty).
    #[serde(default)]
    pub params: Vec<String>,
    /// Ties `kept=removed` inside the law (`alpha=beta`: beta takes alpha's value), for any
    /// form: the law is fitted as a one-group [`crate::law::Joint`] form with those ties.
    #[serde(default)]
    pub ties: Vec<String>,
    /// The column of per-run weights w_i >= 0 multiplying each run's penalty.
    #[serde(default)]
    pub weight_col: Option<String>,
    /// The asymmetric factor k > 0: over-prediction charged k times an equal
    /// under-prediction (OLMo-core; kyo-takano). `None` or 1 is symmetric.
    #[serde(default)]
    pub asymmetric: Option<f64>,
}

impl Default for FitNames {
    fn default() -> Self {
        FitNames {
            law: "chinchilla".into(),
            x: None,
            fix_e: None,
            objective: "huber".into(),
            delta: 1e-3,
            space: "log".into(),
            reduction: "sum".into(),
            starts: "varpro".into(),
            max_iter: 2000,
            params: Vec::new(),
            ties: Vec::new(),
            weight_col: None,
            asymmetric: None,
        }
    }
}

fn one_of<'a>(what: &str, given: &str, known: &[&'a str]) -> Result<&'a str> {
    known
        .iter()
        .find(|k| k.eq_ignore_ascii_case(given))
        .copied()
        .ok_or_else(|| {
            Error::InvalidSetting(format!(
                "{what} {given:?} is not known: use one of {}",
                known.join(", ")
            ))
        })
}

impl FitNames {
    /// The configuration these names stand for.
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] for an unknown name, a power law without its variable (or a
    /// Chinchilla law with one), a fixed E that is negative or not finite, a non-positive
    /// delta or a zero iteration limit.
    pub fn config(&self) -> Result<FitConfig> {
        self.config_for(&[])
    }

    /// The configuration these names stand for, on data with these column headers (names
    /// in a formula that are headers are data, not parameters).
    ///
    /// # Errors
    /// As [`FitNames::config`]; a formula that does not parse (the message points at the
    /// character); a parameter setting that is not `name=value` or `name=low:high`.
    pub fn config_for(&self, columns: &[&str]) -> Result<FitConfig> {
        let mut config = self.untied_config_for(columns)?;
        let ties = self.parsed_ties()?;
        if !ties.is_empty() {
            let spec = crate::law::JointSpec {
                base_law: config.form.name().to_string(),
                base_x: config.form.x(),
                base_formula: match &config.form {
                    LawForm::Formula(f) => Some(f.text().to_string()),
                    _ => None,
                },
                group_column: String::new(),
                groups: vec!["all".into()],
                shared: vec![],
                ties,
            };
            config = joint_config(&config, spec, vec![])?;
        }
        Ok(config)
    }

    /// The ties `[kept, removed]` these names give.
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] for a tie that is not `kept=removed`.
    pub fn parsed_ties(&self) -> Result<Vec<[String; 2]>> {
        self.ties
            .iter()
            .map(|t| {
                let (k, r) = t.split_once('=').ok_or_else(|| {
                    Error::setting(
                        format!("{{}} {t:?} is not KEPT=REMOVED (alpha=beta)"),
                        &["tie"],
                    )
                })?;
                Ok([k.trim().to_string(), r.trim().to_string()])
            })
            .collect()
    }

    /// The configuration without the ties (the base law a joint fit over groups wraps, with
    /// the weight column and asymmetric factor).
    ///
    /// # Errors
    /// As [`FitNames::config_for`].
    pub fn untied_config_for(&self, columns: &[&str]) -> Result<FitConfig> {
        if let Some(k) = self.asymmetric {
            if !(k.is_finite() && k > 0.0) {
                return Err(Error::setting(
                    format!("{{}} must be a number > 0, got {k}"),
                    &["asymmetric"],
                ));
            }
        }
        let mut config = self.form_config_for(columns)?;
        config.asymmetric = self.asymmetric;
        config.weight_column = self.weight_col.clone();
        Ok(config)
    }

    fn form_config_for(&self, columns: &[&str]) -> Result<FitConfig> {
        let x = match &self.x {
            None => None,
            Some(x) => Some(match one_of("variable", x, &VARIABLES)? {
                "params" => Variable::Params,
                "tokens" => Variable::Tokens,
                _ => Variable::Flops,
            }),
        };
        let lower = self.law.trim().to_ascii_lowercase();
        let builtin = FORM_NAMES.contains(&lower.as_str()) && lower != "formula";
        let mut config = if LAWS.contains(&lower.as_str()) {
            self.kernel_config()?
        } else {
            let form = if builtin {
                if x.is_some() && lower != "broken-power" {
                    return Err(Error::setting(
                        format!(
                            "{{}} applies to the power and broken-power laws only, not {lower}"
                        ),
                        &["x"],
                    ));
                }
                LawForm::builtin(&lower, x).ok_or_else(|| {
                    Error::setting(
                        format!("the {lower} law needs its variable {{}}: params, tokens or flops"),
                        &["x"],
                    )
                })?
            } else {
                let word = self.law.trim();
                if !word.is_empty()
                    && word
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                    && !columns.contains(&word)
                {
                    return Err(Error::InvalidSetting(format!(
                        "law {word:?} is not known: use one of {}, or write a formula such as 'E + A*N^-alpha + B*D^-beta'",
                        FORM_NAMES[..8].join(", ")
                    )));
                }
                if x.is_some() {
                    return Err(Error::InvalidSetting(
                        "a variable x applies to the power law only; a formula names its variables"
                            .into(),
                    ));
                }
                LawForm::Formula(Arc::new(Formula::parse(&self.law, columns)?))
            };
            FitConfig {
                form,
                ..self.kernel_config_for(LawForm::Chinchilla)?
            }
        };
        if let Some(e) = self.fix_e {
            if config.form.has_kernel() {
                config.fixed_e = Some(e);
            } else {
                config.fixed.insert("E".into(), e);
            }
        }
        for p in &self.params {
            let (name, value) = p.split_once('=').ok_or_else(|| {
                Error::InvalidSetting(format!(
                    "parameter setting {p:?} is not name=value (fix) or name=low:high (bounds)"
                ))
            })?;
            let name = name.trim().to_string();
            if !config.form.param_names().contains(&name) {
                return Err(Error::InvalidSetting(format!(
                    "{name:?} is not a parameter of the {} law (its parameters: {})",
                    config.form.name(),
                    config.form.param_names().join(", ")
                )));
            }
            if value.contains(':') {
                let d = Domain::parse(value).ok_or_else(|| {
                    Error::InvalidSetting(format!(
                        "the bounds of {name} must be low:high numbers, got {value:?}"
                    ))
                })?;
                if !(d.lo < d.hi) {
                    return Err(Error::InvalidSetting(format!(
                        "the bounds of {name} must satisfy low < high, got {value:?}"
                    )));
                }
                config.bounds.insert(name, d);
            } else {
                let v: f64 = value.trim().parse().map_err(|_| {
                    Error::InvalidSetting(format!(
                        "the value of {name} must be a number, got {value:?}"
                    ))
                })?;
                if !v.is_finite() {
                    return Err(Error::InvalidSetting(format!(
                        "the value of {name} must be finite, got {value:?}"
                    )));
                }
                config.fixed.insert(name, v);
            }
        }
        // E alone fixed on a kernel form stays on the kernel.
        if config.form.has_kernel() && config.bounds.is_empty() && config.fixed.len() == 1 {
            if let Some(e) = config.fixed.get("E").copied() {
                if e >= 0.0 {
                    config.fixed.clear();
                    config.fixed_e = Some(e);
                }
            }
        }
        if config.fixed_e.is_some() && !config.fixed.is_empty() {
            if let Some(e) = config.fixed_e.take() {
                config.fixed.insert("E".into(), e);
            }
        }
        Ok(config)
    }

    fn kernel_config(&self) -> Result<FitConfig> {
        let form = match (one_of("law", &self.law, &LAWS)?, &self.x) {
            ("chinchilla", None) => LawForm::Chinchilla,
            ("chinchilla", Some(_)) => {
                return Err(Error::setting(
                    "{} applies to the power law only (the Chinchilla law uses N and D)",
                    &["x"],
                ))
            }
            (_, None) => {
                return Err(Error::setting(
                    "the power law needs its variable {}: params, tokens or flops",
                    &["x"],
                ))
            }
            (_, Some(x)) => LawForm::Power {
                x: match one_of("variable", x, &VARIABLES)? {
                    "params" => Variable::Params,
                    "tokens" => Variable::Tokens,
                    _ => Variable::Flops,
                },
            },
        };
        self.kernel_config_for(form)
    }

    /// The objective, starts and optimiser settings, with `form`.
    fn kernel_config_for(&self, form: LawForm) -> Result<FitConfig> {
        if let Some(e) = self.fix_e {
            if !(e >= 0.0 && e.is_finite()) {
                return Err(Error::InvalidSetting(format!(
                    "a fixed E must be a finite number >= 0, got {e}"
                )));
            }
        }
        if !(self.delta > 0.0 && self.delta.is_finite()) {
            return Err(Error::InvalidSetting(format!(
                "Huber's delta must be a finite number > 0, got {}",
                self.delta
            )));
        }
        if self.max_iter == 0 {
            return Err(Error::InvalidSetting(
                "the iteration limit must be at least 1".into(),
            ));
        }
        let penalty = match one_of("objective", &self.objective, &PENALTIES)? {
            "huber" => Penalty::Huber { delta: self.delta },
            _ => Penalty::Squared,
        };
        let space = match one_of("space", &self.space, &SPACES)? {
            "log" => Space::Log,
            _ => Space::Linear,
        };
        let reduction = match one_of("reduction", &self.reduction, &REDUCTIONS)? {
            "sum" => Reduction::Sum,
            _ => Reduction::Mean,
        };
        let starts = match one_of("starts", &self.starts, &STARTS)? {
            "varpro" => StartStrategy::VarPro,
            "grid" => StartStrategy::Grid,
            _ => StartStrategy::Chinchilla,
        };
        Ok(FitConfig {
            form,
            fixed_e: None,
            objective: Objective {
                penalty,
                space,
                reduction,
            },
            starts,
            optimizer: bfgs::Options {
                max_iter: self.max_iter,
                ..Default::default()
            },
            ..FitConfig::default()
        })
    }
}

/// The configuration that fits the joint form `spec` over `base`'s law: fixed and bounded
/// parameters named by base name are copied to every group's copy (a joint name such as
/// `E[rpj]` names one copy); `starts` are extra starting points.
///
/// # Errors
/// [`Error::InvalidSetting`] for a name that is not a parameter of the joint law, and every
/// error of [`crate::law::Joint::new`].
pub fn joint_config(
    base: &FitConfig,
    spec: crate::law::JointSpec,
    starts: Vec<Vec<f64>>,
) -> Result<FitConfig> {
    use crate::law::Joint;
    use std::collections::BTreeMap;
    let joint = Joint::new(base.form.clone(), spec)?;
    let names = crate::law::Form::param_names(&joint);
    let mut fixed = BTreeMap::new();
    let mut all_fixed = base.fixed.clone();
    if let Some(e) = base.fixed_e {
        all_fixed.insert("E".into(), e);
    }
    let expand = |n: &str| -> Result<Vec<String>> {
        if names.iter().any(|m| m == n) {
            return Ok(vec![n.to_string()]);
        }
        let c = joint.copies_of(n);
        if c.is_empty() {
            return Err(Error::InvalidSetting(format!(
                "{n:?} is not a parameter of the joint law (its parameters: {})",
                names.join(", ")
            )));
        }
        Ok(c)
    };
    for (n, v) in &all_fixed {
        for m in expand(n)? {
            fixed.insert(m, *v);
        }
    }
    let mut bounds = BTreeMap::new();
    for (n, d) in &base.bounds {
        for m in expand(n)? {
            bounds.insert(m, *d);
        }
    }
    Ok(FitConfig {
        form: LawForm::Joint(Arc::new(joint)),
        fixed_e: None,
        fixed,
        bounds,
        extra_starts: starts,
        ..base.clone()
    })
}
