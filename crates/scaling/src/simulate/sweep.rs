//! Synthetic runs drawn from a known law on a design.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

use crate::data::{RoleSources, Runs, ValueSource};
use crate::error::{Error, Result};
use crate::law::Law;

/// Chinchilla's nine IsoFLOP budgets (Hoffmann et al. 2022, Approach 2), in FLOPs.
pub const CHINCHILLA_BUDGETS: [f64; 9] = [6e18, 1e19, 3e19, 6e19, 1e20, 3e20, 6e20, 1e21, 3e21];

/// An IsoFLOP design: for each budget, `per_budget` model sizes spaced evenly in ln N over
/// `span` decades centred on the law's compute-optimal N (or on 10^9 (C/1e20)^0.5 when the
/// law has no optimum), with D = C / (k N).
///
/// # Examples
/// ```
/// let law = scaling::law::presets::get("chinchilla").unwrap().law.unwrap();
/// let d = scaling::simulate::isoflop_design(&law, &[1e19, 1e20], 5, 1.0, 6.0);
/// assert_eq!(d.len(), 10);
/// assert!(d.iter().all(|&(n, t, c)| (6.0 * n * t / c - 1.0).abs() < 1e-12));
/// ```
pub fn isoflop_design(
    law: &Law,
    budgets: &[f64],
    per_budget: usize,
    span: f64,
    k: f64,
) -> Vec<(f64, f64, f64)> {
    let mut out = Vec::new();
    for &c in budgets {
        let centre = law
            .optimum(c, k)
            .map(|o| o.params)
            .unwrap_or_else(|| 1e9 * (c / 1e20).sqrt());
        for i in 0..per_budget {
            let t = if per_budget == 1 {
                0.0
            } else {
                i as f64 / (per_budget - 1) as f64 - 0.5
            };
            let n = centre * 10f64.powf(span * t);
            out.push((n, c / (k * n), c));
        }
    }
    out
}

/// A grid design: every combination of `params` and `tokens`, with C = k N D.
///
/// # Examples
/// ```
/// let d = scaling::simulate::grid_design(&[1e8, 1e9], &[1e10, 1e11, 1e12], 6.0);
/// assert_eq!(d.len(), 6);
/// assert_eq!(d[0], (1e8, 1e10, 6e18));
/// ```
pub fn grid_design(params: &[f64], tokens: &[f64], k: f64) -> Vec<(f64, f64, f64)> {
    params
        .iter()
        .flat_map(|&n| tokens.iter().map(move |&d| (n, d, k * n * d)))
        .collect()
}

/// The distribution of the noise eps added to ln L.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NoiseKind {
    /// eps ~ Normal(0, scale).
    Gaussian,
    /// eps ~ Exponential with mean `scale`: every run falls short of the law (losses only
    /// above it), as runs with imperfect hyperparameters do.
    Exponential,
}

/// Draw runs at the design points: loss = law(N, D) x exp(eps), eps ~ Normal(0, noise_sd),
/// from a ChaCha8 stream seeded with `seed` (the same seed gives the same runs everywhere).
///
/// # Examples
/// ```
/// let law = scaling::law::presets::get("chinchilla").unwrap().law.unwrap();
/// let design = scaling::simulate::grid_design(&[1e8, 1e9], &[1e10, 1e11], 6.0);
/// let runs = scaling::simulate::sample_runs(&law, &design, 0.0, 7, "noiseless").unwrap();
/// assert!((runs.loss[0] / law.predict(1e8, 1e10, 6e18) - 1.0).abs() < 1e-12); // the law itself
/// ```
///
/// # Errors
/// A negative or non-finite noise level.
pub fn sample_runs(
    law: &Law,
    design: &[(f64, f64, f64)],
    noise_sd: f64,
    seed: u64,
    label: &str,
) -> Result<Runs> {
    sample_runs_with(law, design, NoiseKind::Gaussian, noise_sd, seed, label)
}

/// As [`sample_runs`] with a choice of noise distribution (`noise_sd` is its scale).
///
/// # Errors
/// A negative or non-finite noise scale; a design larger than
/// [`crate::limits::MAX_DESIGN_RUNS`] or with a point that is not positive and finite (a NaN
/// span); noise so large that a loss overflows or vanishes.
pub fn sample_runs_with(
    law: &Law,
    design: &[(f64, f64, f64)],
    kind: NoiseKind,
    noise_sd: f64,
    seed: u64,
    label: &str,
) -> Result<Runs> {
    if !(noise_sd.is_finite() && noise_sd >= 0.0) {
        return Err(Error::InvalidSetting(format!(
            "noise must be >= 0, got {noise_sd}"
        )));
    }
    crate::limits::check(
        "synthetic runs",
        design.len(),
        crate::limits::MAX_DESIGN_RUNS,
    )?;
    let positive = |v: f64| v.is_finite() && v > 0.0;
    if let Some((i, p)) = design
        .iter()
        .enumerate()
        .find(|(_, p)| !(positive(p.0) && positive(p.1) && positive(p.2)))
    {
        return Err(Error::InvalidSetting(format!(
            "design point {} has N = {}, D = {}, C = {}: each must be a positive finite number",
            i + 1,
            p.0,
            p.1,
            p.2
        )));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let normal = Normal::new(0.0, 1.0).expect("unit normal");
    let expo = rand_distr::Exp::new(1.0).expect("unit exponential");
    let mut runs = Runs {
        source: label.to_string(),
        total_rows: design.len(),
        params: vec![],
        tokens: vec![],
        flops: vec![],
        loss: vec![],
        rows: vec![],
        sources: RoleSources {
            params: Some(ValueSource::Derived {
                formula: "synthetic design".into(),
            }),
            tokens: Some(ValueSource::Derived {
                formula: "D = C / (6 N)".into(),
            }),
            flops: Some(ValueSource::Derived {
                formula: "IsoFLOP budget".into(),
            }),
            loss: Some(ValueSource::Derived {
                formula: match kind {
                    NoiseKind::Gaussian => {
                        format!("loss = law x exp(Normal(0, {noise_sd})), seed {seed}")
                    }
                    NoiseKind::Exponential => {
                        format!("loss = law x exp(Exponential(mean {noise_sd})), seed {seed}")
                    }
                },
            }),
            flops_check: None,
        },
        excluded: vec![],
        flops_per_param_token: 6.0,
        filters: Default::default(),
    };
    for (i, &(n, d, c)) in design.iter().enumerate() {
        let eps: f64 = match kind {
            NoiseKind::Gaussian => normal.sample(&mut rng),
            NoiseKind::Exponential => expo.sample(&mut rng),
        };
        runs.params.push(n);
        runs.tokens.push(d);
        runs.flops.push(c);
        runs.loss
            .push(law.predict(n, d, c) * (noise_sd * eps).exp());
        runs.rows.push(i + 1);
    }
    if let Some((i, l)) = runs
        .loss
        .iter()
        .enumerate()
        .find(|(_, l)| !(l.is_finite() && **l > 0.0))
    {
        return Err(Error::InvalidSetting(format!(
            "noise {noise_sd} in ln L gives run {} a loss of {l} (N = {:e}, D = {:e}); use a smaller noise",
            i + 1,
            runs.params[i],
            runs.tokens[i]
        )));
    }
    Ok(runs)
}
