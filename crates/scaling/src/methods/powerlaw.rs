//! y = k x^a by least squares in log-log space.
//!
//! # Formula
//! Ordinary least squares of ln y on ln x: slope a, intercept ln k, with standard errors from
//! the residual variance s^2 = RSS / (n - 2) and Student-t intervals on n - 2 degrees of
//! freedom. (Porian et al. 2024 fit their IsoFLOP optima this way.)

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::num::special::student_t_quantile;

/// A fitted power law.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PowerLawFit {
    /// a in y = k x^a.
    pub exponent: f64,
    /// k.
    pub coefficient: f64,
    /// ln k.
    pub ln_coefficient: f64,
    /// Standard error of a.
    pub exponent_std_error: Option<f64>,
    /// Standard error of ln k.
    pub ln_coefficient_std_error: Option<f64>,
    /// t interval on a at `level`.
    pub exponent_interval: Option<[f64; 2]>,
    /// Interval on k (from the t interval on ln k).
    pub coefficient_interval: Option<[f64; 2]>,
    /// Interval level.
    pub level: f64,
    /// Points fitted.
    pub points: usize,
    /// R^2 in log-log space.
    pub r_squared: f64,
    /// Residual standard deviation of ln y.
    pub residual_sd: Option<f64>,
}

/// Fit y = k x^a to positive (x, y) pairs.
///
/// # Examples
/// ```
/// let x = [1e18, 1e19, 1e20, 1e21];
/// let y: Vec<f64> = x.iter().map(|c: &f64| 0.1 * c.powf(0.5)).collect();
/// let f = scaling::methods::fit_power_law(&x, &y, 0.95).unwrap();
/// assert!((f.exponent - 0.5).abs() < 1e-10 && (f.coefficient - 0.1).abs() < 1e-8);
/// ```
///
/// # Errors
/// Fewer than two points, non-positive or non-finite values, or all x equal (to within
/// rounding: a spread of ln x below 1e-12 of its size).
pub fn fit_power_law(x: &[f64], y: &[f64], level: f64) -> Result<PowerLawFit> {
    if x.len() != y.len() || x.len() < 2 {
        return Err(Error::InsufficientData(format!(
            "a power law needs at least 2 points, got {}",
            x.len().min(y.len())
        )));
    }
    if let Some(v) = x.iter().chain(y).find(|v| !(v.is_finite() && **v > 0.0)) {
        return Err(Error::InvalidSetting(format!(
            "power-law data must be positive and finite, got {v}"
        )));
    }
    let n = x.len() as f64;
    let lx: Vec<f64> = x.iter().map(|v| v.ln()).collect();
    let ly: Vec<f64> = y.iter().map(|v| v.ln()).collect();
    let (mx, my) = (lx.iter().sum::<f64>() / n, ly.iter().sum::<f64>() / n);
    let sxx: f64 = lx.iter().map(|v| (v - mx) * (v - mx)).sum();
    // Equal x values can leave sxx a rounding error above 0 (ln x summed in floating point),
    // which would give a slope with an astronomical standard error: compare the spread of
    // ln x with the rounding of its values.
    let spread = lx.iter().cloned().fold(f64::NEG_INFINITY, f64::max)
        - lx.iter().cloned().fold(f64::INFINITY, f64::min);
    if !(sxx > 0.0) || spread <= 1e-12 * mx.abs().max(1.0) {
        return Err(Error::InsufficientData(format!(
            "all x values are equal ({}): no slope to fit",
            x[0]
        )));
    }
    let sxy: f64 = lx.iter().zip(&ly).map(|(a, b)| (a - mx) * (b - my)).sum();
    let syy: f64 = ly.iter().map(|v| (v - my) * (v - my)).sum();
    let a = sxy / sxx;
    let b = my - a * mx;
    let rss: f64 = lx
        .iter()
        .zip(&ly)
        .map(|(u, v)| (v - b - a * u).powi(2))
        .sum();
    let df = n - 2.0;
    let (se_a, se_b, iv_a, iv_k, sd) = if df >= 1.0 {
        let s2 = rss / df;
        let se_a = (s2 / sxx).sqrt();
        let se_b = (s2 * (1.0 / n + mx * mx / sxx)).sqrt();
        let t = student_t_quantile(0.5 + level / 2.0, df);
        (
            Some(se_a),
            Some(se_b),
            Some([a - t * se_a, a + t * se_a]),
            Some([(b - t * se_b).exp(), (b + t * se_b).exp()]),
            Some(s2.sqrt()),
        )
    } else {
        (None, None, None, None, None)
    };
    if !(a.is_finite() && b.is_finite() && b.exp().is_finite() && b.exp() > 0.0) {
        return Err(Error::InsufficientData(format!(
            "the power law through these points has exponent {a} and coefficient e^{b}, beyond the range of floating point; check the values"
        )));
    }
    Ok(PowerLawFit {
        exponent: a,
        coefficient: b.exp(),
        ln_coefficient: b,
        exponent_std_error: se_a,
        ln_coefficient_std_error: se_b,
        exponent_interval: iv_a,
        coefficient_interval: iv_k,
        level,
        points: x.len(),
        r_squared: if syy > 0.0 { 1.0 - rss / syy } else { 1.0 },
        residual_sd: sd,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Equal x values whose logarithms do not average back exactly (ln 0.1 ten times: the sum
    /// of squared deviations is 2e-30, not 0) used to give a slope with a standard error of
    /// about 1e13 instead of an error.
    #[test]
    fn powerlaw_constant_x_is_refused_not_fitted() {
        let x = [0.1; 10];
        let y = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0];
        let e = fit_power_law(&x, &y, 0.95).unwrap_err();
        assert!(e.to_string().contains("all x values are equal"), "{e}");
        assert!(e.is_user_error());
        assert!(fit_power_law(&[1.0, 2.0], &[1.0, 2.0], 0.95).is_ok());
    }

    #[test]
    fn exact_power_law() {
        let x = [1e18, 1e19, 1e20, 1e21];
        let y: Vec<f64> = x.iter().map(|v: &f64| 0.1 * v.powf(0.5)).collect();
        let f = fit_power_law(&x, &y, 0.95).unwrap();
        assert!((f.exponent - 0.5).abs() < 1e-12);
        assert!((f.coefficient / 0.1 - 1.0).abs() < 1e-9);
        assert!(f.r_squared > 0.999_999);
        assert!(fit_power_law(&[1.0], &[1.0], 0.95).is_err());
        assert!(fit_power_law(&[1.0, 1.0], &[1.0, 2.0], 0.95).is_err());
    }
}
