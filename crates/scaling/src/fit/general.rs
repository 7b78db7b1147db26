//! The generic fit path: any [`Form`] (built-in or a user's formula) with the same
//! objectives, optimiser, starts, status, identifiability check and bootstrap as the two
//! kernel forms.
//!
//! # Parametrisation
//! Each free parameter p is optimised through an unconstrained coordinate t
//! ([`Domain::from_internal`]): p = exp(t) for a positive parameter (as Hoffmann et al. 2022
//! fit ln E, ln A, ln B), lo + (hi - lo) sigmoid(t) between two bounds, p = t for a real one.
//!
//! # Starts
//! Variable projection (Golub & Pereyra 1973): a grid over the nonlinear free parameters;
//! at each grid point the parameters that enter linearly are solved exactly by weighted
//! non-negative least squares (weights 1/L^2 for log-space objectives, so residuals
//! approximate log residuals); the best distinct grid points seed BFGS on the true
//! objective. A form linear in no parameter is scanned on the grid of all its parameters.

use std::collections::BTreeMap;

use rayon::prelude::*;

use super::objective::{Objective, Penalty, Reduction, Space};
use super::{
    bfgs, identify, kernel_free_report, starts, Fit, FitConfig, OptimizerReport, StartStrategy,
    StartsReport, Status, POLISH, SAME_OPTIMUM_RTOL, SCREEN_REACH_RTOL,
};
use crate::data::Runs;
use crate::error::{Error, Result};
use crate::law::{Domain, Form, LawForm, ParamSpec, Var};

/// Values of a form's variables for every run, and where each came from.
#[derive(Debug, Clone)]
pub struct Design {
    /// The variables, in the form's order.
    pub vars: Vec<Var>,
    /// Row-major values: run i, variable j at `x[i * vars.len() + j]`.
    pub x: Vec<f64>,
    /// Variable symbol -> its source (`column "unique_tokens"`, `D / N`, ...).
    pub sources: BTreeMap<String, String>,
}

/// Column values read by name for the variables a form reads from its own column (U, S, a
/// named column), keyed by the column's header, one value per run.
pub type Columns = BTreeMap<String, Vec<f64>>;

/// The column a variable is read from, among `available` headers (aliases tried in order).
pub fn column_for<'a>(v: &Var, available: impl Iterator<Item = &'a str> + Clone) -> Option<String> {
    v.aliases()
        .into_iter()
        .find(|a| available.clone().any(|h| h == a))
}

/// The design of `form` on `runs`: N, D and C from the runs (C = k N D when the runs have no
/// compute), M = D / N, and U, S or named columns from `columns`.
///
/// # Errors
/// [`Error::InsufficientData`] naming the variable the runs lack.
pub fn design(form: &dyn Form, runs: &Runs, columns: &Columns) -> Result<Design> {
    let m = runs.len();
    let vars = form.variables();
    let full = |v: &Vec<f64>| v.len() == m;
    let mut cols: Vec<Vec<f64>> = Vec::new();
    let mut sources = BTreeMap::new();
    let src = |s: &Option<crate::data::ValueSource>| -> String {
        match s {
            Some(v) => serde_json::to_value(v)
                .ok()
                .and_then(|j| {
                    j.get("column")
                        .and_then(|c| c.as_str().map(|c| format!("column {c:?}")))
                        .or_else(|| j.get("formula").and_then(|f| f.as_str().map(String::from)))
                })
                .unwrap_or_default(),
            None => String::new(),
        }
    };
    let lack = |what: &str| {
        Error::InsufficientData(format!(
            "{}: the {} law reads {what}, which the runs do not have",
            runs.source,
            form.name()
        ))
    };
    for v in &vars {
        let (col, source) = match v {
            Var::N if full(&runs.params) => (runs.params.clone(), src(&runs.sources.params)),
            Var::D if full(&runs.tokens) => (runs.tokens.clone(), src(&runs.sources.tokens)),
            Var::C if full(&runs.flops) => (runs.flops.clone(), src(&runs.sources.flops)),
            Var::C if full(&runs.params) && full(&runs.tokens) => {
                let k = runs.flops_per_param_token;
                (
                    (0..m)
                        .map(|i| k * runs.params[i] * runs.tokens[i])
                        .collect(),
                    format!("C = {k} N D"),
                )
            }
            Var::M if full(&runs.params) && full(&runs.tokens) => (
                (0..m).map(|i| runs.tokens[i] / runs.params[i]).collect(),
                "M = D / N".to_string(),
            ),
            Var::U | Var::S | Var::Column(_) => {
                let name = column_for(v, columns.keys().map(|k| k.as_str())).ok_or_else(|| {
                    lack(&format!(
                        "{} (a column named {})",
                        v.symbol(),
                        v.aliases()
                            .iter()
                            .map(|a| format!("{a:?}"))
                            .collect::<Vec<_>>()
                            .join(" or ")
                    ))
                })?;
                let c = &columns[&name];
                if c.len() != m {
                    return Err(lack(&format!("{} for every run", v.symbol())));
                }
                (c.clone(), format!("column {name:?}"))
            }
            Var::N => return Err(lack("N (parameters)")),
            Var::D => return Err(lack("D (tokens)")),
            Var::C => return Err(lack("C (FLOPs, or N and D to derive it)")),
            Var::M => return Err(lack("M = D/N (needs N and D)")),
        };
        sources.insert(v.symbol(), source);
        cols.push(col);
    }
    let nv = vars.len();
    let mut x = vec![0.0; m * nv];
    for (j, c) in cols.iter().enumerate() {
        for i in 0..m {
            x[i * nv + j] = c[i];
        }
    }
    Ok(Design { vars, x, sources })
}

/// A fitting problem for any form: the design, the losses, run weights, the objective, and
/// which parameters are free (with their domains) or fixed.
#[derive(Debug, Clone)]
pub struct GeneralProblem {
    form: LawForm,
    nv: usize,
    x: Vec<f64>,
    /// Column-major copies of the design and of its logs, for batch evaluation.
    cols: Vec<Vec<f64>>,
    ln_cols: Vec<Vec<f64>>,
    loss: Vec<f64>,
    ln_loss: Vec<f64>,
    weight: Vec<f64>,
    /// The user's per-run weights (all 1 unless set), which [`GeneralProblem::set_weights`]
    /// multiplies.
    base_weight: Vec<f64>,
    /// Over-prediction (residual > 0) is charged this many times an equal under-prediction.
    asymmetric: f64,
    /// The objective.
    pub objective: Objective,
    /// Every parameter, with the domain used in this fit (bounds applied).
    pub specs: Vec<ParamSpec>,
    /// Natural values; fixed parameters hold their value.
    base: Vec<f64>,
    /// Indices of the free parameters.
    pub free: Vec<usize>,
}

impl GeneralProblem {
    /// A problem for `form` on `design` with `loss`, fixing `fixed` (name -> value) and
    /// bounding by `bounds` (name -> domain).
    ///
    /// # Errors
    /// Unknown names, a fixed value outside its domain, or no free parameter.
    pub fn new(
        form: LawForm,
        design: &Design,
        loss: &[f64],
        objective: Objective,
        fixed: &BTreeMap<String, f64>,
        bounds: &BTreeMap<String, Domain>,
    ) -> Result<GeneralProblem> {
        let mut specs = form.form().params();
        let names: Vec<String> = specs.iter().map(|s| s.name.clone()).collect();
        let unknown = |n: &str| {
            Error::InvalidSetting(format!(
                "{n:?} is not a parameter of the {} law (its parameters: {})",
                form.name(),
                names.join(", ")
            ))
        };
        for (n, d) in bounds {
            let s = specs
                .iter_mut()
                .find(|s| &s.name == n)
                .ok_or_else(|| unknown(n))?;
            if !(d.lo < d.hi) {
                return Err(Error::InvalidSetting(format!(
                    "the bounds of {n} must satisfy low < high, got {}:{}",
                    d.lo, d.hi
                )));
            }
            // A coefficient bounded away from [0, inf) is no longer projected.
            if s.linear && !(d.lo == 0.0 || d.lo == f64::NEG_INFINITY) || d.hi.is_finite() {
                s.linear = false;
            }
            s.domain = *d;
            s.grid = None;
        }
        let mut base = vec![f64::NAN; specs.len()];
        for (n, v) in fixed {
            let i = names
                .iter()
                .position(|m| m == n)
                .ok_or_else(|| unknown(n))?;
            if !(v.is_finite() && (specs[i].domain.contains(*v))) {
                return Err(Error::InvalidSetting(format!(
                    "{n} = {v} is outside its domain ({})",
                    specs[i].domain.describe()
                )));
            }
            base[i] = *v;
        }
        let free: Vec<usize> = (0..specs.len()).filter(|&i| base[i].is_nan()).collect();
        if free.is_empty() {
            return Err(Error::InvalidSetting(
                "every parameter is fixed: nothing is left to fit".into(),
            ));
        }
        let nv = design.vars.len();
        let m = loss.len();
        let cols: Vec<Vec<f64>> = (0..nv)
            .map(|j| (0..m).map(|i| design.x[i * nv + j]).collect())
            .collect();
        let ln_cols = cols
            .iter()
            .map(|c| c.iter().map(|v| v.ln()).collect())
            .collect();
        Ok(GeneralProblem {
            form,
            nv,
            x: design.x.clone(),
            cols,
            ln_cols,
            loss: loss.to_vec(),
            ln_loss: loss.iter().map(|l| l.ln()).collect(),
            weight: vec![1.0; loss.len()],
            base_weight: vec![1.0; loss.len()],
            asymmetric: 1.0,
            objective,
            specs,
            base,
            free,
        })
    }

    /// Number of free parameters.
    pub fn dim(&self) -> usize {
        self.free.len()
    }

    /// Number of runs.
    pub fn runs(&self) -> usize {
        self.loss.len()
    }

    /// The form.
    pub fn form(&self) -> &LawForm {
        &self.form
    }

    /// Replace the run weights (one per run, non-negative): the objective weights run i by
    /// `w[i]` times its fixed weight (see [`GeneralProblem::for_config`]), so a bootstrap's
    /// resampling counts combine with the user's weights.
    pub fn set_weights(&mut self, w: &[f64]) {
        assert_eq!(w.len(), self.runs(), "one weight per run");
        self.weight = w
            .iter()
            .zip(&self.base_weight)
            .map(|(a, b)| a * b)
            .collect();
    }

    /// The problem a [`FitConfig`] describes on `design` and `loss`: its form, objective,
    /// fixed and bounded parameters, per-run weights and asymmetric penalty.
    ///
    /// # Formula
    /// `sum_i w_i k^[r_i > 0] rho(r_i)` with r_i the (log or linear) residual, rho the
    /// Huber or squared penalty, w_i the run's weight and k the asymmetric factor (k = 1:
    /// Hoffmann et al. 2022's symmetric objective).
    ///
    /// # Errors
    /// As [`GeneralProblem::new`]; weights that are not one finite non-negative number per
    /// run with a positive sum; an asymmetric factor that is not a positive finite number.
    pub fn for_config(design: &Design, loss: &[f64], config: &FitConfig) -> Result<GeneralProblem> {
        let mut p = GeneralProblem::new(
            config.form.clone(),
            design,
            loss,
            config.objective,
            &config.fixed,
            &config.bounds,
        )?;
        let col = config.weight_column.as_deref().unwrap_or("weights");
        if let Some(w) = &config.weights {
            if w.len() != loss.len() {
                return Err(Error::InvalidSetting(format!(
                    "{} weights for {} runs (column {col:?})",
                    w.len(),
                    loss.len()
                )));
            }
            if let Some((i, v)) = w
                .iter()
                .enumerate()
                .find(|(_, v)| !(v.is_finite() && **v >= 0.0))
            {
                return Err(Error::InvalidSetting(format!(
                    "weight {v} of run {} (column {col:?}) is not a finite number >= 0",
                    i + 1
                )));
            }
            if !(w.iter().sum::<f64>() > 0.0) {
                return Err(Error::InvalidSetting(format!(
                    "every weight in column {col:?} is 0: no run is left to fit"
                )));
            }
            p.base_weight = w.clone();
            p.weight = w.clone();
        }
        if let Some(k) = config.asymmetric {
            if !(k.is_finite() && k > 0.0) {
                return Err(Error::InvalidSetting(format!(
                    "the asymmetric penalty factor must be a finite number > 0, got {k}"
                )));
            }
            p.asymmetric = k;
        }
        Ok(p)
    }

    /// L for every run at `p` and, when `grad` is given, dL/dp_k at `grad[k * m + i]`.
    fn batch(&self, p: &[f64], out: &mut [f64], grad: Option<&mut [f64]>) {
        let cols: Vec<&[f64]> = self.cols.iter().map(|c| c.as_slice()).collect();
        let lns: Vec<&[f64]> = self.ln_cols.iter().map(|c| c.as_slice()).collect();
        self.form
            .form()
            .predict_grad_batch(&cols, &lns, p, out, grad);
    }

    fn row(&self, i: usize) -> &[f64] {
        &self.x[i * self.nv..(i + 1) * self.nv]
    }

    /// Natural parameters (every parameter, fixed ones included) and dp/dt of the free ones.
    pub fn natural_with_scale(&self, theta: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let mut p = self.base.clone();
        let mut dp = vec![0.0; theta.len()];
        for (k, &i) in self.free.iter().enumerate() {
            let (v, d) = self.specs[i].domain.from_internal(theta[k]);
            p[i] = v;
            dp[k] = d;
        }
        (p, dp)
    }

    /// Natural parameters at free coordinates `theta`.
    pub fn natural(&self, theta: &[f64]) -> Vec<f64> {
        self.natural_with_scale(theta).0
    }

    /// Free coordinates of natural parameters `p`.
    pub fn internal(&self, p: &[f64]) -> Vec<f64> {
        self.free
            .iter()
            .map(|&i| self.specs[i].domain.to_internal(p[i]))
            .collect()
    }

    /// Objective value and gradient at free coordinates `theta`. Non-finite predictions give
    /// an infinite objective.
    pub fn value_grad(&self, theta: &[f64], grad: &mut [f64]) -> f64 {
        self.eval(theta, Some(grad))
    }

    /// Objective value only.
    pub fn value(&self, theta: &[f64]) -> f64 {
        self.eval(theta, None)
    }

    /// The Hessian of the objective at free coordinates `theta`, row-major `dim() x dim()`,
    /// by forward differences of the exact gradient: column j is
    /// `(g(theta + h_j e_j) - g(theta)) / h_j` with `h_j = 1e-8 max(1, |theta_j|)` (about the
    /// square root of machine epsilon; Nocedal & Wright 2006, Sec. 8.1), then symmetrised.
    /// A form supplies exact first derivatives only, so this is what the bootstrap's Newton
    /// refits use ([`super::newton::minimize`]). Their stop is on the exact gradient, so an
    /// error in the Hessian can slow them, never move the optimum they report. The step is
    /// small on purpose: Huber's second derivative jumps where a residual crosses delta, and
    /// a wider step (1e-4, or central differences at 6e-6) averages across those jumps and
    /// took Newton 60-80 iterations instead of 7 on Epoch's runs. Entries are NaN where a
    /// displaced point has a non-finite objective.
    ///
    /// # Panics
    /// If `hess` has fewer than `dim()^2` entries.
    pub fn hessian(&self, theta: &[f64], hess: &mut [f64]) {
        let n = theta.len();
        let mut x = theta.to_vec();
        let mut g0 = vec![0.0; n];
        let mut gp = vec![0.0; n];
        let f0 = self.value_grad(theta, &mut g0);
        for j in 0..n {
            let h = 1e-8 * theta[j].abs().max(1.0);
            x[j] = theta[j] + h;
            let h = x[j] - theta[j];
            let fp = self.value_grad(&x, &mut gp);
            x[j] = theta[j];
            let ok = f0.is_finite() && fp.is_finite();
            for i in 0..n {
                hess[i * n + j] = if ok { (gp[i] - g0[i]) / h } else { f64::NAN };
            }
        }
        for i in 0..n {
            for j in 0..i {
                let v = 0.5 * (hess[i * n + j] + hess[j * n + i]);
                hess[i * n + j] = v;
                hess[j * n + i] = v;
            }
        }
    }

    fn eval(&self, theta: &[f64], mut grad: Option<&mut [f64]>) -> f64 {
        let bad = |grad: Option<&mut [f64]>| {
            if let Some(g) = grad {
                g.iter_mut().for_each(|v| *v = 0.0);
            }
            f64::INFINITY
        };
        if theta.iter().any(|v| !v.is_finite()) {
            return bad(grad);
        }
        let (p, dp) = self.natural_with_scale(theta);
        let np = p.len();
        let m = self.runs();
        let want = grad.is_some();
        let mut l = vec![0.0; m];
        let mut g = if want { vec![0.0; np * m] } else { vec![] };
        self.batch(&p, &mut l, want.then_some(&mut g[..]));
        let log = self.objective.space == Space::Log;
        let mut f = 0.0;
        let mut c = vec![0.0; m];
        for i in 0..m {
            let w = self.weight[i];
            if w == 0.0 {
                continue;
            }
            // Log space: r = ln L_hat - ln L, dr/dp = (dL_hat/dp) / L_hat.
            let (r, scale) = if log {
                (l[i].ln() - self.ln_loss[i], 1.0 / l[i])
            } else {
                (l[i] - self.loss[i], 1.0)
            };
            if !r.is_finite() {
                return bad(grad);
            }
            let (rho, psi) = self.objective.rho_psi(r);
            let w = if r > 0.0 { w * self.asymmetric } else { w };
            f += w * rho;
            c[i] = w * psi * scale;
        }
        let s = match self.objective.reduction {
            Reduction::Sum => 1.0,
            Reduction::Mean => 1.0 / self.weight.iter().sum::<f64>(),
        };
        if let Some(out) = grad.as_deref_mut() {
            for (k, &i) in self.free.iter().enumerate() {
                let gi = &g[i * m..(i + 1) * m];
                let acc: f64 = c
                    .iter()
                    .zip(gi)
                    .map(|(a, b)| if *a == 0.0 { 0.0 } else { a * b })
                    .sum();
                out[k] = acc * dp[k] * s;
            }
            if out.iter().any(|v| !v.is_finite()) {
                return bad(grad);
            }
        }
        f * s
    }

    /// Residual of each run (log or linear as the objective says) at `theta`.
    pub fn residuals(&self, theta: &[f64]) -> Vec<f64> {
        let p = self.natural(theta);
        let form = self.form.form();
        (0..self.runs())
            .map(|i| {
                let lp = form.ln_predict_grad(self.row(i), &p, None);
                match self.objective.space {
                    Space::Log => lp - self.ln_loss[i],
                    Space::Linear => lp.exp() - self.loss[i],
                }
            })
            .collect()
    }

    /// d ln L_hat / d p for every run and every natural parameter at `p`.
    pub fn jacobian(&self, p: &[f64]) -> Vec<Vec<f64>> {
        let form = self.form.form();
        (0..self.runs())
            .map(|i| {
                let mut g = vec![0.0; p.len()];
                form.ln_predict_grad(self.row(i), p, Some(&mut g));
                g
            })
            .collect()
    }

    /// Free parameters at the edge of their domain at `p`: a coefficient (linear, lower
    /// bound 0) whose term contributes less than 1e-6 of the smallest loss on every run, or a
    /// bounded parameter within 1e-6 (relative to its range) of a bound.
    pub fn at_bound(&self, p: &[f64]) -> Vec<String> {
        let min_loss = self.loss.iter().cloned().fold(f64::INFINITY, f64::min);
        let form = self.form.form();
        let mut out = Vec::new();
        for &i in &self.free {
            let s = &self.specs[i];
            let d = s.domain;
            let hit = if s.linear && d.lo == 0.0 {
                let mut q = p.to_vec();
                let biggest = (0..self.runs())
                    .map(|r| {
                        q[i] = p[i];
                        let with = form.predict(self.row(r), &q);
                        q[i] = 0.0;
                        (with - form.predict(self.row(r), &q)).abs()
                    })
                    .fold(0.0, f64::max);
                biggest < 1e-6 * min_loss
            } else {
                let w = if d.lo.is_finite() && d.hi.is_finite() {
                    d.hi - d.lo
                } else {
                    1.0f64.max(d.lo.abs().min(d.hi.abs()))
                };
                (d.lo.is_finite() && p[i] - d.lo <= 1e-6 * w)
                    || (d.hi.is_finite() && d.hi - p[i] <= 1e-6 * w)
            };
            if hit {
                out.push(s.name.clone());
            }
        }
        out
    }

    /// Every finite point of the variable-projection profile (see the module doc) as free
    /// coordinates, in grid order, for [`StartStrategy::Grid`]; and the number of grid
    /// points scanned.
    pub fn grid_starts(&self) -> (Vec<Vec<f64>>, usize) {
        let (profile, _, total) = self.profile();
        let starts = profile
            .into_iter()
            .filter(|pt| pt.0.is_finite())
            .map(|pt| self.internal(&pt.2))
            .filter(|theta| theta.iter().all(|v| v.is_finite()) && self.value(theta).is_finite())
            .collect();
        (starts, total)
    }

    /// Seeds for BFGS by variable projection (see the module doc), best first, at most
    /// `max_seeds`; and the number of grid points scanned.
    pub fn seeds(&self, max_seeds: usize) -> (Vec<Vec<f64>>, usize) {
        let (profile, q, total) = self.profile();
        self.best_distinct(profile, q, max_seeds, total)
    }

    /// The profile over the grid of the nonlinear free parameters: for each grid point, the
    /// weighted SSE with the linear parameters solved, its grid index and the natural
    /// parameters; with the number of nonlinear parameters and of grid points.
    #[allow(clippy::type_complexity)]
    fn profile(&self) -> (Vec<(f64, Vec<usize>, Vec<f64>)>, usize, usize) {
        let free_lin: Vec<usize> = self
            .free
            .iter()
            .copied()
            .filter(|&i| {
                let s = &self.specs[i];
                s.linear
                    && (s.domain.lo == 0.0 || s.domain.lo == f64::NEG_INFINITY)
                    && s.domain.hi == f64::INFINITY
            })
            .collect();
        let nonlin: Vec<usize> = self
            .free
            .iter()
            .copied()
            .filter(|i| !free_lin.contains(i))
            .collect();
        let q = nonlin.len();
        let pts = match q {
            0 => 1,
            1 => 120,
            2 => 28,
            3 => 10,
            4 => 6,
            5 => 4,
            _ => 3,
        };
        let axes: Vec<Vec<f64>> = nonlin
            .iter()
            .map(|&i| {
                let s = &self.specs[i];
                let v: Vec<f64> = s
                    .start_grid()
                    .values(pts)
                    .into_iter()
                    .filter(|v| v > &s.domain.lo && v < &s.domain.hi)
                    .collect();
                if v.is_empty() {
                    vec![s.domain.from_internal(0.0).0]
                } else {
                    v
                }
            })
            .collect();
        let total: usize = axes.iter().map(|a| a.len()).product();
        let min_loss = self.loss.iter().cloned().fold(f64::INFINITY, f64::min);
        let log = self.objective.space == Space::Log;
        let w: Vec<f64> = self
            .loss
            .iter()
            .zip(&self.weight)
            .map(|(l, wt)| if log { wt / (l * l) } else { *wt })
            .collect();
        let index = |mut k: usize| -> Vec<usize> {
            let mut idx = vec![0; q];
            for j in (0..q).rev() {
                idx[j] = k % axes[j].len();
                k /= axes[j].len();
            }
            idx
        };
        // Profile: (weighted SSE of the projected fit, grid index, natural parameters).
        let profile: Vec<(f64, Vec<usize>, Vec<f64>)> = (0..total)
            .into_par_iter()
            .map(|k| {
                let idx = index(k);
                let mut p = self.base.clone();
                for (j, &i) in nonlin.iter().enumerate() {
                    p[i] = axes[j][idx[j]];
                }
                for &i in &free_lin {
                    p[i] = 0.0;
                }
                if free_lin.is_empty() {
                    let f = self.value(&self.internal(&p));
                    return (if f.is_finite() { f } else { f64::INFINITY }, idx, p);
                }
                let nl = free_lin.len();
                let m = self.runs();
                // The law is affine in the linear parameters: at c = 0 its value is the
                // offset and its gradient with respect to c_j is the basis column phi_j.
                let mut off = vec![0.0; m];
                let mut g = vec![0.0; p.len() * m];
                self.batch(&p, &mut off, Some(&mut g));
                let mut phi = vec![0.0; m * nl];
                let mut y = vec![0.0; m];
                for r in 0..m {
                    y[r] = self.loss[r] - off[r];
                    for (j, &i) in free_lin.iter().enumerate() {
                        phi[r * nl + j] = g[i * m + r];
                    }
                }
                let nonneg: Vec<bool> = free_lin
                    .iter()
                    .map(|&i| self.specs[i].domain.lo == 0.0)
                    .collect();
                match nnls(&phi, &y, &w, nl, &nonneg) {
                    Some((sse, c)) if sse.is_finite() => {
                        for (j, &i) in free_lin.iter().enumerate() {
                            let big = (0..m).map(|r| phi[r * nl + j].abs()).fold(0.0, f64::max);
                            let floor = if big > 0.0 {
                                1e-3 * min_loss / big
                            } else {
                                1e-3
                            };
                            p[i] = if nonneg[j] { c[j].max(floor) } else { c[j] };
                        }
                        (sse, idx, p)
                    }
                    _ => (f64::INFINITY, idx, p),
                }
            })
            .collect();
        (profile, q, total)
    }

    /// The best distinct profile points (at least 3 grid steps apart), scored by the true
    /// objective, at most `max_seeds`, as free coordinates; with `total`.
    #[allow(clippy::type_complexity)]
    fn best_distinct(
        &self,
        profile: Vec<(f64, Vec<usize>, Vec<f64>)>,
        q: usize,
        max_seeds: usize,
        total: usize,
    ) -> (Vec<Vec<f64>>, usize) {
        let mut order: Vec<usize> = (0..profile.len())
            .filter(|&k| profile[k].0.is_finite())
            .collect();
        order.sort_by(|&a, &b| profile[a].0.total_cmp(&profile[b].0).then(a.cmp(&b)));
        let far = |a: &[usize], b: &[usize]| {
            a.iter()
                .zip(b)
                .map(|(u, v)| (*u as i64 - *v as i64).abs())
                .max()
                .unwrap_or(0)
                >= 3
        };
        // Candidates: the best distinct profile points, scored by the true objective.
        let mut cands: Vec<usize> = Vec::new();
        for &k in &order {
            if cands.len() >= 4 * max_seeds.max(1) {
                break;
            }
            if q == 0 || cands.iter().all(|&c| far(&profile[c].1, &profile[k].1)) {
                cands.push(k);
            }
        }
        let mut scored: Vec<(f64, usize, Vec<f64>)> = cands
            .into_iter()
            .map(|k| {
                let theta = self.internal(&profile[k].2);
                let f = self.value(&theta);
                (if f.is_finite() { f } else { f64::INFINITY }, k, theta)
            })
            .filter(|s| s.0.is_finite())
            .collect();
        scored.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let seeds = scored
            .into_iter()
            .take(max_seeds.max(1))
            .map(|s| s.2)
            .collect();
        (seeds, total)
    }
}

/// Fit a form without a kernel (or with fixed or bounded parameters) to `runs`, reading U,
/// S and named columns from `columns`.
pub(crate) fn fit_general(runs: &Runs, columns: &Columns, config: &FitConfig) -> Result<Fit> {
    if let Penalty::Huber { delta } = config.objective.penalty {
        if !(delta.is_finite() && delta > 0.0) {
            return Err(Error::InvalidSetting(format!(
                "Huber's delta must be a positive number, got {delta}"
            )));
        }
    }
    let form = config.form.clone();
    let design = design(form.form(), runs, columns)?;
    let problem = GeneralProblem::for_config(&design, &runs.loss, config)?;
    let dim = problem.dim();
    let names = form.param_names();
    if runs.len() < dim {
        let free: Vec<&str> = problem.free.iter().map(|&i| names[i].as_str()).collect();
        return Err(Error::InsufficientData(format!(
            "{}: {} run(s) cannot determine the {dim} free parameters of the {} law ({}); \
             add runs or fix some parameters",
            runs.source,
            runs.len(),
            form.name(),
            free.join(", ")
        )));
    }
    // The paper's grid is Chinchilla's; asked of another form it means its own full grid.
    let grid = matches!(
        config.starts,
        StartStrategy::Grid | StartStrategy::Chinchilla
    );
    let (mut seeds, profile_points) = if grid {
        problem.grid_starts()
    } else {
        problem.seeds(config.varpro_seeds.max(1))
    };
    for start in &config.extra_starts {
        if start.len() == names.len() {
            let theta = problem.internal(start);
            if theta.iter().all(|v| v.is_finite()) && problem.value(&theta).is_finite() {
                seeds.push(theta);
            }
        }
    }
    if seeds.is_empty() {
        return Err(Error::Numerical(format!(
            "no start on the {profile_points}-point grid gave a finite objective: give the \
             parameters bounds that contain the optimum"
        )));
    }
    let opts = config.optimizer;
    // Grid: every start screened at scipy's stop, hopeless ones abandoned, the best POLISH
    // polished to full convergence (as the kernel's grid). Otherwise every seed polished.
    let (outcomes, endings, polished, screen) = if grid {
        let screened = starts::screen(|x, g| problem.value_grad(x, g), &seeds, opts.max_iter);
        let mut report = starts::ScreenReport::new(&screened);
        let endings: Vec<String> = screened.starts.iter().map(|s| s.ending()).collect();
        let outcomes: Vec<bfgs::Outcome> = screened.starts.into_iter().map(|s| s.outcome).collect();
        let mut order: Vec<usize> = (0..outcomes.len())
            .filter(|&i| outcomes[i].f.is_finite())
            .collect();
        order.sort_by(|&i, &j| outcomes[i].f.total_cmp(&outcomes[j].f).then(i.cmp(&j)));
        let polished: Vec<bfgs::Outcome> = order
            .iter()
            .take(POLISH)
            .collect::<Vec<_>>()
            .par_iter()
            .map(|&&i| bfgs::minimize(|x, g| problem.value_grad(x, g), &outcomes[i].x, &opts))
            .collect();
        report.polished = polished.len();
        report.polish_evaluations = polished.iter().map(|o| o.evaluations).sum();
        (outcomes, endings, polished, Some(report))
    } else {
        let outcomes: Vec<bfgs::Outcome> = seeds
            .par_iter()
            .map(|x0| bfgs::minimize(|x, g| problem.value_grad(x, g), x0, &opts))
            .collect();
        let endings = outcomes
            .iter()
            .map(|o| o.termination.name().to_string())
            .collect();
        (outcomes, endings, vec![], None)
    };
    // Polished ends first, then the starts' own ends, best first.
    let mut ends: Vec<&bfgs::Outcome> = polished
        .iter()
        .chain(&outcomes)
        .filter(|o| o.f.is_finite())
        .collect();
    ends.sort_by(|a, b| a.f.total_cmp(&b.f));
    let Some(&best) = ends.first() else {
        return Err(Error::Numerical(
            "the objective was not finite at any starting point".into(),
        ));
    };
    let reach_rtol = if grid {
        SCREEN_REACH_RTOL
    } else {
        SAME_OPTIMUM_RTOL
    };
    let tol = (reach_rtol * best.f.abs()).max(super::SAME_OPTIMUM_ATOL);
    // The lowest end is reported. (The kernel breaks ties between optima by what the data
    // determine, `most_identified`; that needs its bounds-aware identifiability, which knows
    // a vanished term. Here a vanished term's arbitrary coefficient and exponent would score
    // as determined, so ties stay with the lowest objective.)
    // The bootstrap's other local optima: with a grid, only polished ends (a screened start
    // stopped at scipy's tolerance is not an optimum).
    let mut basins: Vec<Vec<f64>> = Vec::new();
    for o in ends
        .iter()
        .filter(|o| !grid || polished.iter().any(|p| std::ptr::eq(p, **o)))
    {
        if basins.len() >= 4 {
            break;
        }
        if basins.iter().all(|b| super::apart(b, &o.x)) {
            basins.push(o.x.clone());
        }
    }
    let reached_best = outcomes
        .iter()
        .filter(|o| o.f.is_finite() && (o.f - best.f).abs() <= tol)
        .count();
    let mut terminations = BTreeMap::new();
    for e in endings {
        *terminations.entry(e).or_insert(0) += 1;
    }
    let nat = problem.natural(&best.x);
    let at_bound = problem.at_bound(&nat);
    let free_mask: Vec<bool> = (0..names.len())
        .map(|i| problem.free.contains(&i))
        .collect();
    let mut identifiability = identify::check_jacobian(&names, &free_mask, &problem.jacobian(&nat));
    let mut warnings = Vec::new();
    if runs.len() == dim {
        warnings.push(format!(
            "{} runs for {dim} free parameters: the law passes through the data with no \
             degrees of freedom left to judge it",
            runs.len()
        ));
    }
    if !identifiability.identified {
        let list: Vec<&str> = identifiability
            .unidentified
            .iter()
            .map(|u| u.param.as_str())
            .collect();
        warnings.push(if list.len() >= dim {
            "the data identify none of the law's parameters: no values are reported".to_string()
        } else {
            format!(
                "the data do not identify {}: no values are reported for them",
                list.join(", ")
            )
        });
    }
    warnings.extend(identifiability.weak_warning());
    let unconverged = outcomes
        .iter()
        .filter(|o| o.termination != bfgs::Termination::Converged)
        .count();
    // Screened grid starts stop early by design; only the polished ones must converge.
    let polished_unconverged = polished
        .iter()
        .filter(|o| o.termination != bfgs::Termination::Converged)
        .count();
    if grid && polished_unconverged > 0 {
        warnings.push(format!(
            "{polished_unconverged} of {} polished grid starts did not converge (raise the \
             iteration limit, max_iter)",
            polished.len()
        ));
    }
    if !grid && unconverged > 0 {
        warnings.push(format!(
            "{unconverged} of {} seeds did not converge (raise the iteration limit)",
            outcomes.len()
        ));
    }
    let other_basins = outcomes
        .iter()
        .filter(|o| o.termination == bfgs::Termination::Converged && (o.f - best.f).abs() > tol)
        .count();
    // As the kernel's grid: screened starts stop at scipy's tolerance, so few end within
    // 1e-6 of the polished optimum even on easy data; warn only when one did and others
    // converged elsewhere.
    if grid && reached_best == 1 && other_basins > 0 {
        warnings.push(format!(
            "only 1 of {} grid starts reached the best objective and {other_basins} converged \
             elsewhere: the optimum is hard to find on this data",
            outcomes.len()
        ));
    } else if !grid && reached_best == 1 && other_basins > 0 {
        warnings.push(format!(
            "only 1 of {} seeds reached the best objective and {other_basins} converged \
             elsewhere: the objective has several basins here",
            outcomes.len()
        ));
    }
    for (i, s) in problem.specs.iter().enumerate() {
        if problem.free.contains(&i)
            && !s.linear
            && s.domain == Domain::REAL
            && s.name.starts_with("alpha")
            && nat[i] < 0.0
        {
            warnings.push(format!(
                "{} = {:.4} is negative: the fitted loss rises with its variable",
                s.name, nat[i]
            ));
        }
    }
    let status = match best.termination {
        bfgs::Termination::Converged if !at_bound.is_empty() => Status::AtBound,
        bfgs::Termination::Converged => Status::Converged,
        bfgs::Termination::IterationLimit | bfgs::Termination::Stalled => Status::IterationLimit,
        bfgs::Termination::LineSearchFailed => Status::LineSearchFailed,
        bfgs::Termination::NonFinite => Status::NonFinite,
    };
    let gmax = best.grad.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let status_detail = match status {
        Status::Converged => format!(
            "converged: largest gradient component {gmax:.2e} after {} iterations",
            best.iterations
        ),
        Status::IterationLimit => format!(
            "stopped at the iteration limit ({}) with largest gradient component {gmax:.2e}: \
             the optimum may not have been reached",
            opts.max_iter
        ),
        Status::LineSearchFailed => format!(
            "the line search failed with largest gradient component {gmax:.2e}: the optimum \
             may not have been reached"
        ),
        Status::AtBound => format!(
            "converged with a parameter at a bound: {}",
            at_bound.join(", ")
        ),
        Status::NonFinite => "the objective is not finite at the optimum".into(),
    };
    let unid: Vec<String> = identifiability
        .unidentified
        .iter()
        .map(|u| u.param.clone())
        .collect();
    identifiability
        .unidentified
        .sort_by_key(|u| names.iter().position(|n| *n == u.param));
    let mut params = BTreeMap::new();
    let mut meanings = BTreeMap::new();
    let mut internal = BTreeMap::new();
    for (i, s) in problem.specs.iter().enumerate() {
        let v = (!unid.contains(&s.name)).then_some(nat[i]);
        params.insert(s.name.clone(), v);
        meanings.insert(s.name.clone(), s.meaning.clone());
    }
    for (k, &i) in problem.free.iter().enumerate() {
        internal.insert(names[i].clone(), best.x[k]);
    }
    let mut fit = kernel_free_report(runs, config, &form);
    fit.params = params;
    fit.meanings = meanings;
    fit.internal = internal;
    fit.objective = best.f;
    fit.status = status;
    fit.status_detail = status_detail;
    fit.at_bound = at_bound;
    fit.starts = StartsReport {
        strategy: if grid {
            StartStrategy::Grid
        } else {
            StartStrategy::VarPro
        },
        count: outcomes.len(),
        reached_best,
        tolerance: reach_rtol,
        tied_optima: 0,
        terminations,
        profile_points,
        screen,
        seeds: (seeds.len() <= super::MAX_LISTED_STARTS).then(|| {
            seeds
                .iter()
                .map(|t| names.iter().cloned().zip(problem.natural(t)).collect())
                .collect()
        }),
    };
    fit.optimizer = OptimizerReport {
        method: bfgs::METHOD.into(),
        iterations: best.iterations,
        evaluations: best.evaluations,
        gradient_max_abs: gmax,
        gtol: opts.gtol,
        max_iter: opts.max_iter,
    };
    if config.starts == StartStrategy::Chinchilla {
        // The paper's 4500-point grid is a grid over Chinchilla's five parameters; any other
        // form is started from every point of its own grid, and says so.
        fit.conventions.starts = StartStrategy::Grid;
        warnings.push(format!(
            "starts \"chinchilla\" (the paper's 4500-point grid) is defined for the Chinchilla \
             form's kernel; the {} form was started from every point of its own grid instead \
             ({} starts, starts \"grid\")",
            form.name(),
            outcomes.len()
        ));
    }
    fit.identifiability = identifiability;
    fit.warnings = warnings;
    fit.residuals = problem.residuals(&best.x);
    fit.conventions.prediction = format!(
        "ln L_hat = ln({}) evaluated with exact gradients (forward-mode dual numbers)",
        form.form().formula().trim_start_matches("L = ")
    );
    fit.conventions.parametrisation = Some(
        "internal: p = exp(t) for a positive parameter, lo + (hi - lo) / (1 + exp(-t)) between \
         two bounds, lo + exp(t) or hi - exp(t) with one, p = t for a real one"
            .into(),
    );
    fit.conventions.variables = design.sources.clone();
    fit.conventions.bounds = problem
        .specs
        .iter()
        .filter(|s| s.domain != Domain::REAL)
        .map(|s| {
            let f = |v: f64| v.is_finite().then_some(v);
            (s.name.clone(), [f(s.domain.lo), f(s.domain.hi)])
        })
        .collect();
    fit.data.columns = columns.clone();
    fit.theta = best.x.clone();
    fit.basins = basins;
    fit.inv_hessian = best.inv_hessian.clone();
    Ok(fit)
}

/// Weighted least squares `min sum_i w_i (y_i - sum_j phi_ij c_j)^2` with `c_j >= 0` where
/// `nonneg[j]`, by enumerating the supports of the constrained coefficients (exact for the
/// few coefficients of a law). Returns (SSE, c).
fn nnls(phi: &[f64], y: &[f64], w: &[f64], k: usize, nonneg: &[bool]) -> Option<(f64, Vec<f64>)> {
    let m = y.len();
    let mut gram = vec![0.0; k * k];
    let mut rhs = vec![0.0; k];
    let mut yy = 0.0;
    for r in 0..m {
        let row = &phi[r * k..(r + 1) * k];
        yy += w[r] * y[r] * y[r];
        for a in 0..k {
            rhs[a] += w[r] * row[a] * y[r];
            for b in 0..k {
                gram[a * k + b] += w[r] * row[a] * row[b];
            }
        }
    }
    let cons: Vec<usize> = (0..k).filter(|&j| nonneg[j]).collect();
    let always: Vec<usize> = (0..k).filter(|&j| !nonneg[j]).collect();
    let mut best: Option<(f64, Vec<f64>)> = None;
    for mask in 0u32..(1u32 << cons.len()) {
        let mut support = always.clone();
        support.extend(
            cons.iter()
                .enumerate()
                .filter(|(b, _)| mask & (1 << b) != 0)
                .map(|(_, &j)| j),
        );
        let mut c = vec![0.0; k];
        let mut fit = 0.0;
        if !support.is_empty() {
            let s = support.len();
            let d: Vec<f64> = support.iter().map(|&i| gram[i * k + i].sqrt()).collect();
            if d.iter().any(|v| !(v.is_finite() && *v > 0.0)) {
                continue;
            }
            let mut a = vec![0.0; s * s];
            let mut b = vec![0.0; s];
            for (r, &i) in support.iter().enumerate() {
                b[r] = rhs[i] / d[r];
                for (cc, &j) in support.iter().enumerate() {
                    a[r * s + cc] = gram[i * k + j] / (d[r] * d[cc]);
                }
            }
            let Some(x) = solve(&mut a, &mut b, s) else {
                continue;
            };
            let mut ok = true;
            for (r, &i) in support.iter().enumerate() {
                c[i] = x[r] / d[r];
                if nonneg[i] && !(c[i] > 0.0) {
                    ok = false;
                }
                fit += c[i] * rhs[i];
            }
            if !ok {
                continue;
            }
        }
        let sse = yy - fit;
        if best.as_ref().is_none_or(|b| sse < b.0) {
            best = Some((sse, c));
        }
    }
    best
}

/// Gaussian elimination with partial pivoting on an s x s system.
fn solve(a: &mut [f64], b: &mut [f64], s: usize) -> Option<Vec<f64>> {
    for col in 0..s {
        let piv =
            (col..s).max_by(|&i, &j| a[i * s + col].abs().total_cmp(&a[j * s + col].abs()))?;
        if a[piv * s + col].abs() < 1e-13 {
            return None;
        }
        if piv != col {
            for c in 0..s {
                a.swap(col * s + c, piv * s + c);
            }
            b.swap(col, piv);
        }
        for r in col + 1..s {
            let f = a[r * s + col] / a[col * s + col];
            for c in col..s {
                a[r * s + c] -= f * a[col * s + c];
            }
            b[r] -= f * b[col];
        }
    }
    let mut x = vec![0.0; s];
    for r in (0..s).rev() {
        let mut v = b[r];
        for c in r + 1..s {
            v -= a[r * s + c] * x[c];
        }
        x[r] = v / a[r * s + r];
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nnls_with_a_free_coefficient() {
        // y = 2 + 3 x exactly; the intercept is free (real), the slope non-negative.
        let xs = [1.0, 2.0, 3.0, 5.0];
        let phi: Vec<f64> = xs.iter().flat_map(|x| [1.0, *x]).collect();
        let y: Vec<f64> = xs.iter().map(|x| 2.0 + 3.0 * x).collect();
        let (sse, c) = nnls(&phi, &y, &[1.0; 4], 2, &[false, true]).unwrap();
        assert!(sse.abs() < 1e-9 && (c[0] - 2.0).abs() < 1e-9 && (c[1] - 3.0).abs() < 1e-9);
        // y = 2 - 3 x: the slope is clamped to 0 and the intercept takes the mean.
        let y: Vec<f64> = xs.iter().map(|x| 2.0 - 3.0 * x).collect();
        let (_, c) = nnls(&phi, &y, &[1.0; 4], 2, &[false, true]).unwrap();
        assert_eq!(c[1], 0.0);
        assert!((c[0] - y.iter().sum::<f64>() / 4.0).abs() < 1e-9);
    }

    #[test]
    fn domains_round_trip() {
        for d in [
            Domain::POSITIVE,
            Domain::REAL,
            Domain::bounded(0.01, 2.0),
            Domain::bounded(f64::NEG_INFINITY, 3.0),
            Domain::bounded(1.0, f64::INFINITY),
        ] {
            for p in [0.02, 0.5, 1.7] {
                if !d.contains(p) || p == d.lo {
                    continue;
                }
                let t = d.to_internal(p);
                let (back, dp) = d.from_internal(t);
                assert!((back - p).abs() < 1e-12, "{d:?} {p} {back}");
                let h = 1e-6;
                let fd = (d.from_internal(t + h).0 - d.from_internal(t - h).0) / (2.0 * h);
                assert!(
                    (fd - dp).abs() < 1e-6 * (1.0 + dp.abs()),
                    "{d:?} {p}: {fd} vs {dp}"
                );
            }
        }
    }
}
