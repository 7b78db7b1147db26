//! Decisions from a law: the compute-optimal allocation of a budget, the least compute for a
//! target loss, the best partner for a fixed model size or token count, allocation under
//! inference demand, and with a limited pool of unique tokens.
//!
//! # Formula
//! Under C = k N D (k = 6 by default), the optimum minimises L(N, C / (k N)) over N. For the
//! Chinchilla form it is closed (Hoffmann et al. 2022, Eq. 4): N_opt = G (C/k)^a,
//! D_opt = G^-1 (C/k)^b. Every other law is minimised numerically over ln N (a scan, then
//! golden-section search), so any form the tool knows can be planned with.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::law::{Law, LawForm};

/// A published allocation rule: the frontier given directly rather than derived from a loss law.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Rule {
    /// N_opt = coef (C_min / unit)^exponent with C_min = C / compute_factor (Kaplan et al.
    /// 2020: coef 1.3e9, exponent 0.73, unit a PF-day, C = 2 C_min); D = C / (k N).
    ParamsPower {
        /// Coefficient.
        coef: f64,
        /// Exponent.
        exponent: f64,
        /// FLOPs per unit of C_min.
        unit_flops: f64,
        /// C / C_min.
        compute_factor: f64,
    },
    /// D_opt = coef C^exponent (Llama 3); N = C / (k D).
    TokensPower {
        /// Coefficient.
        coef: f64,
        /// Exponent.
        exponent: f64,
    },
    /// DeepSeek LLM: M_opt = m_coef C^m_exponent (non-embedding FLOPs per token),
    /// D_opt = d_coef C^d_exponent, C = M D; reported N = M / 6.
    DeepSeek {
        /// Coefficient of M.
        m_coef: f64,
        /// Exponent of M.
        m_exponent: f64,
        /// Coefficient of D.
        d_coef: f64,
        /// Exponent of D.
        d_exponent: f64,
    },
}

/// An allocation of a budget.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Allocation {
    /// Training compute C (FLOPs).
    pub flops: f64,
    /// Parameters N.
    pub params: f64,
    /// Training tokens D.
    pub tokens: f64,
    /// Predicted loss (absent when only an allocation rule is known).
    pub loss: Option<f64>,
    /// D / N.
    pub tokens_per_param: f64,
    /// D / U when a unique-token pool U was given.
    pub epochs: Option<f64>,
}

fn check_budget(flops: f64) -> Result<()> {
    if flops.is_finite() && flops > 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidSetting(format!(
            "the compute budget must be a positive number of FLOPs, got {flops}"
        )))
    }
}

fn check_k(k: f64) -> Result<()> {
    if k.is_finite() && k > 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidSetting(format!(
            "--flops-per-param-token must be positive, got {k}"
        )))
    }
}

/// A law that splits compute between N and D (not a single-variable power law).
fn check_two_variables(law: &Law) -> Result<()> {
    match law.form {
        LawForm::Power { x } => Err(Error::InvalidSetting(format!(
            "a law of {} alone cannot say how to split compute between N and D; plan with a law of N and D (chinchilla, kaplan, data-constrained)",
            x.symbol()
        ))),
        _ => Ok(()),
    }
}

/// Both N and D at least 1 and finite.
fn check_plan(flops: f64, n: f64, d: f64) -> Result<()> {
    if n.is_finite() && d.is_finite() && n >= 1.0 && d >= 1.0 {
        Ok(())
    } else {
        Err(Error::InvalidSetting(format!(
            "at {flops:e} FLOPs this plan has N = {n:e} and D = {d:e}: fewer than one parameter or one token"
        )))
    }
}

fn alloc(law: Option<&Law>, flops: f64, n: f64, d: f64, unique: Option<f64>) -> Allocation {
    Allocation {
        flops,
        params: n,
        tokens: d,
        // A loss past f64's range (E = 1e308) is left out rather than reported as inf.
        loss: law
            .map(|l| l.predict_unique(n, d, flops, unique))
            .filter(|l| l.is_finite()),
        tokens_per_param: d / n,
        epochs: unique.map(|u| d / u),
    }
}

/// The allocation a published rule gives for budget `flops` (with `law`, when known, for the
/// loss there).
pub fn from_rule(rule: &Rule, law: Option<&Law>, flops: f64, k: f64) -> Result<Allocation> {
    check_budget(flops)?;
    check_k(k)?;
    let (n, d) = match *rule {
        Rule::ParamsPower {
            coef,
            exponent,
            unit_flops,
            compute_factor,
        } => {
            let n = coef * (flops / compute_factor / unit_flops).powf(exponent);
            (n, flops / (k * n))
        }
        Rule::TokensPower { coef, exponent } => {
            let d = coef * flops.powf(exponent);
            (flops / (k * d), d)
        }
        Rule::DeepSeek {
            m_coef,
            m_exponent,
            d_coef,
            d_exponent,
        } => {
            let m = m_coef * flops.powf(m_exponent);
            (m / 6.0, d_coef * flops.powf(d_exponent))
        }
    };
    Ok(alloc(law, flops, n, d, None))
}

/// The compute-optimal allocation of `flops` under C = k N D: closed form for the Chinchilla
/// form (and the data-constrained form without a unique-token limit), numerical otherwise.
///
/// # Errors
/// A non-positive budget or k, or a law whose loss does not depend on N and D.
pub fn optimal(law: &Law, flops: f64, k: f64, unique: Option<f64>) -> Result<Allocation> {
    check_budget(flops)?;
    check_k(k)?;
    if let Some(u) = unique {
        if !(u.is_finite() && u > 0.0) {
            return Err(Error::InvalidSetting(format!(
                "--unique-tokens must be positive, got {u}"
            )));
        }
    }
    check_two_variables(law)?;
    let closed = law.form == LawForm::Chinchilla
        || (law.form == LawForm::DataConstrained && unique.is_none());
    if closed {
        if let Some(o) = law.optimum(flops, k) {
            check_plan(flops, o.params, o.tokens)?;
            return Ok(alloc(Some(law), flops, o.params, o.tokens, unique));
        }
    }
    let a = optimal_numeric(law, flops, k, unique)?;
    check_plan(flops, a.params, a.tokens)?;
    Ok(a)
}

/// Minimise f over [lo, hi] by a scan of `n` points and golden-section refinement around the
/// best; returns the minimiser.
pub(crate) fn minimise_1d(f: impl Fn(f64) -> f64, lo: f64, hi: f64, n: usize) -> f64 {
    let step = (hi - lo) / (n - 1) as f64;
    let mut best = (f64::INFINITY, lo);
    for i in 0..n {
        let x = lo + step * i as f64;
        let v = f(x);
        if v < best.0 {
            best = (v, x);
        }
    }
    let (mut a, mut b) = ((best.1 - step).max(lo), (best.1 + step).min(hi));
    let g = (5f64.sqrt() - 1.0) / 2.0;
    let mut c = b - g * (b - a);
    let mut d = a + g * (b - a);
    let (mut fc, mut fd) = (f(c), f(d));
    for _ in 0..200 {
        if (b - a).abs() <= 1e-13 * (1.0 + a.abs()) {
            break;
        }
        if fc < fd {
            b = d;
            d = c;
            fd = fc;
            c = b - g * (b - a);
            fc = f(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + g * (b - a);
            fd = f(d);
        }
    }
    0.5 * (a + b)
}

/// The compute-optimal allocation found numerically: minimise L(N, C/(k N), U) over ln N
/// between N = 1 and D = 1.
pub fn optimal_numeric(law: &Law, flops: f64, k: f64, unique: Option<f64>) -> Result<Allocation> {
    check_budget(flops)?;
    check_k(k)?;
    check_two_variables(law)?;
    let hi = (flops / k).ln();
    if !(hi > 0.0) {
        return Err(Error::InvalidSetting(format!(
            "a budget of {flops:e} FLOPs cannot train one parameter on one token"
        )));
    }
    let loss = |x: f64| {
        let n = x.exp();
        let v = law.predict_unique(n, flops / (k * n), flops, unique);
        if v.is_finite() {
            v
        } else {
            f64::INFINITY
        }
    };
    let x = minimise_1d(loss, 0.0, hi, 400);
    let n = x.exp();
    Ok(alloc(Some(law), flops, n, flops / (k * n), unique))
}

/// The loss at the compute optimum for budget `flops`.
fn optimal_loss(law: &Law, flops: f64, k: f64, unique: Option<f64>) -> Result<f64> {
    optimal(law, flops, k, unique).map(|a| a.loss.unwrap_or(f64::NAN))
}

/// The irreducible loss the law approaches with unlimited compute (E, or 0 for Kaplan's law).
pub fn irreducible(law: &Law) -> f64 {
    match law.form {
        LawForm::Kaplan => 0.0,
        _ => law.params[0],
    }
}

/// The least compute that reaches `target` loss, with its optimal N and D.
///
/// # Errors
/// A target at or below the irreducible loss, or one not reached below 1e40 FLOPs.
pub fn min_flops_for_loss(
    law: &Law,
    target: f64,
    k: f64,
    unique: Option<f64>,
) -> Result<Allocation> {
    check_k(k)?;
    check_two_variables(law)?;
    let floor = irreducible(law);
    if !(target.is_finite() && target > floor) {
        return Err(Error::InvalidSetting(format!(
            "target loss {target} is not above the law's irreducible loss E = {}: no budget reaches it",
            crate::report::sig(floor, 5)
        )));
    }
    let (mut lo, mut hi) = ((10.0 * k).ln(), 1e40f64.ln());
    if optimal_loss(law, hi.exp(), k, unique)? > target {
        return Err(Error::InvalidSetting(format!(
            "target loss {target} is not reached below 1e40 FLOPs under this law"
        )));
    }
    if optimal_loss(law, lo.exp(), k, unique)? <= target {
        return Err(Error::InvalidSetting(format!(
            "target loss {target} is above the loss of the smallest budget considered ({:e} FLOPs): any run reaches it",
            lo.exp()
        )));
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if optimal_loss(law, mid.exp(), k, unique)? > target {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo < 1e-13 {
            break;
        }
    }
    optimal(law, hi.exp(), k, unique)
}

/// A plan with one of N or D fixed, against the optimum.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Constrained {
    /// The plan: the fixed quantity and its partner under the budget.
    pub plan: Allocation,
    /// The compute-optimal allocation of the same budget.
    pub optimum: Allocation,
    /// The least compute that reaches the plan's loss with the optimal allocation.
    pub equivalent_flops: f64,
    /// C / equivalent_flops - 1: how much more compute the constrained plan spends for its loss.
    pub extra_compute: f64,
}

/// With N fixed (`params`) or D fixed (`tokens`), spend `flops`: the partner is the budget's
/// remainder, D = C / (k N) or N = C / (k D).
///
/// # Errors
/// Neither or both of N and D given, or non-positive values.
pub fn constrained(
    law: &Law,
    flops: f64,
    k: f64,
    params: Option<f64>,
    tokens: Option<f64>,
    unique: Option<f64>,
) -> Result<Constrained> {
    check_budget(flops)?;
    check_k(k)?;
    check_two_variables(law)?;
    let (n, d) = match (params, tokens) {
        (Some(n), None) if n > 0.0 && n.is_finite() => (n, flops / (k * n)),
        (None, Some(d)) if d > 0.0 && d.is_finite() => (flops / (k * d), d),
        (Some(_), Some(_)) => {
            return Err(Error::InvalidSetting(
                "give --params or --tokens with --flops, not both (the budget fixes the other)"
                    .into(),
            ))
        }
        _ => {
            return Err(Error::InvalidSetting(
                "--params and --tokens must be positive".into(),
            ))
        }
    };
    check_plan(flops, n, d)?;
    let plan = alloc(Some(law), flops, n, d, unique);
    let optimum = optimal(law, flops, k, unique)?;
    let target = plan.loss.unwrap_or(f64::NAN);
    let eq = min_flops_for_loss(law, target, k, unique)?;
    Ok(Constrained {
        plan,
        optimum,
        equivalent_flops: eq.flops,
        extra_compute: flops / eq.flops - 1.0,
    })
}

/// A plan for a loss target with inference demand (Sardana et al. 2024, Beyond
/// Chinchilla-optimal): minimise the lifetime compute k N D + 2 N T over models that reach the
/// target, T being the tokens served.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct InferencePlan {
    /// The loss both plans reach.
    pub loss: f64,
    /// Inference tokens T.
    pub inference_tokens: f64,
    /// The plan minimising training plus inference compute.
    pub plan: Allocation,
    /// Its inference compute 2 N T.
    pub inference_flops: f64,
    /// Its total compute.
    pub total_flops: f64,
    /// The Chinchilla-optimal model of the same loss (least training compute).
    pub chinchilla: Allocation,
    /// Its inference compute.
    pub chinchilla_inference_flops: f64,
    /// Its total compute.
    pub chinchilla_total_flops: f64,
    /// 1 - total / chinchilla_total: the fraction of lifetime compute saved.
    pub saving: f64,
}

/// Minimise k N D + 2 N T subject to L(N, D) = `target` (Chinchilla form).
///
/// # Errors
/// A law other than the Chinchilla form, a target at or below E, negative T.
pub fn with_inference(
    law: &Law,
    target: f64,
    inference_tokens: f64,
    k: f64,
) -> Result<InferencePlan> {
    check_k(k)?;
    if law.form != LawForm::Chinchilla {
        return Err(Error::InvalidSetting(format!(
            "--inference-tokens needs a law of the Chinchilla form (L = E + A/N^alpha + B/D^beta), not the {} law",
            law.form.name()
        )));
    }
    if !(inference_tokens.is_finite() && inference_tokens >= 0.0) {
        return Err(Error::InvalidSetting(format!(
            "--inference-tokens must be >= 0, got {inference_tokens}"
        )));
    }
    let chin = min_flops_for_loss(law, target, k, None)?;
    let p = &law.params;
    let (e, a, b, alpha, beta) = (p[0], p[1], p[2], p[3], p[4]);
    // On the iso-loss curve D(N) = (B / (target - E - A N^-alpha))^(1/beta), defined for
    // N > N_min = (A / (target - E))^(1/alpha).
    let n_min = (a / (target - e)).powf(1.0 / alpha);
    let d_of = |n: f64| (b / (target - e - a * n.powf(-alpha))).powf(1.0 / beta);
    let total = |x: f64| {
        let n = x.exp();
        let d = d_of(n);
        let t = k * n * d + 2.0 * n * inference_tokens;
        if t.is_finite() && d > 0.0 {
            t
        } else {
            f64::INFINITY
        }
    };
    let lo = n_min.ln() + 1e-9;
    let x = minimise_1d(total, lo, chin.params.ln() + 5.0, 400);
    let n = x.exp();
    let d = d_of(n);
    let plan = alloc(Some(law), k * n * d, n, d, None);
    let inf = 2.0 * n * inference_tokens;
    let chin_inf = 2.0 * chin.params * inference_tokens;
    let tot = k * n * d + inf;
    let chin_tot = chin.flops + chin_inf;
    Ok(InferencePlan {
        loss: target,
        inference_tokens,
        plan,
        inference_flops: inf,
        total_flops: tot,
        chinchilla: chin,
        chinchilla_inference_flops: chin_inf,
        chinchilla_total_flops: chin_tot,
        saving: 1.0 - tot / chin_tot,
    })
}

/// Parse budgets: comma-separated values and `A:B` ranges by decades (`A:B:K` for K points per
/// decade), each value plain, e-notation or with a K/M/B/T suffix.
///
/// # Errors
/// Unparseable or non-positive values, or a range whose end is below its start.
pub fn parse_budgets(spec: &str) -> Result<Vec<f64>> {
    let mut out = Vec::new();
    let num = |s: &str| -> Result<f64> {
        crate::data::parse_positive(s)
            .map_err(|p| Error::InvalidSetting(format!("--flops {s:?}: {}", p.describe())))
    };
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let pieces: Vec<&str> = part.split(':').collect();
        match pieces.len() {
            1 => out.push(num(pieces[0])?),
            2 | 3 => {
                let (a, b) = (num(pieces[0])?, num(pieces[1])?);
                let per = if pieces.len() == 3 {
                    pieces[2]
                        .trim()
                        .parse::<usize>()
                        .ok()
                        .filter(|k| *k > 0)
                        .ok_or_else(|| {
                            Error::InvalidSetting(format!(
                                "--flops {part:?}: points per decade must be a positive integer"
                            ))
                        })?
                } else {
                    1
                };
                if b < a {
                    return Err(Error::InvalidSetting(format!(
                        "--flops {part:?}: the range ends below its start"
                    )));
                }
                let steps = ((b / a).log10() * per as f64 + 1e-9).floor() as usize;
                if steps > 10_000 {
                    return Err(Error::InvalidSetting(format!(
                        "--flops {part:?}: too many budgets"
                    )));
                }
                for i in 0..=steps {
                    out.push(a * 10f64.powf(i as f64 / per as f64));
                }
            }
            _ => {
                return Err(Error::InvalidSetting(format!(
                    "--flops {part:?}: expected C, A:B or A:B:K"
                )))
            }
        }
    }
    if out.is_empty() {
        return Err(Error::InvalidSetting(
            "--flops needs at least one budget".into(),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::law::presets;

    #[test]
    fn closed_and_numeric_agree_and_spend_the_budget() {
        for name in ["chinchilla", "chinchilla-rounded", "epoch"] {
            let law = presets::get(name).unwrap().law.unwrap();
            for c in [1e19, 5.76e23, 1e26] {
                let a = optimal(&law, c, 6.0, None).unwrap();
                let b = optimal_numeric(&law, c, 6.0, None).unwrap();
                assert!(
                    (a.params / b.params - 1.0).abs() < 1e-6,
                    "{name} {c}: {} vs {}",
                    a.params,
                    b.params
                );
                assert!((6.0 * a.params * a.tokens / c - 1.0).abs() < 1e-12);
                assert!((6.0 * b.params * b.tokens / c - 1.0).abs() < 1e-12);
            }
        }
    }

    /// Golden: Hoffmann et al. 2022 (Fig. 4 caption, ../shared/REFERENCE.md): about 40B with
    /// the unrounded constants and 32B with the rounded ones at Gopher's 5.76e23 FLOPs; Kaplan's
    /// frontier N = 1.3e9 (C / 2 / 8.64e19)^0.73 gives 4.68B at 1e21.
    #[test]
    fn published_allocations() {
        let n = |name: &str, c: f64| {
            let p = presets::get(name).unwrap();
            match (&p.rule, &p.law) {
                (Some(r), l) => from_rule(r, l.as_ref(), c, 6.0).unwrap().params,
                (None, Some(l)) => optimal(l, c, 6.0, None).unwrap().params,
                _ => unreachable!(),
            }
        };
        assert!((n("chinchilla", 5.76e23) / 40.4e9 - 1.0).abs() < 0.01);
        assert!((n("chinchilla-rounded", 5.76e23) / 32.2e9 - 1.0).abs() < 0.01);
        assert!((n("kaplan", 1e21) / 4.68e9 - 1.0).abs() < 0.02);
    }

    /// Golden: Muennighoff et al. 2023 worked examples (../shared/REFERENCE.md).
    #[test]
    fn muennighoff_examples() {
        let law = presets::get("muennighoff").unwrap().law.unwrap();
        let l1 = law.predict_unique(6.34e9, 242e9, f64::NAN, Some(25e9));
        assert!((l1 / 2.2256440889984477 - 1.0).abs() < 1e-9, "{l1}");
        let l2 = law.predict_unique(8.67e9, 178e9, f64::NAN, Some(25e9));
        assert!((l2 / 2.2269634075087867 - 1.0).abs() < 1e-9, "{l2}");
    }

    #[test]
    fn target_loss_inverts_the_frontier() {
        let law = presets::get("chinchilla").unwrap().law.unwrap();
        let a = optimal(&law, 1e23, 6.0, None).unwrap();
        let b = min_flops_for_loss(&law, a.loss.unwrap(), 6.0, None).unwrap();
        assert!((b.flops / 1e23 - 1.0).abs() < 1e-9, "{}", b.flops);
        assert!(min_flops_for_loss(&law, 1.5, 6.0, None).is_err());
    }

    #[test]
    fn fixed_size_costs_extra_compute() {
        let law = presets::get("chinchilla").unwrap().law.unwrap();
        let opt = optimal(&law, 1e23, 6.0, None).unwrap();
        let c = constrained(&law, 1e23, 6.0, Some(opt.params), None, None).unwrap();
        assert!(c.extra_compute.abs() < 1e-6, "{}", c.extra_compute);
        let c = constrained(&law, 1e23, 6.0, Some(opt.params / 4.0), None, None).unwrap();
        assert!(c.extra_compute > 0.1 && c.plan.loss.unwrap() > opt.loss.unwrap());
    }

    #[test]
    fn inference_demand_trains_smaller_longer() {
        let law = presets::get("chinchilla").unwrap().law.unwrap();
        let target = optimal(&law, 1e23, 6.0, None).unwrap().loss.unwrap();
        let none = with_inference(&law, target, 0.0, 6.0).unwrap();
        assert!((none.plan.params / none.chinchilla.params - 1.0).abs() < 1e-4);
        let lots = with_inference(&law, target, 1e13, 6.0).unwrap();
        assert!(
            lots.plan.params < lots.chinchilla.params && lots.plan.tokens > lots.chinchilla.tokens
        );
        assert!(lots.saving > 0.0 && lots.total_flops < lots.chinchilla_total_flops);
        let l = law.predict(lots.plan.params, lots.plan.tokens, 0.0);
        assert!((l - target).abs() < 1e-9, "{l} vs {target}");
    }

    #[test]
    fn budgets() {
        assert_eq!(parse_budgets("1e19:1e21").unwrap(), vec![1e19, 1e20, 1e21]);
        assert_eq!(parse_budgets("1e20, 5.76e23").unwrap(), vec![1e20, 5.76e23]);
        assert_eq!(parse_budgets("1e19:1e20:2").unwrap().len(), 3);
        assert!(parse_budgets("-1").is_err());
        assert!(parse_budgets("1e21:1e19").is_err());
    }
}
