//! Decisions from a law: the compute-optimal allocation of a budget, the least compute for a
//! target loss, the best partner for a fixed model size or token count, allocation under
//! inference demand, and with a limited pool of unique tokens.
//!
//! # Formula
//! Under C = k N D (k = 6 by default), the optimum minimises L(N, C / (k N)) over N. For the
//! Chinchilla form it is closed (Hoffmann et al. 2022, Eq. 4): N_opt = G (C/k)^a,
//! D_opt = G^-1 (C/k)^b. Every other law is minimised numerically over ln N (a scan, then
//! golden-section search), so any form the tool knows can be planned with.
//!
//! Searches are bracketed from the law and the question, never from a fixed budget: the least
//! compute for a target loss inverts the closed frontier exactly, or grows a bracket a decade
//! at a time from C = k (one parameter on one token); a question the law cannot answer (a
//! target at or below its lowest loss, a budget whose optimum has less than one parameter) is
//! refused with an error that says why. [`plan::answer`] dispatches a whole request.

pub mod plan;
mod point;
mod source;
pub use point::{
    predict_point, predict_points, test_against, LawTestReport, PointColumns, PointPrediction,
    PointRequest,
};
pub use source::Source;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
pub use crate::law::Rule;
use crate::law::{Law, LawForm};
use crate::num::sig;

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
    /// D / U when a unique-token pool U was given (absent from JSON otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
            "the FLOPs per parameter per token k in C = k N D must be positive, got {k}"
        )))
    }
}

fn check_unique(unique: Option<f64>) -> Result<()> {
    match unique {
        Some(u) if !(u.is_finite() && u > 0.0) => Err(Error::InvalidSetting(format!(
            "the number of unique tokens must be positive, got {u}"
        ))),
        _ => Ok(()),
    }
}

/// A valid law that splits compute between N and D (not a single-variable power law).
fn check_two_variables(law: &Law) -> Result<()> {
    law.validate()?;
    match law.form {
        LawForm::Power { x } => Err(Error::InvalidSetting(format!(
            "a law of {} alone cannot say how to split compute between N and D; plan with a law of N and D (chinchilla, kaplan, data-constrained)",
            x.symbol()
        ))),
        _ => Ok(()),
    }
}

/// The largest budget (FLOPs) the planner searches: beyond it N, D or C = k N D overflow.
pub const MAX_FLOPS: f64 = 1e300;

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

/// The compute-optimal frontier of the Chinchilla form in closed form (Hoffmann et al. 2022,
/// Eq. 4): with x = C/k, N_opt = G x^a and D_opt = G^-1 x^b, so the loss along it is
/// L*(C) = E + K x^-gamma with K = A G^-alpha + B G^beta and gamma = alpha beta / (alpha + beta).
/// Kept in logs so that no step forms a huge or tiny power.
struct Frontier {
    e: f64,
    ln_kcoef: f64,
    gamma: f64,
    a: f64,
    b: f64,
    ln_g: f64,
}

impl Frontier {
    /// The closed frontier when the law has one: the Chinchilla form, and the data-constrained
    /// form when every token is unique (its optimum is then Chinchilla's, as the excess-parameter
    /// discount only applies beyond N_opt(D)).
    fn of(law: &Law, unique: Option<f64>) -> Option<Frontier> {
        let closed = law.form == LawForm::Chinchilla
            || (law.form == LawForm::DataConstrained && unique.is_none());
        if !closed {
            return None;
        }
        let p = &law.params;
        let (e, a, b, alpha, beta) = (p[0], p[1], p[2], p[3], p[4]);
        let ln_g = (alpha.ln() + a.ln() - beta.ln() - b.ln()) / (alpha + beta);
        let (t1, t2) = (a.ln() - alpha * ln_g, b.ln() + beta * ln_g);
        let m = t1.max(t2);
        Some(Frontier {
            e,
            ln_kcoef: m + ((t1 - m).exp() + (t2 - m).exp()).ln(),
            gamma: alpha * beta / (alpha + beta),
            a: beta / (alpha + beta),
            b: alpha / (alpha + beta),
            ln_g,
        })
    }

    /// ln(C/k) of the budget whose optimum has loss `target` (> E).
    fn ln_x_for_loss(&self, target: f64) -> f64 {
        (self.ln_kcoef - (target - self.e).ln()) / self.gamma
    }

    /// The least ln(C/k) at which N_opt >= 1 and D_opt >= 1 (G x^a >= 1 and x^b / G >= 1).
    fn ln_x_min(&self) -> f64 {
        (-self.ln_g / self.a).max(self.ln_g / self.b)
    }
}

/// The smallest budget (FLOPs) whose compute-optimal allocation has at least one parameter and
/// one token: k for a numerically planned law (N = D = 1), and
/// k max(G^(-1/a), G^(1/b)) on the closed Chinchilla frontier.
pub fn smallest_budget(law: &Law, k: f64, unique: Option<f64>) -> f64 {
    match Frontier::of(law, unique) {
        Some(f) => k * f.ln_x_min().exp(),
        None => k,
    }
}

/// The lowest loss the law approaches at unlimited compute: [`irreducible`] in general, and for
/// the data-constrained law with U unique tokens (Muennighoff et al. 2023) the limit of
/// infinitely repeated data and parameters,
/// E + A (N_opt(U) (1 + R_N*))^-alpha + B (U (1 + R_D*))^-beta.
pub fn loss_floor(law: &Law, unique: Option<f64>) -> f64 {
    match (law.form.clone(), unique) {
        (LawForm::DataConstrained, Some(u)) => {
            let p = &law.params;
            let (e, a, b, alpha, beta, rd, rn) = (p[0], p[1], p[2], p[3], p[4], p[5], p[6]);
            let n_opt = law.params_for_optimal_tokens(u).unwrap_or(f64::INFINITY);
            e + a * (n_opt * (1.0 + rn)).powf(-alpha) + b * (u * (1.0 + rd)).powf(-beta)
        }
        _ => irreducible(law),
    }
}

/// The allocation a published rule gives for budget `flops` (with `law`, when known, for the
/// loss there).
///
/// # Errors
/// A non-positive budget or k, or a budget so small that the rule gives fewer than one
/// parameter or token.
pub fn from_rule(rule: &Rule, law: Option<&Law>, flops: f64, k: f64) -> Result<Allocation> {
    check_budget(flops)?;
    check_k(k)?;
    if let Some(l) = law {
        l.validate()?;
    }
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
    if !(n.is_finite() && d.is_finite() && n >= 1.0 && d >= 1.0) {
        return Err(Error::InvalidSetting(format!(
            "at {flops:e} FLOPs the rule gives N = {} parameters and D = {} tokens: fewer than one parameter or one token",
            sig(n, 4),
            sig(d, 4)
        )));
    }
    Ok(alloc(law, flops, n, d, None))
}

/// The compute-optimal allocation of `flops` under C = k N D: closed form for the Chinchilla
/// form (and the data-constrained form without a unique-token limit), numerical otherwise.
///
/// # Examples
/// ```
/// let law = scaling::law::presets::get("chinchilla").unwrap().law.unwrap();
/// let a = scaling::allocate::optimal(&law, 5.76e23, 6.0, None).unwrap();
/// // C = k N D holds, and Approach 3's optimum at Gopher's budget is about 40B parameters.
/// assert!((6.0 * a.params * a.tokens / 5.76e23 - 1.0).abs() < 1e-9);
/// assert!((a.params / 40.36e9 - 1.0).abs() < 1e-3);
/// ```
///
/// # Errors
/// A non-positive budget, k or unique-token count; an invalid law or one whose loss does not
/// depend on N and D; a budget below [`smallest_budget`], whose optimum has fewer than one
/// parameter or token.
pub fn optimal(law: &Law, flops: f64, k: f64, unique: Option<f64>) -> Result<Allocation> {
    check_budget(flops)?;
    check_k(k)?;
    check_unique(unique)?;
    check_two_variables(law)?;
    if Frontier::of(law, unique).is_some() {
        if let Some(o) = law.optimum(flops, k) {
            if !(o.params >= 1.0 && o.tokens >= 1.0) {
                return Err(Error::InvalidSetting(format!(
                    "at {flops:e} FLOPs this law's compute-optimal model has N = {} parameters and D = {} tokens, fewer than one parameter or one token: it allocates whole parameters and tokens only from {:.4e} FLOPs",
                    sig(o.params, 4),
                    sig(o.tokens, 4),
                    smallest_budget(law, k, unique)
                )));
            }
            return Ok(alloc(Some(law), flops, o.params, o.tokens, unique));
        }
    }
    optimal_numeric(law, flops, k, unique)
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
///
/// # Errors
/// As [`optimal`]; a budget below k (one parameter on one token).
pub fn optimal_numeric(law: &Law, flops: f64, k: f64, unique: Option<f64>) -> Result<Allocation> {
    check_budget(flops)?;
    check_k(k)?;
    check_unique(unique)?;
    check_two_variables(law)?;
    let hi = (flops / k).ln();
    if !(hi > 0.0) {
        return Err(Error::InvalidSetting(format!(
            "a budget of {flops:e} FLOPs cannot train one parameter on one token (C = {k} N D)"
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
    let x = minimise_1d(loss, 0.0, hi, 400).clamp(0.0, hi);
    let n = x.exp();
    let a = alloc(Some(law), flops, n, flops / (k * n), unique);
    if !a.loss.is_some_and(f64::is_finite) {
        return Err(Error::Numerical(format!(
            "the law's loss is not finite anywhere on the budget {flops:e} FLOPs"
        )));
    }
    Ok(a)
}

/// The irreducible loss the law approaches with unlimited compute (E, or 0 for Kaplan's law).
pub fn irreducible(law: &Law) -> f64 {
    match law.form {
        LawForm::Kaplan => 0.0,
        _ => law.params[0],
    }
}

/// The least budget whose compute-optimal loss is at most `target` (which must lie above
/// [`loss_floor`]): exact on the closed Chinchilla frontier, otherwise a bracket grown a decade
/// at a time from C = k (N = D = 1) until it holds the target, then bisection on ln C. Below
/// C = k it returns k: one parameter on one token already reaches the target.
fn least_flops(law: &Law, target: f64, k: f64, unique: Option<f64>) -> Result<f64> {
    let too_far = || {
        Error::InvalidSetting(format!(
            "target loss {target} is so close to the law's lowest loss {} that no budget up to {MAX_FLOPS:e} FLOPs reaches it",
            sig(loss_floor(law, unique), 6)
        ))
    };
    let max = MAX_FLOPS.ln();
    if let Some(f) = Frontier::of(law, unique) {
        let ln_c = k.ln() + f.ln_x_for_loss(target);
        return if ln_c <= max {
            Ok(ln_c.exp())
        } else {
            Err(too_far())
        };
    }
    if law.predict_unique(1.0, 1.0, k, unique) <= target {
        return Ok(k);
    }
    let opt_loss = |ln_c: f64| -> Result<f64> {
        let a = optimal_numeric(law, ln_c.exp(), k, unique)?;
        Ok(a.loss.unwrap_or(f64::NAN))
    };
    let mut lo = k.ln();
    let mut hi = lo;
    loop {
        if hi >= max {
            return Err(too_far());
        }
        hi = (hi + std::f64::consts::LN_10).min(max);
        if opt_loss(hi)? <= target {
            break;
        }
        lo = hi;
    }
    for _ in 0..200 {
        if hi - lo <= 1e-13 * hi.abs().max(1.0) {
            break;
        }
        let mid = 0.5 * (lo + hi);
        if opt_loss(mid)? > target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(hi.exp())
}

/// The least compute that reaches `target` loss, with its optimal N and D.
///
/// The search is bracketed from the law and the target (see [`smallest_budget`] and
/// [`loss_floor`]), so it works at any scale of N, D and C.
///
/// # Examples
/// ```
/// use scaling::allocate::{min_flops_for_loss, optimal};
/// let law = scaling::law::presets::get("chinchilla").unwrap().law.unwrap();
/// let loss = optimal(&law, 1e22, 6.0, None).unwrap().loss.unwrap();
/// // The least compute reaching the optimum's loss at 1e22 FLOPs is 1e22 FLOPs.
/// let a = min_flops_for_loss(&law, loss, 6.0, None).unwrap();
/// assert!((a.flops / 1e22 - 1.0).abs() < 1e-3);
/// ```
///
/// # Errors
/// A target at or below the law's lowest loss ([`loss_floor`]: E, or the data-constrained
/// floor with limited unique tokens); one that needs more than [`MAX_FLOPS`]; one already met by
/// the smallest model the law allocates (any run reaches it).
pub fn min_flops_for_loss(
    law: &Law,
    target: f64,
    k: f64,
    unique: Option<f64>,
) -> Result<Allocation> {
    check_k(k)?;
    check_unique(unique)?;
    check_two_variables(law)?;
    let floor = loss_floor(law, unique);
    if !(target.is_finite() && target > floor) {
        return Err(Error::InvalidSetting(match unique {
            Some(u) if law.form == LawForm::DataConstrained => format!(
                "target loss {target} is not above {}, the lowest loss this law reaches with {} unique tokens at any budget: no budget reaches it",
                sig(floor, 6),
                crate::num::human(u)
            ),
            _ => format!(
                "target loss {target} is not above the law's irreducible loss E = {}: no budget reaches it",
                sig(floor, 6)
            ),
        }));
    }
    let c = least_flops(law, target, k, unique)?;
    let c_min = smallest_budget(law, k, unique);
    if c <= c_min {
        let l_min = match Frontier::of(law, unique) {
            Some(_) => law.optimum(c_min, k).map_or(f64::NAN, |o| o.loss),
            None => law.predict_unique(1.0, 1.0, k, unique),
        };
        return Err(Error::InvalidSetting(format!(
            "target loss {target} is not below {}, the loss of the smallest model this law allocates (at least one parameter and one token, {c_min:.4e} FLOPs): any run reaches it",
            sig(l_min, 6)
        )));
    }
    optimal(law, c, k, unique)
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
/// # Examples
/// ```
/// let law = scaling::law::presets::get("chinchilla").unwrap().law.unwrap();
/// let r = scaling::allocate::constrained(&law, 1e22, 6.0, Some(1e9), None, None).unwrap();
/// assert_eq!(r.plan.params, 1e9);
/// assert!((r.plan.tokens * 6e9 / 1e22 - 1.0).abs() < 1e-12); // D = C / (k N)
/// assert!(r.extra_compute > 0.0); // a 1B model is far from optimal at 1e22 FLOPs
/// ```
///
/// # Errors
/// Neither or both of N and D given, non-positive values, a partner below one, or the errors
/// of [`optimal`].
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
    check_unique(unique)?;
    check_two_variables(law)?;
    let (n, d) = match (params, tokens) {
        (Some(n), None) if n > 0.0 && n.is_finite() => (n, flops / (k * n)),
        (None, Some(d)) if d > 0.0 && d.is_finite() => (flops / (k * d), d),
        (Some(_), Some(_)) => {
            return Err(Error::InvalidSetting(
                "fix the model size or the token count, not both (the budget fixes the other)"
                    .into(),
            ))
        }
        _ => {
            return Err(Error::InvalidSetting(
                "the fixed model size or token count must be a positive number".into(),
            ))
        }
    };
    if !(n >= 1.0 && d >= 1.0 && n.is_finite() && d.is_finite()) {
        return Err(Error::InvalidSetting(format!(
            "a budget of {flops:e} FLOPs gives N = {} parameters and D = {} tokens under C = {k} N D: fewer than one parameter or one token",
            sig(n, 4),
            sig(d, 4)
        )));
    }
    let plan = alloc(Some(law), flops, n, d, unique);
    let optimum = optimal(law, flops, k, unique)?;
    let target = plan.loss.unwrap_or(f64::NAN);
    // The optimum of this budget reaches the plan's loss, so the equivalent compute is at most
    // the budget (up to rounding, which the min removes).
    let eq = least_flops(law, target, k, unique)?.min(flops);
    Ok(Constrained {
        plan,
        optimum,
        equivalent_flops: eq,
        extra_compute: flops / eq - 1.0,
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

/// Minimise k N D + 2 N T subject to L(N, D) = `target` (Chinchilla form, or the
/// data-constrained form with every token unique, which equals it wherever N <= N_opt(D), the
/// region where inference demand moves the plan).
///
/// # Formula
/// Along the iso-loss curve D(N) = (B / (target - E - A N^-alpha))^(1/beta), defined for
/// N > N_min = (A / (target - E))^(1/alpha); the plan minimises k N D(N) + 2 N T over
/// N in (max(N_min, 1), N_chin], N_chin being the Chinchilla-optimal size for the target.
///
/// # Examples
/// ```
/// use scaling::allocate::{optimal, with_inference};
/// let law = scaling::law::presets::get("chinchilla").unwrap().law.unwrap();
/// let loss = optimal(&law, 1e22, 6.0, None).unwrap().loss.unwrap();
/// // Serving 1e13 tokens: a smaller model trained longer reaches the loss for less in total.
/// let p = with_inference(&law, loss, 1e13, 6.0).unwrap();
/// assert!(p.plan.params < p.chinchilla.params);
/// assert!(p.total_flops <= p.chinchilla_total_flops);
/// ```
///
/// # Errors
/// Another form, an invalid law, negative or non-finite T, and the errors of
/// [`min_flops_for_loss`] (a target at or below E, or one every run reaches).
pub fn with_inference(
    law: &Law,
    target: f64,
    inference_tokens: f64,
    k: f64,
) -> Result<InferencePlan> {
    check_k(k)?;
    law.validate()?;
    if !matches!(law.form, LawForm::Chinchilla | LawForm::DataConstrained) {
        return Err(Error::InvalidSetting(format!(
            "planning with inference demand needs a law of the Chinchilla form (L = E + A/N^alpha + B/D^beta), not the {} law",
            law.form.name()
        )));
    }
    if !(inference_tokens.is_finite() && inference_tokens >= 0.0) {
        return Err(Error::InvalidSetting(format!(
            "the number of inference tokens must be a finite number >= 0, got {inference_tokens}"
        )));
    }
    let chin = min_flops_for_loss(law, target, k, None)?;
    let p = &law.params;
    let (e, a, b, alpha, beta) = (p[0], p[1], p[2], p[3], p[4]);
    let ln_n_min = (a.ln() - (target - e).ln()) / alpha;
    let ln_d_of = |x: f64| {
        let r = target - e - a * (-alpha * x).exp();
        if r > 0.0 {
            (b.ln() - r.ln()) / beta
        } else {
            f64::NAN
        }
    };
    let total = |x: f64| {
        let ln_d = ln_d_of(x);
        if !(ln_d >= 0.0) {
            return f64::INFINITY;
        }
        let n = x.exp();
        let t = k * n * ln_d.exp() + 2.0 * n * inference_tokens;
        if t.is_finite() {
            t
        } else {
            f64::INFINITY
        }
    };
    let lo = ln_n_min.max(0.0) + 1e-12 * (1.0 + ln_n_min.abs());
    let hi = chin.params.ln() + 1.0;
    let x = minimise_1d(total, lo, hi, 400);
    let n = x.exp();
    let d = ln_d_of(x).exp();
    let plan = alloc(Some(law), k * n * d, n, d, None);
    let reached = plan.loss.unwrap_or(f64::NAN);
    let on_curve = (reached - target).abs() <= 1e-9 * target.abs().max(1.0);
    if !(n >= 1.0 && d >= 1.0 && plan.flops.is_finite() && on_curve) {
        return Err(Error::Numerical(format!(
            "the plan with inference demand did not land on the iso-loss curve of {target} (N = {n:e}, D = {d:e}, loss {reached})"
        )));
    }
    let inf = 2.0 * n * inference_tokens;
    let chin_inf = 2.0 * chin.params * inference_tokens;
    let tot = plan.flops + inf;
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
/// # Examples
/// ```
/// use scaling::allocate::parse_budgets;
/// assert_eq!(parse_budgets("5.76e23, 1e24").unwrap(), vec![5.76e23, 1e24]);
/// assert_eq!(parse_budgets("1e19:1e21").unwrap().len(), 3); // one per decade
/// assert!(parse_budgets("0").is_err());
/// ```
///
/// # Errors
/// Unparseable or non-positive values, or a range whose end is below its start.
pub fn parse_budgets(spec: &str) -> Result<Vec<f64>> {
    let mut out = Vec::new();
    let num = |s: &str| -> Result<f64> {
        crate::data::parse_positive(s)
            .map_err(|p| Error::setting(format!("{{}} {s:?}: {}", p.describe()), &["flops"]))
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
                            Error::setting(
                                format!(
                                    "{{}} {part:?}: points per decade must be a positive integer"
                                ),
                                &["flops"],
                            )
                        })?
                } else {
                    1
                };
                if b < a {
                    return Err(Error::setting(
                        format!("{{}} {part:?}: the range ends below its start"),
                        &["flops"],
                    ));
                }
                let steps = ((b / a).log10() * per as f64 + 1e-9).floor() as usize;
                if steps > 10_000 {
                    return Err(Error::setting(
                        format!("{{}} {part:?}: too many budgets"),
                        &["flops"],
                    ));
                }
                for i in 0..=steps {
                    out.push(a * 10f64.powf(i as f64 / per as f64));
                }
            }
            _ => {
                return Err(Error::setting(
                    format!("{{}} {part:?}: expected C, A:B or A:B:K"),
                    &["flops"],
                ))
            }
        }
    }
    if out.is_empty() {
        return Err(Error::setting("{} needs at least one budget", &["flops"]));
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
