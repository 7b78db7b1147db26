//! Chinchilla's Approach 2 (Hoffmann et al. 2022, Section 3.2): IsoFLOP profiles.
//!
//! # Formula
//! Runs are grouped into compute budgets. For each budget a parabola
//! `L = c0 + c1 x + c2 x^2` is fitted by least squares with x = ln N (and separately with
//! x = ln D); its vertex x* = -c1 / (2 c2) gives N* (D*) and L* = c0 - c1^2 / (4 c2). Then
//! N* ~ C^a and D* ~ C^b are fitted over the budgets (see [`super::powerlaw`]). Intervals
//! come from resampling each budget's points with replacement and repeating everything.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::powerlaw::{fit_power_law, PowerLawFit};
use crate::error::{Error, Result};
use crate::num::summarise;

/// How runs are grouped into budgets.
#[derive(Debug, Clone, PartialEq)]
pub enum Grouping {
    /// A budget value per run (from a column).
    Given(Vec<f64>),
    /// Snap each run to the nearest listed budget (within a factor of 10^0.15 = 1.41); runs
    /// further from every budget are left out.
    Listed(Vec<f64>),
    /// Runs whose FLOPs agree within this relative tolerance form one budget (its value the
    /// geometric mean).
    Tolerance(f64),
}

/// Settings of an IsoFLOP analysis.
#[derive(Debug, Clone)]
pub struct IsoflopConfig {
    /// Budget grouping.
    pub grouping: Grouping,
    /// Bootstrap replicates for intervals.
    pub replicates: usize,
    /// Seed.
    pub seed: u64,
    /// Interval level.
    pub level: f64,
    /// Use flagged budgets in the power-law fits too.
    pub keep_flagged: bool,
}

/// One IsoFLOP profile.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BudgetFit {
    /// The budget C (FLOPs).
    pub flops: f64,
    /// Runs in the budget.
    pub runs: usize,
    /// N* from the parabola in ln N.
    pub params: f64,
    /// D* = C / (6 N*).
    pub tokens: f64,
    /// L* at the vertex (parabola in ln N).
    pub loss: f64,
    /// Interval on N* from resampling the budget's points.
    pub params_interval: Option<[f64; 2]>,
    /// Interval on D*.
    pub tokens_interval: Option<[f64; 2]>,
    /// Interval on L*.
    pub loss_interval: Option<[f64; 2]>,
    /// Curvature c2 of the parabola in ln N.
    pub curvature: f64,
    /// The parabola L = c0 + c1 ln N + c2 (ln N)^2 (for plotting).
    pub parabola: [f64; 3],
    /// Smallest and largest N sampled.
    pub params_range: [f64; 2],
    /// Problems: `too_few_points`, `no_minimum`, `off_center`, `weak_curvature`.
    pub flags: Vec<String>,
    /// Whether the budget enters the power-law fits.
    pub used: bool,
}

/// The result of Approach 2.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IsoflopResult {
    /// Every budget.
    pub budgets: Vec<BudgetFit>,
    /// a in N* ~ C^a.
    pub params_exponent: f64,
    /// b in D* ~ C^b.
    pub tokens_exponent: f64,
    /// The N* power law (with its own t interval).
    pub params_fit: PowerLawFit,
    /// The D* power law.
    pub tokens_fit: PowerLawFit,
    /// Bootstrap percentile interval on a.
    pub params_exponent_interval: Option<[f64; 2]>,
    /// Bootstrap percentile interval on b.
    pub tokens_exponent_interval: Option<[f64; 2]>,
    /// Runs left out because they belong to no budget.
    pub runs_without_budget: usize,
    /// Interval level.
    pub level: f64,
    /// Bootstrap replicates.
    pub replicates: usize,
    /// Seed.
    pub seed: u64,
}

/// A budget and its runs' (N, D, loss).
type Budget = (f64, Vec<(f64, f64, f64)>);

/// Least-squares parabola y = c0 + c1 x + c2 x^2 (x centred for conditioning); returns
/// (c0, c1, c2) in the original x, and the residual SD when there are more than 3 points.
fn parabola(x: &[f64], y: &[f64]) -> Option<([f64; 3], Option<f64>)> {
    let n = x.len();
    if n < 3 {
        return None;
    }
    let m = x.iter().sum::<f64>() / n as f64;
    let mut s = [0.0f64; 5];
    let mut t = [0.0f64; 3];
    for (xi, yi) in x.iter().zip(y) {
        let u = xi - m;
        let mut p = 1.0;
        for k in 0..5 {
            s[k] += p;
            if k < 3 {
                t[k] += p * yi;
            }
            p *= u;
        }
    }
    let a = [[s[0], s[1], s[2]], [s[1], s[2], s[3]], [s[2], s[3], s[4]]];
    let det = |m: [[f64; 3]; 3]| {
        m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
            - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
    };
    let d = det(a);
    if !(d.abs() > 1e-300) {
        return None;
    }
    let mut c = [0.0; 3];
    for (k, ck) in c.iter_mut().enumerate() {
        let mut b = a;
        for r in 0..3 {
            b[r][k] = t[r];
        }
        *ck = det(b) / d;
    }
    // Back to uncentred x: c0 + c1 (x - m) + c2 (x - m)^2.
    let (b0, b1, b2) = (c[0] - c[1] * m + c[2] * m * m, c[1] - 2.0 * c[2] * m, c[2]);
    let sd = (n > 3).then(|| {
        let rss: f64 = x
            .iter()
            .zip(y)
            .map(|(xi, yi)| (yi - b0 - b1 * xi - b2 * xi * xi).powi(2))
            .sum();
        (rss / (n - 3) as f64).sqrt()
    });
    Some(([b0, b1, b2], sd))
}

struct Vertex {
    coef: [f64; 3],
    n: f64,
    d: f64,
    loss: f64,
    curvature: f64,
    sd: Option<f64>,
}

fn vertex(points: &[(f64, f64, f64)], budget: f64) -> Option<Vertex> {
    let ln_n: Vec<f64> = points.iter().map(|p| p.0.ln()).collect();
    let ln_d: Vec<f64> = points.iter().map(|p| p.1.ln()).collect();
    let loss: Vec<f64> = points.iter().map(|p| p.2).collect();
    let (cn, sd) = parabola(&ln_n, &loss)?;
    let (cd, _) = parabola(&ln_d, &loss)?;
    let xn = -cn[1] / (2.0 * cn[2]);
    let xd = -cd[1] / (2.0 * cd[2]);
    let _ = xd;
    Some(Vertex {
        coef: cn,
        n: xn.exp(),
        d: budget / (6.0 * xn.exp()),
        loss: cn[0] - cn[1] * cn[1] / (4.0 * cn[2]),
        curvature: cn[2],
        sd,
    })
}

/// Assign each run a budget (or none).
pub fn assign_budgets(flops: &[f64], grouping: &Grouping) -> Result<Vec<Option<f64>>> {
    match grouping {
        Grouping::Given(v) => Ok(v.iter().map(|b| Some(*b)).collect()),
        Grouping::Listed(list) => {
            if list.is_empty() {
                return Err(Error::setting("{} needs at least one budget", &["budgets"]));
            }
            Ok(flops
                .iter()
                .map(|&c| {
                    list.iter()
                        .map(|&b| (b, (c / b).log10().abs()))
                        .min_by(|a, b| a.1.total_cmp(&b.1))
                        .filter(|(_, dist)| *dist <= 0.15)
                        .map(|(b, _)| b)
                })
                .collect())
        }
        Grouping::Tolerance(tol) => {
            if !(tol.is_finite() && *tol > 0.0) {
                return Err(Error::setting(
                    format!("{{}} must be positive, got {tol}"),
                    &["tolerance"],
                ));
            }
            let mut order: Vec<usize> = (0..flops.len()).collect();
            order.sort_by(|&i, &j| flops[i].total_cmp(&flops[j]));
            let mut out = vec![None; flops.len()];
            let mut start = 0;
            while start < order.len() {
                let c0 = flops[order[start]];
                let mut end = start;
                while end + 1 < order.len() && flops[order[end + 1]] <= c0 * (1.0 + tol) {
                    end += 1;
                }
                let g = (start..=end).map(|k| flops[order[k]].ln()).sum::<f64>()
                    / (end - start + 1) as f64;
                for &i in &order[start..=end] {
                    out[i] = Some(g.exp());
                }
                start = end + 1;
            }
            Ok(out)
        }
    }
}

/// Run Approach 2 on runs (N, D, C, loss per run).
///
/// # Examples
/// ```
/// use scaling::methods::{isoflop, Grouping, IsoflopConfig};
/// let law = scaling::law::presets::get("chinchilla").unwrap().law.unwrap();
/// let design = scaling::simulate::isoflop_design(&law, &[1e18, 1e19, 1e20, 1e21], 9, 1.5, 6.0);
/// let runs = scaling::simulate::sample_runs(&law, &design, 0.0, 1, "noiseless").unwrap();
/// let cfg = IsoflopConfig { grouping: Grouping::Tolerance(0.05), replicates: 0, seed: 0,
///                           level: 0.95, keep_flagged: false };
/// let r = isoflop(&runs.params, &runs.tokens, &runs.flops, &runs.loss, &cfg).unwrap();
/// assert_eq!(r.budgets.len(), 4);
/// // Parabolas find the law's exponent a = beta / (alpha + beta) = 0.457 to within a few %.
/// assert!((r.params_exponent - 0.457).abs() < 0.03, "{}", r.params_exponent);
/// ```
///
/// # Errors
/// Fewer than two usable budgets, or invalid settings.
pub fn isoflop(
    params: &[f64],
    tokens: &[f64],
    flops: &[f64],
    loss: &[f64],
    cfg: &IsoflopConfig,
) -> Result<IsoflopResult> {
    if !(cfg.level > 0.0 && cfg.level < 1.0) {
        return Err(Error::setting(
            format!("{{}} must be between 0 and 1, got {}", cfg.level),
            &["level"],
        ));
    }
    let assigned = assign_budgets(flops, &cfg.grouping)?;
    let without = assigned.iter().filter(|a| a.is_none()).count();
    let mut values: Vec<f64> = assigned.iter().flatten().copied().collect();
    values.sort_by(|a, b| a.total_cmp(b));
    values.dedup();
    let groups: Vec<Budget> = values
        .iter()
        .map(|&b| {
            let pts = (0..loss.len())
                .filter(|&i| assigned[i] == Some(b))
                .map(|i| (params[i], tokens[i], loss[i]))
                .collect();
            (b, pts)
        })
        .collect();
    let mut budgets = Vec::new();
    for (gi, (c, pts)) in groups.iter().enumerate() {
        let nmin = pts.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
        let nmax = pts.iter().map(|p| p.0).fold(0.0, f64::max);
        let mut flags = Vec::new();
        if pts.len() < 4 {
            flags.push("too_few_points".to_string());
        }
        let v = vertex(pts, *c);
        let (vn, vd, vl, curv) = match &v {
            Some(v) => (v.n, v.d, v.loss, v.curvature),
            None => (f64::NAN, f64::NAN, f64::NAN, f64::NAN),
        };
        let coef = v.as_ref().map(|v| v.coef).unwrap_or([f64::NAN; 3]);
        if !(curv > 0.0) {
            flags.push("no_minimum".to_string());
        } else {
            if vn < nmin || vn > nmax {
                flags.push("off_center".to_string());
            }
            let half = 0.5 * (nmax.ln() - nmin.ln());
            let rise = curv * half * half;
            if let Some(sd) = v.as_ref().and_then(|v| v.sd) {
                if rise < 3.0 * sd {
                    flags.push("weak_curvature".to_string());
                }
            }
        }
        // Resample this budget's points for intervals.
        let reps: Vec<Option<(f64, f64, f64)>> = (0..cfg.replicates)
            .into_par_iter()
            .map(|r| {
                let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
                rng.set_stream((gi as u64) << 32 | r as u64);
                let sample: Vec<(f64, f64, f64)> = (0..pts.len())
                    .map(|_| pts[rng.random_range(0..pts.len())])
                    .collect();
                vertex(&sample, *c)
                    .filter(|v| v.curvature > 0.0)
                    .map(|v| (v.n, v.d, v.loss))
            })
            .collect();
        let col = |k: usize| -> Vec<f64> {
            reps.iter()
                .flatten()
                .map(|t| match k {
                    0 => t.0,
                    1 => t.1,
                    _ => t.2,
                })
                .collect()
        };
        let iv = |k: usize| summarise(&col(k), cfg.level).map(|(i, _)| i);
        let used = cfg.keep_flagged && curv > 0.0 || flags.is_empty();
        budgets.push(BudgetFit {
            flops: *c,
            runs: pts.len(),
            params: vn,
            tokens: vd,
            loss: vl,
            params_interval: iv(0),
            tokens_interval: iv(1),
            loss_interval: iv(2),
            curvature: curv,
            parabola: coef,
            params_range: [nmin, nmax],
            flags,
            used,
        });
    }
    let used: Vec<&BudgetFit> = budgets.iter().filter(|b| b.used).collect();
    if used.len() < 2 {
        return Err(Error::setting(
            format!(
                "only {} of {} budgets have a clean IsoFLOP minimum: at least 2 are needed to fit N* ~ C^a \
                 (see the flags; {{}} uses flagged budgets too)",
                used.len(),
                budgets.len()
            ),
            &["keep_flagged"],
        ));
    }
    let cs: Vec<f64> = used.iter().map(|b| b.flops).collect();
    let nfit = fit_power_law(
        &cs,
        &used.iter().map(|b| b.params).collect::<Vec<_>>(),
        cfg.level,
    )?;
    let dfit = fit_power_law(
        &cs,
        &used.iter().map(|b| b.tokens).collect::<Vec<_>>(),
        cfg.level,
    )?;
    // Whole-procedure bootstrap for a and b.
    let used_groups: Vec<(usize, &Budget)> = groups
        .iter()
        .enumerate()
        .filter(|(i, _)| budgets[*i].used)
        .collect();
    let ab: Vec<Option<(f64, f64)>> = (0..cfg.replicates)
        .into_par_iter()
        .map(|r| {
            let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed ^ 0x005e_edab);
            rng.set_stream(r as u64);
            let mut c = Vec::new();
            let mut n = Vec::new();
            let mut d = Vec::new();
            for (_, (budget, pts)) in &used_groups {
                let sample: Vec<(f64, f64, f64)> = (0..pts.len())
                    .map(|_| pts[rng.random_range(0..pts.len())])
                    .collect();
                if let Some(v) = vertex(&sample, *budget).filter(|v| v.curvature > 0.0) {
                    c.push(*budget);
                    n.push(v.n);
                    d.push(v.d);
                }
            }
            let a = fit_power_law(&c, &n, cfg.level).ok()?.exponent;
            let b = fit_power_law(&c, &d, cfg.level).ok()?.exponent;
            Some((a, b))
        })
        .collect();
    let a_s: Vec<f64> = ab.iter().flatten().map(|t| t.0).collect();
    let b_s: Vec<f64> = ab.iter().flatten().map(|t| t.1).collect();
    Ok(IsoflopResult {
        params_exponent: nfit.exponent,
        tokens_exponent: dfit.exponent,
        params_exponent_interval: summarise(&a_s, cfg.level).map(|(i, _)| i),
        tokens_exponent_interval: summarise(&b_s, cfg.level).map(|(i, _)| i),
        params_fit: nfit,
        tokens_fit: dfit,
        budgets,
        runs_without_budget: without,
        level: cfg.level,
        replicates: cfg.replicates,
        seed: cfg.seed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On a symmetric IsoFLOP design drawn without noise from a law with alpha = beta, the
    /// vertices lie on the law's frontier and a = b = 0.5.
    #[test]
    fn recovers_frontier_on_clean_data() {
        let law = crate::law::Law::new(
            crate::law::LawForm::Chinchilla,
            vec![1.7, 400.0, 400.0, 0.34, 0.34],
        )
        .unwrap();
        let (mut n, mut d, mut c, mut l) = (vec![], vec![], vec![], vec![]);
        for &b in &crate::simulate::CHINCHILLA_BUDGETS {
            let opt = law.optimum(b, 6.0).unwrap();
            for k in -4..=4 {
                let nn = opt.params * 10f64.powf(k as f64 * 0.15);
                n.push(nn);
                d.push(b / (6.0 * nn));
                c.push(b);
                l.push(law.predict(nn, b / (6.0 * nn), b));
            }
        }
        let r = isoflop(
            &n,
            &d,
            &c,
            &l,
            &IsoflopConfig {
                grouping: Grouping::Tolerance(0.01),
                replicates: 50,
                seed: 1,
                level: 0.95,
                keep_flagged: false,
            },
        )
        .unwrap();
        assert_eq!(r.budgets.len(), 9);
        assert!(
            (r.params_exponent - 0.5).abs() < 0.01,
            "{}",
            r.params_exponent
        );
        assert!(
            (r.tokens_exponent - 0.5).abs() < 0.01,
            "{}",
            r.tokens_exponent
        );
    }

    #[test]
    fn snapping_to_listed_budgets() {
        let a = assign_budgets(
            &[5.9e18, 1.05e19, 2e20, 3.1e21],
            &Grouping::Listed(vec![6e18, 1e19, 3e21]),
        )
        .unwrap();
        assert_eq!(a, vec![Some(6e18), Some(1e19), None, Some(3e21)]);
    }
}
