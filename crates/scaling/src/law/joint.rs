//! A joint law over groups of runs (datasets, architectures, optimisers): one base form whose
//! parameters are either shared by every group or copied per group, with optional ties
//! between parameters of the law.
//!
//! # Formula
//! For runs in group g (g = 0..G-1) the prediction is the base form's,
//! `L_g(x) = f(x; theta_g)`, where `theta_g[j]` is the shared parameter `p_j` when `p_j` is
//! listed as shared, the group's copy `p_j[label_g]` otherwise, and the kept parameter's value
//! when `p_j` is tied to another (`alpha = beta`). This is the "shared exponents, group-specific
//! coefficients" model of per-dataset and per-optimiser scaling studies (for example Gadre et
//! al. 2024, arXiv:2403.08540, who compare C4, RedPajama and RefinedWeb), fitted as one
//! least-squares or Huber problem so that groups with few runs borrow strength. Because it is
//! a [`Form`], the generic fit, the bootstrap and intervals serve it unchanged. With one
//! group it is the base law with ties (`alpha = beta`), read without any group index: how
//! `FitNames::ties` fits a tied law of any form.

use serde::{Deserialize, Serialize};

use super::{Form, LawForm, ParamSpec, Var};
use crate::error::{Error, Result};

/// The name of the variable that carries each run's group index (0-based) to the joint form.
/// No table column is read for it; the groups module supplies it.
pub const GROUP_INDEX: &str = "__group_index";

/// What makes a joint form, apart from its base form: recorded in a fit's conventions so the
/// fit can be rebuilt from its JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JointSpec {
    /// The base form's name (`chinchilla`, `power`, `formula`, ...).
    pub base_law: String,
    /// The base form's variable x (power and broken-power laws).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_x: Option<super::Variable>,
    /// The base formula text (formula laws).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_formula: Option<String>,
    /// The column the groups come from (`dataset`).
    pub group_column: String,
    /// The group labels; group g is `groups[g]`.
    pub groups: Vec<String>,
    /// Base parameters shared by every group.
    pub shared: Vec<String>,
    /// Ties `[kept, removed]`: the removed parameter takes the kept one's value.
    pub ties: Vec<[String; 2]>,
}

/// A joint form (see the module documentation).
#[derive(Debug, Clone, PartialEq)]
pub struct Joint {
    base: LawForm,
    spec: JointSpec,
    params: Vec<ParamSpec>,
    /// `map[g][j]`: the joint parameter that base parameter j takes in group g.
    map: Vec<Vec<usize>>,
    /// Base parameter index -> the joint parameter index of group 0 copy, shared or tied.
    nv: usize,
}

impl Joint {
    /// A joint form of `base` over `spec.groups`, sharing `spec.shared` and applying
    /// `spec.ties`.
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] for an unknown parameter name, a parameter tied twice or both
    /// tied away and shared, a tie of a parameter to itself, or no groups.
    pub fn new(base: LawForm, spec: JointSpec) -> Result<Joint> {
        if spec.groups.is_empty() {
            return Err(Error::InvalidSetting(
                "a joint fit needs at least one group".into(),
            ));
        }
        if let LawForm::Joint(_) = base {
            return Err(Error::InvalidSetting(
                "a joint form cannot wrap another joint form".into(),
            ));
        }
        let bspecs = base.form().params();
        let names: Vec<String> = bspecs.iter().map(|s| s.name.clone()).collect();
        let index = |n: &str, what: &str| -> Result<usize> {
            names.iter().position(|m| m == n).ok_or_else(|| {
                Error::setting(
                    format!(
                        "{{}} {n:?} is not a parameter of the {} law (its parameters: {})",
                        base.name(),
                        names.join(", ")
                    ),
                    &[what],
                )
            })
        };
        // Resolve ties: removed parameter -> kept parameter (after following chains).
        let mut tied_to: Vec<usize> = (0..names.len()).collect();
        for [kept, removed] in &spec.ties {
            let (k, r) = (index(kept, "tie")?, index(removed, "tie")?);
            if k == r {
                return Err(Error::setting(
                    format!("{{}} {kept}={removed} ties a parameter to itself"),
                    &["tie"],
                ));
            }
            if tied_to[r] != r {
                return Err(Error::InvalidSetting(format!(
                    "{removed} is tied twice; tie it once"
                )));
            }
            tied_to[r] = k;
        }
        for j in 0..names.len() {
            let mut k = j;
            let mut steps = 0;
            while tied_to[k] != k {
                k = tied_to[k];
                steps += 1;
                if steps > names.len() {
                    return Err(Error::InvalidSetting(
                        "the ties form a cycle; tie each parameter to one that is kept".into(),
                    ));
                }
            }
            tied_to[j] = k;
        }
        let mut shared = vec![false; names.len()];
        for s in &spec.shared {
            let j = index(s, "shared")?;
            if tied_to[j] != j {
                return Err(Error::InvalidSetting(format!(
                    "{s} is tied to {}; share {} instead",
                    names[tied_to[j]], names[tied_to[j]]
                )));
            }
            shared[j] = true;
        }
        let g = spec.groups.len();
        let mut params: Vec<ParamSpec> = Vec::new();
        let mut map = vec![vec![usize::MAX; names.len()]; g];
        for (j, s) in bspecs.iter().enumerate() {
            if tied_to[j] != j {
                continue;
            }
            // A parameter tied to a linear one with a nonlinear partner is no longer linear.
            let partners_linear = (0..names.len())
                .filter(|&i| tied_to[i] == j)
                .all(|i| bspecs[i].linear);
            let mut p = s.clone();
            p.linear = partners_linear;
            if shared[j] || g == 1 {
                let k = params.len();
                params.push(p);
                for m in map.iter_mut() {
                    m[j] = k;
                }
            } else {
                for (gi, label) in spec.groups.iter().enumerate() {
                    let mut q = p.clone();
                    q.name = format!("{}[{label}]", s.name);
                    q.meaning = format!("{} (group {label})", s.meaning);
                    map[gi][j] = params.len();
                    params.push(q);
                }
            }
        }
        for m in map.iter_mut() {
            for j in 0..names.len() {
                if tied_to[j] != j {
                    m[j] = m[tied_to[j]];
                }
            }
        }
        let nv = base.form().variables().len();
        Ok(Joint {
            base,
            spec,
            params,
            map,
            nv,
        })
    }

    /// Rebuild a joint form from its recorded spec (the base form by name, `columns` for a
    /// formula's data columns).
    ///
    /// # Errors
    /// An unknown base law or a formula that does not parse; as [`Joint::new`].
    pub fn from_spec(spec: &JointSpec, columns: &[&str]) -> Result<Joint> {
        let base = match (&spec.base_formula, spec.base_law.as_str()) {
            (Some(text), "formula") => {
                LawForm::Formula(std::sync::Arc::new(super::Formula::parse(text, columns)?))
            }
            (_, name) => LawForm::builtin(name, spec.base_x).ok_or_else(|| {
                Error::InvalidSetting(format!("unknown base law {name:?} of a joint fit"))
            })?,
        };
        Joint::new(base, spec.clone())
    }

    /// True with a single group: the law of every run (no group index is read).
    pub fn one_group(&self) -> bool {
        self.map.len() == 1
    }

    /// The base form.
    pub fn base(&self) -> &LawForm {
        &self.base
    }

    /// The spec.
    pub fn spec(&self) -> &JointSpec {
        &self.spec
    }

    /// The base form's parameters for group `g`, picked out of the joint parameters `p`.
    pub fn group_params(&self, g: usize, p: &[f64]) -> Vec<f64> {
        self.map[g].iter().map(|&k| p[k]).collect()
    }

    /// The joint parameter that base parameter `j` takes in group `g`.
    pub fn index(&self, g: usize, j: usize) -> usize {
        self.map[g][j]
    }

    /// The joint parameter names that copy base parameter `name` (one when shared or with a
    /// single group, one per group otherwise; those of the kept parameter when tied away).
    pub fn copies_of(&self, name: &str) -> Vec<String> {
        let names = self.base.param_names();
        let Some(j) = names.iter().position(|n| n == name) else {
            return vec![];
        };
        let mut out: Vec<usize> = self.map.iter().map(|m| m[j]).collect();
        out.dedup();
        out.into_iter()
            .map(|k| self.params[k].name.clone())
            .collect()
    }
}

impl Form for Joint {
    fn name(&self) -> String {
        "joint".into()
    }

    fn formula(&self) -> String {
        let base = match &self.base {
            LawForm::Formula(f) => format!("L = {}", f.text()),
            other => other.formula(),
        };
        // One group (a law with ties, fitted to all runs) reads as the base law.
        let mut s = if self.one_group() {
            base
        } else {
            format!(
                "{base} per group of {:?} ({})",
                self.spec.group_column,
                self.spec.groups.join(", ")
            )
        };
        if !self.spec.shared.is_empty() {
            s.push_str(&format!("; shared: {}", self.spec.shared.join(", ")));
        }
        if !self.spec.ties.is_empty() {
            let t: Vec<String> = self
                .spec
                .ties
                .iter()
                .map(|[k, r]| format!("{r} = {k}"))
                .collect();
            s.push_str(&format!("; tied: {}", t.join(", ")));
        }
        s
    }

    fn variables(&self) -> Vec<Var> {
        let mut v = self.base.form().variables();
        if !self.one_group() {
            v.push(Var::Column(GROUP_INDEX.into()));
        }
        v
    }

    fn params(&self) -> Vec<ParamSpec> {
        self.params.clone()
    }

    fn ln_predict_grad(&self, x: &[f64], p: &[f64], grad: Option<&mut [f64]>) -> f64 {
        let g = if self.one_group() { 0.0 } else { x[self.nv] };
        if !(g >= 0.0 && (g as usize) < self.map.len()) {
            if let Some(gr) = grad {
                gr.iter_mut().for_each(|v| *v = 0.0);
            }
            return f64::NAN;
        }
        let g = g as usize;
        let bp = self.group_params(g, p);
        let form = self.base.form();
        match grad {
            None => form.ln_predict_grad(&x[..self.nv], &bp, None),
            Some(gr) => {
                let mut bg = vec![0.0; bp.len()];
                let v = form.ln_predict_grad(&x[..self.nv], &bp, Some(&mut bg));
                gr.iter_mut().for_each(|v| *v = 0.0);
                for (j, d) in bg.iter().enumerate() {
                    gr[self.map[g][j]] += d;
                }
                v
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(groups: &[&str], shared: &[&str], ties: &[[&str; 2]]) -> JointSpec {
        JointSpec {
            base_law: "chinchilla".into(),
            base_x: None,
            base_formula: None,
            group_column: "dataset".into(),
            groups: groups.iter().map(|s| s.to_string()).collect(),
            shared: shared.iter().map(|s| s.to_string()).collect(),
            ties: ties
                .iter()
                .map(|[a, b]| [a.to_string(), b.to_string()])
                .collect(),
        }
    }

    #[test]
    fn names_and_gradient() {
        let j = Joint::new(
            LawForm::Chinchilla,
            spec(&["a", "b"], &["alpha", "beta"], &[]),
        )
        .unwrap();
        assert_eq!(
            j.param_names(),
            vec!["E[a]", "E[b]", "A[a]", "A[b]", "B[a]", "B[b]", "alpha", "beta"]
        );
        let p = [1.7, 1.9, 400.0, 300.0, 410.0, 500.0, 0.34, 0.28];
        let x = [1e8, 2e10, 1.0];
        let mut g = vec![0.0; p.len()];
        let v = j.ln_predict_grad(&x, &p, Some(&mut g));
        let direct: f64 = 1.9 + 300.0 / 1e8f64.powf(0.34) + 500.0 / 2e10f64.powf(0.28);
        assert!((v - direct.ln()).abs() < 1e-12);
        for k in 0..p.len() {
            let mut q = p;
            let h = 1e-6 * (1.0 + p[k].abs());
            q[k] += h;
            let up = j.ln_predict_grad(&x, &q, None);
            q[k] -= 2.0 * h;
            let down = j.ln_predict_grad(&x, &q, None);
            let fd = (up - down) / (2.0 * h);
            assert!(
                (fd - g[k]).abs() < 1e-6 * (1.0 + g[k].abs()),
                "{k}: {fd} {}",
                g[k]
            );
        }
        assert_eq!(g[0], 0.0, "group a's E does not move group b's runs");
    }

    #[test]
    fn ties_remove_a_parameter() {
        let j = Joint::new(
            LawForm::Chinchilla,
            spec(&["only"], &[], &[["alpha", "beta"]]),
        )
        .unwrap();
        assert_eq!(j.param_names(), vec!["E", "A", "B", "alpha"]);
        let p = [1.7, 400.0, 410.0, 0.3];
        let x = [1e8, 2e10, 0.0];
        let mut g = vec![0.0; 4];
        j.ln_predict_grad(&x, &p, Some(&mut g));
        let h = 1e-7;
        let up = j.ln_predict_grad(&x, &[1.7, 400.0, 410.0, 0.3 + h], None);
        let down = j.ln_predict_grad(&x, &[1.7, 400.0, 410.0, 0.3 - h], None);
        assert!(((up - down) / (2.0 * h) - g[3]).abs() < 1e-6);
        assert!(Joint::new(
            LawForm::Chinchilla,
            spec(&["a"], &["beta"], &[["alpha", "beta"]])
        )
        .is_err());
        assert!(Joint::new(LawForm::Chinchilla, spec(&["a"], &["gamma"], &[])).is_err());
    }
}
