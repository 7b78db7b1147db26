//! BFGS with a strong-Wolfe line search, for small smooth problems (2 to 5 parameters).
//!
//! ## Reference
//! Nocedal, J. and Wright, S. J. (2006), *Numerical Optimization*, 2nd ed.: the BFGS update
//! of the inverse Hessian (Eq. 6.17), the initial scaling (Eq. 6.20), and the line search
//! with zoom (Algorithms 3.5 and 3.6) using cubic interpolation (Eq. 3.59).

use serde::{Deserialize, Serialize};

/// The method as a fit's JSON names it (`optimizer.method`).
pub const METHOD: &str = "BFGS, strong-Wolfe line search (Nocedal & Wright 2006, Alg. 3.5-3.6)";

/// How a minimisation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Termination {
    /// The gradient is below tolerance, or no step can lower the objective any further at
    /// machine precision while the gradient is small.
    Converged,
    /// The iteration limit was reached first.
    IterationLimit,
    /// The line search could not find a step that lowers the objective, and the gradient is
    /// not small.
    LineSearchFailed,
    /// The objective was not finite at the start.
    NonFinite,
    /// Progress per iteration fell below `ftol_rel` (screening runs only).
    Stalled,
}

impl Termination {
    /// The name a fit's JSON gives it (`starts.terminations`): its serde name.
    pub fn name(self) -> &'static str {
        match self {
            Termination::Converged => "converged",
            Termination::IterationLimit => "iteration_limit",
            Termination::LineSearchFailed => "line_search_failed",
            Termination::NonFinite => "non_finite",
            Termination::Stalled => "stalled",
        }
    }

    /// A short phrase for readers.
    pub fn describe(self) -> &'static str {
        match self {
            Termination::Converged => "converged",
            Termination::IterationLimit => "stopped at the iteration limit",
            Termination::LineSearchFailed => "line search failed",
            Termination::NonFinite => "objective not finite at the start",
            Termination::Stalled => "progress per iteration fell below the screening tolerance",
        }
    }
}

/// Stopping rules.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Options {
    /// Maximum number of iterations.
    pub max_iter: usize,
    /// Stop when the largest gradient component is at most this.
    pub gtol: f64,
    /// When the line search cannot make progress, the fit still counts as converged if the
    /// largest gradient component is at most this (progress is then limited by rounding).
    pub gtol_stalled: f64,
    /// Stop (as [`Termination::Stalled`]) when an iteration lowers the objective by less
    /// than this fraction of its value; 0 disables the test. Used for screening many starts
    /// before polishing the best.
    pub ftol_rel: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_iter: 2000,
            gtol: 1e-11,
            gtol_stalled: 1e-6,
            ftol_rel: 0.0,
        }
    }
}

/// The result of a minimisation.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The final point.
    pub x: Vec<f64>,
    /// The objective there.
    pub f: f64,
    /// The gradient there.
    pub grad: Vec<f64>,
    /// How it ended.
    pub termination: Termination,
    /// Iterations taken.
    pub iterations: usize,
    /// Objective (and gradient) evaluations.
    pub evaluations: usize,
    /// The final inverse-Hessian approximation (row-major).
    pub inv_hessian: Vec<f64>,
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn inf_norm(a: &[f64]) -> f64 {
    a.iter().fold(0.0, |m, v| m.max(v.abs()))
}

/// Minimise `f` (which returns the value and writes the gradient) from `x0`.
pub fn minimize<F>(f: F, x0: &[f64], opts: &Options) -> Outcome
where
    F: FnMut(&[f64], &mut [f64]) -> f64,
{
    minimize_warm(f, x0, None, opts)
}

/// As [`minimize`], starting from a given inverse-Hessian approximation (row-major; for
/// instance [`Outcome::inv_hessian`] of a fit of a similar problem) instead of the identity.
/// A warm start for refits of resampled data, whose curvature is close to the original's.
pub fn minimize_warm<F>(
    mut f: F,
    x0: &[f64],
    inv_hessian: Option<&[f64]>,
    opts: &Options,
) -> Outcome
where
    F: FnMut(&[f64], &mut [f64]) -> f64,
{
    let n = x0.len();
    let x = x0.to_vec();
    let mut g = vec![0.0; n];
    let fx = f(&x, &mut g);
    if !fx.is_finite() || g.iter().any(|v| !v.is_finite()) {
        return Outcome {
            x,
            f: fx,
            grad: g,
            termination: Termination::NonFinite,
            iterations: 0,
            evaluations: 1,
            inv_hessian: identity(n),
        };
    }
    let mut h = identity(n);
    let mut h_is_identity = true;
    if let Some(h0) = inv_hessian {
        if h0.len() == n * n && h0.iter().all(|v| v.is_finite()) {
            h = h0.to_vec();
            h_is_identity = false;
        }
    }
    run(f, x, fx, g, h, h_is_identity, 0, 1, opts)
}

/// Continue a minimisation that stopped (at an iteration limit or a screening stop) from
/// where it ended: its point, value, gradient and inverse Hessian, with no new evaluation
/// at the start. Iterations and evaluations keep counting from `from`'s, so `opts.max_iter`
/// bounds the total. Used by the grid screen, which runs every start for a few iterations,
/// abandons the hopeless ones and resumes the rest.
pub fn resume<F>(f: F, from: &Outcome, opts: &Options) -> Outcome
where
    F: FnMut(&[f64], &mut [f64]) -> f64,
{
    if from.termination == Termination::NonFinite {
        return from.clone();
    }
    let n = from.x.len();
    let (h, h_is_identity) = if from.inv_hessian.len() == n * n {
        let is_id = from.inv_hessian == identity(n);
        (from.inv_hessian.clone(), is_id)
    } else {
        (identity(n), true)
    };
    run(
        f,
        from.x.clone(),
        from.f,
        from.grad.clone(),
        h,
        h_is_identity,
        from.iterations,
        from.evaluations,
        opts,
    )
}

/// The BFGS iterations from a point with known value, gradient and inverse Hessian.
#[allow(clippy::too_many_arguments)]
fn run<F>(
    mut f: F,
    mut x: Vec<f64>,
    mut fx: f64,
    mut g: Vec<f64>,
    mut h: Vec<f64>,
    mut h_is_identity: bool,
    mut iter: usize,
    mut evals: usize,
    opts: &Options,
) -> Outcome
where
    F: FnMut(&[f64], &mut [f64]) -> f64,
{
    let n = x.len();
    let mut p = vec![0.0; n];
    let (mut s, mut y, mut hy) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    let mut ls = LineSearch::new(n);
    let termination = loop {
        if inf_norm(&g) <= opts.gtol {
            break Termination::Converged;
        }
        if iter >= opts.max_iter {
            break Termination::IterationLimit;
        }
        iter += 1;
        // p = -H g
        for i in 0..n {
            p[i] = -dot(&h[i * n..(i + 1) * n], &g);
        }
        let mut dphi0 = dot(&g, &p);
        if !(dphi0 < 0.0) {
            h = identity(n);
            h_is_identity = true;
            for i in 0..n {
                p[i] = -g[i];
            }
            dphi0 = -dot(&g, &g);
        }
        let step0 = if h_is_identity {
            (1.0 / inf_norm(&p)).min(1.0)
        } else {
            1.0
        };
        let found = ls.search(&mut f, &x, fx, &p, dphi0, step0, &mut evals);
        let Some(alpha) = found else {
            if !h_is_identity {
                // Restart from steepest descent once before giving up.
                h = identity(n);
                h_is_identity = true;
                continue;
            }
            break if inf_norm(&g) <= opts.gtol_stalled {
                Termination::Converged
            } else {
                Termination::LineSearchFailed
            };
        };
        let _ = alpha;
        // s = x_new - x, y = g_new - g
        for i in 0..n {
            s[i] = ls.x_best[i] - x[i];
            y[i] = ls.g_best[i] - g[i];
        }
        let f_new = ls.f_best;
        let sy = dot(&s, &y);
        let yy = dot(&y, &y);
        if sy > 1e-14 * dot(&s, &s).sqrt() * yy.sqrt() && sy > 0.0 {
            if h_is_identity {
                let scale = sy / yy;
                for i in 0..n {
                    h[i * n + i] = scale;
                }
                h_is_identity = false;
            }
            bfgs_update(&mut h, &s, &y, sy, &mut hy);
        }
        let no_progress = f_new >= fx;
        let fx_prev = fx;
        x.copy_from_slice(&ls.x_best);
        g.copy_from_slice(&ls.g_best);
        fx = f_new;
        if no_progress && inf_norm(&g) <= opts.gtol_stalled {
            break Termination::Converged;
        }
        if opts.ftol_rel > 0.0 && fx_prev - fx <= opts.ftol_rel * fx_prev.abs() {
            break Termination::Stalled;
        }
    };
    Outcome {
        x,
        f: fx,
        grad: g,
        termination,
        iterations: iter,
        evaluations: evals,
        inv_hessian: h,
    }
}

fn identity(n: usize) -> Vec<f64> {
    let mut h = vec![0.0; n * n];
    for i in 0..n {
        h[i * n + i] = 1.0;
    }
    h
}

/// H <- (I - rho s y') H (I - rho y s') + rho s s', rho = 1 / (y's) (Nocedal & Wright Eq. 6.17).
/// `hy` is scratch space of `n` values.
fn bfgs_update(h: &mut [f64], s: &[f64], y: &[f64], sy: f64, hy: &mut [f64]) {
    let n = s.len();
    let rho = 1.0 / sy;
    // hy = H y, yhy = y' H y
    for i in 0..n {
        hy[i] = dot(&h[i * n..(i + 1) * n], y);
    }
    let yhy = dot(y, hy);
    // H + rho^2 (y'Hy) s s' + rho s s' - rho (H y s' + s y' H)
    for i in 0..n {
        for j in 0..n {
            h[i * n + j] +=
                (rho * rho * yhy + rho) * s[i] * s[j] - rho * (hy[i] * s[j] + s[i] * hy[j]);
        }
    }
}

struct LineSearch {
    x_trial: Vec<f64>,
    g_trial: Vec<f64>,
    x_best: Vec<f64>,
    g_best: Vec<f64>,
    f_best: f64,
    x_lo: Vec<f64>,
    g_lo: Vec<f64>,
}

const C1: f64 = 1e-4;
const C2: f64 = 0.9;

impl LineSearch {
    fn new(n: usize) -> Self {
        LineSearch {
            x_trial: vec![0.0; n],
            g_trial: vec![0.0; n],
            x_best: vec![0.0; n],
            g_best: vec![0.0; n],
            f_best: f64::INFINITY,
            x_lo: vec![0.0; n],
            g_lo: vec![0.0; n],
        }
    }

    /// Evaluate phi(alpha) and phi'(alpha) into the trial buffers.
    fn eval<F: FnMut(&[f64], &mut [f64]) -> f64>(
        &mut self,
        f: &mut F,
        x: &[f64],
        p: &[f64],
        alpha: f64,
        evals: &mut usize,
    ) -> (f64, f64) {
        for i in 0..x.len() {
            self.x_trial[i] = x[i] + alpha * p[i];
        }
        let v = f(&self.x_trial, &mut self.g_trial);
        *evals += 1;
        let d = dot(&self.g_trial, p);
        if v.is_finite() && d.is_finite() {
            (v, d)
        } else {
            (f64::INFINITY, f64::NAN)
        }
    }

    fn accept_trial(&mut self, v: f64) {
        self.x_best.copy_from_slice(&self.x_trial);
        self.g_best.copy_from_slice(&self.g_trial);
        self.f_best = v;
    }

    /// Algorithm 3.5 of Nocedal & Wright. On success the accepted point is in `x_best`,
    /// `g_best`, `f_best`. Returns `None` when no step lowers the objective.
    #[allow(clippy::too_many_arguments)]
    fn search<F: FnMut(&[f64], &mut [f64]) -> f64>(
        &mut self,
        f: &mut F,
        x: &[f64],
        f0: f64,
        p: &[f64],
        d0: f64,
        step0: f64,
        evals: &mut usize,
    ) -> Option<f64> {
        let (mut a_prev, mut f_prev, mut d_prev) = (0.0, f0, d0);
        let mut a = step0;
        // The lowest point seen that satisfies the sufficient-decrease condition.
        let mut fallback: Option<(f64, f64)> = None;
        for i in 0..40 {
            let (fa, da) = self.eval(f, x, p, a, evals);
            if fa > f0 + C1 * a * d0 || (i > 0 && fa >= f_prev) {
                return self.zoom(
                    f,
                    x,
                    f0,
                    p,
                    d0,
                    (a_prev, f_prev, d_prev),
                    (a, fa, da),
                    fallback,
                    evals,
                );
            }
            if da.abs() <= -C2 * d0 {
                self.accept_trial(fa);
                return Some(a);
            }
            if fa < f0 {
                self.x_lo.copy_from_slice(&self.x_trial);
                self.g_lo.copy_from_slice(&self.g_trial);
                fallback = Some((a, fa));
            }
            if da >= 0.0 {
                return self.zoom(
                    f,
                    x,
                    f0,
                    p,
                    d0,
                    (a, fa, da),
                    (a_prev, f_prev, d_prev),
                    fallback,
                    evals,
                );
            }
            a_prev = a;
            f_prev = fa;
            d_prev = da;
            a *= 4.0;
        }
        self.use_fallback(fallback)
    }

    fn use_fallback(&mut self, fallback: Option<(f64, f64)>) -> Option<f64> {
        let (a, fa) = fallback?;
        self.x_best.copy_from_slice(&self.x_lo);
        self.g_best.copy_from_slice(&self.g_lo);
        self.f_best = fa;
        Some(a)
    }

    /// Algorithm 3.6 (zoom) with safeguarded cubic interpolation.
    #[allow(clippy::too_many_arguments)]
    fn zoom<F: FnMut(&[f64], &mut [f64]) -> f64>(
        &mut self,
        f: &mut F,
        x: &[f64],
        f0: f64,
        p: &[f64],
        d0: f64,
        lo: (f64, f64, f64),
        hi: (f64, f64, f64),
        mut fallback: Option<(f64, f64)>,
        evals: &mut usize,
    ) -> Option<f64> {
        let (mut a_lo, mut f_lo, mut d_lo) = lo;
        let (mut a_hi, mut f_hi, mut d_hi) = hi;
        for _ in 0..30 {
            let width = (a_hi - a_lo).abs();
            if width <= 1e-10 * a_lo.abs().max(a_hi.abs()) || width == 0.0 {
                break;
            }
            let a = interpolate(a_lo, f_lo, d_lo, a_hi, f_hi, d_hi);
            let (fa, da) = self.eval(f, x, p, a, evals);
            // Differences at the level of rounding carry no information: stop bracketing.
            if (fa - f0).abs() <= 4.0 * f64::EPSILON * f0.abs()
                && (f_hi - f0).abs() <= 4.0 * f64::EPSILON * f0.abs()
            {
                if fa < f0 && fallback.is_none_or(|(_, fb)| fa < fb) {
                    self.x_lo.copy_from_slice(&self.x_trial);
                    self.g_lo.copy_from_slice(&self.g_trial);
                    fallback = Some((a, fa));
                }
                break;
            }
            if fa > f0 + C1 * a * d0 || fa >= f_lo {
                a_hi = a;
                f_hi = fa;
                d_hi = da;
            } else {
                if da.abs() <= -C2 * d0 {
                    self.accept_trial(fa);
                    return Some(a);
                }
                if fallback.is_none_or(|(_, fb)| fa < fb) {
                    self.x_lo.copy_from_slice(&self.x_trial);
                    self.g_lo.copy_from_slice(&self.g_trial);
                    fallback = Some((a, fa));
                }
                if da * (a_hi - a_lo) >= 0.0 {
                    a_hi = a_lo;
                    f_hi = f_lo;
                    d_hi = d_lo;
                }
                a_lo = a;
                f_lo = fa;
                d_lo = da;
            }
        }
        self.use_fallback(fallback)
    }
}

/// Minimiser of the cubic through (a, fa, da) and (b, fb, db) (Nocedal & Wright Eq. 3.59),
/// kept at least 10% of the interval away from either end; bisection when not finite.
fn interpolate(a: f64, fa: f64, da: f64, b: f64, fb: f64, db: f64) -> f64 {
    let (lo, hi) = (a.min(b), a.max(b));
    let margin = 0.1 * (hi - lo);
    let mid = 0.5 * (a + b);
    if !(fa.is_finite() && fb.is_finite() && da.is_finite() && db.is_finite()) {
        return mid;
    }
    let d1 = da + db - 3.0 * (fa - fb) / (a - b);
    let disc = d1 * d1 - da * db;
    if disc < 0.0 {
        return mid;
    }
    let d2 = (b - a).signum() * disc.sqrt();
    let t = b - (b - a) * (db + d2 - d1) / (db - da + 2.0 * d2);
    if t.is_finite() {
        t.clamp(lo + margin, hi - margin)
    } else {
        mid
    }
}

#[cfg(test)]
mod tests {
    /// `name` is the serde name a fit's JSON writes.
    #[test]
    fn termination_names_are_their_serde_names() {
        for t in [
            Termination::Converged,
            Termination::IterationLimit,
            Termination::LineSearchFailed,
            Termination::NonFinite,
            Termination::Stalled,
        ] {
            assert_eq!(serde_json::to_value(t).unwrap(), t.name());
        }
    }

    use super::*;

    #[test]
    fn rosenbrock() {
        let f = |x: &[f64], g: &mut [f64]| {
            let (a, b) = (x[0], x[1]);
            g[0] = -2.0 * (1.0 - a) - 400.0 * a * (b - a * a);
            g[1] = 200.0 * (b - a * a);
            (1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2)
        };
        let out = minimize(f, &[-1.2, 1.0], &Options::default());
        assert_eq!(out.termination, Termination::Converged);
        assert!(
            (out.x[0] - 1.0).abs() < 1e-8 && (out.x[1] - 1.0).abs() < 1e-8,
            "{:?}",
            out.x
        );
    }

    #[test]
    fn iteration_limit_is_reported() {
        let f = |x: &[f64], g: &mut [f64]| {
            let (a, b) = (x[0], x[1]);
            g[0] = -2.0 * (1.0 - a) - 400.0 * a * (b - a * a);
            g[1] = 200.0 * (b - a * a);
            (1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2)
        };
        let out = minimize(
            f,
            &[-1.2, 1.0],
            &Options {
                max_iter: 3,
                ..Options::default()
            },
        );
        assert_eq!(out.termination, Termination::IterationLimit);
    }

    #[test]
    fn non_finite_start_is_reported() {
        let f = |_: &[f64], g: &mut [f64]| {
            g[0] = 0.0;
            f64::NAN
        };
        let out = minimize(f, &[0.0], &Options::default());
        assert_eq!(out.termination, Termination::NonFinite);
    }
}
