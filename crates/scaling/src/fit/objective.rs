//! The fitting objective for laws of the form `L = E + Σ_k A_k x_k^-alpha_k`, evaluated in
//! log-sum-exp form with an analytic gradient.
//!
//! Parameters are fitted in log scale for the coefficients (e = ln E, a_k = ln A_k), as
//! Hoffmann et al. (2022, App. D.2) do: the prediction of ln L is
//! `LSE(a_1 - alpha_1 ln x_1, ..., e)`, which never forms 1e24 * 1e-24.

use serde::{Deserialize, Serialize};

/// The per-run penalty on residuals.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Penalty {
    /// Huber (1964): `r^2 / 2` for `|r| <= delta`, `delta (|r| - delta / 2)` beyond.
    /// Chinchilla uses delta = 1e-3 on log-loss residuals.
    Huber {
        /// The threshold between the quadratic and linear parts.
        delta: f64,
    },
    /// Squared error `r^2`.
    Squared,
}

/// Where residuals are measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Space {
    /// `r = ln L_hat - ln L` (Chinchilla's choice).
    Log,
    /// `r = L_hat - L`.
    Linear,
}

/// How per-run penalties are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Reduction {
    /// Sum over runs (Chinchilla's choice). Besiroglu et al. (2024) show the mean makes L-BFGS
    /// stop early with default tolerances.
    Sum,
    /// Mean over runs.
    Mean,
}

/// A complete objective specification.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Objective {
    /// The penalty.
    pub penalty: Penalty,
    /// Log or linear residuals.
    pub space: Space,
    /// Sum or mean.
    pub reduction: Reduction,
}

impl Default for Objective {
    /// Chinchilla's objective: sum of Huber(1e-3) of log residuals.
    fn default() -> Self {
        Objective {
            penalty: Penalty::Huber { delta: 1e-3 },
            space: Space::Log,
            reduction: Reduction::Sum,
        }
    }
}

impl Objective {
    /// The objective written out, e.g. `sum_i Huber_0.001(ln L_hat_i - ln L_i)`.
    pub fn describe(&self) -> String {
        let red = match self.reduction {
            Reduction::Sum => "sum",
            Reduction::Mean => "mean",
        };
        let r = match self.space {
            Space::Log => "ln L_hat_i - ln L_i",
            Space::Linear => "L_hat_i - L_i",
        };
        match self.penalty {
            Penalty::Huber { delta } => format!("{red}_i Huber_{delta}({r})"),
            Penalty::Squared => format!("{red}_i ({r})^2"),
        }
    }

    #[inline(always)]
    fn rho_psi(&self, r: f64) -> (f64, f64) {
        match self.penalty {
            Penalty::Huber { delta } => {
                if r.abs() <= delta {
                    (0.5 * r * r, r)
                } else {
                    (delta * (r.abs() - 0.5 * delta), delta.copysign(r))
                }
            }
            Penalty::Squared => (r * r, 2.0 * r),
        }
    }
}

/// How the irreducible term E enters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ETerm {
    /// E is fitted (its log e = ln E is the first free parameter).
    Free,
    /// E is fixed at `exp(ln_e)` (> 0).
    Fixed {
        /// ln E.
        ln_e: f64,
    },
    /// E = 0: no irreducible term.
    Absent,
}

/// A fitting problem: data columns, the number of power terms and the objective.
///
/// The free parameter vector is `[e (if E is free), a_1..a_K, alpha_1..alpha_K]` with
/// `a_k = ln A_k`.
#[derive(Debug, Clone)]
pub struct Problem {
    /// ln x_k for each term k (K = 1 or 2), one value per run.
    pub ln_x: Vec<Vec<f64>>,
    /// ln L per run.
    pub ln_loss: Vec<f64>,
    /// L per run.
    pub loss: Vec<f64>,
    /// The irreducible term.
    pub e_term: ETerm,
    /// The objective.
    pub objective: Objective,
}

impl Problem {
    /// Number of power terms K.
    pub fn terms(&self) -> usize {
        self.ln_x.len()
    }

    /// Number of free parameters.
    pub fn dim(&self) -> usize {
        2 * self.terms() + usize::from(self.e_term == ETerm::Free)
    }

    /// Number of runs.
    pub fn runs(&self) -> usize {
        self.loss.len()
    }

    /// Objective value and gradient at free parameters `theta` (`grad` has `dim()` entries).
    pub fn value_grad(&self, theta: &[f64], grad: &mut [f64]) -> f64 {
        match self.terms() {
            1 => self.eval::<1, true>(theta, grad),
            2 => self.eval::<2, true>(theta, grad),
            k => unreachable!("{k} terms"),
        }
    }

    /// Objective value only.
    pub fn value(&self, theta: &[f64]) -> f64 {
        let mut g = [0.0; 0];
        match self.terms() {
            1 => self.eval::<1, false>(theta, &mut g),
            2 => self.eval::<2, false>(theta, &mut g),
            k => unreachable!("{k} terms"),
        }
    }

    /// Residuals r_i (log or linear as the objective says) at `theta`.
    pub fn residuals(&self, theta: &[f64]) -> Vec<f64> {
        (0..self.runs())
            .map(|i| {
                let lse = self.ln_predict(theta, i);
                match self.objective.space {
                    Space::Log => lse - self.ln_loss[i],
                    Space::Linear => lse.exp() - self.loss[i],
                }
            })
            .collect()
    }

    /// Predicted ln L for run `i` and the gradient of it with respect to the free parameters.
    pub fn ln_predict_grad(&self, theta: &[f64], i: usize, grad: &mut [f64]) -> f64 {
        let k = self.terms();
        let off = usize::from(self.e_term == ETerm::Free);
        let mut t = [0.0f64; 3];
        for j in 0..k {
            t[j] = theta[off + j] - theta[off + k + j] * self.ln_x[j][i];
        }
        let e = self.e_value(theta);
        let mut m = e;
        for &tj in &t[..k] {
            m = m.max(tj);
        }
        let mut w = [0.0f64; 3];
        let mut s = 0.0;
        for j in 0..k {
            w[j] = (t[j] - m).exp();
            s += w[j];
        }
        let we = (e - m).exp();
        s += we;
        if off == 1 {
            grad[0] = we / s;
        }
        for j in 0..k {
            grad[off + j] = w[j] / s;
            grad[off + k + j] = -w[j] / s * self.ln_x[j][i];
        }
        m + s.ln()
    }

    /// Predicted ln L for run `i`.
    pub fn ln_predict(&self, theta: &[f64], i: usize) -> f64 {
        let mut g = [0.0; 5];
        self.ln_predict_grad(theta, i, &mut g[..self.dim()])
    }

    #[inline(always)]
    fn e_value(&self, theta: &[f64]) -> f64 {
        match self.e_term {
            ETerm::Free => theta[0],
            ETerm::Fixed { ln_e } => ln_e,
            ETerm::Absent => f64::NEG_INFINITY,
        }
    }

    #[inline(always)]
    fn eval<const K: usize, const GRAD: bool>(&self, theta: &[f64], grad: &mut [f64]) -> f64 {
        let off = usize::from(self.e_term == ETerm::Free);
        let mut a = [0.0f64; K];
        let mut al = [0.0f64; K];
        for j in 0..K {
            a[j] = theta[off + j];
            al[j] = theta[off + K + j];
        }
        let e = self.e_value(theta);
        let has_e = self.e_term != ETerm::Absent;
        let cols: [&[f64]; K] = std::array::from_fn(|j| &self.ln_x[j][..]);
        let m_runs = self.loss.len();
        let ln_loss = &self.ln_loss[..m_runs];
        let loss = &self.loss[..m_runs];
        let log_space = self.objective.space == Space::Log;
        let mut f = 0.0;
        let mut ge = 0.0;
        let mut ga = [0.0f64; K];
        let mut gal = [0.0f64; K];
        for i in 0..m_runs {
            let mut t = [0.0f64; K];
            let mut m = if has_e { e } else { f64::NEG_INFINITY };
            for j in 0..K {
                t[j] = a[j] - al[j] * cols[j][i];
                m = m.max(t[j]);
            }
            let mut w = [0.0f64; K];
            let mut s = 0.0;
            for j in 0..K {
                w[j] = (t[j] - m).exp();
                s += w[j];
            }
            let we = if has_e { (e - m).exp() } else { 0.0 };
            s += we;
            let lse = m + s.ln();
            let (r, dr) = if log_space {
                (lse - ln_loss[i], 1.0)
            } else {
                let p = lse.exp();
                (p - loss[i], p)
            };
            let (rho, psi) = self.objective.rho_psi(r);
            f += rho;
            if GRAD {
                let c = psi * dr / s;
                ge += c * we;
                for j in 0..K {
                    let cw = c * w[j];
                    ga[j] += cw;
                    gal[j] -= cw * cols[j][i];
                }
            }
        }
        let scale = match self.objective.reduction {
            Reduction::Sum => 1.0,
            Reduction::Mean => 1.0 / m_runs as f64,
        };
        if GRAD {
            if off == 1 {
                grad[0] = ge * scale;
            }
            for j in 0..K {
                grad[off + j] = ga[j] * scale;
                grad[off + K + j] = gal[j] * scale;
            }
        }
        f * scale
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(e_term: ETerm, objective: Objective, k: usize) -> Problem {
        let n = [1e8, 3e8, 1e9, 5e9, 2e10, 7e7];
        let d = [2e9, 1e10, 5e9, 1e11, 3e11, 8e8];
        let loss = [3.1, 2.8, 2.7, 2.3, 2.1, 3.4];
        let mut ln_x = vec![n.iter().map(|v: &f64| v.ln()).collect::<Vec<_>>()];
        if k == 2 {
            ln_x.push(d.iter().map(|v: &f64| v.ln()).collect());
        }
        Problem {
            ln_x,
            ln_loss: loss.iter().map(|v: &f64| v.ln()).collect(),
            loss: loss.to_vec(),
            e_term,
            objective,
        }
    }

    /// Property: the analytic gradient matches central finite differences for every
    /// combination of penalty, space, reduction and E handling.
    #[test]
    fn gradient_matches_finite_differences() {
        let penalties = [
            Penalty::Huber { delta: 1e-3 },
            Penalty::Huber { delta: 0.5 },
            Penalty::Squared,
        ];
        for penalty in penalties {
            for space in [Space::Log, Space::Linear] {
                for reduction in [Reduction::Sum, Reduction::Mean] {
                    for e_term in [ETerm::Free, ETerm::Fixed { ln_e: 0.3 }, ETerm::Absent] {
                        for k in [1, 2] {
                            let obj = Objective {
                                penalty,
                                space,
                                reduction,
                            };
                            let p = problem(e_term, obj, k);
                            let theta_full = [0.5, 6.0, 7.0, 0.34, 0.37];
                            let theta: Vec<f64> = if e_term == ETerm::Free {
                                if k == 2 {
                                    theta_full.to_vec()
                                } else {
                                    vec![0.5, 6.0, 0.34]
                                }
                            } else if k == 2 {
                                theta_full[1..].to_vec()
                            } else {
                                vec![6.0, 0.34]
                            };
                            let mut g = vec![0.0; p.dim()];
                            let f = p.value_grad(&theta, &mut g);
                            assert!((f - p.value(&theta)).abs() <= 1e-15 * f.abs().max(1.0));
                            for i in 0..theta.len() {
                                let h = 1e-6;
                                let mut tp = theta.clone();
                                tp[i] += h;
                                let mut tm = theta.clone();
                                tm[i] -= h;
                                let fd = (p.value(&tp) - p.value(&tm)) / (2.0 * h);
                                let tol = 1e-6 * (1.0 + g[i].abs());
                                assert!(
                                    (fd - g[i]).abs() < tol,
                                    "{penalty:?} {space:?} {reduction:?} {e_term:?} k={k} i={i}: fd {fd} vs {}",
                                    g[i]
                                );
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn log_sum_exp_matches_direct_formula() {
        let p = problem(ETerm::Free, Objective::default(), 2);
        let theta = [0.5f64, 6.0, 7.0, 0.34, 0.37];
        for i in 0..p.runs() {
            let n = p.ln_x[0][i].exp();
            let d = p.ln_x[1][i].exp();
            let direct = 0.5f64.exp() + 6.0f64.exp() * n.powf(-0.34) + 7.0f64.exp() * d.powf(-0.37);
            assert!((p.ln_predict(&theta, i) - direct.ln()).abs() < 1e-14);
        }
    }
}
