//! Starting points for the optimiser.
//!
//! - [`chinchilla_grid`]: the 4500-point grid of Hoffmann et al. (2022, App. D.2):
//!   alpha, beta in {0, 0.5, ..., 2}, e in {-1, -0.5, ..., 1}, a, b in {0, 5, ..., 25}.
//! - [`varpro_seeds`]: variable projection (Golub & Pereyra 1973). For fixed exponents the
//!   law is linear in (E, A, B) >= 0, so a non-negative least-squares solve gives the best
//!   coefficients; scanning a grid of exponents gives a profile whose distinct low basins
//!   seed a few BFGS polishes of the true objective.

use rayon::prelude::*;

use super::bfgs;
use super::objective::{ETerm, Problem, Space};

/// Screening stop for the grid: a start stops when an iteration lowers the objective by less
/// than this fraction of its value. This is scipy's L-BFGS-B stop in effect (an absolute
/// decrease below 2.2e-9, about 2.2e-6 of Chinchilla's objective on Epoch's runs).
pub const SCREEN_FTOL_REL: f64 = 2.2e-6;

/// Screening gradient stop for the grid (scipy L-BFGS-B's default `pgtol`).
pub const SCREEN_GTOL: f64 = 1e-5;

/// After this many iterations every grid start is compared with the best objective so far.
pub const ABANDON_AFTER: usize = 10;

/// A start whose objective after [`ABANDON_AFTER`] iterations is above this multiple of the
/// best objective known then (see [`screen`]) is abandoned: it is in another basin and its
/// descent would not change the answer.
pub const ABANDON_FACTOR: f64 = 10.0;

/// The starts still running after [`ABANDON_AFTER`] iterations with the lowest objectives are
/// run to their end before any start is abandoned (the pilots); their ends set the best
/// objective known, as "the best so far" does when scipy's starts run one after another.
pub const PILOTS: usize = 4;

/// How the grid's starts were screened, recorded in a fit's `starts.screen`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ScreenReport {
    /// The rule in words.
    pub rule: String,
    /// [`SCREEN_FTOL_REL`].
    pub ftol_rel: f64,
    /// [`SCREEN_GTOL`].
    pub gtol: f64,
    /// [`ABANDON_AFTER`].
    pub abandon_after: usize,
    /// [`ABANDON_FACTOR`].
    pub abandon_factor: f64,
    /// Starts run to their end before any was abandoned ([`PILOTS`], fewer when fewer were
    /// still running).
    #[serde(default)]
    pub pilots: usize,
    /// The best objective known when starts were abandoned: the lowest of the pilots' ends
    /// and of the starts that had already ended. Starts above [`ABANDON_FACTOR`] times this
    /// were abandoned (null when no objective was finite).
    #[serde(default)]
    pub abandon_reference: Option<f64>,
    /// Objective-and-gradient evaluations of all screened starts.
    pub evaluations: usize,
    /// Of those, evaluations spent on starts that were later abandoned.
    pub evaluations_abandoned: usize,
    /// Best screened starts then polished to full convergence.
    pub polished: usize,
    /// Evaluations of the polishing runs.
    pub polish_evaluations: usize,
}

impl ScreenReport {
    /// The report of a screen (`polished` and `polish_evaluations` filled in by the caller).
    pub fn new(screen: &Screen) -> ScreenReport {
        let screened = &screen.starts;
        ScreenReport {
            rule: format!(
                "every start runs BFGS until an iteration gains less than {SCREEN_FTOL_REL:e} of \
                 the objective or the largest gradient component is below {SCREEN_GTOL:e} \
                 (scipy L-BFGS-B's default stops); after {ABANDON_AFTER} iterations the \
                 {PILOTS} lowest starts still running run to their end, then a start still \
                 running above {ABANDON_FACTOR} times the lowest objective known (those ends \
                 and the starts already ended) is abandoned; the best screened starts are \
                 polished to full convergence"
            ),
            ftol_rel: SCREEN_FTOL_REL,
            gtol: SCREEN_GTOL,
            abandon_after: ABANDON_AFTER,
            abandon_factor: ABANDON_FACTOR,
            pilots: screen.pilots,
            abandon_reference: screen.reference.is_finite().then_some(screen.reference),
            evaluations: screened.iter().map(|s| s.outcome.evaluations).sum(),
            evaluations_abandoned: screened
                .iter()
                .filter(|s| s.abandoned)
                .map(|s| s.outcome.evaluations)
                .sum(),
            polished: 0,
            polish_evaluations: 0,
        }
    }
}

/// One screened start: the optimiser's outcome and whether it was abandoned.
#[derive(Debug, Clone)]
pub struct Screened {
    /// Where the start ended.
    pub outcome: bfgs::Outcome,
    /// True when the start was stopped after [`ABANDON_AFTER`] iterations for being above
    /// [`ABANDON_FACTOR`] times the best objective known then (see [`screen`]).
    pub abandoned: bool,
}

impl Screened {
    /// How the start ended, as written in a fit's `starts.terminations`: `abandoned`, or the
    /// optimiser's termination (`converged`, `stalled`, ...).
    pub fn ending(&self) -> String {
        if self.abandoned {
            return "abandoned".into();
        }
        self.outcome.termination.name().into()
    }
}

/// The outcome of [`screen`]: every start's end, in the order of the starts, and what the
/// abandoning was measured against.
#[derive(Debug, Clone)]
pub struct Screen {
    /// Every start's end.
    pub starts: Vec<Screened>,
    /// The pilots run to their end before abandoning.
    pub pilots: usize,
    /// The lowest objective known when starts were abandoned (infinite when none was finite).
    pub reference: f64,
}

/// Screen many starts as scipy's L-BFGS-B would stop them, abandoning hopeless ones.
///
/// Every start runs BFGS with the screening stops ([`SCREEN_FTOL_REL`], [`SCREEN_GTOL`]) for
/// at most [`ABANDON_AFTER`] iterations. Of the starts still running, the [`PILOTS`] with the
/// lowest objective (ties by order) are resumed to their end. Let `f*` be the lowest
/// objective then known: the pilots' ends and the starts that had already ended. A start
/// still running whose objective exceeds [`ABANDON_FACTOR`] `f*` is abandoned, the others are
/// resumed (same point, gradient and inverse Hessian, so a resumed start is exactly the
/// uninterrupted run) up to `max_iter`. This is the rule "stop a start above ten times the
/// best so far" of starts run one after another, made independent of the order: every
/// threshold is taken over all starts at once, so the result does not depend on the number
/// of threads or their timing.
///
/// `f` evaluates the objective and gradient; `max_iter` bounds each start's iterations.
pub fn screen<F>(f: F, starts: &[Vec<f64>], max_iter: usize) -> Screen
where
    F: Fn(&[f64], &mut [f64]) -> f64 + Sync,
{
    let opts = bfgs::Options {
        max_iter,
        gtol: SCREEN_GTOL,
        gtol_stalled: SCREEN_GTOL,
        ftol_rel: SCREEN_FTOL_REL,
    };
    let first = bfgs::Options {
        max_iter: ABANDON_AFTER.min(max_iter),
        ..opts
    };
    let mut early: Vec<bfgs::Outcome> = starts
        .par_iter()
        .map(|x0| bfgs::minimize(&f, x0, &first))
        .collect();
    let running = |o: &bfgs::Outcome| {
        o.termination == bfgs::Termination::IterationLimit && o.iterations < max_iter
    };
    let mut pilots: Vec<usize> = (0..early.len())
        .filter(|&i| running(&early[i]) && early[i].f.is_finite())
        .collect();
    pilots.sort_by(|&i, &j| early[i].f.total_cmp(&early[j].f).then(i.cmp(&j)));
    pilots.truncate(PILOTS);
    let ends: Vec<bfgs::Outcome> = pilots
        .par_iter()
        .map(|&i| bfgs::resume(&f, &early[i], &opts))
        .collect();
    let mut is_pilot = vec![false; early.len()];
    for (&i, end) in pilots.iter().zip(ends) {
        early[i] = end;
        is_pilot[i] = true;
    }
    let reference = early
        .iter()
        .zip(&is_pilot)
        .filter(|(o, &p)| p || !running(o))
        .map(|(o, _)| o.f)
        .filter(|v| v.is_finite())
        .fold(f64::INFINITY, f64::min);
    let threshold = ABANDON_FACTOR * reference;
    let starts = early
        .into_par_iter()
        .zip(is_pilot)
        .map(|(o, pilot)| {
            if pilot || !running(&o) {
                return Screened {
                    outcome: o,
                    abandoned: false,
                };
            }
            if o.f > threshold {
                return Screened {
                    outcome: o,
                    abandoned: true,
                };
            }
            Screened {
                outcome: bfgs::resume(&f, &o, &opts),
                abandoned: false,
            }
        })
        .collect();
    Screen {
        starts,
        pilots: pilots.len(),
        reference,
    }
}

/// The 4500 starting points of Hoffmann et al. (2022, App. D.2), as free-parameter vectors
/// `[e, a_1..a_K, alpha_1..alpha_K]` (e omitted when E is not free). For a single-term law
/// the same axes give 5 x 5 x 6 = 150 points.
pub fn chinchilla_grid(problem: &Problem) -> Vec<Vec<f64>> {
    let exps: Vec<f64> = (0..5).map(|i| 0.5 * i as f64).collect();
    let es: Vec<f64> = (0..5).map(|i| -1.0 + 0.5 * i as f64).collect();
    let coefs: Vec<f64> = (0..6).map(|i| 5.0 * i as f64).collect();
    let free_e = problem.e_term == ETerm::Free;
    let e_axis: Vec<Option<f64>> = if free_e {
        es.iter().map(|&e| Some(e)).collect()
    } else {
        vec![None]
    };
    let mut out = Vec::new();
    match problem.terms() {
        2 => {
            for &alpha in &exps {
                for &beta in &exps {
                    for &e in &e_axis {
                        for &a in &coefs {
                            for &b in &coefs {
                                let mut v: Vec<f64> = e.into_iter().collect();
                                v.extend([a, b, alpha, beta]);
                                out.push(v);
                            }
                        }
                    }
                }
            }
        }
        _ => {
            for &alpha in &exps {
                for &e in &e_axis {
                    for &a in &coefs {
                        let mut v: Vec<f64> = e.into_iter().collect();
                        v.extend([a, alpha]);
                        out.push(v);
                    }
                }
            }
        }
    }
    out
}

/// A seed from the variable-projection scan.
#[derive(Debug, Clone)]
pub struct Seed {
    /// Free-parameter vector.
    pub theta: Vec<f64>,
    /// The true objective there.
    pub objective: f64,
}

/// Exponent grid of the scan: geometric from 0.02 to 3.
/// The range of exponents the paper's grid of starts covers (alpha, beta in {0, 0.5, ..., 2}).
pub const GRID_EXPONENTS: [f64; 2] = [0.0, 2.0];

/// The range of exponents the variable-projection profile scans (the ends of the grid of
/// `exponent_grid`).
pub const VARPRO_EXPONENTS: [f64; 2] = [0.02, 3.0];

/// The share of the smallest loss a seed whose profile put E at 0 starts with as E, taken
/// from the term with the smaller exponent (see [`varpro_seeds`]).
pub const SEED_E_SHARE: f64 = 0.3;

fn exponent_grid(points: usize) -> Vec<f64> {
    let (lo, hi) = (0.02f64.ln(), 3.0f64.ln());
    (0..points)
        .map(|i| (lo + (hi - lo) * i as f64 / (points - 1) as f64).exp())
        .collect()
}

/// Seeds from variable projection: for each point of an exponent grid, the exact
/// non-negative weighted least-squares coefficients (weights 1/L^2 for log-space objectives,
/// so residuals approximate log residuals); then the true objective at the best profile
/// points and the profile's local minima; then up to `max_seeds` seeds from distinct basins,
/// best first. Where the profile put E at 0, the seed starts with E at [`SEED_E_SHARE`] of the
/// smallest loss, taken from the term with the smaller exponent so the weighted mean
/// prediction is unchanged: E = 0 is a flat floor of ln E that BFGS would otherwise climb
/// for a hundred evaluations (the 8 seeds of Epoch's runs polish in 718 evaluations instead
/// of 1,098, to the same optimum).
pub fn varpro_seeds(problem: &Problem, max_seeds: usize) -> Vec<Seed> {
    let k = problem.terms();
    let m = problem.runs();
    let npts = if k == 2 { 28 } else { 120 };
    let grid = exponent_grid(npts);
    // Run weights times 1/L^2 (log space: relative residuals approximate log residuals).
    let w: Vec<f64> = match problem.objective.space {
        Space::Log => problem
            .loss()
            .iter()
            .zip(problem.weights())
            .map(|(l, wt)| wt / (l * l))
            .collect(),
        Space::Linear => problem.weights().to_vec(),
    };
    let e_fixed = match problem.e_term {
        ETerm::Fixed { ln_e } => ln_e.exp(),
        _ => 0.0,
    };
    let free_e = problem.e_term == ETerm::Free;
    let y: Vec<f64> = problem.loss().iter().map(|l| l - e_fixed).collect();
    let min_loss = problem.loss().iter().cloned().fold(f64::INFINITY, f64::min);
    // Columns u_{j,q,i} = x_{j,i}^-grid[q], their weighted sums and (two terms) the weighted
    // cross products of every pair of grid points. Each sum accumulates run after run in
    // order; the loops run over runs outside and grid points inside, so the accumulators of
    // different grid points are independent lanes for the compiler (the same operations in
    // the same order as a loop over runs per sum, without its chain of dependent additions).
    let wsum: f64 = w.iter().sum();
    let wy: f64 = w.iter().zip(&y).map(|(a, b)| a * b).sum();
    let wyy: f64 = w.iter().zip(&y).map(|(a, b)| a * b * b).sum();
    /// Per grid point q of one term: sum_i w_i u_qi, sum_i w_i u_qi^2, sum_i w_i u_qi y_i and
    /// max_i u_qi (one array per sum, so the compiler runs the grid points as lanes).
    #[derive(Clone)]
    struct Sums {
        wu: Vec<f64>,
        wuu: Vec<f64>,
        wuy: Vec<f64>,
        umax: Vec<f64>,
    }
    let zero = vec![0.0f64; npts];
    let mut sums = vec![
        Sums {
            wu: zero.clone(),
            wuu: zero.clone(),
            wuy: zero.clone(),
            umax: zero,
        };
        k
    ];
    let mut cross: Vec<f64> = vec![0.0; if k == 2 { npts * npts } else { 0 }];
    let mut u = vec![vec![0.0f64; npts]; k];
    let mut wu1 = vec![0.0f64; npts];
    for i in 0..m {
        let wi = w[i];
        for j in 0..k {
            let lx = problem.ln_x(j)[i];
            let uj = &mut u[j];
            for (q, &p) in grid.iter().enumerate() {
                uj[q] = (-p * lx).exp();
            }
            let sj = &mut sums[j];
            for (q, &v) in uj.iter().enumerate() {
                sj.wu[q] += wi * v;
                sj.wuu[q] += wi * v * v;
                sj.wuy[q] += wi * v * y[i];
                sj.umax[q] = sj.umax[q].max(v);
            }
        }
        if k == 2 {
            let (u1, u2) = (&u[0], &u[1]);
            for q1 in 0..npts {
                wu1[q1] = wi * u1[q1];
            }
            for (q1, row) in cross.chunks_exact_mut(npts).enumerate() {
                let a = wu1[q1];
                for (c, &b) in row.iter_mut().zip(u2) {
                    *c += a * b;
                }
            }
        }
    }
    // Profile over the grid: (sse, grid indices, coefficients [E, A_1.., ]).
    // Rows of the grid in parallel, collected in order.
    let q2max = if k == 2 { npts } else { 1 };
    let profile: Vec<(f64, [usize; 2], [f64; 3])> = (0..npts * q2max)
        .into_par_iter()
        .map(|at| {
            let (q1, q2) = (at / q2max, at % q2max);
            // Columns in order: [1 (if E free), u_1, u_2 (if K = 2)].
            let mut gram = [[0.0f64; 3]; 3];
            let mut rhs = [0.0f64; 3];
            let mut idx = 0;
            let mut map = [usize::MAX; 3]; // 0: E, 1: A_1, 2: A_2
            if free_e {
                gram[0][0] = wsum;
                rhs[0] = wy;
                map[0] = 0;
                idx = 1;
            }
            let s1 = &sums[0];
            let i1 = idx;
            gram[i1][i1] = s1.wuu[q1];
            rhs[i1] = s1.wuy[q1];
            map[1] = i1;
            if free_e {
                gram[0][i1] = s1.wu[q1];
                gram[i1][0] = s1.wu[q1];
            }
            idx += 1;
            if k == 2 {
                let s2 = &sums[1];
                let i2 = idx;
                gram[i2][i2] = s2.wuu[q2];
                rhs[i2] = s2.wuy[q2];
                map[2] = i2;
                if free_e {
                    gram[0][i2] = s2.wu[q2];
                    gram[i2][0] = s2.wu[q2];
                }
                let cross = cross[q1 * npts + q2];
                gram[i1][i2] = cross;
                gram[i2][i1] = cross;
                idx += 1;
            }
            let (sse, c) = nnls_small(&gram, &rhs, wyy, idx);
            let mut coef = [0.0; 3];
            for r in 0..3 {
                if map[r] != usize::MAX {
                    coef[r] = c[map[r]];
                }
            }
            (sse, [q1, q2], coef)
        })
        .collect();
    // Shortlist: best profile points and local minima of the profile.
    let at = |q1: usize, q2: usize| profile[q1 * q2max + q2].0;
    let mut shortlist: Vec<usize> = Vec::new();
    let mut order: Vec<usize> = (0..profile.len()).collect();
    order.sort_by(|&i, &j| profile[i].0.total_cmp(&profile[j].0));
    shortlist.extend(order.iter().take(12));
    // The best point of each block of the grid, so seeds come from across the exponent
    // range even when the profile has a single basin.
    let block = 7;
    for b1 in (0..npts).step_by(block) {
        for b2 in (0..q2max).step_by(block) {
            let best = (b1..(b1 + block).min(npts))
                .flat_map(|q1| (b2..(b2 + block).min(q2max)).map(move |q2| q1 * q2max + q2))
                .min_by(|&i, &j| profile[i].0.total_cmp(&profile[j].0));
            if let Some(i) = best {
                if !shortlist.contains(&i) {
                    shortlist.push(i);
                }
            }
        }
    }
    for (i, p) in profile.iter().enumerate() {
        let [q1, q2] = p.1;
        let mut is_min = true;
        for d1 in -1i64..=1 {
            for d2 in -1i64..=1 {
                let (r1, r2) = (q1 as i64 + d1, q2 as i64 + d2);
                if (d1, d2) == (0, 0) || r1 < 0 || r2 < 0 || r1 >= npts as i64 || r2 >= q2max as i64
                {
                    continue;
                }
                if at(r1 as usize, r2 as usize) < p.0 {
                    is_min = false;
                }
            }
        }
        if is_min && !shortlist.contains(&i) {
            shortlist.push(i);
        }
    }
    // Turn shortlisted profile points into parameter vectors and score them.
    let mut scored: Vec<(f64, [usize; 2], Vec<f64>)> = shortlist
        .into_par_iter()
        .map(|i| {
            let (_, q, mut coef) = profile[i];
            // E at 0 (the profile's NNLS clamped it): the term with the smaller exponent
            // stands in for a constant here, and E = 0 is a flat floor in ln E that BFGS
            // climbs a fraction of a unit at a time. Move SEED_E_SHARE of the smallest loss
            // from that term to E, keeping the weighted mean prediction (weights as the
            // profile's): the same fit in the profile's collinear direction, from a point
            // where ln E has a gradient.
            if free_e && coef[0] < 1e-3 * min_loss {
                let j = (0..k)
                    .min_by(|&u, &v| grid[q[u]].total_cmp(&grid[q[v]]))
                    .expect("at least one term");
                let mean_u = sums[j].wu[q[j]] / wsum;
                let e = SEED_E_SHARE * min_loss;
                if coef[1 + j] * mean_u > 2.0 * e {
                    coef[0] = e;
                    coef[1 + j] -= e / mean_u;
                }
            }
            let mut theta = Vec::with_capacity(problem.dim());
            if free_e {
                theta.push(coef[0].max(1e-3 * min_loss).ln());
            }
            for j in 0..k {
                let floor = 1e-3 * min_loss / sums[j].umax[q[j]];
                theta.push(coef[1 + j].max(floor).ln());
            }
            for &qj in q.iter().take(k) {
                theta.push(grid[qj]);
            }
            let f = problem.value(&theta);
            (if f.is_finite() { f } else { f64::INFINITY }, q, theta)
        })
        .collect();
    scored.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut seeds: Vec<(Seed, [usize; 2])> = Vec::new();
    for (f, q, theta) in scored {
        if seeds.len() >= max_seeds {
            break;
        }
        let far = seeds.iter().all(|(_, s)| {
            let d = (q[0] as i64 - s[0] as i64)
                .abs()
                .max((q[1] as i64 - s[1] as i64).abs());
            d >= 3
        });
        if far && f.is_finite() {
            seeds.push((
                Seed {
                    theta,
                    objective: f,
                },
                q,
            ));
        }
    }
    seeds.into_iter().map(|(s, _)| s).collect()
}

/// Exact non-negative least squares for up to 3 unknowns from the normal equations, by
/// enumerating supports: the NNLS solution is the feasible unconstrained solution on some
/// support with the smallest residual. Returns (weighted SSE, coefficients).
fn nnls_small(gram: &[[f64; 3]; 3], rhs: &[f64; 3], yy: f64, p: usize) -> (f64, [f64; 3]) {
    let mut best = (yy, [0.0; 3]);
    // The full support first: when its solution is feasible it is the NNLS solution (the
    // problem is convex and that point satisfies its optimality conditions), and the others
    // need not be solved.
    let full = (1u32 << p) - 1;
    for mask in std::iter::once(full).chain(1..full) {
        let mut support_buf = [0usize; 3];
        let mut s = 0;
        for i in (0..p).filter(|i| mask & (1 << i) != 0) {
            support_buf[s] = i;
            s += 1;
        }
        let support = &support_buf[..s];
        // Scale to unit diagonal for conditioning.
        let mut d = [0.0f64; 3];
        for (r, &i) in support.iter().enumerate() {
            d[r] = gram[i][i].sqrt();
        }
        if d[..s].iter().any(|v| !(v.is_finite() && *v > 0.0)) {
            continue;
        }
        let mut a = [[0.0f64; 3]; 3];
        let mut b = [0.0f64; 3];
        for (r, &i) in support.iter().enumerate() {
            b[r] = rhs[i] / d[r];
            for (c, &j) in support.iter().enumerate() {
                a[r][c] = gram[i][j] / (d[r] * d[c]);
            }
        }
        let Some(x) = solve_small(&mut a, &mut b, s) else {
            continue;
        };
        if x[..s].iter().any(|v| !(*v > 0.0)) {
            continue;
        }
        let mut coef = [0.0; 3];
        let mut fit = 0.0;
        for (r, &i) in support.iter().enumerate() {
            coef[i] = x[r] / d[r];
            fit += coef[i] * rhs[i];
        }
        let sse = yy - fit;
        if mask == full {
            return (sse, coef);
        }
        if sse < best.0 {
            best = (sse, coef);
        }
    }
    best
}

/// Gaussian elimination with partial pivoting on an s x s system (s <= 3).
#[allow(clippy::needless_range_loop)]
fn solve_small(a: &mut [[f64; 3]; 3], b: &mut [f64; 3], s: usize) -> Option<[f64; 3]> {
    for col in 0..s {
        let piv = (col..s).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[piv][col].abs() < 1e-13 {
            return None;
        }
        a.swap(col, piv);
        b.swap(col, piv);
        for r in col + 1..s {
            let f = a[r][col] / a[col][col];
            for c in col..s {
                a[r][c] -= f * a[col][c];
            }
            b[r] -= f * b[col];
        }
    }
    let mut x = [0.0; 3];
    for r in (0..s).rev() {
        let mut v = b[r];
        for c in r + 1..s {
            v -= a[r][c] * x[c];
        }
        x[r] = v / a[r][r];
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::objective::Objective;

    #[test]
    fn grid_has_4500_points() {
        let p = Problem::new(
            vec![vec![1.0], vec![1.0]],
            &[1.0],
            ETerm::Free,
            Objective::default(),
        );
        let g = chinchilla_grid(&p);
        assert_eq!(g.len(), 4500);
        assert!(g.contains(&vec![-1.0, 25.0, 0.0, 2.0, 0.5]));
    }

    /// Thirty runs on a Chinchilla-like law.
    fn thirty_runs() -> Problem {
        let n: Vec<f64> = (0..30).map(|i| 1e7 * 1.3f64.powi(i)).collect();
        let d: Vec<f64> = (0..30).map(|i| 1e9 * 1.3f64.powi((i * 11) % 30)).collect();
        let loss: Vec<f64> = n
            .iter()
            .zip(&d)
            .map(|(n, d)| 1.8 + 480.0 * n.powf(-0.34) + 2100.0 * d.powf(-0.37))
            .collect();
        Problem::new(
            vec![
                n.iter().map(|v| v.ln()).collect(),
                d.iter().map(|v| v.ln()).collect(),
            ],
            &loss,
            ETerm::Free,
            Objective::default(),
        )
    }

    /// Property: the screen (pilots, threshold, every start's end) is the same bits on one
    /// thread and on three.
    #[test]
    fn screen_is_the_same_on_any_number_of_threads() {
        let p = thirty_runs();
        let grid = chinchilla_grid(&p);
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| screen(|x, g| p.value_grad(x, g), &grid, 2000))
        };
        let (a, b) = (run(1), run(3));
        assert_eq!(a.reference.to_bits(), b.reference.to_bits());
        assert_eq!(a.pilots, b.pilots);
        for (s, t) in a.starts.iter().zip(&b.starts) {
            assert_eq!(s.abandoned, t.abandoned);
            assert_eq!(s.outcome.f.to_bits(), t.outcome.f.to_bits());
            assert_eq!(s.outcome.evaluations, t.outcome.evaluations);
        }
    }

    /// The screen runs every start, says how each ended, abandons only starts far above the
    /// best objective known after the pilots (itself an objective some start reached, so no
    /// lower than the best), and its best start polishes to the optimum of an unscreened BFGS
    /// run.
    #[test]
    fn screen_reports_every_start_and_keeps_the_optimum() {
        let p = thirty_runs();
        let grid = chinchilla_grid(&p);
        let sc = screen(|x, g| p.value_grad(x, g), &grid, 2000);
        let screened = &sc.starts;
        assert_eq!(screened.len(), grid.len());
        let best = screened
            .iter()
            .map(|s| s.outcome.f)
            .fold(f64::INFINITY, f64::min);
        assert_eq!(sc.pilots, PILOTS);
        assert!(sc.reference >= best && screened.iter().any(|s| s.outcome.f == sc.reference));
        assert!(screened.iter().any(|s| s.abandoned));
        for s in screened.iter().filter(|s| s.abandoned) {
            assert_eq!(s.ending(), "abandoned");
            assert_eq!(s.outcome.iterations, ABANDON_AFTER);
            assert!(s.outcome.f > ABANDON_FACTOR * sc.reference);
        }
        let r = ScreenReport::new(&sc);
        assert_eq!(r.pilots, PILOTS);
        assert_eq!(r.abandon_reference, Some(sc.reference));
        assert_eq!(
            r.evaluations,
            screened
                .iter()
                .map(|s| s.outcome.evaluations)
                .sum::<usize>()
        );
        let i = (0..screened.len())
            .min_by(|&a, &b| screened[a].outcome.f.total_cmp(&screened[b].outcome.f))
            .unwrap();
        let full = bfgs::Options::default();
        let polished = bfgs::minimize(|x, g| p.value_grad(x, g), &screened[i].outcome.x, &full);
        let direct = bfgs::minimize(|x, g| p.value_grad(x, g), &grid[i], &full);
        assert!(
            (polished.f - direct.f).abs() <= 1e-9 * direct.f.max(1e-12) + 1e-15,
            "{} vs {}",
            polished.f,
            direct.f
        );
    }

    #[test]
    fn nnls_clamps_negative_coefficient() {
        // y = 2 x1 exactly, with x2 anti-correlated: unconstrained LS is exact, NNLS too.
        let x1 = [1.0, 2.0, 3.0];
        let x2 = [3.0, 1.0, 0.5];
        let y = [2.0, 4.0, 6.0];
        let mut gram = [[0.0; 3]; 3];
        let mut rhs = [0.0; 3];
        let cols = [x1, x2];
        for r in 0..2 {
            for c in 0..2 {
                gram[r][c] = (0..3).map(|i| cols[r][i] * cols[c][i]).sum();
            }
            rhs[r] = (0..3).map(|i| cols[r][i] * y[i]).sum();
        }
        let yy: f64 = y.iter().map(|v| v * v).sum();
        let (sse, c) = nnls_small(&gram, &rhs, yy, 2);
        assert!(
            sse.abs() < 1e-9 && (c[0] - 2.0).abs() < 1e-9 && c[1].abs() < 1e-9,
            "{sse} {c:?}"
        );
        // y = -x2: best non-negative answer uses x1 only or nothing.
        let y2 = [-3.0, -1.0, -0.5];
        for r in 0..2 {
            rhs[r] = (0..3).map(|i| cols[r][i] * y2[i]).sum();
        }
        let yy2: f64 = y2.iter().map(|v| v * v).sum();
        let (_, c) = nnls_small(&gram, &rhs, yy2, 2);
        assert!(c.iter().all(|v| *v >= 0.0));
    }
}

#[cfg(test)]
mod scanned_range_tests {
    use super::*;

    #[test]
    fn scanned_ranges_match_the_grids() {
        let g = exponent_grid(28);
        assert!((g[0] - VARPRO_EXPONENTS[0]).abs() < 1e-12);
        assert!((g[27] - VARPRO_EXPONENTS[1]).abs() < 1e-12);
    }
}
