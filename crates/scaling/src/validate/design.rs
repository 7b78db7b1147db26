//! Which runs to train next: the K runs, within a compute allowance, that most shrink the
//! interval on the quantity the user cares about (N_opt or the loss at a target, or one
//! parameter such as an exponent), compared with the usual alternatives of equal cost.
//!
//! # Formula
//! For a fitted law with free parameters p (fixed ones excluded), let j_i = d r_i / d p be the
//! gradient of run i's prediction in the fit's residual space (d ln L / d p for log residuals,
//! d L / d p for linear ones; the Chinchilla form in closed form, every other form through
//! [`crate::law::Form::predict_grad_batch`]). The Fisher information of the runs is
//! `I = sum_i j_i j_i' / s^2`, s^2 = sum_i r_i^2 / (m - p) the residual variance of the fit
//! (Seber and Wild 1989, Sec. 2.1: the asymptotic covariance of nonlinear least squares; for
//! the Huber objective this is the least-squares approximation). The delta method gives the
//! variance of a quantity q(p): `var q = g' I^-1 g`, g = dq/dp (central differences of q; q
//! is ln N_opt or ln L for the allocation and the loss, so their widths are relative, or the
//! parameter itself), and the interval at level 1 - a has width `2 z_(a/2) sqrt(var q)`.
//!
//! A new run at (N, D) adds `j j' / s^2` to I whatever its loss, so the expected width after a
//! set of new runs is known before training them (Atkinson, Donev and Tobias 2007, Ch. 10 and
//! 12: c-optimal design). Candidates form a grid of 40 model sizes (log-spaced from the
//! smallest N in the data to the largest the allowance buys) by 16 token-per-parameter ratios
//! (log-spaced from half the data's smallest D/N, but at least [`MIN_TOKENS_PER_PARAM`], to
//! twice its largest); each costs C = k N D.
//! K runs are chosen greedily (each step takes the candidate that most lowers var q among
//! those the remaining allowance can pay while leaving the cheapest candidate for each run
//! still to choose), then improved by exchange passes (Fedorov 1972): replace one chosen run by
//! any candidate that lowers var q within the allowance, until no exchange helps.
//!
//! Alternatives of the same total cost (the allowance): `isoflop`, one more IsoFLOP budget
//! C1 = allowance / K with K model sizes evenly spaced in ln N over one decade centred on the
//! law's N_opt(C1) (Hoffmann et al. 2022, Approach 2); and `larger_models`, K model sizes
//! doubling from one to the next at the data's median tokens per parameter, the largest sized
//! so the K runs cost the allowance.
//!
//! `simulate` checks the promise: for each repetition, each plan's new runs are drawn from the
//! fitted law with a residual of the fit resampled (centred) for each, appended to the current
//! runs, refitted with the fit's settings and bootstrapped; the width reached is the bootstrap's
//! percentile interval of q. The plans share the resampled residuals of a repetition (common
//! random numbers), and the result says how often the proposal's width is the smaller.

use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::sensitivity::Target;
use crate::data::Runs;
use crate::error::{Error, Result};
use crate::fit::{self, Fit, Space};
use crate::law::{Law, LawForm, Var};
use crate::num::summarise;
use crate::uncertainty::{self, BootstrapConfig};

/// The quantity whose interval a design should shrink.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quantity {
    /// The compute-optimal model size N_opt at a budget target (relative width).
    NOpt,
    /// The loss at the target: at (N, D), or at the optimum of a budget (relative width).
    Loss,
    /// One parameter of the law by name, such as `alpha` (absolute width).
    Param(String),
}

impl Quantity {
    /// Parse `n_opt`, `loss`, or a parameter name.
    pub fn parse(s: &str) -> Quantity {
        match s {
            "n_opt" | "N_opt" | "params_opt" => Quantity::NOpt,
            "loss" | "L" => Quantity::Loss,
            other => Quantity::Param(other.to_string()),
        }
    }

    /// Its name in output (`n_opt`, `loss`, `alpha`).
    pub fn name(&self) -> String {
        match self {
            Quantity::NOpt => "n_opt".into(),
            Quantity::Loss => "loss".into(),
            Quantity::Param(p) => p.clone(),
        }
    }

    /// True when the interval is taken on the log of the quantity (widths are ln(hi / lo)).
    pub fn relative(&self) -> bool {
        !matches!(self, Quantity::Param(_))
    }
}

/// How to check a design by simulation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SimulateRequest {
    /// Repetitions.
    pub repetitions: usize,
    /// Bootstrap replicates of each refit.
    pub bootstrap: usize,
    /// Seed of the residual draws and the bootstraps.
    pub seed: u64,
}

/// A design request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DesignRequest {
    /// Where the quantity is evaluated (its `flops_per_param_token` is the k of run costs).
    pub target: Target,
    /// The quantity whose interval to shrink.
    pub quantity: Quantity,
    /// Compute for the new runs together (FLOPs).
    pub allowance: f64,
    /// Number of new runs.
    pub runs: usize,
    /// Interval level.
    pub level: f64,
    /// Check the expected widths by simulation.
    pub simulate: Option<SimulateRequest>,
}

/// One proposed run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewRun {
    /// N.
    pub params: f64,
    /// D.
    pub tokens: f64,
    /// Its cost C = k N D (FLOPs).
    pub flops: f64,
    /// D / N.
    pub tokens_per_param: f64,
    /// Expected interval width with this run and the ones before it in the list added.
    pub width_after: f64,
}

/// A set of new runs and what it is expected to do.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    /// `proposal`, `isoflop` or `larger_models`.
    pub name: String,
    /// The plan in words.
    pub description: String,
    /// Its runs.
    pub runs: Vec<NewRun>,
    /// Their total cost (FLOPs).
    pub cost: f64,
    /// Expected interval width after all its runs (Fisher information).
    pub width: f64,
    /// The expected interval around today's estimate.
    pub interval: [f64; 2],
    /// width / today's width.
    pub width_ratio: f64,
}

/// One plan's simulated widths.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SimulatedPlan {
    /// The plan.
    pub name: String,
    /// Median width reached over the repetitions.
    pub median_width: f64,
    /// Mean width reached.
    pub mean_width: f64,
    /// Width reached in each repetition (NaN-free: failed refits are left out and counted).
    pub widths: Vec<f64>,
    /// Repetitions whose refit or bootstrap failed.
    pub failed: usize,
}

/// How often the proposal beat one alternative in the simulation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Beat {
    /// The alternative.
    pub alternative: String,
    /// Repetitions where both gave a width.
    pub compared: usize,
    /// Repetitions where the proposal's width was the smaller.
    pub wins: usize,
    /// wins / compared.
    pub fraction: f64,
}

/// The simulation check of a design.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Simulation {
    /// Repetitions.
    pub repetitions: usize,
    /// Bootstrap replicates per refit.
    pub bootstrap: usize,
    /// Seed.
    pub seed: u64,
    /// Width today from the same bootstrap size (the current runs refitted and bootstrapped).
    pub current_width: Option<f64>,
    /// Per plan (the proposal first).
    pub plans: Vec<SimulatedPlan>,
    /// The proposal against each alternative.
    pub beats: Vec<Beat>,
}

/// The numbers a design depends on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DesignConventions {
    /// k in C = k N D (the cost of a run).
    pub flops_per_param_token: f64,
    /// Residual space of the fit (`log`, `linear`).
    pub space: Space,
    /// Residual standard deviation s of the fit, sqrt(sum r^2 / (m - p)).
    pub residual_sd: f64,
    /// Free parameters p.
    pub free_params: Vec<String>,
    /// What a width is.
    pub width: String,
    /// How the expected widths are computed.
    pub method: String,
    /// Candidate runs considered.
    pub candidates: usize,
    /// Range of model sizes of the candidates.
    pub candidate_params: [f64; 2],
    /// Range of tokens per parameter of the candidates.
    pub candidate_tokens_per_param: [f64; 2],
}

/// A design's result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Design {
    /// The law's name.
    pub law: String,
    /// Its formula.
    pub formula: String,
    /// Its parameters.
    pub params: BTreeMap<String, f64>,
    /// The target.
    pub target: Target,
    /// The quantity (`n_opt`, `loss`, or a parameter).
    pub quantity: String,
    /// Its estimate today.
    pub estimate: f64,
    /// Interval level.
    pub level: f64,
    /// The allowance (FLOPs).
    pub allowance: f64,
    /// Runs requested.
    pub runs: usize,
    /// Runs in the data.
    pub current_runs: usize,
    /// Expected (Fisher) interval width today.
    pub current_width: f64,
    /// The Fisher interval today.
    pub current_interval: [f64; 2],
    /// The width of the saved fit's bootstrap interval, when it has replicates.
    pub current_bootstrap_width: Option<f64>,
    /// The proposed runs, in the order chosen.
    pub proposal: Plan,
    /// The alternatives of equal cost.
    pub alternatives: Vec<Plan>,
    /// The simulation check, when asked.
    pub simulation: Option<Simulation>,
    /// Conventions.
    pub conventions: DesignConventions,
    /// Things the reader should know.
    pub warnings: Vec<String>,
}

/// The law, its free parameters and how to evaluate gradients at new runs.
struct Model {
    law: Law,
    free: Vec<usize>,
    k: f64,
    space: Space,
}

impl Model {
    /// The values of the form's variables at (N, D).
    fn vars(&self, n: f64, d: f64) -> Vec<f64> {
        self.law
            .form
            .form()
            .variables()
            .iter()
            .map(|v| match v {
                Var::N => n,
                Var::D => d,
                Var::C => self.k * n * d,
                Var::M => d / n,
                _ => f64::NAN,
            })
            .collect()
    }

    /// j = d r / d p_free at (N, D), each column scaled by |p| (so in relative units) when p
    /// is not zero.
    fn gradient(&self, n: f64, d: f64) -> Vec<f64> {
        let p = &self.law.params;
        let (lnl_grad, l) = if self.law.form == LawForm::Chinchilla {
            // Closed form (Hoffmann et al. 2022, Eq. 2): the kernel's derivatives.
            let (tn, td) = (p[1] * n.powf(-p[3]), p[2] * d.powf(-p[4]));
            let l = p[0] + tn + td;
            let g = [
                1.0,
                n.powf(-p[3]),
                d.powf(-p[4]),
                -tn * n.ln(),
                -td * d.ln(),
            ];
            (g.iter().map(|x| x / l).collect::<Vec<_>>(), l)
        } else {
            let form = self.law.form.form();
            let x = self.vars(n, d);
            let mut g = vec![0.0; p.len()];
            let ll = form.ln_predict_grad(&x, p, Some(&mut g));
            (g, ll.exp())
        };
        let scale = match self.space {
            Space::Log => 1.0,
            Space::Linear => l,
        };
        self.free
            .iter()
            .map(|&i| {
                let s = if p[i] != 0.0 { p[i].abs() } else { 1.0 };
                lnl_grad[i] * scale * s
            })
            .collect()
    }
}

/// `m` (p x p, row-major) plus `w` j j'.
fn add_outer(m: &mut [f64], j: &[f64], w: f64) {
    let p = j.len();
    for a in 0..p {
        for b in 0..p {
            m[a * p + b] += w * j[a] * j[b];
        }
    }
}

/// g' M^-1 g by Cholesky; `None` when M is not positive definite.
fn quad_inverse(m: &[f64], g: &[f64]) -> Option<f64> {
    let p = g.len();
    let mut l = vec![0.0; p * p];
    for i in 0..p {
        for j in 0..=i {
            let mut s = m[i * p + j];
            for k in 0..j {
                s -= l[i * p + k] * l[j * p + k];
            }
            if i == j {
                if !(s > 1e-13 * m[i * p + i].abs().max(f64::MIN_POSITIVE)) {
                    return None;
                }
                l[i * p + i] = s.sqrt();
            } else {
                l[i * p + j] = s / l[j * p + j];
            }
        }
    }
    // Solve L y = g; g' M^-1 g = |y|^2.
    let mut y = vec![0.0; p];
    for i in 0..p {
        let mut s = g[i];
        for k in 0..i {
            s -= l[i * p + k] * y[k];
        }
        y[i] = s / l[i * p + i];
    }
    Some(y.iter().map(|v| v * v).sum())
}

/// The quantity's value for `law` (ln N_opt, ln L, or the parameter).
fn quantity_value(law: &Law, target: &Target, q: &Quantity, k: f64) -> Option<f64> {
    match (q, target) {
        (Quantity::Param(name), _) => law.get(name),
        (
            Quantity::NOpt,
            Target::Budget {
                flops,
                flops_per_param_token: k,
            },
        ) => crate::allocate::optimal(law, *flops, *k, None)
            .ok()
            .map(|a| a.params.ln()),
        (Quantity::NOpt, Target::Point { .. }) => None,
        (
            Quantity::Loss,
            Target::Budget {
                flops,
                flops_per_param_token: k,
            },
        ) => crate::allocate::optimal(law, *flops, *k, None)
            .ok()
            .and_then(|a| a.loss)
            .map(f64::ln),
        (Quantity::Loss, Target::Point { params, tokens }) => {
            let v = law.predict_with(&|v: &Var| match v {
                Var::N => Some(*params),
                Var::D => Some(*tokens),
                Var::C => Some(k * params * tokens),
                Var::M => Some(tokens / params),
                _ => None,
            })?;
            (v > 0.0).then(|| v.ln())
        }
    }
    .filter(|v| v.is_finite())
}

/// z with P(|Z| <= z) = level.
fn normal_quantile(level: f64) -> f64 {
    let target = (1.0 - level) / 2.0;
    let (mut lo, mut hi) = (0.0, 40.0);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if crate::num::special::normal_sf(mid) > target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// The runs of a plan as (N, D).
type Points = Vec<(f64, f64)>;

/// Everything the expected widths need.
struct Fisher {
    model: Model,
    /// Information of the current runs, times s^2 (p x p).
    base: Vec<f64>,
    /// dq/dp (scaled like the gradients).
    g: Vec<f64>,
    s2: f64,
    z: f64,
}

impl Fisher {
    /// The expected interval width with `extra` runs added.
    fn width(&self, extra: &[(f64, f64)]) -> Option<f64> {
        let mut m = self.base.clone();
        for &(n, d) in extra {
            add_outer(&mut m, &self.model.gradient(n, d), 1.0);
        }
        self.width_of(&m)
    }

    fn width_of(&self, m: &[f64]) -> Option<f64> {
        quad_inverse(m, &self.g).map(|v| 2.0 * self.z * (self.s2 * v).sqrt())
    }
}

fn check(req: &DesignRequest) -> Result<Option<f64>> {
    if !(req.allowance.is_finite() && req.allowance > 0.0) {
        return Err(Error::setting(
            format!(
                "{{}} must be a positive number of FLOPs, got {}",
                req.allowance
            ),
            &["allowance"],
        ));
    }
    if req.runs == 0 || req.runs > 64 {
        return Err(Error::setting(
            format!("{{}} must be between 1 and 64 runs, got {}", req.runs),
            &["k"],
        ));
    }
    if !(req.level > 0.0 && req.level < 1.0) {
        return Err(Error::setting(
            format!("{{}} must be between 0 and 1, got {}", req.level),
            &["level"],
        ));
    }
    let k = match req.target {
        Target::Point { params, tokens } => {
            if !(params > 0.0 && tokens > 0.0 && params.is_finite() && tokens.is_finite()) {
                return Err(Error::InvalidSetting(format!(
                    "the target needs positive N and D, got {params} and {tokens}"
                )));
            }
            if req.quantity == Quantity::NOpt {
                return Err(Error::setting(
                    "N_opt is defined at a compute budget: give {} instead of a target (N, D), or ask for the loss",
                    &["budget"],
                ));
            }
            None
        }
        Target::Budget {
            flops,
            flops_per_param_token,
        } => {
            if !(flops > 0.0 && flops.is_finite()) {
                return Err(Error::setting(
                    format!("{{}} must be a positive number of FLOPs, got {flops}"),
                    &["budget"],
                ));
            }
            if !(flops_per_param_token > 0.0 && flops_per_param_token.is_finite()) {
                return Err(Error::InvalidSetting(format!(
                    "FLOPs per parameter per token must be positive, got {flops_per_param_token}"
                )));
            }
            Some(flops_per_param_token)
        }
    };
    if let Some(s) = &req.simulate {
        if s.repetitions == 0 {
            return Err(Error::setting(
                "{} needs at least 1 repetition",
                &["simulate"],
            ));
        }
        crate::limits::check(
            "bootstrap replicates",
            s.bootstrap,
            crate::limits::MAX_REPLICATES,
        )?;
        if s.bootstrap < 20 {
            return Err(Error::setting(
                format!(
                    "{{}} must be at least 20 replicates for a {}% interval, got {}",
                    100.0 * req.level,
                    s.bootstrap
                ),
                &["simulate_bootstrap"],
            ));
        }
    }
    Ok(k)
}

/// Fewest tokens per parameter of a proposed run: a run on fewer tokens than parameters lies
/// where no scaling law was measured, and there a robust fit cannot use it as the Fisher
/// information promises.
pub const MIN_TOKENS_PER_PARAM: f64 = 1.0;

/// The candidate grid: (N, D) pairs costing at most the allowance.
fn candidates(runs: &Runs, k: f64, allowance: f64) -> Result<(Points, [f64; 2], [f64; 2])> {
    let ratios: Vec<f64> = (0..runs.len())
        .map(|i| runs.tokens[i] / runs.params[i])
        .collect();
    // Half the data's smallest tokens per parameter, but never fewer tokens than parameters
    // (MIN_TOKENS_PER_PARAM): on a sweep from Epoch's law, runs at D/N = 0.36 looked best by
    // Fisher information, yet under the default Huber fit the proposal then beat one more
    // IsoFLOP budget in only 69 of 100 simulated repetitions; with the floor, 94 of 100.
    let m_lo =
        (ratios.iter().copied().fold(f64::INFINITY, f64::min) / 2.0).max(MIN_TOKENS_PER_PARAM);
    // Twice the data's largest, and at least twice the floor (data all below one token per
    // parameter still get a range of candidates).
    let m_hi = (ratios.iter().copied().fold(0.0, f64::max) * 2.0).max(2.0 * m_lo);
    let n_lo = runs.params.iter().copied().fold(f64::INFINITY, f64::min);
    let cheapest = k * n_lo * n_lo * m_lo;
    if allowance < cheapest {
        return Err(Error::setting(
            format!(
                "{{}} of {allowance:e} FLOPs is below the cheapest candidate run ({cheapest:.3e} FLOPs: the smallest model in the data, {n_lo:.3e} parameters, at {m_lo:.3} tokens per parameter: half the data's smallest, and at least {MIN_TOKENS_PER_PARAM})"
            ),
            &["allowance"],
        ));
    }
    let n_hi = (allowance / (k * m_lo)).sqrt();
    let (gn, gm) = (40usize, 16usize);
    let mut out = Vec::new();
    for i in 0..gn {
        let n = (n_lo.ln() + (n_hi.ln() - n_lo.ln()) * i as f64 / (gn - 1) as f64).exp();
        for j in 0..gm {
            let m = (m_lo.ln() + (m_hi.ln() - m_lo.ln()) * j as f64 / (gm - 1) as f64).exp();
            if k * n * n * m <= allowance * (1.0 + 1e-12) {
                out.push((n, n * m));
            }
        }
    }
    Ok((out, [n_lo, n_hi], [m_lo, m_hi]))
}

/// Greedy choice of `kk` candidates within the allowance, then exchange passes.
fn choose(f: &Fisher, cands: &[(f64, f64)], kk: usize, allowance: f64, k: f64) -> Result<Points> {
    let grads: Vec<Vec<f64>> = cands.iter().map(|&(n, d)| f.model.gradient(n, d)).collect();
    let cost: Vec<f64> = cands.iter().map(|&(n, d)| k * n * d).collect();
    let cmin = cost.iter().copied().fold(f64::INFINITY, f64::min);
    let var_with = |chosen: &[usize], extra: Option<usize>| -> f64 {
        let mut m = f.base.clone();
        for &c in chosen.iter().chain(extra.iter()) {
            add_outer(&mut m, &grads[c], 1.0);
        }
        quad_inverse(&m, &f.g).unwrap_or(f64::INFINITY)
    };
    let mut chosen: Vec<usize> = Vec::with_capacity(kk);
    let mut spent = 0.0;
    for step in 0..kk {
        let room = allowance - spent - (kk - 1 - step) as f64 * cmin;
        let best = (0..cands.len())
            .filter(|&c| cost[c] <= room * (1.0 + 1e-12))
            .map(|c| (var_with(&chosen, Some(c)), c))
            .min_by(|a, b| a.0.total_cmp(&b.0));
        let Some((_, c)) = best else {
            return Err(Error::setting(
                format!("{{}} of {allowance:e} FLOPs cannot pay for {kk} runs: the cheapest candidate costs {cmin:.3e} FLOPs"),
                &["allowance"],
            ));
        };
        spent += cost[c];
        chosen.push(c);
    }
    let mut current = var_with(&chosen, None);
    for _pass in 0..10 {
        let mut improved = false;
        for slot in 0..kk {
            let others: Vec<usize> = chosen
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != slot)
                .map(|(_, &c)| c)
                .collect();
            let room = allowance - others.iter().map(|&c| cost[c]).sum::<f64>();
            for (c, &cost_c) in cost.iter().enumerate().take(cands.len()) {
                if cost_c > room * (1.0 + 1e-12) || c == chosen[slot] {
                    continue;
                }
                let v = var_with(&others, Some(c));
                if v < current * (1.0 - 1e-9) {
                    current = v;
                    chosen[slot] = c;
                    improved = true;
                }
            }
        }
        if !improved {
            break;
        }
    }
    // Order the runs so that each adds the most to the ones before it.
    let mut ordered: Vec<usize> = Vec::with_capacity(kk);
    let mut left = chosen;
    while !left.is_empty() {
        let (pos, _) = left
            .iter()
            .enumerate()
            .map(|(i, &c)| (i, var_with(&ordered, Some(c))))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .expect("non-empty");
        ordered.push(left.remove(pos));
    }
    Ok(ordered.into_iter().map(|c| cands[c]).collect())
}

/// The log-space centre of one IsoFLOP budget: the law's N_opt there, else the geometric mean
/// of the data's N.
fn centre(law: &Law, c: f64, k: f64, runs: &Runs) -> f64 {
    crate::allocate::optimal(law, c, k, None)
        .map(|a| a.params)
        .unwrap_or_else(|_| {
            (runs.params.iter().map(|n| n.ln()).sum::<f64>() / runs.len() as f64).exp()
        })
}

fn alternatives(
    law: &Law,
    runs: &Runs,
    kk: usize,
    allowance: f64,
    k: f64,
) -> Vec<(String, String, Points)> {
    let c1 = allowance / kk as f64;
    let mid = centre(law, c1, k, runs);
    let iso: Points = (0..kk)
        .map(|i| {
            let t = if kk == 1 {
                0.0
            } else {
                i as f64 / (kk - 1) as f64 - 0.5
            };
            let n = mid * 10f64.powf(t);
            (n, c1 / (k * n))
        })
        .collect();
    let mut ratios: Vec<f64> = (0..runs.len())
        .map(|i| runs.tokens[i] / runs.params[i])
        .collect();
    ratios.sort_by(|a, b| a.total_cmp(b));
    let m = crate::num::quantile_sorted(&ratios, 0.5);
    // Sizes N_K 2^(i-K), i = 1..K: total cost k m N_K^2 sum 4^(i-K).
    let sum: f64 = (1..=kk).map(|i| 4f64.powi(i as i32 - kk as i32)).sum();
    let nk = (allowance / (k * m * sum)).sqrt();
    let larger: Points = (1..=kk)
        .map(|i| {
            let n = nk * 2f64.powi(i as i32 - kk as i32);
            (n, n * m)
        })
        .collect();
    vec![
        (
            "isoflop".into(),
            format!(
                "one more IsoFLOP budget of {c1:.3e} FLOPs: {kk} model sizes over one decade around its N_opt"
            ),
            iso,
        ),
        (
            "larger_models".into(),
            format!(
                "{kk} larger models, each twice the one before, at the data's median {m:.3} tokens per parameter"
            ),
            larger,
        ),
    ]
}

/// Propose the next `req.runs` runs for `fit` (module documentation), compare them with the
/// alternatives of equal cost, and (with `req.simulate`) check the promise by simulation.
///
/// # Examples
/// ```
/// use scaling::validate::{design, DesignRequest, Quantity, Target};
/// let law = scaling::law::presets::get("epoch").unwrap().law.unwrap();
/// let budgets = [1e18, 3e18, 1e19, 3e19, 1e20];
/// let points = scaling::simulate::isoflop_design(&law, &budgets, 7, 1.5, 6.0);
/// let runs = scaling::simulate::sample_runs(&law, &points, 0.01, 1, "synthetic").unwrap();
/// let fit = scaling::fit::fit(&runs, &scaling::fit::FitConfig::default()).unwrap();
/// let req = DesignRequest {
///     target: Target::Budget { flops: 1e24, flops_per_param_token: 6.0 },
///     quantity: Quantity::NOpt,
///     allowance: 1e21,
///     runs: 4,
///     level: 0.95,
///     simulate: None,
/// };
/// let d = design(&fit, &req, &|| {}).unwrap();
/// assert_eq!(d.proposal.runs.len(), 4);
/// assert!(d.proposal.cost <= 1e21 * (1.0 + 1e-9));
/// assert!(d.proposal.width < d.current_width);
/// assert!(d.alternatives.iter().all(|a| d.proposal.width <= a.width));
/// ```
///
/// # Errors
/// [`Error::Setting`] for an allowance that is not positive or below the cheapest candidate,
/// K outside 1..=64, a level outside (0, 1), N_opt asked at a point; [`Error::InvalidSetting`]
/// for a law that does not depend on N and D only (through N, D, C = k N D and M = D / N), or
/// a quantity the law does not define at the target; [`Error::InsufficientData`] when the fit
/// did not determine its parameters.
pub fn design(fit: &Fit, req: &DesignRequest, progress: &(dyn Fn() + Sync)) -> Result<Design> {
    let k = check(req)?.unwrap_or(fit.conventions.flops_per_param_token);
    let law = fit.law().ok_or_else(|| {
        Error::InsufficientData(format!(
            "{}: the fit did not determine every parameter of the {} law, so there is no information to design with",
            fit.runs.source, fit.law
        ))
    })?;
    let form = law.form.form();
    if let Some(v) = form
        .variables()
        .iter()
        .find(|v| !matches!(v, Var::N | Var::D | Var::C | Var::M))
    {
        return Err(Error::InvalidSetting(format!(
            "design proposes runs by N and D; the {} law also reads {}, which a new run does not fix",
            fit.law,
            v.symbol()
        )));
    }
    if !law.form.splits_compute() {
        return Err(Error::InvalidSetting(format!(
            "design needs a law of both N and D; {} ({}) does not split compute between them",
            fit.law,
            law.form.formula()
        )));
    }
    let names = law.form.param_names();
    if let Quantity::Param(p) = &req.quantity {
        if !names.contains(p) {
            return Err(Error::setting(
                format!(
                    "{{}} must be n_opt, loss or a parameter of the law ({}), got {p:?}",
                    names.join(", ")
                ),
                &["quantity"],
            ));
        }
        if fit.conventions.fixed.contains_key(p) {
            return Err(Error::setting(
                format!("{{}}: {p} is held fixed in the fit, so no run changes its interval"),
                &["quantity"],
            ));
        }
    }
    let runs = fit.runs();
    let m = runs.len();
    if runs.params.len() != m || runs.tokens.len() != m {
        return Err(Error::InsufficientData(format!(
            "{}: design needs N and D of every run",
            fit.runs.source
        )));
    }
    let free: Vec<usize> = (0..names.len())
        .filter(|&i| !fit.conventions.fixed.contains_key(&names[i]))
        .collect();
    let p = free.len();
    if m <= p {
        return Err(Error::InsufficientData(format!(
            "{}: {m} runs for {p} free parameters leave no residual variance",
            fit.runs.source
        )));
    }
    let s2 = residual_scale(
        &fit.residuals,
        p,
        fit.conventions
            .delta
            .filter(|_| fit.conventions.penalty == "huber"),
    );
    let model = Model {
        law: law.clone(),
        free: free.clone(),
        k,
        space: fit.conventions.space,
    };
    let estimate_q = quantity_value(&law, &req.target, &req.quantity, k).ok_or_else(|| {
        Error::InvalidSetting(format!(
            "the fitted law gives no {} at the target",
            req.quantity.name()
        ))
    })?;
    // dq/dp in the scaled coordinates (p_i -> p_i (1 + u)), by central differences.
    let mut g = Vec::with_capacity(p);
    for &i in &free {
        let pi = law.params[i];
        let s = if pi != 0.0 { pi.abs() } else { 1.0 };
        let h = 1e-5;
        let at = |u: f64| {
            let mut l = law.clone();
            l.params[i] = pi + s * u;
            quantity_value(&l, &req.target, &req.quantity, k)
        };
        let (a, b) = (at(h), at(-h));
        match (a, b) {
            (Some(a), Some(b)) => g.push((a - b) / (2.0 * h)),
            _ => {
                return Err(Error::Numerical(format!(
                    "the {} at the target is not defined next to the fitted {}",
                    req.quantity.name(),
                    names[i]
                )))
            }
        }
    }
    let mut base = vec![0.0; p * p];
    for i in 0..m {
        add_outer(
            &mut base,
            &model.gradient(runs.params[i], runs.tokens[i]),
            1.0,
        );
    }
    let z = normal_quantile(req.level);
    let fisher = Fisher {
        model,
        base,
        g,
        s2,
        z,
    };
    let current_width = fisher.width_of(&fisher.base).ok_or_else(|| {
        Error::InsufficientData(format!(
            "{}: the Fisher information of the current runs is singular: they do not determine every free parameter of the {} law",
            fit.runs.source, fit.law
        ))
    })?;
    let interval = |w: f64| -> [f64; 2] {
        if req.quantity.relative() {
            [(estimate_q - w / 2.0).exp(), (estimate_q + w / 2.0).exp()]
        } else {
            [estimate_q - w / 2.0, estimate_q + w / 2.0]
        }
    };
    let estimate = if req.quantity.relative() {
        estimate_q.exp()
    } else {
        estimate_q
    };
    let (cands, n_range, m_range) = candidates(&runs, k, req.allowance)?;
    let chosen = choose(&fisher, &cands, req.runs, req.allowance, k)?;
    let plan_of = |name: &str, description: String, pts: &[(f64, f64)]| -> Result<Plan> {
        let mut new_runs = Vec::with_capacity(pts.len());
        for i in 0..pts.len() {
            let (n, d) = pts[i];
            let w = fisher.width(&pts[..=i]).ok_or_else(|| {
                Error::Numerical("the Fisher information lost positive definiteness".into())
            })?;
            new_runs.push(NewRun {
                params: n,
                tokens: d,
                flops: k * n * d,
                tokens_per_param: d / n,
                width_after: w,
            });
        }
        let width = new_runs
            .last()
            .map(|r| r.width_after)
            .unwrap_or(current_width);
        Ok(Plan {
            name: name.into(),
            description,
            cost: new_runs.iter().map(|r| r.flops).sum(),
            runs: new_runs,
            width,
            interval: interval(width),
            width_ratio: width / current_width,
        })
    };
    let proposal = plan_of(
        "proposal",
        format!(
            "the {} runs within the allowance that most shrink the interval on {} (greedy choice and exchange over {} candidates)",
            req.runs,
            req.quantity.name(),
            cands.len()
        ),
        &chosen,
    )?;
    let alts_pts = alternatives(&law, &runs, req.runs, req.allowance, k);
    let mut alts = Vec::new();
    for (name, desc, pts) in &alts_pts {
        alts.push(plan_of(name, desc.clone(), pts)?);
    }
    let current_bootstrap_width = fit.bootstrap.as_ref().and_then(|b| {
        let col = uncertainty::replicate_series(b, law.form.clone(), |l| {
            vec![quantity_value(l, &req.target, &req.quantity, k)]
        });
        width_of_values(col.first()?, req.level)
    });
    let mut warnings = Vec::new();
    if let Some(bw) = current_bootstrap_width {
        let ratio = bw / current_width;
        if !(0.5..=2.0).contains(&ratio) {
            warnings.push(format!(
                "today's bootstrap width ({bw:.4}) is {ratio:.2} times the Fisher width ({current_width:.4}): the expected widths are on the Fisher scale, so read them as relative to each other"
            ));
        }
    }
    let simulation = match &req.simulate {
        None => None,
        Some(s) => {
            let mut plans: Vec<(String, Points)> = vec![("proposal".into(), chosen.clone())];
            plans.extend(alts_pts.iter().map(|(n, _, p)| (n.clone(), p.clone())));
            Some(simulate(fit, &law, &runs, &plans, req, s, k, progress)?)
        }
    };
    Ok(Design {
        law: fit.law.clone(),
        formula: fit.formula.clone(),
        params: names
            .iter()
            .cloned()
            .zip(law.params.iter().copied())
            .collect(),
        target: req.target,
        quantity: req.quantity.name(),
        estimate,
        level: req.level,
        allowance: req.allowance,
        runs: req.runs,
        current_runs: m,
        current_width,
        current_interval: interval(current_width),
        current_bootstrap_width,
        proposal,
        alternatives: alts,
        simulation,
        conventions: DesignConventions {
            flops_per_param_token: k,
            space: fit.conventions.space,
            residual_sd: s2.sqrt(),
            free_params: free.iter().map(|&i| names[i].clone()).collect(),
            width: if req.quantity.relative() {
                format!(
                    "ln(high / low) of the {}% interval on {} (a width w is a factor e^w between the ends)",
                    100.0 * req.level,
                    req.quantity.name()
                )
            } else {
                format!(
                    "high - low of the {}% interval on {}",
                    100.0 * req.level,
                    req.quantity.name()
                )
            },
            method: "delta method with the Fisher information of nonlinear least squares: width = 2 z sqrt(s^2 g' (J'J)^-1 g), J the gradient of each run's prediction in the residual space, s^2 the fit's residual variance (for the Huber penalty, the M-estimator's E psi^2 / (E psi')^2 with a kernel-smoothed E psi'); a new run adds its gradient's outer product".into(),
            candidates: cands.len(),
            candidate_params: n_range,
            candidate_tokens_per_param: m_range,
        },
        warnings,
    })
}

/// The variance factor of the estimator's covariance `factor (J'J)^-1`: s^2 = sum r^2 / (m -
/// p) for least squares; for Huber's penalty with threshold delta, the M-estimator's
/// `E psi(r)^2 / (E psi'(r))^2` (Huber 1981, Sec. 7.6), psi(r) = clamp(r, -delta, delta), times
/// m / (m - p), with E psi' = P(|r| < delta) smoothed by a normal kernel of Silverman's bandwidth
/// 1.06 sd m^(-1/5), sd the residuals' robust (MAD) standard deviation (at a small delta the fit interpolates about p runs exactly, which a raw
/// count would take for density).
fn residual_scale(r: &[f64], p: usize, huber: Option<f64>) -> f64 {
    let m = r.len() as f64;
    let dof = m - p as f64;
    let ss = r.iter().map(|x| x * x).sum::<f64>();
    let Some(delta) = huber else {
        return ss / dof;
    };
    let h = 1.06 * crate::uncertainty::mad_sd(r) * m.powf(-0.2);
    if !(h > 0.0) {
        return ss / dof;
    }
    let cdf = |x: f64| 1.0 - crate::num::special::normal_sf(x);
    let inside = r
        .iter()
        .map(|x| cdf((delta - x) / h) - cdf((-delta - x) / h))
        .sum::<f64>()
        / m;
    let psi2 = r
        .iter()
        .map(|x| x.clamp(-delta, delta).powi(2))
        .sum::<f64>()
        / m;
    if !(inside > 0.0) {
        return ss / dof;
    }
    psi2 / (inside * inside) * m / dof
}

/// Width of the percentile interval of already-transformed values (ln q or q).
fn width_of_values(v: &[f64], level: f64) -> Option<f64> {
    summarise(v, level).map(|([lo, hi], _)| hi - lo)
}

/// Refit `all` and bootstrap it; the width of q's percentile interval.
fn refit_width(
    all: &Runs,
    config: &fit::FitConfig,
    req: &DesignRequest,
    replicates: usize,
    seed: u64,
    k: f64,
) -> Option<f64> {
    let f = fit::fit(all, config).ok()?;
    f.law()?;
    let bc = BootstrapConfig {
        replicates,
        seed,
        clusters: None,
        cluster_column: None,
        level: req.level,
    };
    let b = uncertainty::bootstrap(all, config, &f, &bc, &|| {}).ok()?;
    let col = uncertainty::replicate_series(&b, f.form(), |l| {
        vec![quantity_value(l, &req.target, &req.quantity, k)]
    });
    width_of_values(col.first()?, req.level)
}

#[allow(clippy::too_many_arguments)]
fn simulate(
    fit: &Fit,
    law: &Law,
    runs: &Runs,
    plans: &[(String, Points)],
    req: &DesignRequest,
    s: &SimulateRequest,
    k: f64,
    progress: &(dyn Fn() + Sync),
) -> Result<Simulation> {
    let config = fit.config();
    let mean = fit.residuals.iter().sum::<f64>() / fit.residuals.len() as f64;
    let resid: Vec<f64> = fit.residuals.iter().map(|r| r - mean).collect();
    let predict = |n: f64, d: f64| law.predict(n, d, k * n * d);
    let current_width = refit_width(runs, &config, req, s.bootstrap, s.seed, k);
    let most = plans.iter().map(|p| p.1.len()).max().unwrap_or(0);
    let mut widths: Vec<Vec<Option<f64>>> = vec![Vec::with_capacity(s.repetitions); plans.len()];
    for r in 0..s.repetitions {
        let mut rng = ChaCha8Rng::seed_from_u64(s.seed);
        rng.set_stream(r as u64 + 1);
        let draws: Vec<f64> = (0..most)
            .map(|_| resid[rng.random_range(0..resid.len())])
            .collect();
        for (pi, (_, pts)) in plans.iter().enumerate() {
            let mut all = runs.clone();
            let mut ok = true;
            for (j, &(n, d)) in pts.iter().enumerate() {
                let mean = predict(n, d);
                let l = match fit.conventions.space {
                    Space::Log => mean * draws[j].exp(),
                    Space::Linear => mean + draws[j],
                };
                if !(l.is_finite() && l > 0.0) {
                    ok = false;
                }
                all.params.push(n);
                all.tokens.push(d);
                if !all.flops.is_empty() {
                    all.flops.push(k * n * d);
                }
                all.loss.push(l);
                all.rows.push(runs.total_rows + j + 1);
            }
            all.total_rows += pts.len();
            let w = if ok {
                refit_width(
                    &all,
                    &config,
                    req,
                    s.bootstrap,
                    s.seed.wrapping_add(1 + r as u64),
                    k,
                )
            } else {
                None
            };
            widths[pi].push(w);
        }
        progress();
    }
    let summary = |name: &str, v: &[Option<f64>]| -> SimulatedPlan {
        let mut ok: Vec<f64> = v.iter().flatten().copied().collect();
        let failed = v.len() - ok.len();
        let mean = if ok.is_empty() {
            f64::NAN
        } else {
            ok.iter().sum::<f64>() / ok.len() as f64
        };
        let mut sorted = ok.clone();
        sorted.sort_by(|a, b| a.total_cmp(b));
        let median = if sorted.is_empty() {
            f64::NAN
        } else {
            crate::num::quantile_sorted(&sorted, 0.5)
        };
        ok.shrink_to_fit();
        SimulatedPlan {
            name: name.into(),
            median_width: median,
            mean_width: mean,
            widths: ok,
            failed,
        }
    };
    let sim_plans: Vec<SimulatedPlan> = plans
        .iter()
        .zip(&widths)
        .map(|((n, _), w)| summary(n, w))
        .collect();
    let beats = plans
        .iter()
        .enumerate()
        .skip(1)
        .map(|(pi, (name, _))| {
            let pairs: Vec<(f64, f64)> = widths[0]
                .iter()
                .zip(&widths[pi])
                .filter_map(|(a, b)| Some(((*a)?, (*b)?)))
                .collect();
            let wins = pairs.iter().filter(|(a, b)| a < b).count();
            Beat {
                alternative: name.clone(),
                compared: pairs.len(),
                wins,
                fraction: if pairs.is_empty() {
                    f64::NAN
                } else {
                    wins as f64 / pairs.len() as f64
                },
            }
        })
        .collect();
    Ok(Simulation {
        repetitions: s.repetitions,
        bootstrap: s.bootstrap,
        seed: s.seed,
        current_width,
        plans: sim_plans,
        beats,
    })
}
