//! Chinchilla's Approach 1 (Hoffmann et al. 2022, Section 3.1): the lower envelope of loss
//! curves.
//!
//! # Formula
//! Each checkpoint of a run with N parameters after D tokens has C = 6 N D. On a grid of
//! log-spaced budgets (1500 by default, as the paper uses), each run whose checkpoints span C
//! gives a loss by linear interpolation in ln C; the lowest over runs is the envelope, and its
//! run gives N_opt(C), with D_opt = C / (6 N_opt). Budgets won by the smallest or the largest
//! model, or spanned by a single run, are left out: there the optimum may lie beyond the sizes
//! trained. Then N_opt ~ C^a and D_opt ~ C^b by least squares in log-log space; intervals
//! resample whole runs.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::powerlaw::{fit_power_law, PowerLawFit};
use crate::error::{Error, Result};
use crate::num::summarise;

/// One run's curve: its name, size and checkpoints (tokens, loss), sorted by tokens.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Curve {
    /// The run's identity.
    pub run: String,
    /// Parameters N.
    pub params: f64,
    /// Checkpoints (tokens, loss), increasing in tokens.
    pub points: Vec<(f64, f64)>,
}

/// A stretch of the envelope won by one run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Segment {
    /// The run.
    pub run: String,
    /// Its N.
    pub params: f64,
    /// Budgets [from, to] over which it gives the lowest loss.
    pub flops: [f64; 2],
}

/// The result of Approach 1.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnvelopeResult {
    /// a in N_opt ~ C^a.
    pub params_exponent: f64,
    /// b in D_opt ~ C^b.
    pub tokens_exponent: f64,
    /// Bootstrap interval on a (runs resampled).
    pub params_exponent_interval: Option<[f64; 2]>,
    /// Bootstrap interval on b.
    pub tokens_exponent_interval: Option<[f64; 2]>,
    /// The N_opt power law.
    pub params_fit: PowerLawFit,
    /// The D_opt power law.
    pub tokens_fit: PowerLawFit,
    /// Which run gives the envelope where.
    pub segments: Vec<Segment>,
    /// Grid points on the envelope.
    pub grid_points: usize,
    /// Runs.
    pub runs: usize,
    /// Interval level.
    pub level: f64,
    /// Bootstrap replicates.
    pub replicates: usize,
}

/// (C, index of winning curve) on a log grid; `None` where no curve spans C.
fn envelope_points(curves: &[&Curve], grid: usize, k: f64) -> Vec<(f64, usize)> {
    let lc: Vec<Vec<(f64, f64)>> = curves
        .iter()
        .map(|c| {
            c.points
                .iter()
                .map(|(d, l)| ((k * c.params * d).ln(), *l))
                .collect()
        })
        .collect();
    let nmin = curves
        .iter()
        .map(|c| c.params)
        .fold(f64::INFINITY, f64::min);
    let nmax = curves.iter().map(|c| c.params).fold(0.0, f64::max);
    let lo = lc
        .iter()
        .flat_map(|v| v.first())
        .map(|p| p.0)
        .fold(f64::INFINITY, f64::min);
    let hi = lc
        .iter()
        .flat_map(|v| v.last())
        .map(|p| p.0)
        .fold(f64::NEG_INFINITY, f64::max);
    if !(hi > lo) {
        return vec![];
    }
    let mut out = Vec::new();
    for g in 0..grid {
        let x = lo + (hi - lo) * g as f64 / (grid - 1) as f64;
        let mut best: Option<(f64, usize)> = None;
        let mut spanning = 0;
        for (ci, v) in lc.iter().enumerate() {
            if v.len() < 2 || x < v[0].0 || x > v[v.len() - 1].0 {
                continue;
            }
            let j = v.partition_point(|p| p.0 < x).clamp(1, v.len() - 1);
            let (a, b) = (v[j - 1], v[j]);
            let t = if b.0 > a.0 {
                (x - a.0) / (b.0 - a.0)
            } else {
                0.0
            };
            let loss = a.1 + t * (b.1 - a.1);
            spanning += 1;
            if best.is_none_or(|(bl, _)| loss < bl) {
                best = Some((loss, ci));
            }
        }
        if let Some((_, ci)) = best {
            let n = curves[ci].params;
            if spanning >= 2 && n > nmin && n < nmax {
                out.push((x.exp(), ci));
            }
        }
    }
    out
}

fn fits(
    curves: &[&Curve],
    pts: &[(f64, usize)],
    k: f64,
    level: f64,
) -> Option<(PowerLawFit, PowerLawFit)> {
    let c: Vec<f64> = pts.iter().map(|p| p.0).collect();
    let n: Vec<f64> = pts.iter().map(|p| curves[p.1].params).collect();
    let d: Vec<f64> = pts.iter().map(|p| p.0 / (k * curves[p.1].params)).collect();
    Some((
        fit_power_law(&c, &n, level).ok()?,
        fit_power_law(&c, &d, level).ok()?,
    ))
}

/// Run Approach 1 on loss curves.
///
/// # Examples
/// ```
/// use scaling::methods::{envelope, Curve};
/// // Four runs of L = 1.7 + 400/N^0.34 + 410/D^0.28, eight checkpoints each.
/// let curves: Vec<Curve> = [1e7_f64, 4e7, 1.6e8, 6.4e8]
///     .iter()
///     .enumerate()
///     .map(|(i, &n)| Curve {
///         run: format!("r{i}"),
///         params: n,
///         points: (0..8)
///             .map(|k| {
///                 let d = 1e8 * 3f64.powi(k);
///                 (d, 1.7 + 400.0 / n.powf(0.34) + 410.0 / d.powf(0.28))
///             })
///             .collect(),
///     })
///     .collect();
/// let r = envelope(&curves, 200, 6.0, 0, 0, 0.95).unwrap();
/// assert_eq!(r.runs, 4);
/// assert!((r.params_exponent + r.tokens_exponent - 1.0).abs() < 1e-9);
/// ```
///
/// # Errors
/// Fewer than two runs with at least two checkpoints, or an envelope won by a single size (no
/// slope to fit); a grid or replicate count above the caps of [`crate::limits`].
pub fn envelope(
    curves: &[Curve],
    grid: usize,
    k: f64,
    replicates: usize,
    seed: u64,
    level: f64,
) -> Result<EnvelopeResult> {
    crate::limits::check("envelope grid points", grid, crate::limits::MAX_GRID)?;
    crate::limits::check(
        "bootstrap replicates",
        replicates,
        crate::limits::MAX_REPLICATES,
    )?;
    let usable: Vec<&Curve> = curves.iter().filter(|c| c.points.len() >= 2).collect();
    if usable.len() < 2 {
        return Err(Error::InsufficientData(format!(
            "the envelope needs at least 2 runs with 2 or more checkpoints, got {}",
            usable.len()
        )));
    }
    let grid = grid.max(10);
    let pts = envelope_points(&usable, grid, k);
    let sizes: std::collections::BTreeSet<u64> =
        pts.iter().map(|p| usable[p.1].params.to_bits()).collect();
    if sizes.len() < 2 {
        return Err(Error::InsufficientData(
            "fewer than two model sizes win the envelope between the smallest and largest model: \
             no slope to fit (train more sizes, or longer)"
                .into(),
        ));
    }
    let (nfit, dfit) = fits(&usable, &pts, k, level).ok_or_else(|| {
        Error::InsufficientData("the envelope points do not support a power-law fit".into())
    })?;
    let mut segments: Vec<Segment> = Vec::new();
    for &(c, ci) in &pts {
        match segments.last_mut() {
            Some(s) if s.run == usable[ci].run => s.flops[1] = c,
            _ => segments.push(Segment {
                run: usable[ci].run.clone(),
                params: usable[ci].params,
                flops: [c, c],
            }),
        }
    }
    let boot: Vec<Option<(f64, f64)>> = (0..replicates)
        .into_par_iter()
        .map(|r| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(r as u64);
            let sample: Vec<&Curve> = (0..usable.len())
                .map(|_| usable[rng.random_range(0..usable.len())])
                .collect();
            let p = envelope_points(&sample, grid.min(300), k);
            let (n, d) = fits(&sample, &p, k, level)?;
            (n.exponent.is_finite() && d.exponent.is_finite()).then_some((n.exponent, d.exponent))
        })
        .collect();
    let a_s: Vec<f64> = boot.iter().flatten().map(|t| t.0).collect();
    let b_s: Vec<f64> = boot.iter().flatten().map(|t| t.1).collect();
    Ok(EnvelopeResult {
        params_exponent: nfit.exponent,
        tokens_exponent: dfit.exponent,
        params_exponent_interval: summarise(&a_s, level).map(|(i, _)| i),
        tokens_exponent_interval: summarise(&b_s, level).map(|(i, _)| i),
        params_fit: nfit,
        tokens_fit: dfit,
        segments,
        grid_points: pts.len(),
        runs: usable.len(),
        level,
        replicates,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::law::{Law, LawForm};

    /// Curves drawn from a law with alpha = beta: the envelope's exponents are near 0.5.
    #[test]
    fn envelope_of_law_curves() {
        let law = Law::new(LawForm::Chinchilla, vec![1.7, 400.0, 400.0, 0.34, 0.34]).unwrap();
        let curves: Vec<Curve> = (0..14)
            .map(|i| {
                let n = 1e7 * 1.8f64.powi(i);
                Curve {
                    run: format!("r{i}"),
                    params: n,
                    points: (0..60)
                        .map(|j| {
                            let d = 1e8 * 1.25f64.powi(j);
                            (d, law.predict(n, d, 0.0))
                        })
                        .collect(),
                }
            })
            .collect();
        let r = envelope(&curves, 1500, 6.0, 20, 1, 0.95).unwrap();
        assert!(
            (r.params_exponent - 0.5).abs() < 0.05,
            "{}",
            r.params_exponent
        );
        assert!(
            (r.tokens_exponent - 0.5).abs() < 0.05,
            "{}",
            r.tokens_exponent
        );
        assert!(r.segments.len() > 3);
    }
}
