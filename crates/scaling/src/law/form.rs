//! The law-form interface: what a form reads, its parameters, its prediction in log space
//! with an exact gradient, which parameters enter linearly, and its start grid. Fitting,
//! bootstrap, identifiability, prediction and planning of every form other than the two
//! fast kernels (Chinchilla, power) go through [`Form`] only.

use serde::{Deserialize, Serialize};

/// A quantity a law reads for each run.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Var {
    /// Model size N (parameters).
    N,
    /// Training tokens D.
    D,
    /// Training compute C (FLOPs; C = k N D when the data have no compute column).
    C,
    /// Unique tokens U (the data-constrained law; a column named `unique_tokens`, `unique`
    /// or `U`; all D tokens are unique when absent at prediction).
    U,
    /// Training steps S (a column named `steps` or `S`).
    S,
    /// Tokens per parameter M = D / N (Gadre et al. 2024).
    M,
    /// Any other numeric column, by its header.
    Column(String),
}

impl Var {
    /// The variable a formula name stands for (`N`, `D`, `C`, `U`, `S`, `M`), if any.
    pub fn from_symbol(s: &str) -> Option<Var> {
        Some(match s {
            "N" => Var::N,
            "D" => Var::D,
            "C" => Var::C,
            "U" => Var::U,
            "S" => Var::S,
            "M" => Var::M,
            _ => return None,
        })
    }

    /// The symbol in formulas (the column's name for [`Var::Column`]).
    pub fn symbol(&self) -> String {
        match self {
            Var::N => "N".into(),
            Var::D => "D".into(),
            Var::C => "C".into(),
            Var::U => "U".into(),
            Var::S => "S".into(),
            Var::M => "M".into(),
            Var::Column(c) => c.clone(),
        }
    }

    /// Column headers tried, in order, for a variable read from its own column (U, S).
    pub fn aliases(&self) -> Vec<String> {
        match self {
            Var::U => vec!["unique_tokens".into(), "unique".into(), "U".into()],
            Var::S => vec!["steps".into(), "S".into()],
            Var::Column(c) => vec![c.clone()],
            _ => vec![],
        }
    }
}

/// Where a parameter may lie: `lo <= p <= hi` (infinite ends for none).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Domain {
    /// Lower bound (`-inf` for none).
    pub lo: f64,
    /// Upper bound (`inf` for none).
    pub hi: f64,
}

impl Domain {
    /// p > 0 (fitted as ln p).
    pub const POSITIVE: Domain = Domain {
        lo: 0.0,
        hi: f64::INFINITY,
    };
    /// Any real number.
    pub const REAL: Domain = Domain {
        lo: f64::NEG_INFINITY,
        hi: f64::INFINITY,
    };

    /// `lo <= p <= hi`.
    pub fn bounded(lo: f64, hi: f64) -> Domain {
        Domain { lo, hi }
    }

    /// Parse `lo:hi` (either side may be empty for no bound).
    pub fn parse(s: &str) -> Option<Domain> {
        let (a, b) = s.split_once(':')?;
        let side = |t: &str, inf: f64| -> Option<f64> {
            let t = t.trim();
            if t.is_empty() {
                Some(inf)
            } else {
                t.parse::<f64>().ok().filter(|v| !v.is_nan())
            }
        };
        Some(Domain {
            lo: side(a, f64::NEG_INFINITY)?,
            hi: side(b, f64::INFINITY)?,
        })
    }

    /// The domain in words: `p > 0`, `real`, `0.01 <= p <= 2`.
    pub fn describe(&self) -> String {
        match (self.lo.is_finite(), self.hi.is_finite()) {
            (false, false) => "real".into(),
            (true, false) if self.lo == 0.0 => "positive".into(),
            (true, false) => format!(">= {}", self.lo),
            (false, true) => format!("<= {}", self.hi),
            (true, true) => format!("{}..{}", self.lo, self.hi),
        }
    }

    /// The internal (unconstrained) coordinate t of a value p, and back: p = lo + exp(t)
    /// with a lower bound only, hi - exp(t) with an upper bound only, lo + (hi - lo)
    /// sigmoid(t) with both, p = t with none.
    pub fn to_internal(&self, p: f64) -> f64 {
        match (self.lo.is_finite(), self.hi.is_finite()) {
            (false, false) => p,
            (true, false) => (p - self.lo).ln(),
            (false, true) => (self.hi - p).ln(),
            (true, true) => {
                let u = (p - self.lo) / (self.hi - self.lo);
                (u / (1.0 - u)).ln()
            }
        }
    }

    /// The value p of internal coordinate t and dp/dt.
    pub fn from_internal(&self, t: f64) -> (f64, f64) {
        match (self.lo.is_finite(), self.hi.is_finite()) {
            (false, false) => (t, 1.0),
            (true, false) => {
                let e = t.exp();
                (self.lo + e, e)
            }
            (false, true) => {
                let e = t.exp();
                (self.hi - e, -e)
            }
            (true, true) => {
                let s = 1.0 / (1.0 + (-t).exp());
                let w = self.hi - self.lo;
                (self.lo + w * s, w * s * (1.0 - s))
            }
        }
    }

    /// True when `p` lies in the domain (a positive domain admits 0, the limit of a
    /// vanishing term).
    pub fn contains(&self, p: f64) -> bool {
        p >= self.lo && p <= self.hi
    }
}

/// A start grid for one nonlinear parameter.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Grid {
    /// `points` values geometric from `lo` to `hi` (both > 0).
    Geometric {
        /// Smallest value.
        lo: f64,
        /// Largest value.
        hi: f64,
    },
    /// Values evenly spaced from `lo` to `hi`.
    Linear {
        /// Smallest value.
        lo: f64,
        /// Largest value.
        hi: f64,
    },
}

impl Grid {
    /// Exponents of power laws: geometric from 0.02 to 3 (the variable-projection scan of
    /// the Chinchilla fit).
    pub const EXPONENT: Grid = Grid::Geometric { lo: 0.02, hi: 3.0 };

    /// `points` values of the grid.
    pub fn values(&self, points: usize) -> Vec<f64> {
        let points = points.max(1);
        let frac = |i: usize| {
            if points == 1 {
                0.5
            } else {
                i as f64 / (points - 1) as f64
            }
        };
        match *self {
            Grid::Geometric { lo, hi } => (0..points)
                .map(|i| (lo.ln() + (hi.ln() - lo.ln()) * frac(i)).exp())
                .collect(),
            Grid::Linear { lo, hi } => (0..points).map(|i| lo + (hi - lo) * frac(i)).collect(),
        }
    }

    /// The default grid of a parameter in `domain`: exponent-like values clipped to bounds.
    pub fn default_for(domain: &Domain) -> Grid {
        match (domain.lo.is_finite(), domain.hi.is_finite()) {
            (true, true) if domain.lo > 0.0 => Grid::Geometric {
                lo: domain.lo,
                hi: domain.hi,
            },
            (true, true) => {
                let w = domain.hi - domain.lo;
                Grid::Linear {
                    lo: domain.lo + 0.02 * w,
                    hi: domain.hi - 0.02 * w,
                }
            }
            (true, false) if domain.lo > 0.0 => Grid::Geometric {
                lo: domain.lo * 1.02,
                hi: domain.lo.max(0.02) * 150.0,
            },
            (false, true) if domain.hi < 0.0 => Grid::Linear {
                lo: domain.hi - 3.0,
                hi: domain.hi - 0.02,
            },
            (false, true) if domain.hi < 3.0 => Grid::Linear {
                lo: domain.hi.min(0.0) - 1.0,
                hi: domain.hi - 0.02 * domain.hi.abs().max(0.1),
            },
            _ => Grid::EXPONENT,
        }
    }
}

/// One parameter of a form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParamSpec {
    /// Its name.
    pub name: String,
    /// What it means, with its unit.
    pub meaning: String,
    /// Where it may lie.
    pub domain: Domain,
    /// True when the law is affine in this parameter (jointly with the other linear ones), so
    /// variable projection can solve for it exactly given the others.
    pub linear: bool,
    /// Its start grid when it is not linear (`None`: [`Grid::default_for`] its domain).
    pub grid: Option<Grid>,
}

impl ParamSpec {
    /// A parameter spec.
    pub fn new(
        name: &str,
        meaning: &str,
        domain: Domain,
        linear: bool,
        grid: Option<Grid>,
    ) -> Self {
        ParamSpec {
            name: name.into(),
            meaning: meaning.into(),
            domain,
            linear,
            grid,
        }
    }

    /// The start grid of this parameter.
    pub fn start_grid(&self) -> Grid {
        self.grid.unwrap_or_else(|| Grid::default_for(&self.domain))
    }
}

/// A functional form of a scaling law.
///
/// Implementations give the prediction of ln L at one run with its exact gradient with
/// respect to the natural parameters (in the order of [`Form::params`]); everything else a
/// fit needs (starts, variable projection, identifiability, intervals, planning) is built on
/// that.
pub trait Form: Send + Sync + std::fmt::Debug {
    /// A short name (`kaplan`, `formula`).
    fn name(&self) -> String;
    /// The formula in plain text, `L = ...`.
    fn formula(&self) -> String;
    /// The quantities it reads, in the order of the `x` passed to [`Form::ln_predict_grad`].
    fn variables(&self) -> Vec<Var>;
    /// Its parameters.
    fn params(&self) -> Vec<ParamSpec>;
    /// ln L at data `x` and natural parameters `p`; when `grad` is given, d ln L / d p.
    fn ln_predict_grad(&self, x: &[f64], p: &[f64], grad: Option<&mut [f64]>) -> f64;

    /// The prediction L (not its log).
    fn predict(&self, x: &[f64], p: &[f64]) -> f64 {
        self.ln_predict_grad(x, p, None).exp()
    }

    /// L (not its log) for many runs: `cols[j]` holds variable j for every run and
    /// `ln_cols[j]` its log; `out[i]` receives L of run i and `grad[k * m + i]` (m runs), when
    /// given, dL/dp_k. The default evaluates run by run.
    fn predict_grad_batch(
        &self,
        cols: &[&[f64]],
        _ln_cols: &[&[f64]],
        p: &[f64],
        out: &mut [f64],
        mut grad: Option<&mut [f64]>,
    ) {
        let m = out.len();
        let mut x = vec![0.0; cols.len()];
        let mut g = vec![0.0; p.len()];
        for i in 0..m {
            for (xj, c) in x.iter_mut().zip(cols) {
                *xj = c[i];
            }
            match grad.as_deref_mut() {
                None => out[i] = self.predict(&x, p),
                Some(gout) => {
                    let l = self.ln_predict_grad(&x, p, Some(&mut g)).exp();
                    out[i] = l;
                    for (k, gk) in g.iter().enumerate() {
                        gout[k * m + i] = l * gk;
                    }
                }
            }
        }
    }

    /// Parameter names, in order.
    fn param_names(&self) -> Vec<String> {
        self.params().into_iter().map(|s| s.name).collect()
    }
}
