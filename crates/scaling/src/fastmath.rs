//! Branch-free `exp` and `ln` for the fitting kernel, written so that LLVM vectorises four
//! lanes at a time. Both use only IEEE additions, multiplications, divisions and bit
//! operations in a fixed order, so results are identical on every CPU (no fused
//! multiply-add, no lookup tables).
//!
//! ## Reference
//! Cody, W. J. and Waite, W. (1980), *Software Manual for the Elementary Functions*:
//! argument reduction x = k ln 2 + r with ln 2 split in two parts; exp(r) by its Taylor
//! polynomial of degree 13 on |r| <= ln(2)/2, and ln(m) = 2 atanh((m-1)/(m+1)) for
//! m in [sqrt(1/2), sqrt(2)). Relative error is within a few ulp of the correctly rounded value
//! (checked against `f64::exp` and `f64::ln` in the tests).

/// ln 2 = LN2_HI + LN2_LO, with LN2_HI's low 32 mantissa bits zero so k * LN2_HI is exact.
const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
const LOG2E: f64 = std::f64::consts::LOG2_E;
/// 1.5 * 2^52: adding it rounds to an integer held in the low mantissa bits.
const SHIFT: f64 = 6_755_399_441_055_744.0;

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
    // Taylor polynomial of degree 13 (Horner).
    let mut p = 1.0 / 6_227_020_800.0;
    p = p * r + 1.0 / 479_001_600.0;
    p = p * r + 1.0 / 39_916_800.0;
    p = p * r + 1.0 / 3_628_800.0;
    p = p * r + 1.0 / 362_880.0;
    p = p * r + 1.0 / 40_320.0;
    p = p * r + 1.0 / 5_040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
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
    let mut s = 1.0 / 21.0;
    s = s * f2 + 1.0 / 19.0;
    s = s * f2 + 1.0 / 17.0;
    s = s * f2 + 1.0 / 15.0;
    s = s * f2 + 1.0 / 13.0;
    s = s * f2 + 1.0 / 11.0;
    s = s * f2 + 1.0 / 9.0;
    s = s * f2 + 1.0 / 7.0;
    s = s * f2 + 1.0 / 5.0;
    s = s * f2 + 1.0 / 3.0;
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
    let mut p = [1.0 / 6_227_020_800.0; W];
    for c in [
        1.0 / 479_001_600.0,
        1.0 / 39_916_800.0,
        1.0 / 3_628_800.0,
        1.0 / 362_880.0,
        1.0 / 40_320.0,
        1.0 / 5_040.0,
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
        1.0,
        1.0,
    ] {
        for l in 0..W {
            p[l] = p[l] * r[l] + c;
        }
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
    let mut s = [1.0 / 21.0; W];
    for c in [
        1.0 / 19.0,
        1.0 / 17.0,
        1.0 / 15.0,
        1.0 / 13.0,
        1.0 / 11.0,
        1.0 / 9.0,
        1.0 / 7.0,
        1.0 / 5.0,
        1.0 / 3.0,
    ] {
        for l in 0..W {
            s[l] = s[l] * f2[l] + c;
        }
    }
    let mut out = [0.0; W];
    for l in 0..W {
        let lnm = 2.0 * f[l] + 2.0 * f[l] * (f2[l] * s[l]);
        out[l] = ef[l] * LN2_HI + (ef[l] * LN2_LO + lnm);
    }
    out
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
