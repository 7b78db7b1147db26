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

    /// The penalty rho(r) and its derivative psi(r), in plain scalar form.
    pub fn rho_psi(&self, r: f64) -> (f64, f64) {
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
/// `e = ln E` and `a_k = ln A_k`. Each run carries a weight (1 by default; a bootstrap
/// replicate sets it to the number of times the run was drawn): the objective is
/// `sum_i w_i rho(r_i)`, or that divided by `sum_i w_i` for the mean.
///
/// Rows are stored padded to a multiple of [`LANES`] with zero-weight rows, so the kernel
/// runs on whole chunks that the compiler vectorises.
#[derive(Debug, Clone)]
pub struct Problem {
    ln_x: Vec<Vec<f64>>,
    ln_loss: Vec<f64>,
    loss: Vec<f64>,
    weight: Vec<f64>,
    n: usize,
    /// The irreducible term.
    pub e_term: ETerm,
    /// The objective.
    pub objective: Objective,
}

/// Rows per chunk of the evaluation kernel.
pub const LANES: usize = crate::fastmath::W;

/// `values` (n of them) followed by `fill` up to a whole number of chunks, allocated once at
/// its final length (a fit of 1e6 runs holds five such columns).
fn padded(values: impl Iterator<Item = f64>, n: usize, fill: f64) -> Vec<f64> {
    let len = n.next_multiple_of(LANES);
    let mut out = Vec::with_capacity(len);
    out.extend(values);
    out.resize(len, fill);
    out
}

fn pad(v: &[f64], fill: f64) -> Vec<f64> {
    padded(v.iter().copied(), v.len(), fill)
}

/// Calls `$self.$f::<$k.., HUBER, LOG>(args)` with the penalty and space of the objective as
/// compile-time flags: the one dispatch of every kernel (value, gradient and Hessian; AVX2
/// and portable).
macro_rules! with_penalty {
    ($self:ident, $f:ident, [$($k:tt),*], $($arg:expr),*) => {{
        let huber = matches!($self.objective.penalty, Penalty::Huber { .. });
        match (huber, $self.objective.space == Space::Log) {
            (true, true) => $self.$f::<$($k,)* true, true>($($arg),*),
            (true, false) => $self.$f::<$($k,)* true, false>($($arg),*),
            (false, true) => $self.$f::<$($k,)* false, true>($($arg),*),
            (false, false) => $self.$f::<$($k,)* false, false>($($arg),*),
        }
    }};
}

/// What every kernel pass reads from the free parameters: `a_k = ln A_k` and `alpha_k` of the
/// K terms, E in linear scale (0 when absent), Huber's delta (0 for squared error), and where
/// the terms start (`off`: 1 when E is free).
struct Pass<const K: usize> {
    a: [f64; K],
    al: [f64; K],
    e_lin: f64,
    delta: f64,
    off: usize,
}

/// The terms `w_k = exp(a_k - alpha_k ln x_k)` of four runs and their sum
/// `s = E + w_1 + ... + w_K` (added in that order), as every portable kernel forms them.
#[inline(always)]
#[allow(clippy::needless_range_loop)]
fn terms4<const K: usize>(
    p: &Pass<K>,
    lx: &[[f64; LANES]; K],
) -> ([[f64; LANES]; K], [f64; LANES]) {
    let mut w = [[0.0f64; LANES]; K];
    let mut s = [p.e_lin; LANES];
    for j in 0..K {
        let mut t = [0.0f64; LANES];
        for l in 0..LANES {
            t[l] = p.a[j] - p.al[j] * lx[j][l];
        }
        w[j] = crate::fastmath::exp4(t);
        for l in 0..LANES {
            s[l] += w[j][l];
        }
    }
    (w, s)
}

/// The residuals of four runs with sum of terms `s`: `ln s - ln L` in log space (`ln_l`
/// holds ln L), `s - L` in linear space (`l` holds L).
#[inline(always)]
fn residuals4<const LOG: bool>(
    s: &[f64; LANES],
    ln_l: &[f64; LANES],
    l: &[f64; LANES],
) -> [f64; LANES] {
    if LOG {
        let ln_s = crate::fastmath::ln4(*s);
        std::array::from_fn(|i| ln_s[i] - ln_l[i])
    } else {
        std::array::from_fn(|i| s[i] - l[i])
    }
}

/// Huber's inside/outside test of four residuals: `|r|`, whether `|r| <= delta`, and the
/// derivative `psi = r` inside, `delta` with the sign of `r` outside.
#[inline(always)]
fn huber4(r: &[f64; LANES], delta: f64) -> ([f64; LANES], [bool; LANES], [f64; LANES]) {
    let ar = r.map(f64::abs);
    let inside = ar.map(|a| a <= delta);
    let psi = std::array::from_fn(|l| {
        if inside[l] {
            r[l]
        } else {
            delta.copysign(r[l])
        }
    });
    (ar, inside, psi)
}

/// The four lanes added as `(v0 + v1) + (v2 + v3)`: the fixed order every kernel combines its
/// lanes in.
#[inline(always)]
fn sum4(v: &[f64; LANES]) -> f64 {
    (v[0] + v[1]) + (v[2] + v[3])
}

/// The AVX2 forms of [`terms4`] and of the per-chunk steps the AVX2 kernels share: the same
/// operations in the same order.
#[cfg(target_arch = "x86_64")]
mod lanes_avx2 {
    use super::{Pass, LANES};
    use crate::fastmath::avx2::{each, exp_vn, ln_vn, Consts};
    use std::arch::x86_64::*;

    /// [`Pass`] as vectors: `a`, `alpha`, E and delta broadcast to four lanes.
    #[derive(Clone, Copy)]
    pub struct PassV<const K: usize> {
        pub a: [__m256d; K],
        pub al: [__m256d; K],
        pub ev: __m256d,
        pub dv: __m256d,
    }

    impl<const K: usize> PassV<K> {
        #[target_feature(enable = "avx2")]
        pub fn new(p: &Pass<K>) -> PassV<K> {
            PassV {
                a: p.a.map(|v| _mm256_set1_pd(v)),
                al: p.al.map(|v| _mm256_set1_pd(v)),
                ev: _mm256_set1_pd(p.e_lin),
                dv: _mm256_set1_pd(p.delta),
            }
        }
    }

    /// Four runs from `o` on: ln x of each term, ln L, L and the weight.
    ///
    /// # Safety
    /// Every column (`ln_x[j]` for j < K, `ln_loss`, `loss`, `weight`) holds at least `o + 4`
    /// values (they are padded to whole chunks).
    #[target_feature(enable = "avx2")]
    #[inline]
    pub unsafe fn load<const K: usize>(
        ln_x: &[Vec<f64>],
        ln_loss: &[f64],
        loss: &[f64],
        weight: &[f64],
        o: usize,
    ) -> ([__m256d; K], __m256d, __m256d, __m256d) {
        debug_assert!([ln_loss, loss, weight]
            .into_iter()
            .chain(ln_x[..K].iter().map(|c| &c[..]))
            .all(|c| c.len() >= o + LANES));
        // SAFETY: the caller guarantees o + 4 values in every column.
        unsafe {
            (
                std::array::from_fn(|j| _mm256_loadu_pd(ln_x[j].as_ptr().add(o))),
                _mm256_loadu_pd(ln_loss.as_ptr().add(o)),
                _mm256_loadu_pd(loss.as_ptr().add(o)),
                _mm256_loadu_pd(weight.as_ptr().add(o)),
            )
        }
    }

    /// U chunks from chunk `c` on: [`load`] of each.
    ///
    /// # Safety
    /// Every column holds at least `(c + U) * 4` values.
    #[target_feature(enable = "avx2")]
    #[inline]
    #[allow(clippy::type_complexity)]
    pub unsafe fn load_block<const K: usize, const U: usize>(
        ln_x: &[Vec<f64>],
        ln_loss: &[f64],
        loss: &[f64],
        weight: &[f64],
        c: usize,
    ) -> ([[__m256d; K]; U], [__m256d; U], [__m256d; U], [__m256d; U]) {
        let mut lx = [[_mm256_setzero_pd(); K]; U];
        let mut lnl = [_mm256_setzero_pd(); U];
        let mut lo = [_mm256_setzero_pd(); U];
        let mut wt = [_mm256_setzero_pd(); U];
        for u in 0..U {
            // SAFETY: the caller guarantees (c + U) * 4 values in every column.
            (lx[u], lnl[u], lo[u], wt[u]) =
                unsafe { load::<K>(ln_x, ln_loss, loss, weight, (c + u) * LANES) };
        }
        (lx, lnl, lo, wt)
    }

    /// [`super::residuals4`] on U chunks of registers.
    #[target_feature(enable = "avx2")]
    #[inline]
    pub fn residuals<const U: usize, const LOG: bool>(
        s: &[__m256d; U],
        ln_l: &[__m256d; U],
        l: &[__m256d; U],
        k: &Consts,
    ) -> [__m256d; U] {
        if LOG {
            let ln_s = ln_vn(*s, k);
            each::<U>(|u| _mm256_sub_pd(ln_s[u], ln_l[u]))
        } else {
            each::<U>(|u| _mm256_sub_pd(s[u], l[u]))
        }
    }

    /// [`super::terms4`] on registers, for U consecutive chunks at once (each step on all U
    /// in turn; see [`crate::fastmath::avx2::each`]).
    #[target_feature(enable = "avx2")]
    #[inline]
    pub fn terms<const K: usize, const U: usize>(
        p: &PassV<K>,
        lx: &[[__m256d; K]; U],
        k: &Consts,
    ) -> ([[__m256d; K]; U], [__m256d; U]) {
        let mut w = [[_mm256_setzero_pd(); K]; U];
        let mut s = [p.ev; U];
        for j in 0..K {
            let x = each::<U>(|u| _mm256_sub_pd(p.a[j], _mm256_mul_pd(p.al[j], lx[u][j])));
            let e = exp_vn(x, k);
            for u in 0..U {
                w[u][j] = e[u];
                s[u] = _mm256_add_pd(s[u], e[u]);
            }
        }
        (w, s)
    }

    /// Huber's inside/outside test of residuals `r` and the derivative there: `|r|`, the
    /// mask of `|r| <= delta`, and `psi = r` inside, `delta` with the sign of `r` outside
    /// (delta >= 0), as a compare and a blend.
    #[target_feature(enable = "avx2")]
    #[inline]
    pub fn huber(r: __m256d, dv: __m256d) -> (__m256d, __m256d, __m256d) {
        let sign = _mm256_set1_pd(-0.0);
        let ar = _mm256_andnot_pd(sign, r);
        let inside = _mm256_cmp_pd::<_CMP_LE_OQ>(ar, dv);
        let psi_out = _mm256_or_pd(_mm256_andnot_pd(sign, dv), _mm256_and_pd(sign, r));
        (ar, inside, _mm256_blendv_pd(psi_out, r, inside))
    }

    /// The four lanes of `v` added as [`super::sum4`] adds them.
    #[target_feature(enable = "avx2")]
    #[inline]
    pub fn sum(v: __m256d) -> f64 {
        let mut x = [0.0f64; LANES];
        // SAFETY: x holds four values.
        unsafe { _mm256_storeu_pd(x.as_mut_ptr(), v) };
        (x[0] + x[1]) + (x[2] + x[3])
    }
}

/// The four-lane sums of [`Problem::eval_simd`]: the objective and the gradient's parts.
#[cfg(target_arch = "x86_64")]
struct EvalSums<const K: usize> {
    f: std::arch::x86_64::__m256d,
    ge: std::arch::x86_64::__m256d,
    ga: [std::arch::x86_64::__m256d; K],
    gal: [std::arch::x86_64::__m256d; K],
}

impl Problem {
    /// A problem from `ln_x[k][i]` (ln of the variable of term k for run i) and the losses.
    /// The columns of `ln_x` are padded where they are (no second copy), so building the
    /// problem of n runs holds 8 bytes per run per column and no more.
    ///
    /// # Panics
    /// If the columns differ in length or K is not 1 or 2 (callers build them from validated
    /// runs).
    pub fn new(
        mut ln_x: Vec<Vec<f64>>,
        loss: &[f64],
        e_term: ETerm,
        objective: Objective,
    ) -> Problem {
        assert!((1..=2).contains(&ln_x.len()), "1 or 2 power terms");
        assert!(
            ln_x.iter().all(|c| c.len() == loss.len()),
            "columns of equal length"
        );
        let n = loss.len();
        for c in &mut ln_x {
            c.resize(n.next_multiple_of(LANES), 0.0);
        }
        Problem {
            ln_x,
            ln_loss: padded(loss.iter().map(|l| l.ln()), n, 0.0),
            loss: pad(loss, 1.0),
            weight: padded(std::iter::repeat_n(1.0, n), n, 0.0),
            n,
            e_term,
            objective,
        }
    }

    /// Replace the run weights (one per run, non-negative).
    pub fn set_weights(&mut self, w: &[f64]) {
        assert_eq!(w.len(), self.n, "one weight per run");
        self.weight = pad(w, 0.0);
    }

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
        self.n
    }

    /// ln x of term k, one value per run.
    pub fn ln_x(&self, k: usize) -> &[f64] {
        &self.ln_x[k][..self.n]
    }

    /// The losses.
    pub fn loss(&self) -> &[f64] {
        &self.loss[..self.n]
    }

    /// The run weights.
    pub fn weights(&self) -> &[f64] {
        &self.weight[..self.n]
    }

    /// Objective value and gradient at free parameters `theta` (`grad` has `dim()` entries).
    /// Non-finite parameters give an infinite objective.
    pub fn value_grad(&self, theta: &[f64], grad: &mut [f64]) -> f64 {
        self.dispatch::<true>(theta, grad)
    }

    /// Objective value only.
    pub fn value(&self, theta: &[f64]) -> f64 {
        let mut g = [0.0; 5];
        self.dispatch::<false>(theta, &mut g)
    }

    /// The parameters of one kernel pass at free parameters `theta`.
    #[inline(always)]
    fn pass<const K: usize>(&self, theta: &[f64]) -> Pass<K> {
        let off = usize::from(self.e_term == ETerm::Free);
        Pass {
            a: std::array::from_fn(|j| theta[off + j]),
            al: std::array::from_fn(|j| theta[off + K + j]),
            e_lin: match self.e_term {
                ETerm::Free => theta[0].exp(),
                ETerm::Fixed { ln_e } => ln_e.exp(),
                ETerm::Absent => 0.0,
            },
            delta: match self.objective.penalty {
                Penalty::Huber { delta } => delta,
                Penalty::Squared => 0.0,
            },
            off,
        }
    }

    fn dispatch<const GRAD: bool>(&self, theta: &[f64], grad: &mut [f64]) -> f64 {
        if theta.iter().any(|v| !v.is_finite()) {
            grad.iter_mut().for_each(|g| *g = 0.0);
            return f64::INFINITY;
        }
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU supports AVX2, checked just above.
                return unsafe { self.eval_avx2::<GRAD>(theta, grad) };
            }
        }
        self.eval_any::<GRAD>(theta, grad)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn eval_avx2<const GRAD: bool>(&self, theta: &[f64], grad: &mut [f64]) -> f64 {
        match self.terms() {
            1 => with_penalty!(self, eval_simd, [1, GRAD], theta, grad),
            _ => with_penalty!(self, eval_simd, [2, GRAD], theta, grad),
        }
    }

    /// [`Self::eval`] written with AVX2 intrinsics: the same IEEE operations per lane in the
    /// same order (so the result is bit-identical to the portable kernel, checked in the
    /// tests), with everything in registers: Huber's inside/outside choice is a compare and
    /// two blends instead of branches, and the log-sum-exp, residual, penalty and gradient
    /// accumulation run on four lanes at once. Chunks are taken four at a time
    /// ([`Self::eval_block`]), so that one chunk's arithmetic fills the time the other waits
    /// on its divisions; the sums still add chunk after chunk.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn eval_simd<const K: usize, const GRAD: bool, const HUBER: bool, const LOG: bool>(
        &self,
        theta: &[f64],
        grad: &mut [f64],
    ) -> f64 {
        use crate::fastmath::avx2::Consts;
        use lanes_avx2::{sum, PassV};
        use std::arch::x86_64::*;
        let consts = std::hint::black_box(Consts::new());
        let p = self.pass::<K>(theta);
        let pv = PassV::new(&p);
        let off = p.off;
        let chunks = self.weight.len() / LANES;
        let zero = _mm256_setzero_pd();
        let mut acc = EvalSums {
            f: zero,
            ge: zero,
            ga: [zero; K],
            gal: [zero; K],
        };
        let mut c = 0;
        while c + 4 <= chunks {
            self.eval_block::<K, 4, GRAD, HUBER, LOG>(&pv, &consts, c, &mut acc);
            c += 4;
        }
        while c < chunks {
            self.eval_block::<K, 1, GRAD, HUBER, LOG>(&pv, &consts, c, &mut acc);
            c += 1;
        }
        let scale = match self.objective.reduction {
            Reduction::Sum => 1.0,
            Reduction::Mean => 1.0 / self.weight.iter().sum::<f64>(),
        };
        if GRAD {
            if off == 1 {
                grad[0] = sum(acc.ge) * scale;
            }
            for j in 0..K {
                grad[off + j] = sum(acc.ga[j]) * scale;
                grad[off + K + j] = sum(acc.gal[j]) * scale;
            }
        }
        sum(acc.f) * scale
    }

    /// U chunks of [`Self::eval_simd`] from chunk `c` on, added to `acc` chunk after chunk.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    #[inline]
    fn eval_block<
        const K: usize,
        const U: usize,
        const GRAD: bool,
        const HUBER: bool,
        const LOG: bool,
    >(
        &self,
        pv: &lanes_avx2::PassV<K>,
        k: &crate::fastmath::avx2::Consts,
        c: usize,
        acc: &mut EvalSums<K>,
    ) {
        use lanes_avx2::{huber, load_block, residuals, terms};
        use std::arch::x86_64::*;
        let ev = pv.ev;
        // SAFETY: every column holds whole chunks, and the caller passes c + U <= chunks.
        let (lx, lnl, lo, wt) =
            unsafe { load_block::<K, U>(&self.ln_x, &self.ln_loss, &self.loss, &self.weight, c) };
        let (w, s) = terms::<K, U>(pv, &lx, k);
        let r = residuals::<U, LOG>(&s, &lnl, &lo, k);
        // delta (|r| - delta/2) with delta/2 formed once per lane, as the scalar form does.
        let half_d = _mm256_mul_pd(_mm256_set1_pd(0.5), pv.dv);
        let half = _mm256_set1_pd(0.5);
        let two = _mm256_set1_pd(2.0);
        for u in 0..U {
            let (rho, psi) = if HUBER {
                let (ar, inside, psi) = huber(r[u], pv.dv);
                let rho_in = _mm256_mul_pd(_mm256_mul_pd(half, r[u]), r[u]);
                let rho_out = _mm256_mul_pd(pv.dv, _mm256_sub_pd(ar, half_d));
                (_mm256_blendv_pd(rho_out, rho_in, inside), psi)
            } else {
                (_mm256_mul_pd(r[u], r[u]), _mm256_mul_pd(two, r[u]))
            };
            acc.f = _mm256_add_pd(acc.f, _mm256_mul_pd(wt[u], rho));
            if GRAD {
                // wt psi dr / s with dr = 1 in log space (multiplying by 1 is exact).
                let wp = _mm256_mul_pd(wt[u], psi);
                let wp = if LOG { wp } else { _mm256_mul_pd(wp, s[u]) };
                let cf = _mm256_div_pd(wp, s[u]);
                acc.ge = _mm256_add_pd(acc.ge, _mm256_mul_pd(cf, ev));
                for j in 0..K {
                    let cw = _mm256_mul_pd(cf, w[u][j]);
                    acc.ga[j] = _mm256_add_pd(acc.ga[j], cw);
                    acc.gal[j] = _mm256_sub_pd(acc.gal[j], _mm256_mul_pd(cw, lx[u][j]));
                }
            }
        }
    }

    /// The portable kernel (CPUs without AVX2, and the tests' reference for the AVX2 one).
    #[inline(always)]
    fn eval_any<const GRAD: bool>(&self, theta: &[f64], grad: &mut [f64]) -> f64 {
        match self.terms() {
            1 => with_penalty!(self, eval, [1, GRAD], theta, grad),
            _ => with_penalty!(self, eval, [2, GRAD], theta, grad),
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

    /// ln L of run `i`.
    pub fn ln_loss_at(&self, i: usize) -> f64 {
        self.ln_loss[i]
    }

    /// Predicted ln L for run `i` and its gradient with respect to the free parameters
    /// (standard library exp and ln, max-shifted log-sum-exp).
    pub fn ln_predict_grad(&self, theta: &[f64], i: usize, grad: &mut [f64]) -> f64 {
        let k = self.terms();
        let off = usize::from(self.e_term == ETerm::Free);
        let mut t = [f64::NEG_INFINITY; 3];
        for j in 0..k {
            t[j] = theta[off + j] - theta[off + k + j] * self.ln_x[j][i];
        }
        t[2] = self.e_value(theta);
        let m = t.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let w: Vec<f64> = t.iter().map(|v| (v - m).exp()).collect();
        let s: f64 = w.iter().sum();
        if off == 1 {
            grad[0] = w[2] / s;
        }
        for j in 0..k {
            grad[off + j] = w[j] / s;
            grad[off + k + j] = -w[j] / s * self.ln_x[j][i];
        }
        m + s.ln()
    }

    /// Predicted ln L for run `i` (computed with the standard library's exp and ln, in
    /// max-shifted log-sum-exp form; a reference for the fast kernel).
    pub fn ln_predict(&self, theta: &[f64], i: usize) -> f64 {
        let mut g = [0.0; 5];
        self.ln_predict_grad(theta, i, &mut g[..self.dim()])
    }

    /// The exact Hessian of the objective at `theta` (row-major, `dim() x dim()`), for Newton
    /// refits of bootstrap replicates.
    ///
    /// # Formula
    /// With `s_i = E + sum_k exp(a_k - alpha_k ln x_ki)` and residual `r_i` (`ln s_i - ln L_i`
    /// in log space, `s_i - L_i` in linear space), the objective `sum_i w_i rho(r_i)` has
    /// Hessian `sum_i w_i [rho''(r_i) grad r_i grad r_i' + rho'(r_i) Hess r_i]`, where in log
    /// space `grad r = grad s / s` and `Hess r = Hess s / s - grad r grad r'`, and in linear
    /// space `grad r = grad s`, `Hess r = Hess s`. `Hess s` is block diagonal: `E` for e,
    /// and for term k `u_k [[1, -ln x], [-ln x, ln x^2]]` on `(a_k, alpha_k)` with
    /// `u_k = exp(a_k - alpha_k ln x_k)`. Huber's `rho''` is 1 inside `|r| <= delta` and 0
    /// outside (Hoffmann et al. 2022, App. D.2 objective; its second derivative).
    /// Computed like the objective itself: four runs at a time with the kernel's `exp` and
    /// `ln` (`fastmath`), accumulated per lane into the lower triangle only (the
    /// upper is its mirror) and combined in a fixed order, with the dimension, the number of
    /// terms, the penalty and the space fixed at compile time. On CPUs with AVX2 an
    /// intrinsics form does the same operations in the same order, so both give the same
    /// bits (checked in the tests). A bootstrap replicate's Newton refit spends most of its
    /// time here.
    ///
    /// Non-finite parameters give a Hessian of NaN (as [`Self::value_grad`] gives an infinite
    /// objective), the same on every CPU.
    ///
    /// # Panics
    /// If `hess` has fewer than `dim()^2` entries.
    pub fn hessian(&self, theta: &[f64], hess: &mut [f64]) {
        if theta.iter().any(|v| !v.is_finite()) {
            let n = self.dim();
            hess[..n * n].iter_mut().for_each(|h| *h = f64::NAN);
            return;
        }
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU supports AVX2, checked just above.
                return unsafe { self.hessian_avx2(theta, hess) };
            }
        }
        self.hessian_any(theta, hess)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn hessian_avx2(&self, theta: &[f64], hess: &mut [f64]) {
        match (self.terms(), self.e_term == ETerm::Free) {
            (1, false) => with_penalty!(self, hessian_simd, [1, 2], theta, hess),
            (1, true) => with_penalty!(self, hessian_simd, [1, 3], theta, hess),
            (_, false) => with_penalty!(self, hessian_simd, [2, 4], theta, hess),
            (_, true) => with_penalty!(self, hessian_simd, [2, 5], theta, hess),
        }
    }

    /// [`Self::hessian_lanes`] written with AVX2 intrinsics: the same IEEE operations per lane
    /// in the same order (bit-identical, checked in the tests), in registers whatever the
    /// compiler's inlining and unrolling choices.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    #[allow(clippy::needless_range_loop)]
    fn hessian_simd<const K: usize, const N: usize, const HUBER: bool, const LOG: bool>(
        &self,
        theta: &[f64],
        hess: &mut [f64],
    ) {
        use crate::fastmath::avx2::Consts;
        use lanes_avx2::{sum, PassV};
        use std::arch::x86_64::*;
        let consts = std::hint::black_box(Consts::new());
        let pv = PassV::new(&self.pass::<K>(theta));
        let chunks = self.weight.len() / LANES;
        let weight = &self.weight[..];
        let mut acc = [[_mm256_setzero_pd(); N]; N];
        let mut c = 0;
        while c + 4 <= chunks {
            self.hessian_block::<K, N, 4, HUBER, LOG>(&pv, &consts, c, &mut acc);
            c += 4;
        }
        while c < chunks {
            self.hessian_block::<K, N, 1, HUBER, LOG>(&pv, &consts, c, &mut acc);
            c += 1;
        }
        let wsum: f64 = weight[..self.n].iter().sum();
        let mean = self.objective.reduction == Reduction::Mean && wsum > 0.0;
        for x in 0..N {
            for y in 0..x + 1 {
                let v = sum(acc[x][y]);
                let v = if mean { v / wsum } else { v };
                hess[x * N + y] = v;
                hess[y * N + x] = v;
            }
        }
    }

    /// U chunks of [`Self::hessian_simd`] from chunk `c` on: the log-sum-exp, residual and
    /// 1/s of all U formed together (as in [`Self::eval_block`]), then each chunk's
    /// lower-triangle terms added to `acc` chunk after chunk.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    #[inline]
    #[allow(clippy::needless_range_loop)]
    fn hessian_block<
        const K: usize,
        const N: usize,
        const U: usize,
        const HUBER: bool,
        const LOG: bool,
    >(
        &self,
        pv: &lanes_avx2::PassV<K>,
        k: &crate::fastmath::avx2::Consts,
        c: usize,
        acc: &mut [[std::arch::x86_64::__m256d; N]; N],
    ) {
        use crate::fastmath::avx2::each;
        use lanes_avx2::{huber, load_block, residuals, terms};
        use std::arch::x86_64::*;
        let off = usize::from(self.e_term == ETerm::Free);
        let ev = pv.ev;
        let one = _mm256_set1_pd(1.0);
        let two = _mm256_set1_pd(2.0);
        let sign = _mm256_set1_pd(-0.0);
        let zero = _mm256_setzero_pd();
        // SAFETY: every column holds whole chunks, and the caller passes c + U <= chunks.
        let (lx, lnl, lo, wt) =
            unsafe { load_block::<K, U>(&self.ln_x, &self.ln_loss, &self.loss, &self.weight, c) };
        let (w, s) = terms::<K, U>(pv, &lx, k);
        let r = residuals::<U, LOG>(&s, &lnl, &lo, k);
        let inv = if LOG {
            each::<U>(|u| _mm256_div_pd(one, s[u]))
        } else {
            [one; U]
        };
        for q in 0..U {
            let (inv, lx) = (inv[q], &lx[q]);
            let mut gr = [zero; N];
            let mut hr = [[zero; N]; N];
            if off == 1 {
                let pe = _mm256_mul_pd(ev, inv);
                gr[0] = pe;
                hr[0][0] = pe;
            }
            for j in 0..K {
                let pj = _mm256_mul_pd(w[q][j], inv);
                let (ia, il) = (off + j, off + K + j);
                // (-ln x) pj, negation by the sign bit (exact).
                let nlp = _mm256_mul_pd(_mm256_xor_pd(lx[j], sign), pj);
                gr[ia] = pj;
                gr[il] = nlp;
                hr[ia][ia] = pj;
                hr[il][ia] = nlp;
                hr[il][il] = _mm256_mul_pd(_mm256_mul_pd(lx[j], lx[j]), pj);
            }
            let (psi, dpsi) = if HUBER {
                let (_, inside, psi) = huber(r[q], pv.dv);
                (psi, _mm256_blendv_pd(zero, one, inside))
            } else {
                (_mm256_mul_pd(two, r[q]), two)
            };
            for x in 0..N {
                for y in 0..x + 1 {
                    let g2 = _mm256_mul_pd(gr[x], gr[y]);
                    let h = if LOG {
                        _mm256_sub_pd(hr[x][y], g2)
                    } else {
                        hr[x][y]
                    };
                    let t = _mm256_add_pd(_mm256_mul_pd(dpsi, g2), _mm256_mul_pd(psi, h));
                    acc[x][y] = _mm256_add_pd(acc[x][y], _mm256_mul_pd(wt[q], t));
                }
            }
        }
    }

    #[inline(always)]
    fn hessian_any(&self, theta: &[f64], hess: &mut [f64]) {
        match (self.terms(), self.e_term == ETerm::Free) {
            (1, false) => with_penalty!(self, hessian_lanes, [1, 2], theta, hess),
            (1, true) => with_penalty!(self, hessian_lanes, [1, 3], theta, hess),
            (_, false) => with_penalty!(self, hessian_lanes, [2, 4], theta, hess),
            (_, true) => with_penalty!(self, hessian_lanes, [2, 5], theta, hess),
        }
    }

    /// Chunk `c` as the portable kernels read it: ln x of each term, ln L, L and the run
    /// weights of four runs.
    #[inline(always)]
    #[allow(clippy::type_complexity)]
    fn chunk_at<const K: usize>(
        &self,
        c: usize,
    ) -> ([[f64; LANES]; K], [f64; LANES], [f64; LANES], [f64; LANES]) {
        let chunk = |v: &[f64]| -> [f64; LANES] {
            v[c * LANES..(c + 1) * LANES]
                .try_into()
                .expect("padded to whole chunks")
        };
        (
            std::array::from_fn(|j| chunk(&self.ln_x[j])),
            chunk(&self.ln_loss),
            chunk(&self.loss),
            chunk(&self.weight),
        )
    }

    /// The Hessian with K terms and N free parameters, four runs per chunk as in
    /// [`Self::eval`].
    #[inline(always)]
    #[allow(clippy::needless_range_loop)]
    fn hessian_lanes<const K: usize, const N: usize, const HUBER: bool, const LOG: bool>(
        &self,
        theta: &[f64],
        hess: &mut [f64],
    ) {
        let p = self.pass::<K>(theta);
        let (off, e_lin, delta) = (p.off, p.e_lin, p.delta);
        let mut acc = [[[0.0f64; LANES]; N]; N];
        for c in 0..self.weight.len() / LANES {
            let (lx, lnl, lo, wt) = self.chunk_at::<K>(c);
            let (u, s) = terms4(&p, &lx);
            let r = residuals4::<LOG>(&s, &lnl, &lo);
            let inv = if LOG {
                s.map(|v| 1.0 / v)
            } else {
                [1.0; LANES]
            };
            // grad r (grad s, divided by s in log space) and the block-diagonal Hess s.
            let mut gr = [[0.0f64; LANES]; N];
            let mut hr = [[[0.0f64; LANES]; N]; N];
            for l in 0..LANES {
                if off == 1 {
                    let pe = e_lin * inv[l];
                    gr[0][l] = pe;
                    hr[0][0][l] = pe;
                }
                for j in 0..K {
                    let pj = u[j][l] * inv[l];
                    let (ia, il) = (off + j, off + K + j);
                    gr[ia][l] = pj;
                    gr[il][l] = -lx[j][l] * pj;
                    hr[ia][ia][l] = pj;
                    hr[il][ia][l] = -lx[j][l] * pj;
                    hr[il][il][l] = lx[j][l] * lx[j][l] * pj;
                }
            }
            let (psi, dpsi) = if HUBER {
                let (_, inside, psi) = huber4(&r, delta);
                (psi, inside.map(|i| if i { 1.0 } else { 0.0 }))
            } else {
                (r.map(|v| 2.0 * v), [2.0; LANES])
            };
            for x in 0..N {
                for y in 0..x + 1 {
                    for l in 0..LANES {
                        let g2 = gr[x][l] * gr[y][l];
                        let h = if LOG { hr[x][y][l] - g2 } else { hr[x][y][l] };
                        acc[x][y][l] += wt[l] * (dpsi[l] * g2 + psi[l] * h);
                    }
                }
            }
        }
        let wsum: f64 = self.weight[..self.n].iter().sum();
        let mean = self.objective.reduction == Reduction::Mean && wsum > 0.0;
        for x in 0..N {
            for y in 0..x + 1 {
                let v = sum4(&acc[x][y]);
                let v = if mean { v / wsum } else { v };
                hess[x * N + y] = v;
                hess[y * N + x] = v;
            }
        }
    }

    #[inline(always)]
    fn e_value(&self, theta: &[f64]) -> f64 {
        match self.e_term {
            ETerm::Free => theta[0],
            ETerm::Fixed { ln_e } => ln_e,
            ETerm::Absent => f64::NEG_INFINITY,
        }
    }

    /// The kernel: for each run, s = sum_k exp(a_k - alpha_k ln x_k) + E, ln L_hat = ln s,
    /// then the penalty of the residual and its gradient, accumulated in LANES partial sums
    /// combined in a fixed order (so the result does not depend on vector width).
    #[inline(always)]
    fn eval<const K: usize, const GRAD: bool, const HUBER: bool, const LOG: bool>(
        &self,
        theta: &[f64],
        grad: &mut [f64],
    ) -> f64 {
        let p = self.pass::<K>(theta);
        let (off, e_lin, delta) = (p.off, p.e_lin, p.delta);
        let mut f = [0.0f64; LANES];
        let mut ge = [0.0f64; LANES];
        let mut ga = [[0.0f64; LANES]; K];
        let mut gal = [[0.0f64; LANES]; K];
        for c in 0..self.weight.len() / LANES {
            let (lx, lnl, lo, wt) = self.chunk_at::<K>(c);
            let (w, s) = terms4(&p, &lx);
            let r = residuals4::<LOG>(&s, &lnl, &lo);
            // d r / d s times s: 1 in log space, s in linear space.
            let dr = if LOG { [1.0; LANES] } else { s };
            let (rho, psi) = if HUBER {
                let (ar, inside, psi) = huber4(&r, delta);
                let rho: [f64; LANES] = std::array::from_fn(|l| {
                    if inside[l] {
                        0.5 * r[l] * r[l]
                    } else {
                        delta * (ar[l] - 0.5 * delta)
                    }
                });
                (rho, psi)
            } else {
                (r.map(|v| v * v), r.map(|v| 2.0 * v))
            };
            for l in 0..LANES {
                f[l] += wt[l] * rho[l];
            }
            if GRAD {
                let mut cf = [0.0f64; LANES];
                for l in 0..LANES {
                    cf[l] = wt[l] * psi[l] * dr[l] / s[l];
                    ge[l] += cf[l] * e_lin;
                }
                for j in 0..K {
                    for l in 0..LANES {
                        let cw = cf[l] * w[j][l];
                        ga[j][l] += cw;
                        gal[j][l] -= cw * lx[j][l];
                    }
                }
            }
        }
        let scale = match self.objective.reduction {
            Reduction::Sum => 1.0,
            Reduction::Mean => 1.0 / self.weight.iter().sum::<f64>(),
        };
        if GRAD {
            if off == 1 {
                grad[0] = sum4(&ge) * scale;
            }
            for j in 0..K {
                grad[off + j] = sum4(&ga[j]) * scale;
                grad[off + K + j] = sum4(&gal[j]) * scale;
            }
        }
        sum4(&f) * scale
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(e_term: ETerm, objective: Objective, k: usize) -> Problem {
        problem_of_rows(e_term, objective, k, 6)
    }

    /// Six runs, repeated with sizes scaled by 1.3 per repetition up to `rows` runs.
    fn problem_of_rows(e_term: ETerm, objective: Objective, k: usize, rows: usize) -> Problem {
        let n = [1e8, 3e8, 1e9, 5e9, 2e10, 7e7];
        let d = [2e9, 1e10, 5e9, 1e11, 3e11, 8e8];
        let loss = [3.1, 2.8, 2.7, 2.3, 2.1, 3.4];
        let grow = |i: usize| 1.3f64.powi((i / 6) as i32);
        let col = |x: &[f64; 6]| (0..rows).map(|i| (x[i % 6] * grow(i)).ln()).collect();
        let mut ln_x = vec![col(&n)];
        if k == 2 {
            ln_x.push(col(&d));
        }
        let loss: Vec<f64> = (0..rows)
            .map(|i| loss[i % 6] / grow(i).powf(0.05))
            .collect();
        Problem::new(ln_x, &loss, e_term, objective)
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

    /// The vectorised kernel agrees with a plain evaluation using the standard library's
    /// exp and ln and max-shifted log-sum-exp, for every objective variant.
    #[test]
    fn kernel_matches_reference() {
        for penalty in [Penalty::Huber { delta: 1e-3 }, Penalty::Squared] {
            for space in [Space::Log, Space::Linear] {
                for e_term in [ETerm::Free, ETerm::Absent] {
                    let obj = Objective {
                        penalty,
                        space,
                        reduction: Reduction::Sum,
                    };
                    let mut p = problem(e_term, obj, 2);
                    p.set_weights(&[1.0, 0.0, 2.0, 1.0, 3.0, 1.0]);
                    let theta: Vec<f64> = if e_term == ETerm::Free {
                        vec![0.5, 6.0, 7.0, 0.34, 0.37]
                    } else {
                        vec![6.0, 7.0, 0.34, 0.37]
                    };
                    let reference: f64 = p
                        .residuals(&theta)
                        .iter()
                        .zip(p.weights())
                        .map(|(r, w)| w * obj.rho_psi(*r).0)
                        .sum();
                    let fast = p.value(&theta);
                    assert!(
                        ((fast - reference) / reference).abs() < 1e-12,
                        "{fast} vs {reference}"
                    );
                }
            }
        }
    }

    /// The AVX2 kernel gives bit-identical values and gradients to the portable kernel for
    /// every objective variant, with residuals inside and outside Huber's threshold, run
    /// weights and a row count that is not a multiple of the lanes.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_kernel_is_bit_identical_to_portable() {
        if !std::is_x86_feature_detected!("avx2") {
            eprintln!("SKIPPED: this CPU has no AVX2");
            return;
        }
        for (what, p) in variants(&PENALTIES) {
            for shift in [-0.3, 0.0, 0.01, 0.4] {
                let full = [0.5 + shift, 6.0, 7.0 - shift, 0.34, 0.37 + shift];
                let theta: Vec<f64> = match (p.e_term == ETerm::Free, p.terms()) {
                    (true, 2) => full.to_vec(),
                    (true, _) => vec![full[0], 6.0, 0.34],
                    (false, 2) => full[1..].to_vec(),
                    (false, _) => vec![6.0, 0.34 + shift],
                };
                let n = p.dim();
                let (mut g1, mut g2) = (vec![0.0; n], vec![0.0; n]);
                let f1 = p.value_grad(&theta, &mut g1);
                let f2 = p.eval_any::<true>(&theta, &mut g2);
                let what = format!("{what} shift={shift}");
                assert_eq!(f1.to_bits(), f2.to_bits(), "{what}: {f1} vs {f2}");
                for i in 0..n {
                    assert_eq!(g1[i].to_bits(), g2[i].to_bits(), "{what} g[{i}]");
                }
            }
        }
    }

    /// Huber with Chinchilla's narrow delta and a wide one (so residuals fall on both sides
    /// of the threshold across the tests' parameters), and squared error.
    const PENALTIES: [Penalty; 3] = [
        Penalty::Huber { delta: 1e-3 },
        Penalty::Huber { delta: 0.05 },
        Penalty::Squared,
    ];

    /// Every objective variant (`penalties` x log and linear space x sum and mean) with E
    /// free, fixed and absent and one or two terms, as weighted problems (some weights 0) of
    /// 6, 16, 23 and 37 runs: 2, 4, 6 and 10 chunks, so the AVX2 kernels' blocks of four
    /// chunks run zero, one and two times, alone and followed by single chunks. Each comes
    /// with a label for failure messages.
    fn variants(penalties: &[Penalty]) -> Vec<(String, Problem)> {
        let mut out = Vec::new();
        for &penalty in penalties {
            for space in [Space::Log, Space::Linear] {
                for reduction in [Reduction::Sum, Reduction::Mean] {
                    for e_term in [ETerm::Free, ETerm::Fixed { ln_e: 0.3 }, ETerm::Absent] {
                        let sizes = |k| [(k, 6), (k, 16), (k, 23), (k, 37)];
                        for (k, rows) in [1, 2].into_iter().flat_map(sizes) {
                            let obj = Objective {
                                penalty,
                                space,
                                reduction,
                            };
                            let mut p = problem_of_rows(e_term, obj, k, rows);
                            let w = [1.0, 0.0, 2.0, 1.0, 3.0, 1.0];
                            p.set_weights(&(0..rows).map(|i| w[i % 6]).collect::<Vec<_>>());
                            out.push((format!("{obj:?} {e_term:?} k={k} rows={rows}"), p));
                        }
                    }
                }
            }
        }
        out
    }

    /// The free parameters of `p` taken from `full = [e, a_1, a_2, alpha_1, alpha_2]`.
    fn theta_of(p: &Problem, full: [f64; 5]) -> Vec<f64> {
        match (p.e_term == ETerm::Free, p.terms()) {
            (true, 2) => full.to_vec(),
            (true, _) => vec![full[0], full[1], full[3]],
            (false, 2) => full[1..].to_vec(),
            (false, _) => vec![full[1], full[3]],
        }
    }

    /// Property: the Hessian compiled for AVX2 gives the same bits as the portable one, for
    /// every objective variant, E handling and term count (the bootstrap's Newton refits,
    /// and so its intervals, do not depend on the CPU).
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_hessian_is_bit_identical_to_portable() {
        if !std::is_x86_feature_detected!("avx2") {
            eprintln!("SKIPPED: this CPU has no AVX2");
            return;
        }
        for (what, p) in variants(&PENALTIES) {
            let theta = theta_of(&p, [0.5, 6.0, 7.0, 0.34, 0.37]);
            let n = p.dim();
            let (mut h1, mut h2) = (vec![0.0; n * n], vec![0.0; n * n]);
            p.hessian(&theta, &mut h1);
            p.hessian_any(&theta, &mut h2);
            let b1: Vec<u64> = h1.iter().map(|v| v.to_bits()).collect();
            let b2: Vec<u64> = h2.iter().map(|v| v.to_bits()).collect();
            assert_eq!(b1, b2, "{what}");
        }
    }

    /// Property: the exact Hessian matches central finite differences of the analytic
    /// gradient for every combination of penalty, space, reduction and E handling.
    /// A non-finite parameter gives a Hessian of NaN on every CPU (the AVX2 exp clamps a NaN
    /// argument, the portable one keeps it, so the kernels must not see one).
    #[test]
    fn hessian_of_non_finite_parameters_is_nan() {
        for (what, p) in variants(&[Penalty::Squared]) {
            let n = p.dim();
            for bad in [f64::NAN, f64::INFINITY] {
                let mut theta = theta_of(&p, [0.5, 6.0, 7.0, 0.34, 0.37]);
                theta[n - 1] = bad;
                let mut h = vec![0.0; n * n];
                p.hessian(&theta, &mut h);
                assert!(h.iter().all(|v| v.is_nan()), "{what}: {h:?}");
            }
        }
    }

    #[test]
    fn hessian_matches_finite_differences() {
        for (what, p) in variants(&[Penalty::Huber { delta: 0.05 }, Penalty::Squared]) {
            let theta = theta_of(&p, [0.5, 0.6, 0.7, 0.04, 0.03]);
            let n = p.dim();
            let mut h = vec![0.0; n * n];
            p.hessian(&theta, &mut h);
            for b in 0..n {
                let step = 1e-6;
                let (mut gp, mut gm) = (vec![0.0; n], vec![0.0; n]);
                let mut tp = theta.clone();
                tp[b] += step;
                p.value_grad(&tp, &mut gp);
                let mut tm = theta.clone();
                tm[b] -= step;
                p.value_grad(&tm, &mut gm);
                for a in 0..n {
                    let fd = (gp[a] - gm[a]) / (2.0 * step);
                    let exact = h[a * n + b];
                    assert!(
                        (fd - exact).abs() < 1e-5 * (1.0 + exact.abs()),
                        "{what} H[{a}][{b}]: fd {fd} vs {exact}"
                    );
                }
            }
        }
    }

    #[test]
    fn log_sum_exp_matches_direct_formula() {
        let p = problem(ETerm::Free, Objective::default(), 2);
        let theta = [0.5f64, 6.0, 7.0, 0.34, 0.37];
        for i in 0..p.runs() {
            let n = p.ln_x(0)[i].exp();
            let d = p.ln_x(1)[i].exp();
            let direct = 0.5f64.exp() + 6.0f64.exp() * n.powf(-0.34) + 7.0f64.exp() * d.powf(-0.37);
            assert!((p.ln_predict(&theta, i) - direct.ln()).abs() < 1e-14);
        }
    }
}
