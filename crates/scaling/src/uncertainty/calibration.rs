//! Calibration of bootstrap intervals: how often do nominal intervals cover the truth?
//!
//! Simulate datasets from a known law on a fixed design (N, D per run), with log-loss noise
//! either resampled from a fit's residuals (keeping their heavy tails) or Gaussian; fit and
//! bootstrap each dataset exactly as `scaling fit --bootstrap` does; count how often each
//! percentile interval contains the true alpha, beta, E, a = beta / (alpha + beta) and G
//! (Hoffmann et al. 2022, Eq. 4).
//!
//! Independent noise is a best case: real runs of one model size share their errors (Epoch's
//! log residuals have an intra-class correlation of 0.15 over 43 sizes). The grouped noise
//! model keeps that structure: each dataset draws one effect per model size from the fit's
//! per-size mean residuals and one deviation per run from the residuals about those means
//! (both with replacement), so runs of a size move together; the bootstraps can then resample
//! sizes instead of runs (`cluster`).

use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{bootstrap, intervals, BootstrapConfig};
use crate::data::Runs;
use crate::error::{Error, Result};
use crate::fit::{self, FitConfig};
use crate::law::{Law, LawForm};

/// Noise added to ln L of each simulated run.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Noise {
    /// Draw (with replacement) from these log-space residuals and subtract: L = L_true exp(-r).
    Residuals {
        /// The residual pool.
        values: Vec<f64>,
    },
    /// Normal(0, sd) in ln L.
    Gaussian {
        /// Standard deviation.
        sd: f64,
    },
    /// Group-correlated: run i of group g gets -(u_g + e_i), u_g drawn from `effects` and e_i
    /// from `deviations` (with replacement).
    Grouped {
        /// The group index of every run (0..G).
        groups: Vec<usize>,
        /// Pool of group effects (the fit's mean residual per group).
        effects: Vec<f64>,
        /// Pool of within-group deviations (residual minus its group's mean).
        deviations: Vec<f64>,
    },
}

/// Settings of a calibration study.
#[derive(Debug, Clone)]
pub struct CalibrationConfig {
    /// Simulated datasets.
    pub datasets: usize,
    /// Bootstrap replicates per dataset.
    pub replicates: usize,
    /// Seed: dataset s draws its noise from ChaCha8 stream s and bootstraps with seed + s + 1.
    pub seed: u64,
    /// Interval level.
    pub level: f64,
    /// The noise model.
    pub noise: Noise,
    /// What every bootstrap resamples.
    pub resampling: Resampling,
}

/// What the bootstraps of a calibration resample.
#[derive(Debug, Clone, PartialEq)]
pub enum Resampling {
    /// Single runs.
    Runs,
    /// Whole clusters: the cluster label of every run (e.g. model sizes).
    Clusters(Vec<String>),
    /// What `scaling fit` does by default: model sizes when the design repeats enough sizes,
    /// single runs otherwise ([`crate::uncertainty::automatic_clusters`]).
    Automatic,
}

/// Coverage of one quantity.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Coverage {
    /// True value.
    pub truth: f64,
    /// Fraction of datasets whose interval contains the truth.
    pub coverage: f64,
    /// Datasets whose interval contains the truth.
    pub covered: usize,
    /// Datasets with an interval.
    pub datasets: usize,
    /// Monte Carlo standard error of the coverage, sqrt(p (1 - p) / datasets).
    pub coverage_std_error: f64,
    /// Wilson score 95% interval for the true coverage (Wilson 1927), sound also near 0 and 1.
    pub wilson_95: [f64; 2],
    /// Datasets whose fit or bootstrap failed or did not identify this quantity (no interval).
    pub failed: usize,
    /// Mean interval width.
    pub mean_width: f64,
    /// Datasets whose interval lies entirely below the truth.
    pub missed_low: usize,
    /// Datasets whose interval lies entirely above the truth.
    pub missed_high: usize,
}

/// The result of a calibration study.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Calibration {
    /// Nominal level.
    pub level: f64,
    /// Simulated datasets.
    pub datasets: usize,
    /// Bootstrap replicates per dataset.
    pub replicates: usize,
    /// Seed.
    pub seed: u64,
    /// Runs per dataset.
    pub runs: usize,
    /// The noise model, described.
    pub noise: String,
    /// What the bootstraps resample: `runs`, or `model sizes (N within 0.1%)`.
    #[serde(default)]
    pub resampled: String,
    /// Coverage per quantity (alpha, beta, E, a, G).
    pub coverage: BTreeMap<String, Coverage>,
    /// Things the reader should know (independent noise is a best case).
    #[serde(default)]
    pub notes: Vec<String>,
}

/// Wilson's score interval (z = 1.96) for a binomial proportion `k / n`.
fn wilson(k: usize, n: usize) -> [f64; 2] {
    if n == 0 {
        return [0.0, 1.0];
    }
    let (z, nf) = (1.959963984540054f64, n as f64);
    let p = k as f64 / nf;
    let centre = (p + z * z / (2.0 * nf)) / (1.0 + z * z / nf);
    let half = z / (1.0 + z * z / nf) * (p * (1.0 - p) / nf + z * z / (4.0 * nf * nf)).sqrt();
    [(centre - half).max(0.0), (centre + half).min(1.0)]
}

/// Refuse a calibration larger than the caps of [`crate::limits`] (replicates per dataset,
/// and datasets times replicates), before any work.
///
/// # Errors
/// [`Error::InvalidSetting`] naming the cap exceeded.
pub fn check_calibration_size(datasets: usize, replicates: usize) -> Result<()> {
    use crate::limits;
    limits::check("bootstrap replicates", replicates, limits::MAX_REPLICATES)?;
    limits::check(
        "refits (datasets x replicates)",
        datasets.saturating_mul(replicates),
        limits::MAX_CALIBRATION_REFITS,
    )
}

/// Run a calibration study of `truth` (Chinchilla form) on the design of `design`.
///
/// # Examples
/// ```
/// let law = scaling::law::presets::get("epoch").unwrap().law.unwrap();
/// let points = scaling::simulate::isoflop_design(&law, &[1e18, 1e19, 1e20], 6, 1.5, 6.0);
/// let runs = scaling::simulate::sample_runs(&law, &points, 0.01, 1, "synthetic").unwrap();
/// use scaling::uncertainty::{calibrate, CalibrationConfig, Noise, Resampling};
/// let cal = CalibrationConfig { datasets: 3, replicates: 20, seed: 1, level: 0.95,
///                               noise: Noise::Gaussian { sd: 0.01 }, resampling: Resampling::Runs };
/// let c = calibrate(&law, &runs, &Default::default(), &cal, &|| {}).unwrap();
/// assert_eq!(c.coverage["alpha"].datasets, 3);
/// assert_eq!(c.resampled, "runs");
/// ```
///
/// # Errors
/// A law that is not of the Chinchilla form, too few datasets or replicates, an empty noise
/// pool, or no simulated dataset that could be fitted and bootstrapped (no coverage to report).
pub fn calibrate(
    truth: &Law,
    design: &Runs,
    config: &FitConfig,
    cal: &CalibrationConfig,
    progress: &(dyn Fn() + Sync),
) -> Result<Calibration> {
    if truth.form != LawForm::Chinchilla {
        return Err(Error::InvalidSetting(
            "calibration studies the Chinchilla form".into(),
        ));
    }
    if cal.datasets < 2 || cal.replicates < 2 {
        return Err(Error::InvalidSetting(
            "a calibration needs at least 2 datasets and 2 replicates".into(),
        ));
    }
    check_calibration_size(cal.datasets, cal.replicates)?;
    let noise_desc = match &cal.noise {
        Noise::Residuals { values } if values.is_empty() => {
            return Err(Error::InvalidSetting("the residual pool is empty".into()))
        }
        Noise::Residuals { values } => format!(
            "log-loss residuals resampled from a pool of {}",
            values.len()
        ),
        Noise::Gaussian { sd } if !(sd.is_finite() && *sd >= 0.0) => {
            return Err(Error::InvalidSetting(format!(
                "noise sd must be >= 0, got {sd}"
            )))
        }
        Noise::Gaussian { sd } => {
            format!("Gaussian in ln L with sd {}", crate::num::sig(*sd, 4))
        }
        Noise::Grouped {
            groups,
            effects,
            deviations,
        } => {
            if groups.len() != design.len() || effects.is_empty() || deviations.is_empty() {
                return Err(Error::InvalidSetting(
                    "grouped noise needs a group per run and non-empty pools".into(),
                ));
            }
            format!(
                "grouped: one effect per model size (pool of {}) plus a deviation per run (pool of {}), resampled from the fit's residuals",
                effects.len(),
                deviations.len()
            )
        }
    };
    if let Resampling::Clusters(c) = &cal.resampling {
        if c.len() != design.len() {
            return Err(Error::InvalidSetting(
                "one cluster label per run is needed".into(),
            ));
        }
    }
    let m = design.len();
    let truths = [
        ("alpha", truth.params[3]),
        ("beta", truth.params[4]),
        ("E", truth.params[0]),
        ("a", truth.params_exponent().unwrap_or(f64::NAN)),
        ("G", truth.g().unwrap_or(f64::NAN)),
    ];
    // Per dataset: its intervals, and whether its bootstrap resampled clusters.
    type Intervals = BTreeMap<String, [f64; 2]>;
    let per: Vec<Option<(Intervals, bool)>> = (0..cal.datasets)
        .into_par_iter()
        .map(|s| {
            let mut rng = ChaCha8Rng::seed_from_u64(cal.seed);
            rng.set_stream(s as u64);
            let normal = Normal::new(0.0, 1.0).expect("unit normal");
            let mut runs = design.clone();
            let effects: Vec<f64> = match &cal.noise {
                Noise::Grouped {
                    groups, effects, ..
                } => {
                    let g = groups.iter().max().map_or(0, |g| g + 1);
                    (0..g)
                        .map(|_| effects[rng.random_range(0..effects.len())])
                        .collect()
                }
                _ => vec![],
            };
            for i in 0..m {
                let clean = truth.predict(design.params[i], design.tokens[i], f64::NAN);
                let eps = match &cal.noise {
                    Noise::Residuals { values } => -values[rng.random_range(0..values.len())],
                    Noise::Gaussian { sd } => sd * normal.sample(&mut rng),
                    Noise::Grouped {
                        groups, deviations, ..
                    } => -(effects[groups[i]] + deviations[rng.random_range(0..deviations.len())]),
                };
                runs.loss[i] = clean * eps.exp();
            }
            let out = (|| {
                let f = fit::fit(&runs, config).ok()?;
                let clusters = match &cal.resampling {
                    Resampling::Runs => None,
                    Resampling::Clusters(c) => Some(c.clone()),
                    Resampling::Automatic => super::automatic_clusters(&runs, &f).labels,
                };
                let clustered = clusters.is_some();
                let bc = BootstrapConfig {
                    replicates: cal.replicates,
                    seed: cal.seed.wrapping_add(s as u64 + 1),
                    cluster_column: clusters.as_ref().map(|_| "N".to_string()),
                    clusters,
                    level: cal.level,
                };
                let b = bootstrap(&runs, config, &f, &bc, &|| {}).ok()?;
                Some((intervals(&f, &b, &[], cal.level).0, clustered))
            })();
            progress();
            out
        })
        .collect();
    let mut coverage = BTreeMap::new();
    for (name, t) in truths {
        let ivs: Vec<[f64; 2]> = per
            .iter()
            .flatten()
            .filter_map(|(iv, _)| iv.get(name).copied())
            .collect();
        let covered = ivs.iter().filter(|[lo, hi]| *lo <= t && t <= *hi).count();
        let n = ivs.len();
        if n == 0 {
            return Err(Error::InsufficientData(format!(
                "none of the {} simulated datasets gave an interval for {name} (every fit or \
                 bootstrap failed on this design), so there is no coverage to report",
                cal.datasets
            )));
        }
        let p = covered as f64 / n as f64;
        coverage.insert(
            name.to_string(),
            Coverage {
                truth: t,
                coverage: p,
                covered,
                datasets: n,
                coverage_std_error: (p * (1.0 - p) / n.max(1) as f64).sqrt(),
                wilson_95: wilson(covered, n),
                failed: cal.datasets - n,
                mean_width: ivs.iter().map(|[lo, hi]| hi - lo).sum::<f64>() / n.max(1) as f64,
                missed_low: ivs.iter().filter(|[_, hi]| *hi < t).count(),
                missed_high: ivs.iter().filter(|[lo, _]| *lo > t).count(),
            },
        );
    }
    Ok(Calibration {
        level: cal.level,
        datasets: cal.datasets,
        replicates: cal.replicates,
        seed: cal.seed,
        runs: m,
        resampled: match &cal.resampling {
            Resampling::Clusters(_) => "model sizes (N within 0.1%)".into(),
            Resampling::Runs => "runs".into(),
            Resampling::Automatic => {
                let sizes = per.iter().flatten().any(|(_, c)| *c);
                if sizes {
                    "model sizes (N within 0.1%), as fit does by default on a design with this many repeated sizes".into()
                } else {
                    "runs, as fit does by default on a design with few repeated sizes".into()
                }
            }
        },
        notes: match &cal.noise {
            Noise::Grouped { .. } => vec![],
            _ => vec![
                "the simulated noise is independent between runs: a best case, since real runs of one model size share their errors (try noise = grouped)".into(),
            ],
        },
        noise: noise_desc,
        coverage,
    })
}

/// The noise model of a [`CalibrateRequest`], by name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoiseModel {
    /// Resample the fit's own log-loss residuals (keeps their heavy tails).
    #[default]
    Residuals,
    /// Normal noise in log loss with `noise_sd` (default: 1.4826 x the residuals' MAD).
    Gaussian,
    /// Group-correlated noise by model size: the fit's per-size mean residuals resampled as
    /// size effects, plus its within-size deviations resampled per run.
    Grouped,
}

/// A calibration study on the design of a set of runs: their fit is the truth.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct CalibrateRequest {
    /// Simulated datasets.
    pub datasets: usize,
    /// Bootstrap replicates per dataset.
    pub bootstrap: usize,
    /// Seed.
    pub seed: u64,
    /// The noise model.
    pub noise: NoiseModel,
    /// Standard deviation of Gaussian noise in log loss.
    pub noise_sd: Option<f64>,
    /// Nominal interval level.
    pub level: f64,
    /// Resample whole clusters in every bootstrap: `N` (or the N column's name) for model
    /// sizes, N within 0.1% ([`crate::fit::size_clusters`]); [`super::RUN_LEVEL`] resamples
    /// runs; `None` does what `fit` does by default ([`Resampling::Automatic`]).
    pub cluster_column: Option<String>,
}

impl Default for CalibrateRequest {
    fn default() -> Self {
        CalibrateRequest {
            datasets: 200,
            bootstrap: 400,
            seed: 1,
            noise: NoiseModel::Residuals,
            noise_sd: None,
            level: 0.95,
            cluster_column: None,
        }
    }
}

/// A calibration study with its truth and design. Its JSON is `scaling calibrate --format
/// json`.
#[derive(Debug, Clone, Serialize)]
pub struct CalibrationReport {
    /// Coverage per quantity.
    #[serde(flatten)]
    pub calibration: Calibration,
    /// The true law: the fit of the design's runs.
    pub truth: serde_json::Value,
    /// The design's source (its file).
    pub design: String,
    /// The true law (for rendering).
    #[serde(skip)]
    pub truth_law: Law,
}

/// The normal-consistent median absolute deviation 1.4826 median |r_i - median r| of
/// residuals (Rousseeuw & Croux 1993, Eq. 1.2: 1.4826 = 1 / Phi^-1(3/4)), a robust estimate of
/// their standard deviation.
///
/// # Examples
/// ```
/// let sd = scaling::uncertainty::mad_sd(&[-2.0, -1.0, 0.0, 1.0, 2.0]);
/// assert!((sd - 1.4826).abs() < 1e-12);
/// ```
pub fn mad_sd(residuals: &[f64]) -> f64 {
    let mut r = residuals.to_vec();
    r.sort_by(|x, y| x.total_cmp(y));
    let med = crate::num::quantile_sorted(&r, 0.5);
    let mut dev: Vec<f64> = r.iter().map(|v| (v - med).abs()).collect();
    dev.sort_by(|x, y| x.total_cmp(y));
    1.4826 * crate::num::quantile_sorted(&dev, 0.5)
}

/// Calibrate bootstrap intervals on the design of `runs` (labelled `design`): fit the runs
/// with the default Chinchilla fit, take that fit as the truth, and run [`calibrate`] with
/// noise from its residuals (resampled, or Gaussian with sd `noise_sd`, default
/// [`mad_sd`] of the residuals).
///
/// # Examples
/// ```
/// use scaling::uncertainty::{calibrate_runs, CalibrateRequest, NoiseModel};
/// let law = scaling::law::presets::get("epoch").unwrap().law.unwrap();
/// let design = scaling::simulate::isoflop_design(&law, &[1e18, 1e19, 1e20], 6, 1.5, 6.0);
/// let runs = scaling::simulate::sample_runs(&law, &design, 0.01, 1, "synthetic").unwrap();
/// let req = CalibrateRequest { datasets: 3, bootstrap: 10, noise: NoiseModel::Gaussian, ..Default::default() };
/// let c = calibrate_runs(&runs, "synthetic", &req, &|| {}).unwrap();
/// assert_eq!(c.calibration.datasets, 3);
/// assert!(c.calibration.coverage["alpha"].coverage <= 1.0);
/// ```
///
/// # Errors
/// [`Error::Setting`] for a level outside (0, 1) or `noise_sd` without Gaussian noise; a fit
/// that does not identify every parameter; those of [`calibrate`].
pub fn calibrate_runs(
    runs: &Runs,
    design: &str,
    req: &CalibrateRequest,
    progress: &(dyn Fn() + Sync),
) -> Result<CalibrationReport> {
    if !(req.level > 0.0 && req.level < 1.0) {
        return Err(Error::setting(
            format!("{{}} must be between 0 and 1, got {}", req.level),
            &["level"],
        ));
    }
    check_calibration_size(req.datasets, req.bootstrap)?;
    if req.noise == NoiseModel::Residuals && req.noise_sd.is_some() {
        return Err(Error::setting(
            "{} goes with {} gaussian",
            &["noise_sd", "noise"],
        ));
    }
    let config = FitConfig::default();
    let truth_fit = fit::fit(runs, &config)?;
    let truth = truth_fit.law().ok_or_else(|| {
        Error::InvalidSetting(format!(
            "{design}: the fit of these runs does not identify every parameter, so it cannot serve as a truth"
        ))
    })?;
    let sizes = fit::size_clusters(&runs.params, fit::SIZE_TOLERANCE);
    let noise = match req.noise {
        NoiseModel::Residuals => Noise::Residuals {
            values: truth_fit.residuals.clone(),
        },
        NoiseModel::Gaussian => Noise::Gaussian {
            sd: req.noise_sd.unwrap_or_else(|| mad_sd(&truth_fit.residuals)),
        },
        NoiseModel::Grouped => grouped_noise(&sizes, &truth_fit.residuals),
    };
    let resampling = match req.cluster_column.as_deref() {
        None => Resampling::Automatic,
        Some(super::RUN_LEVEL) => Resampling::Runs,
        Some(c) => {
            let n_column = match &runs.sources.params {
                Some(crate::data::ValueSource::Column { column }) => Some(column.as_str()),
                _ => None,
            };
            if c != "N" && Some(c) != n_column {
                return Err(Error::setting(
                    format!("{{}} {c:?}: calibrate resamples model sizes or single runs: give N (model sizes) or none (single runs)"),
                    &["cluster_column"],
                ));
            }
            Resampling::Clusters(sizes)
        }
    };
    let cal = CalibrationConfig {
        datasets: req.datasets,
        replicates: req.bootstrap,
        seed: req.seed,
        level: req.level,
        noise,
        resampling,
    };
    let calibration = calibrate(&truth, runs, &config, &cal, progress)?;
    Ok(CalibrationReport {
        calibration,
        truth: truth.to_json(),
        design: design.to_string(),
        truth_law: truth,
    })
}

/// The grouped noise of a fit's log residuals `r` on runs labelled `labels` (model sizes): the
/// group effects are the groups' mean residuals, the deviations each residual minus its group's
/// mean.
pub fn grouped_noise(labels: &[String], r: &[f64]) -> Noise {
    let mut ids: Vec<&String> = labels.iter().collect();
    ids.sort();
    ids.dedup();
    let groups: Vec<usize> = labels
        .iter()
        .map(|l| ids.binary_search(&l).expect("a label of the list"))
        .collect();
    let mut sum = vec![0.0; ids.len()];
    let mut cnt = vec![0usize; ids.len()];
    for (g, v) in groups.iter().zip(r) {
        sum[*g] += v;
        cnt[*g] += 1;
    }
    let effects: Vec<f64> = sum.iter().zip(&cnt).map(|(s, c)| s / *c as f64).collect();
    let deviations = groups.iter().zip(r).map(|(g, v)| v - effects[*g]).collect();
    Noise::Grouped {
        groups,
        effects,
        deviations,
    }
}
