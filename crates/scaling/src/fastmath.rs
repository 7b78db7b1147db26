//! Branch-free `exp` and `ln` for the fitting kernel, written so that LLVM vectorises four
//! lanes at a time. Both use only IEEE additions, multiplications, divisions and bit
//! operations in a fixed order, so results are identical on every CPU (no fused
//! multiply-add, no lookup tables).
//!
//! ## Reference
//! Cody, W. J. and Waite, W. (1980), *Software Manual for the Elementary Functions*:
//! argument reduction x = k ln 2 + r with ln 2 split in two parts; exp(r) by its Taylor
//! polynomial of degree 13 on |r| <= ln(2)/2 (evaluated by Estrin's scheme for parallelism), and ln(m) = 2 atanh((m-1)/(m+1)) for
//! m in [sqrt(1/2), sqrt(2)). Relative error is within a few ulp of the correctly rounded value
//! (checked against `f64::exp` and `f64::ln` in the tests).

/// ln 2 = LN2_HI + LN2_LO, with LN2_HI's low 32 mantissa bits zero so k * LN2_HI is exact.
const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
const LOG2E: f64 = std::f64::consts::LOG2_E;
/// 1.5 * 2^52: adding it rounds to an integer held in the low mantissa bits.
const SHIFT: f64 = 6_755_399_441_055_744.0;

/// 1/i! for i = 0..=13: the Taylor coefficients of exp.
const EXP_C: [f64; 14] = [
    1.0,
    1.0,
    0.5,
    1.0 / 6.0,
    1.0 / 24.0,
    1.0 / 120.0,
    1.0 / 720.0,
    1.0 / 5_040.0,
    1.0 / 40_320.0,
    1.0 / 362_880.0,
    1.0 / 3_628_800.0,
    1.0 / 39_916_800.0,
    1.0 / 479_001_600.0,
    1.0 / 6_227_020_800.0,
];

/// 1/(2j+3) for j = 0..=9: atanh(f)/f = 1 + f^2 (1/3 + f^2/5 + ... + f^18/21).
const LN_C: [f64; 10] = [
    1.0 / 3.0,
    1.0 / 5.0,
    1.0 / 7.0,
    1.0 / 9.0,
    1.0 / 11.0,
    1.0 / 13.0,
    1.0 / 15.0,
    1.0 / 17.0,
    1.0 / 19.0,
    1.0 / 21.0,
];

/// sum_i EXP_C[i] r^i by Estrin's scheme (depth 5 instead of Horner's 13, for
/// instruction-level parallelism). The AVX2 form repeats these operations in this order.
#[inline(always)]
fn exp_poly(r: f64) -> f64 {
    let c = &EXP_C;
    let r2 = r * r;
    let r4 = r2 * r2;
    let r8 = r4 * r4;
    let q0 = c[0] + c[1] * r;
    let q1 = c[2] + c[3] * r;
    let q2 = c[4] + c[5] * r;
    let q3 = c[6] + c[7] * r;
    let q4 = c[8] + c[9] * r;
    let q5 = c[10] + c[11] * r;
    let q6 = c[12] + c[13] * r;
    let s0 = q0 + q1 * r2;
    let s1 = q2 + q3 * r2;
    let s2 = q4 + q5 * r2;
    let t0 = s0 + s1 * r4;
    let t1 = s2 + q6 * r4;
    t0 + t1 * r8
}

/// sum_j LN_C[j] x^j by Estrin's scheme.
#[inline(always)]
fn ln_poly(x: f64) -> f64 {
    let c = &LN_C;
    let x2 = x * x;
    let x4 = x2 * x2;
    let x8 = x4 * x4;
    let q0 = c[0] + c[1] * x;
    let q1 = c[2] + c[3] * x;
    let q2 = c[4] + c[5] * x;
    let q3 = c[6] + c[7] * x;
    let q4 = c[8] + c[9] * x;
    let s0 = q0 + q1 * x2;
    let s1 = q2 + q3 * x2;
    let t0 = s0 + s1 * x4;
    t0 + q4 * x8
}

/// e^x for x in [-708, 709]; inputs outside are clamped (so the result is never 0 or
/// infinite, and never NaN for finite input). The scalar form of [`exp4`], kept as its
/// test reference.
#[cfg(test)]
pub fn exp(x: f64) -> f64 {
    let x = if x < -708.0 { -708.0 } else { x };
    let x = if x > 709.0 { 709.0 } else { x };
    let t = x * LOG2E + SHIFT;
    let kf = t - SHIFT;
    let k = (t.to_bits() as i64).wrapping_sub(SHIFT.to_bits() as i64);
    let r = (x - kf * LN2_HI) - kf * LN2_LO;
    let p = exp_poly(r);
    let scale = f64::from_bits(((k + 1023) as u64) << 52);
    p * scale
}

/// ln x for positive normal x (the kernel only takes logs of sums of exponentials). The
/// scalar form of [`ln4`], kept as its test reference.
#[cfg(test)]
pub fn ln(x: f64) -> f64 {
    let bits = x.to_bits();
    let biased = bits >> 52; // sign bit is 0 for positive x
    let m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    // Exponent as a float without an int-to-float conversion: 2^52 + biased - 2^52.
    let ef = f64::from_bits(0x4330_0000_0000_0000 | biased) - 4_503_599_627_370_496.0 - 1023.0;
    let big = m > std::f64::consts::SQRT_2;
    let m = if big { m * 0.5 } else { m };
    let ef = if big { ef + 1.0 } else { ef };
    let f = (m - 1.0) / (m + 1.0);
    let f2 = f * f;
    // 2 atanh(f) = 2 (f + f^3/3 + ... + f^21/21)
    let s = ln_poly(f2);
    let lnm = 2.0 * f + 2.0 * f * (f2 * s);
    ef * LN2_HI + (ef * LN2_LO + lnm)
}

/// Lanes processed together by [`exp4`] and [`ln4`].
pub const W: usize = 4;

/// [`exp`] on four lanes, written as one elementwise loop per step so the compiler emits
/// packed instructions.
#[inline(always)]
pub fn exp4(x: [f64; W]) -> [f64; W] {
    let mut t = [0.0; W];
    let mut kf = [0.0; W];
    let mut r = [0.0; W];
    let mut scale = [0.0; W];
    for l in 0..W {
        let xl = x[l].clamp(-708.0, 709.0);
        t[l] = xl * LOG2E + SHIFT;
        kf[l] = t[l] - SHIFT;
        r[l] = (xl - kf[l] * LN2_HI) - kf[l] * LN2_LO;
    }
    for l in 0..W {
        let k = t[l].to_bits().wrapping_sub(SHIFT.to_bits());
        scale[l] = f64::from_bits(k.wrapping_add(1023) << 52);
    }
    let mut p = [0.0; W];
    for l in 0..W {
        p[l] = exp_poly(r[l]);
    }
    let mut out = [0.0; W];
    for l in 0..W {
        out[l] = p[l] * scale[l];
    }
    out
}

/// [`ln`] on four lanes.
#[inline(always)]
pub fn ln4(x: [f64; W]) -> [f64; W] {
    let mut ef = [0.0; W];
    let mut f = [0.0; W];
    for l in 0..W {
        let bits = x[l].to_bits();
        let m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
        let e =
            f64::from_bits(0x4330_0000_0000_0000 | (bits >> 52)) - 4_503_599_627_370_496.0 - 1023.0;
        let big = m > std::f64::consts::SQRT_2;
        let m = if big { m * 0.5 } else { m };
        ef[l] = if big { e + 1.0 } else { e };
        f[l] = (m - 1.0) / (m + 1.0);
    }
    let mut f2 = [0.0; W];
    for l in 0..W {
        f2[l] = f[l] * f[l];
    }
    let mut s = [0.0; W];
    for l in 0..W {
        s[l] = ln_poly(f2[l]);
    }
    let mut out = [0.0; W];
    for l in 0..W {
        let lnm = 2.0 * f[l] + 2.0 * f[l] * (f2[l] * s[l]);
        out[l] = ef[l] * LN2_HI + (ef[l] * LN2_LO + lnm);
    }
    out
}

/// AVX2 forms of [`exp4`] and [`ln4`]: the same IEEE operations in the same order, so
/// results are bit-identical to the portable forms (checked in the tests).
#[cfg(target_arch = "x86_64")]
pub mod avx2 {
    #[cfg(test)]
    use super::W;
    use super::{EXP_C, LN2_HI, LN2_LO, LN_C, LOG2E, SHIFT};
    use std::arch::x86_64::*;

    /// The constants of [`exp_vn`] and [`ln_vn`] as whole vectors. A kernel builds them once
    /// per call and passes them through [`std::hint::black_box`], so the compiler keeps them
    /// in memory and folds them into the arithmetic as memory operands, instead of
    /// re-broadcasting each splat constant on every chunk (about 50 instructions a chunk).
    #[derive(Clone, Copy)]
    pub struct Consts {
        exp_c: [__m256d; 14],
        ln_c: [__m256d; 10],
        lo: __m256d,
        hi: __m256d,
        log2e: __m256d,
        shift: __m256d,
        ln2_hi: __m256d,
        ln2_lo: __m256d,
        bias: __m256i,
        mant: __m256i,
        one_bits: __m256i,
        two52_bits: __m256i,
        two52: __m256d,
        e_bias: __m256d,
        sqrt2: __m256d,
        half: __m256d,
        one: __m256d,
        two: __m256d,
    }

    impl Consts {
        /// The constants.
        #[target_feature(enable = "avx2")]
        pub fn new() -> Consts {
            Consts {
                exp_c: EXP_C.map(|c| _mm256_set1_pd(c)),
                ln_c: LN_C.map(|c| _mm256_set1_pd(c)),
                lo: _mm256_set1_pd(-708.0),
                hi: _mm256_set1_pd(709.0),
                log2e: _mm256_set1_pd(LOG2E),
                shift: _mm256_set1_pd(SHIFT),
                ln2_hi: _mm256_set1_pd(LN2_HI),
                ln2_lo: _mm256_set1_pd(LN2_LO),
                bias: _mm256_set1_epi64x(1023),
                mant: _mm256_set1_epi64x(0x000f_ffff_ffff_ffff),
                one_bits: _mm256_set1_epi64x(0x3ff0_0000_0000_0000),
                two52_bits: _mm256_set1_epi64x(0x4330_0000_0000_0000),
                two52: _mm256_set1_pd(4_503_599_627_370_496.0),
                e_bias: _mm256_set1_pd(1023.0),
                sqrt2: _mm256_set1_pd(std::f64::consts::SQRT_2),
                half: _mm256_set1_pd(0.5),
                one: _mm256_set1_pd(1.0),
                two: _mm256_set1_pd(2.0),
            }
        }
    }

    /// One step of `U` independent chains: `f(u)` for u = 0..U. The kernels evaluate several
    /// chunks of runs at once with every step written for all of them in turn, so the
    /// processor works on one chunk while another waits on a division or a long polynomial
    /// (the operations on each chunk, and their order, are those of one chunk alone).
    #[inline(always)]
    pub fn each<const U: usize>(f: impl FnMut(usize) -> __m256d) -> [__m256d; U] {
        std::array::from_fn(f)
    }

    /// a + b x on each of U vectors, as in the scalar form (no fused multiply-add).
    #[target_feature(enable = "avx2")]
    #[inline]
    fn lin<const U: usize>(a: [__m256d; U], b: [__m256d; U], x: [__m256d; U]) -> [__m256d; U] {
        each::<U>(|u| _mm256_add_pd(a[u], _mm256_mul_pd(b[u], x[u])))
    }

    /// c0 + c1 x with constants c0 and c1.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn lin_c<const U: usize>(c0: __m256d, c1: __m256d, x: [__m256d; U]) -> [__m256d; U] {
        each::<U>(|u| _mm256_add_pd(c0, _mm256_mul_pd(c1, x[u])))
    }

    /// x * y on each of U vectors.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn mul<const U: usize>(x: [__m256d; U], y: [__m256d; U]) -> [__m256d; U] {
        each::<U>(|u| _mm256_mul_pd(x[u], y[u]))
    }

    /// [`super::exp_poly`] on U vectors of four lanes, same operations in the same order.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn exp_poly<const U: usize>(r: [__m256d; U], k: &Consts) -> [__m256d; U] {
        let c = &k.exp_c;
        let r2 = mul(r, r);
        let r4 = mul(r2, r2);
        let r8 = mul(r4, r4);
        // c[0] + c[1] r with c[0] = c[1] = 1: multiplying by 1 is exact.
        let q0 = each::<U>(|u| _mm256_add_pd(c[0], r[u]));
        let q1 = lin_c(c[2], c[3], r);
        let q2 = lin_c(c[4], c[5], r);
        let q3 = lin_c(c[6], c[7], r);
        let q4 = lin_c(c[8], c[9], r);
        let q5 = lin_c(c[10], c[11], r);
        let q6 = lin_c(c[12], c[13], r);
        let s0 = lin(q0, q1, r2);
        let s1 = lin(q2, q3, r2);
        let s2 = lin(q4, q5, r2);
        let t0 = lin(s0, s1, r4);
        let t1 = lin(s2, q6, r4);
        lin(t0, t1, r8)
    }

    /// [`super::ln_poly`] on U vectors of four lanes.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn ln_poly<const U: usize>(x: [__m256d; U], k: &Consts) -> [__m256d; U] {
        let c = &k.ln_c;
        let x2 = mul(x, x);
        let x4 = mul(x2, x2);
        let x8 = mul(x4, x4);
        let q0 = lin_c(c[0], c[1], x);
        let q1 = lin_c(c[2], c[3], x);
        let q2 = lin_c(c[4], c[5], x);
        let q3 = lin_c(c[6], c[7], x);
        let q4 = lin_c(c[8], c[9], x);
        let s0 = lin(q0, q1, x2);
        let s1 = lin(q2, q3, x2);
        let t0 = lin(s0, s1, x4);
        lin(t0, q4, x8)
    }

    /// [`super::exp4`] with AVX2.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[cfg(test)]
    #[target_feature(enable = "avx2")]
    #[inline]
    pub unsafe fn exp4(x: [f64; W]) -> [f64; W] {
        let mut out = [0.0; W];
        _mm256_storeu_pd(
            out.as_mut_ptr(),
            exp_vn([_mm256_loadu_pd(x.as_ptr())], &Consts::new())[0],
        );
        out
    }

    /// [`super::exp4`] on U registers: the same operations in the same order, each step on
    /// all U in turn (see [`each`]).
    #[target_feature(enable = "avx2")]
    #[inline]
    pub fn exp_vn<const U: usize>(x: [__m256d; U], k: &Consts) -> [__m256d; U] {
        let xl = each::<U>(|u| _mm256_min_pd(_mm256_max_pd(x[u], k.lo), k.hi));
        let t = each::<U>(|u| _mm256_add_pd(_mm256_mul_pd(xl[u], k.log2e), k.shift));
        let kf = each::<U>(|u| _mm256_sub_pd(t[u], k.shift));
        let r = each::<U>(|u| {
            _mm256_sub_pd(
                _mm256_sub_pd(xl[u], _mm256_mul_pd(kf[u], k.ln2_hi)),
                _mm256_mul_pd(kf[u], k.ln2_lo),
            )
        });
        let scale = each::<U>(|u| {
            let ki = _mm256_sub_epi64(_mm256_castpd_si256(t[u]), _mm256_castpd_si256(k.shift));
            _mm256_castsi256_pd(_mm256_slli_epi64::<52>(_mm256_add_epi64(ki, k.bias)))
        });
        let p = exp_poly(r, k);
        mul(p, scale)
    }

    /// [`super::ln4`] with AVX2.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[cfg(test)]
    #[target_feature(enable = "avx2")]
    #[inline]
    pub unsafe fn ln4(x: [f64; W]) -> [f64; W] {
        let mut o = [0.0; W];
        _mm256_storeu_pd(
            o.as_mut_ptr(),
            ln_vn([_mm256_loadu_pd(x.as_ptr())], &Consts::new())[0],
        );
        o
    }

    /// [`super::ln4`] on U registers: the same operations in the same order, each step on
    /// all U in turn (see [`each`]).
    #[target_feature(enable = "avx2")]
    #[inline]
    pub fn ln_vn<const U: usize>(x: [__m256d; U], k: &Consts) -> [__m256d; U] {
        let bits = x.map(|v| _mm256_castpd_si256(v));
        let m = each::<U>(|u| {
            _mm256_castsi256_pd(_mm256_or_si256(
                _mm256_and_si256(bits[u], k.mant),
                k.one_bits,
            ))
        });
        let e = each::<U>(|u| {
            let e = _mm256_or_si256(_mm256_srli_epi64::<52>(bits[u]), k.two52_bits);
            _mm256_sub_pd(_mm256_sub_pd(_mm256_castsi256_pd(e), k.two52), k.e_bias)
        });
        let big = each::<U>(|u| _mm256_cmp_pd::<_CMP_GT_OQ>(m[u], k.sqrt2));
        let m = each::<U>(|u| _mm256_blendv_pd(m[u], _mm256_mul_pd(m[u], k.half), big[u]));
        let ef = each::<U>(|u| _mm256_blendv_pd(e[u], _mm256_add_pd(e[u], k.one), big[u]));
        let f =
            each::<U>(|u| _mm256_div_pd(_mm256_sub_pd(m[u], k.one), _mm256_add_pd(m[u], k.one)));
        let f2 = mul(f, f);
        let s = ln_poly(f2, k);
        let tf = each::<U>(|u| _mm256_mul_pd(k.two, f[u]));
        each::<U>(|u| {
            let lnm = _mm256_add_pd(tf[u], _mm256_mul_pd(tf[u], _mm256_mul_pd(f2[u], s[u])));
            _mm256_add_pd(
                _mm256_mul_pd(ef[u], k.ln2_hi),
                _mm256_add_pd(_mm256_mul_pd(ef[u], k.ln2_lo), lnm),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ulps(a: f64, b: f64) -> f64 {
        ((a - b) / b).abs() / f64::EPSILON
    }

    #[test]
    fn exp_is_accurate() {
        let mut worst = 0.0f64;
        let mut x = -700.0;
        while x < 700.0 {
            worst = worst.max(ulps(exp(x), x.exp()));
            x += 0.0137;
        }
        for x in [-1e-300, 0.0, 1e-300, 0.5, -0.5, 0.34657359, -0.34657359] {
            worst = worst.max(ulps(exp(x), f64::exp(x)));
        }
        assert!(worst < 4.0, "worst {worst} ulp");
        assert!(exp(-1e9) > 0.0 && exp(1e9).is_finite());
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_is_bit_identical() {
        if !std::is_x86_feature_detected!("avx2") {
            eprintln!("SKIPPED: this CPU has no AVX2");
            return;
        }
        let mut x = -720.0;
        while x < 720.0 {
            let v = [x, x * 0.37, -x * 0.011, x * 1e-3];
            // SAFETY: AVX2 checked above.
            let (e, ea) = (exp4(v), unsafe { avx2::exp4(v) });
            let pos = [e[0], e[1], e[2], e[3]];
            let (l, la) = (ln4(pos), unsafe { avx2::ln4(pos) });
            for i in 0..4 {
                assert_eq!(e[i].to_bits(), ea[i].to_bits(), "exp {}", v[i]);
                assert_eq!(l[i].to_bits(), la[i].to_bits(), "ln {}", pos[i]);
            }
            x += 0.731;
        }
    }

    #[test]
    fn four_lanes_equal_scalar() {
        let xs = [-700.0, -3.3, 0.0, 0.31, 1.7, 25.0, 300.0, 708.5];
        for c in xs.chunks(4) {
            let x: [f64; 4] = c.try_into().unwrap();
            let e = exp4(x);
            for l in 0..4 {
                assert_eq!(e[l].to_bits(), exp(x[l]).to_bits());
                let y = e[l];
                assert_eq!(ln4(e)[l].to_bits(), ln(y).to_bits());
            }
        }
    }

    #[test]
    fn ln_is_accurate() {
        let mut worst = 0.0f64;
        let mut x = 1e-300f64;
        while x < 1e300 {
            for m in [
                1.0,
                1.1,
                1.41,
                std::f64::consts::SQRT_2,
                1.42,
                1.9,
                1.999999,
            ] {
                let v = x * m;
                if (v.ln()).abs() > 1e-3 {
                    worst = worst.max(ulps(ln(v), v.ln()));
                }
            }
            x *= 7.3;
        }
        // Near 1, compare absolute error.
        for v in [1.0, 1.0 + 1e-12, 1.0 - 1e-12, 0.999, 1.001] {
            assert!((ln(v) - f64::ln(v)).abs() < 4e-16, "{v}");
        }
        assert!(worst < 4.0, "worst {worst} ulp");
    }
}
