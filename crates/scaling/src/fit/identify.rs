//! Can the data identify each parameter? A local check at the optimum: the Jacobian of the
//! predicted log-loss with respect to the natural parameters (E, A, B, alpha, beta), columns
//! scaled to unit length, is rank deficient along directions the data cannot see.

use serde::{Deserialize, Serialize};

use crate::law::{Law, LawForm, Variable};
use crate::linalg::symmetric_eigen;

/// A parameter the data cannot determine, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unidentified {
    /// The parameter's name.
    pub param: String,
    /// Why.
    pub reason: String,
}

/// The result of the identifiability check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Identifiability {
    /// True when every free parameter is determined by the data.
    pub identified: bool,
    /// Parameters that are not.
    pub unidentified: Vec<Unidentified>,
    /// Ratio of the smallest to the largest singular value of the column-scaled Jacobian
    /// (1 is perfectly conditioned, 0 is rank deficient).
    pub jacobian_singular_ratio: f64,
    /// Free parameters the data determine only weakly: they lie along a direction whose
    /// singular-value ratio is below `WEAK_RATIO_THRESHOLD` (1e-3) (but not below
    /// [`SINGULAR_RATIO_THRESHOLD`]), or (exponents) the optimum left the range the starts
    /// scanned. Their values are reported, with a warning; nothing is widened.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weak: Vec<Unidentified>,
}

impl Identifiability {
    /// The warning for [`Identifiability::weak`], if any parameter is weakly determined.
    pub fn weak_warning(&self) -> Option<String> {
        if self.weak.is_empty() {
            return None;
        }
        let mut seen: Vec<&str> = vec![];
        for w in &self.weak {
            if !seen.contains(&w.param.as_str()) {
                seen.push(&w.param);
            }
        }
        let why: Vec<String> = self
            .weak
            .iter()
            .map(|w| format!("{}: {}", w.param, w.reason))
            .collect();
        Some(format!(
            "the data determine {} only weakly, so the reported values may be far from the truth \
             even when the fit converged ({}); add runs that vary the variables these parameters \
             describe",
            seen.join(", "),
            why.join("; ")
        ))
    }
}

/// True when ln D is an affine function of ln N across the runs (a fixed tokens-per-parameter
/// ratio, say): the N and D terms of the Chinchilla law cannot then be told apart.
pub fn collinear(n: &[f64], d: &[f64]) -> bool {
    if n.len() < 3 || n.len() != d.len() {
        return false;
    }
    // The logarithms are formed in each pass rather than stored (no memory per run); the
    // sums accumulate in the same order either way.
    let mean = |v: &[f64]| v.iter().map(|x| x.ln()).sum::<f64>() / v.len() as f64;
    let (mn, md) = (mean(n), mean(d));
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in n.iter().zip(d).map(|(a, b)| (a.ln(), b.ln())) {
        sxy += (x - mn) * (y - md);
        sxx += (x - mn) * (x - mn);
        syy += (y - md) * (y - md);
    }
    sxx > 0.0 && syy > 0.0 && sxy * sxy / (sxx * syy) > 1.0 - 1e-10
}

/// The reason given when [`collinear`] holds.
pub const COLLINEAR_REASON: &str = "ln D is a linear function of ln N across the runs (a fixed \
     tokens-per-parameter ratio, say), so the N and D effects cannot be separated; fit one variable \
     with a power law in N (or C) instead";

/// Singular-value ratio below which a direction counts as unidentified.
pub const SINGULAR_RATIO_THRESHOLD: f64 = 1e-6;

/// Singular-value ratio below which a direction counts as weakly determined (a warning, the
/// values are still reported). Synthetic Chinchilla designs with a narrow token range and 3
/// distinct N sit at 1e-4 to 4e-4 and report beta = 4.45 for a true 0.67; the real datasets
/// of the snapshots sit at 1.2e-3 to 5.8e-3.
pub const WEAK_RATIO_THRESHOLD: f64 = 1e-3;

/// Check identifiability of the free parameters of `law` on the design `cols`
/// (`cols[v]` holds the values of variable v = N, D, C for each run).
pub fn check(law: &Law, free: &[bool], n: &[f64], d: &[f64], c: &[f64]) -> Identifiability {
    let names = law.form.param_names();
    let p = &law.params;
    let m = n.len().max(d.len()).max(c.len());
    let free_idx: Vec<usize> = (0..names.len()).filter(|&i| free[i]).collect();
    let q = free_idx.len();
    // Jacobian rows: d ln L_hat / d theta_natural.
    // Row i of the Jacobian over the free parameters, formed when needed (twice: for the
    // column norms, then for J^T J) rather than stored, so memory does not grow with the runs.
    let jac_row = |i: usize, row: &mut [f64]| {
        let mut full = vec![0.0; names.len()];
        match law.form {
            LawForm::Chinchilla => {
                let (tn, td) = (n[i].powf(-p[3]), d[i].powf(-p[4]));
                let lhat = p[0] + p[1] * tn + p[2] * td;
                full[0] = 1.0 / lhat;
                full[1] = tn / lhat;
                full[2] = td / lhat;
                full[3] = -p[1] * tn * n[i].ln() / lhat;
                full[4] = -p[2] * td * d[i].ln() / lhat;
            }
            LawForm::Power { x } => {
                let xv = match x {
                    Variable::Params => n[i],
                    Variable::Tokens => d[i],
                    Variable::Flops => c[i],
                };
                let t = xv.powf(-p[2]);
                let lhat = p[0] + p[1] * t;
                full[0] = 1.0 / lhat;
                full[1] = t / lhat;
                full[2] = -p[1] * t * xv.ln() / lhat;
            }
            // Only fittable forms are checked; others leave the row at zero.
            _ => {}
        }
        for (k, &fi) in free_idx.iter().enumerate() {
            row[k] = full[fi];
        }
    };
    let distinct = |v: &[f64]| -> usize {
        let mut s: Vec<f64> = v.to_vec();
        s.sort_by(|a, b| a.total_cmp(b));
        s.dedup_by(|a, b| (*a - *b).abs() <= 1e-9 * b.abs());
        s.len()
    };
    // Design-level reasons, per parameter: a term's coefficient and exponent need at least
    // three distinct values of its variable (two give one difference for two unknowns), and
    // E is confounded with a term whose variable never changes.
    let collinear = law.form == LawForm::Chinchilla && collinear(n, d);
    let structural = |param: &str| -> Option<String> {
        if collinear && matches!(param, "A" | "alpha" | "B" | "beta") {
            return Some(COLLINEAR_REASON.to_string());
        }
        let few = |sym: &str, v: &[f64]| -> Option<String> {
            match distinct(v) {
                1 => Some(format!("all runs have the same {sym} ({:.4e})", v[0])),
                2 => Some(format!("the runs have only 2 distinct values of {sym}")),
                _ => None,
            }
        };
        match law.form {
            LawForm::Chinchilla => match param {
                "A" | "alpha" => few("N", n),
                "B" | "beta" => few("D", d),
                _ => (distinct(n) == 1)
                    .then(|| {
                        format!(
                            "all runs have the same N ({:.4e}), so E cannot be told apart from the N term",
                            n[0]
                        )
                    })
                    .or_else(|| {
                        (distinct(d) == 1).then(|| {
                            format!(
                                "all runs have the same D ({:.4e}), so E cannot be told apart from the D term",
                                d[0]
                            )
                        })
                    }),
            },
            LawForm::Power { x } => {
                let v = match x {
                    Variable::Params => n,
                    Variable::Tokens => d,
                    Variable::Flops => c,
                };
                let k = distinct(v);
                (k < q).then(|| {
                    format!(
                        "the runs have only {k} distinct value(s) of {}, fewer than the {q} free parameters",
                        x.symbol()
                    )
                })
            }
            _ => None,
        }
    };
    analyse(&names, &free_idx, m, &jac_row, &structural)
}

/// Check identifiability from the Jacobian of ln L_hat with respect to every natural parameter
/// (`jac[i][j]` for run i, parameter j), for the free parameters (`free[j]`). Used for forms
/// fitted by the generic path.
pub fn check_jacobian(names: &[String], free: &[bool], jac: &[Vec<f64>]) -> Identifiability {
    let free_idx: Vec<usize> = (0..names.len()).filter(|&i| free[i]).collect();
    let row = |i: usize, out: &mut [f64]| {
        for (k, &j) in free_idx.iter().enumerate() {
            out[k] = jac[i][j];
        }
    };
    analyse(names, &free_idx, jac.len(), &row, &|_| None)
}

/// The eigen-analysis of the column-scaled J^T J shared by every form.
fn analyse(
    names: &[String],
    free_idx: &[usize],
    m: usize,
    jac_row: &dyn Fn(usize, &mut [f64]),
    structural: &dyn Fn(&str) -> Option<String>,
) -> Identifiability {
    let q = free_idx.len();
    let mut unidentified = Vec::new();
    let mut r = vec![0.0; q];
    // Columns that are identically zero (a term that vanished). Each norm accumulates run
    // after run from -0.0, as `Iterator::sum` does.
    let mut sq = vec![-0.0f64; q];
    for i in 0..m {
        jac_row(i, &mut r);
        for k in 0..q {
            sq[k] += r[k] * r[k];
        }
    }
    let norms: Vec<f64> = sq.iter().map(|v| v.sqrt()).collect();
    let mut jtj = vec![0.0; q * q];
    for i in 0..m {
        jac_row(i, &mut r);
        for a in 0..q {
            for b in 0..q {
                let (na, nb) = (norms[a].max(1e-300), norms[b].max(1e-300));
                jtj[a * q + b] += r[a] / na * r[b] / nb;
            }
        }
    }
    for k in 0..q {
        // Columns are compared after scaling to unit length, so a parameter's units do not
        // matter; only a column that is exactly zero (or not finite) carries no information.
        if !(norms[k] > 0.0) || !norms[k].is_finite() {
            jtj.iter_mut().skip(k * q).take(q).for_each(|v| *v = 0.0);
            for a in 0..q {
                jtj[a * q + k] = 0.0;
            }
        }
    }
    let (vals, vecs) = symmetric_eigen(&jtj, q);
    let lmax = vals.last().cloned().unwrap_or(0.0).max(1e-300);
    let ratio = (vals.first().cloned().unwrap_or(0.0).max(0.0) / lmax).sqrt();
    let mut weak: Vec<Unidentified> = Vec::new();
    for (val, vec) in vals.iter().zip(&vecs) {
        let r = (val.max(0.0) / lmax).sqrt();
        if r >= WEAK_RATIO_THRESHOLD {
            continue;
        }
        if r >= SINGULAR_RATIO_THRESHOLD {
            let involved: Vec<&str> = (0..q)
                .filter(|&k| vec[k].abs() > 0.2)
                .map(|k| names[free_idx[k]].as_str())
                .collect();
            for name in &involved {
                if weak.iter().any(|u| u.param == *name) {
                    continue;
                }
                weak.push(Unidentified {
                    param: name.to_string(),
                    reason: format!(
                        "the predictions barely change along a combination of {} (singular-value \
                         ratio {r:.1e} < {WEAK_RATIO_THRESHOLD:e})",
                        involved.join(", ")
                    ),
                });
            }
            continue;
        }
        let involved: Vec<usize> = (0..q).filter(|&k| vec[k].abs() > 0.2).collect();
        let names_inv: Vec<&str> = involved
            .iter()
            .map(|&k| names[free_idx[k]].as_str())
            .collect();
        for &k in &involved {
            let name = names[free_idx[k]].to_string();
            if unidentified.iter().any(|u: &Unidentified| u.param == name) {
                continue;
            }
            let reason = if let Some(why) = structural(&name) {
                format!("{why}: the data cannot determine {name}")
            } else if names_inv.len() == 1 {
                format!("the predictions do not depend on {name} at the optimum")
            } else {
                format!(
                    "the predictions depend only on a combination of {} (the Jacobian is rank deficient)",
                    names_inv.join(", ")
                )
            };
            unidentified.push(Unidentified {
                param: name,
                reason,
            });
        }
    }
    unidentified.sort_by_key(|u| names.iter().position(|n| *n == u.param));
    weak.retain(|w| !unidentified.iter().any(|u| u.param == w.param));
    weak.sort_by_key(|u| names.iter().position(|n| *n == u.param));
    Identifiability {
        identified: unidentified.is_empty(),
        unidentified,
        jacobian_singular_ratio: ratio,
        weak,
    }
}
