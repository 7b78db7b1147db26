//! Data strategies change scaling laws (the seed document "Are Scaling Laws Really
//! Plateauing?"; Ayed et al. 2023; Sorscher et al. 2022).
//!
//! # Formula
//! Truth `y = theta x + b + eps`, theta = 1, eps ~ Normal(0, sigma^2); the model fits the slope
//! alone by least squares without intercept on n training samples, `theta_hat = sum x y /
//! sum x^2`; test inputs x ~ Uniform(-1, 1), so the test error is exactly
//! `R = sigma^2 + b^2 + (theta_hat - theta)^2 / 3` (E[x] = 0, E[x^2] = 1/3). How the training
//! x (and noise) are chosen sets the rate at which R approaches its asymptote, and the
//! asymptote itself.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::num::summarise;

/// How training data are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "scenario", rename_all = "kebab-case")]
pub enum Scenario {
    /// x ~ Uniform(-1, 1): excess error ~ sigma^2 / n, rate 1.
    FullRange,
    /// x ~ Uniform(-n^-kappa, n^-kappa), 0 <= kappa < 1/2: rate 1 - 2 kappa.
    NearZero {
        /// kappa.
        kappa: f64,
    },
    /// A verifier keeps low-noise samples: training noise sd sigma n^(-gamma/2): rate 1 + gamma.
    LowNoise {
        /// gamma.
        gamma: f64,
    },
    /// x ~ Uniform(0, 1) with the unmodelled bias b: theta_hat -> theta + 1.5 b, asymptote
    /// sigma^2 + 1.75 b^2.
    HalfSupport,
    /// Draw n / f candidates from Uniform(-1, 1) and keep the n with the largest (or smallest)
    /// |x| (after Sorscher et al. 2022).
    Prune {
        /// Fraction kept, f.
        keep_fraction: f64,
        /// Keep the largest |x| (true) or the smallest.
        keep_largest: bool,
    },
}

/// Settings of a data-strategy experiment.
#[derive(Debug, Clone)]
pub struct StrategyConfig {
    /// The scenario.
    pub scenario: Scenario,
    /// Training-set sizes n.
    pub sizes: Vec<usize>,
    /// Repetitions per size.
    pub reps: usize,
    /// Seed: size i, repetition r draws from ChaCha8 stream (i << 32) | r.
    pub seed: u64,
    /// Noise sd sigma.
    pub noise: f64,
    /// The unmodelled bias b.
    pub bias: f64,
    /// Interval level.
    pub level: f64,
}

/// The mean test error at one size.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct StrategyPoint {
    /// n.
    pub n: f64,
    /// Mean test error over repetitions.
    pub mean: f64,
    /// Lower end of its interval (normal approximation).
    pub low: f64,
    /// Upper end.
    pub high: f64,
}

/// The measured law R = R_inf + c n^-r beside the theory.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StrategyResult {
    /// The scenario.
    pub scenario: Scenario,
    /// Measured rate r.
    pub rate: f64,
    /// True when the fitted rate sits at the edge of the searched range (0.01 to 8), or its
    /// interval spans more than half of it: the data do not determine it.
    pub rate_at_search_edge: bool,
    /// Its bootstrap interval.
    pub rate_interval: Option<[f64; 2]>,
    /// The theory's rate.
    pub rate_theory: f64,
    /// Measured asymptote R_inf.
    pub asymptote: f64,
    /// Its bootstrap interval.
    pub asymptote_interval: Option<[f64; 2]>,
    /// The theory's asymptote.
    pub asymptote_theory: f64,
    /// c in R = R_inf + c n^-r.
    pub coefficient: f64,
    /// Mean test error per size.
    pub points: Vec<StrategyPoint>,
    /// Repetitions per size.
    pub reps: usize,
    /// Seed.
    pub seed: u64,
    /// sigma.
    pub noise: f64,
    /// b.
    pub bias: f64,
}

fn test_error(scenario: Scenario, n: usize, noise: f64, bias: f64, rng: &mut ChaCha8Rng) -> f64 {
    let mut sxy = 0.0;
    let mut sxx = 0.0;
    let mut add = |x: f64, sd: f64, rng: &mut ChaCha8Rng| {
        let eps: f64 = StandardNormal.sample(rng);
        let y = x + bias + sd * eps;
        sxy += x * y;
        sxx += x * x;
    };
    match scenario {
        Scenario::FullRange
        | Scenario::HalfSupport
        | Scenario::NearZero { .. }
        | Scenario::LowNoise { .. } => {
            let (lo, hi) = match scenario {
                Scenario::HalfSupport => (0.0, 1.0),
                Scenario::NearZero { kappa } => {
                    let w = (n as f64).powf(-kappa);
                    (-w, w)
                }
                _ => (-1.0, 1.0),
            };
            let sd = match scenario {
                Scenario::LowNoise { gamma } => noise * (n as f64).powf(-gamma / 2.0),
                _ => noise,
            };
            for _ in 0..n {
                let x = rng.random_range(lo..hi);
                add(x, sd, rng);
            }
        }
        Scenario::Prune {
            keep_fraction,
            keep_largest,
        } => {
            let pool = ((n as f64 / keep_fraction).round() as usize).max(n);
            let mut xs: Vec<f64> = (0..pool).map(|_| rng.random_range(-1.0..1.0)).collect();
            xs.sort_by(|a: &f64, b: &f64| a.abs().total_cmp(&b.abs()));
            let kept: Vec<f64> = if keep_largest {
                xs[pool - n..].to_vec()
            } else {
                xs[..n].to_vec()
            };
            for x in kept {
                add(x, noise, rng);
            }
        }
    }
    let theta_hat = sxy / sxx;
    // The excess over sigma^2 + b^2, kept apart so it is not lost to rounding when tiny.
    (theta_hat - 1.0).powi(2) / 3.0
}

/// Weighted least squares of y = r_inf + c n^-r over r (grid then golden section), with
/// (r_inf, c) solved exactly for each r. Returns (r, r_inf, c).
fn fit_rate(n: &[f64], y: &[f64], w: &[f64]) -> (f64, f64, f64) {
    let solve = |r: f64| -> (f64, f64, f64) {
        let u: Vec<f64> = n.iter().map(|v| v.powf(-r)).collect();
        let (mut s1, mut su, mut suu, mut sy, mut suy) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for i in 0..n.len() {
            s1 += w[i];
            su += w[i] * u[i];
            suu += w[i] * u[i] * u[i];
            sy += w[i] * y[i];
            suy += w[i] * u[i] * y[i];
        }
        let det = s1 * suu - su * su;
        let c = (s1 * suy - su * sy) / det;
        let r_inf = (sy - c * su) / s1;
        let rss: f64 = (0..n.len())
            .map(|i| w[i] * (y[i] - r_inf - c * u[i]).powi(2))
            .sum();
        (rss, r_inf, c)
    };
    let mut best = (f64::INFINITY, 0.0);
    for k in 1..=800 {
        let r = 0.01 * k as f64;
        let v = solve(r).0;
        if v < best.0 {
            best = (v, r);
        }
    }
    let (mut a, mut b) = ((best.1 - 0.01).max(1e-4), best.1 + 0.01);
    let g = (5f64.sqrt() - 1.0) / 2.0;
    for _ in 0..100 {
        let (c, d) = (b - g * (b - a), a + g * (b - a));
        if solve(c).0 < solve(d).0 {
            b = d;
        } else {
            a = c;
        }
    }
    let r = 0.5 * (a + b);
    let (_, r_inf, c) = solve(r);
    (r, r_inf, c)
}

/// Run a data-strategy experiment.
///
/// # Errors
/// Fewer than three sizes, sizes below 2, parameters outside their domains, or more samples in
/// all than [`crate::limits::MAX_DRAWS`].
pub fn simulate_strategy(cfg: &StrategyConfig) -> Result<StrategyResult> {
    if cfg.sizes.len() < 3 || cfg.sizes.iter().any(|&n| n < 2) {
        return Err(Error::setting(
            "{} needs at least three sizes of 2 or more",
            &["sizes"],
        ));
    }
    if !(cfg.level > 0.0 && cfg.level < 1.0) {
        return Err(Error::setting(
            format!("{{}} must be between 0 and 1, got {}", cfg.level),
            &["level"],
        ));
    }
    if !cfg.bias.is_finite() || cfg.bias.abs() > 1e6 {
        return Err(Error::setting(
            format!(
                "{{}} must be a finite number of moderate size, got {}",
                cfg.bias
            ),
            &["bias"],
        ));
    }
    let mut sorted = cfg.sizes.clone();
    sorted.sort_unstable();
    sorted.dedup();
    if sorted.len() != cfg.sizes.len() {
        return Err(Error::setting("{} must not repeat a size", &["sizes"]));
    }
    if let Scenario::Prune { keep_fraction, .. } = cfg.scenario {
        let largest = *sorted.last().unwrap_or(&0) as f64;
        if keep_fraction > 0.0 && largest / keep_fraction > 5e7 {
            return Err(Error::setting(format!(
                "{{}} {keep_fraction} at n = {largest} needs a pool of {:.1e} candidates per repetition; keep a larger fraction or use smaller sizes",
                largest / keep_fraction
            ), &["keep_fraction"]));
        }
    }
    let draws: f64 = cfg
        .sizes
        .iter()
        .map(|&n| match cfg.scenario {
            Scenario::Prune { keep_fraction, .. } if keep_fraction > 0.0 => {
                (n as f64 / keep_fraction).max(n as f64)
            }
            _ => n as f64,
        })
        .sum::<f64>()
        * cfg.reps as f64;
    if !(draws <= crate::limits::MAX_DRAWS) {
        return Err(Error::InvalidSetting(format!(
            "the sizes and repetitions ask for {draws:.2e} samples in all, more than the {:.0e} allowed (a cap that keeps time bounded); use smaller sizes or fewer repetitions",
            crate::limits::MAX_DRAWS
        )));
    }
    if cfg.reps < 10 {
        return Err(Error::setting(
            format!("{{}} must be at least 10, got {}", cfg.reps),
            &["reps"],
        ));
    }
    if !(cfg.noise.is_finite() && cfg.noise > 0.0) {
        return Err(Error::setting(
            format!("{{}} must be positive, got {}", cfg.noise),
            &["noise"],
        ));
    }
    let (rate_theory, asym_theory) = match cfg.scenario {
        Scenario::FullRange => (1.0, cfg.noise.powi(2) + cfg.bias.powi(2)),
        Scenario::NearZero { kappa } => {
            if !(0.0..0.5).contains(&kappa) {
                return Err(Error::setting(
                    format!("{{}} must be in [0, 1/2), got {kappa}"),
                    &["kappa"],
                ));
            }
            (1.0 - 2.0 * kappa, cfg.noise.powi(2) + cfg.bias.powi(2))
        }
        Scenario::LowNoise { gamma } => {
            if !(gamma.is_finite() && gamma >= 0.0) {
                return Err(Error::setting(
                    format!("{{}} must be >= 0, got {gamma}"),
                    &["gamma"],
                ));
            }
            (1.0 + gamma, cfg.noise.powi(2) + cfg.bias.powi(2))
        }
        Scenario::HalfSupport => (1.0, cfg.noise.powi(2) + 1.75 * cfg.bias.powi(2)),
        Scenario::Prune { keep_fraction, .. } => {
            if !(keep_fraction > 0.0 && keep_fraction <= 1.0) {
                return Err(Error::setting(
                    format!("{{}} must be in (0, 1], got {keep_fraction}"),
                    &["keep_fraction"],
                ));
            }
            (1.0, cfg.noise.powi(2) + cfg.bias.powi(2))
        }
    };
    let errors: Vec<Vec<f64>> = cfg
        .sizes
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            (0..cfg.reps)
                .into_par_iter()
                .map(|r| {
                    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
                    rng.set_stream(((i as u64) << 32) | r as u64);
                    test_error(cfg.scenario, n, cfg.noise, cfg.bias, &mut rng)
                })
                .collect()
        })
        .collect();
    let z = crate::num::special::student_t_quantile(0.5 + cfg.level / 2.0, (cfg.reps - 1) as f64);
    let stats = |v: &[f64]| {
        let m = v.iter().sum::<f64>() / v.len() as f64;
        let sd = (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (v.len() - 1) as f64).sqrt();
        (m, sd / (v.len() as f64).sqrt())
    };
    let floor = cfg.noise * cfg.noise + cfg.bias * cfg.bias;
    let n: Vec<f64> = cfg.sizes.iter().map(|&s| s as f64).collect();
    let ms: Vec<(f64, f64)> = errors.iter().map(|v| stats(v)).collect();
    let points: Vec<StrategyPoint> = n
        .iter()
        .zip(&ms)
        .map(|(&n, &(m, se))| StrategyPoint {
            n,
            mean: floor + m,
            low: floor + m - z * se,
            high: floor + m + z * se,
        })
        .collect();
    let w: Vec<f64> = ms
        .iter()
        .map(|(_, se)| 1.0 / (se * se).max(1e-300))
        .collect();
    let y: Vec<f64> = ms.iter().map(|(m, _)| *m).collect();
    let (rate, excess_floor, coefficient) = fit_rate(&n, &y, &w);
    let asymptote = floor + excess_floor;
    // Bootstrap: resample repetitions within each size and refit.
    let boot: Vec<(f64, f64)> = (0..200)
        .into_par_iter()
        .map(|b| {
            let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed ^ 0x00b0_0757);
            rng.set_stream(b as u64);
            let yb: Vec<(f64, f64)> = errors
                .iter()
                .map(|v| {
                    let s: Vec<f64> = (0..v.len())
                        .map(|_| v[rng.random_range(0..v.len())])
                        .collect();
                    stats(&s)
                })
                .collect();
            let wb: Vec<f64> = yb
                .iter()
                .map(|(_, se)| 1.0 / (se * se).max(1e-300))
                .collect();
            let (r, a, _) = fit_rate(&n, &yb.iter().map(|t| t.0).collect::<Vec<_>>(), &wb);
            (r, floor + a)
        })
        .collect();
    let rate_iv =
        summarise(&boot.iter().map(|t| t.0).collect::<Vec<_>>(), cfg.level).map(|(i, _)| i);
    Ok(StrategyResult {
        scenario: cfg.scenario,
        rate_at_search_edge: !(0.02..7.99).contains(&rate)
            || rate_iv.is_some_and(|[lo, hi]| hi - lo > 4.0),
        rate,
        rate_interval: summarise(&boot.iter().map(|t| t.0).collect::<Vec<_>>(), cfg.level)
            .map(|(i, _)| i),
        rate_theory,
        asymptote,
        asymptote_interval: summarise(&boot.iter().map(|t| t.1).collect::<Vec<_>>(), cfg.level)
            .map(|(i, _)| i),
        asymptote_theory: asym_theory,
        coefficient,
        points,
        reps: cfg.reps,
        seed: cfg.seed,
        noise: cfg.noise,
        bias: cfg.bias,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(scenario: Scenario, bias: f64) -> StrategyResult {
        let sizes: Vec<usize> = (0..=9)
            .map(|i| (100.0 * 10f64.powf(i as f64 / 3.0)).round() as usize)
            .collect();
        simulate_strategy(&StrategyConfig {
            scenario,
            sizes,
            reps: 300,
            seed: 7,
            noise: 1.0,
            bias,
            level: 0.95,
        })
        .unwrap()
    }

    /// The seed document's rates (issue acceptance: within 0.05) and asymptotes (within 3%).
    #[test]
    fn rates_and_asymptotes() {
        assert!((run(Scenario::FullRange, 0.0).rate - 1.0).abs() < 0.05);
        assert!((run(Scenario::NearZero { kappa: 0.25 }, 0.0).rate - 0.5).abs() < 0.05);
        assert!((run(Scenario::LowNoise { gamma: 0.5 }, 0.0).rate - 1.5).abs() < 0.05);
        let h = run(Scenario::HalfSupport, 0.5);
        assert!((h.asymptote / 1.4375 - 1.0).abs() < 0.03, "{}", h.asymptote);
        let f = run(Scenario::FullRange, 0.5);
        assert!((f.asymptote / 1.25 - 1.0).abs() < 0.03, "{}", f.asymptote);
    }
}
