//! One planning request answered: which question a request asks, the allocation for each
//! budget or target, and the method used, as one serialisable result. The command line
//! (`scaling optimal`) is this plus rendering.

use serde::{Deserialize, Serialize};

use super::{
    constrained, from_rule, min_flops_for_loss, optimal, with_inference, Allocation, Frontier,
    Rule, Source,
};
use crate::error::{Error, Result};
use crate::law::Law;

/// A planning question in plain numbers (N in parameters, D and T in tokens, C in FLOPs, loss
/// in nats).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// Budgets C to allocate (empty when a target loss is given).
    pub budgets: Vec<f64>,
    /// The loss to reach at least compute (instead of budgets).
    pub target_loss: Option<f64>,
    /// A fixed model size N, spent against each budget.
    pub params: Option<f64>,
    /// A fixed token count D, spent against each budget.
    pub tokens: Option<f64>,
    /// Tokens T served at inference: minimise k N D + 2 N T at the loss of each budget's
    /// optimum (or at the target loss).
    pub inference_tokens: Option<f64>,
    /// Unique tokens U available (data-constrained law only).
    pub unique_tokens: Option<f64>,
    /// k in C = k N D.
    pub flops_per_param_token: f64,
}

impl Default for Request {
    fn default() -> Self {
        Request {
            budgets: Vec::new(),
            target_loss: None,
            params: None,
            tokens: None,
            inference_tokens: None,
            unique_tokens: None,
            flops_per_param_token: 6.0,
        }
    }
}

/// The question a [`Request`] asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Question {
    /// The compute-optimal allocation of each budget.
    Optimal,
    /// The least compute that reaches a loss.
    TargetLoss,
    /// A fixed model size under each budget.
    FixedParams,
    /// A fixed token count under each budget.
    FixedTokens,
    /// Least training plus inference compute (Sardana et al. 2024).
    Inference,
}

impl Question {
    /// What the question is, as recorded in output (`conventions.question`).
    pub fn describe(self) -> &'static str {
        match self {
            Question::Optimal => "compute-optimal allocation",
            Question::TargetLoss => "least compute for a target loss",
            Question::FixedParams => "fixed model size",
            Question::FixedTokens => "fixed token count",
            Question::Inference => "allocation with inference demand (Sardana et al. 2024)",
        }
    }
}

/// What inference demand adds to a row.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct InferenceFields {
    /// Inference tokens T.
    pub inference_tokens: f64,
    /// The plan's inference compute 2 N T.
    pub inference_flops: f64,
    /// The plan's training plus inference compute.
    pub total_flops: f64,
    /// The Chinchilla-optimal model of the same loss.
    pub chinchilla_optimal: Allocation,
    /// Its training plus inference compute.
    pub chinchilla_total_flops: f64,
    /// 1 - total_flops / chinchilla_total_flops.
    pub saving: f64,
    /// The requested budget whose optimum set the loss (absent with a target loss).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss_set_by_budget_flops: Option<f64>,
}

/// One answer: the allocation (its `flops` is the compute it trains with) and what the
/// question adds to it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// The allocation: training FLOPs, N, D, loss, D/N (and epochs with unique tokens).
    #[serde(flatten)]
    pub allocation: Allocation,
    /// The budget this row answers, as requested. It differs from `flops` with inference
    /// demand, where the plan trains a smaller model for longer than the budget's optimum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_flops: Option<f64>,
    /// The loss asked for (target-loss questions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_loss: Option<f64>,
    /// The compute-optimal allocation of the same budget (fixed N or D).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optimum: Option<Allocation>,
    /// The least compute reaching the plan's loss (fixed N or D).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equivalent_flops: Option<f64>,
    /// flops / equivalent_flops - 1 (fixed N or D).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_compute: Option<f64>,
    /// Inference demand.
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub inference: Option<InferenceFields>,
}

impl Row {
    fn of(allocation: Allocation) -> Row {
        Row {
            allocation,
            requested_flops: None,
            target_loss: None,
            optimum: None,
            equivalent_flops: None,
            extra_compute: None,
            inference: None,
        }
    }
}

/// A request answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    /// The question asked.
    pub question: Question,
    /// How the numbers were found.
    pub method: String,
    /// k in C = k N D.
    pub flops_per_param_token: f64,
    /// One row per budget (one for a target loss).
    pub rows: Vec<Row>,
}

/// Which question `req` asks.
///
/// # Errors
/// [`Error::InvalidSetting`] when it asks none or several at once.
pub fn question(req: &Request) -> Result<Question> {
    let fixed = req.params.is_some() || req.tokens.is_some();
    let bad = |m: &str, names: &[&str]| Err(Error::setting(m, names));
    if req.budgets.is_empty() && req.target_loss.is_none() {
        return bad(
            "give {} (one or more budgets) or {}",
            &["budgets", "target_loss"],
        );
    }
    if req.target_loss.is_some() && fixed {
        return bad(
            "{} answers its own question: do not combine it with {} or {}",
            &["target_loss", "params", "tokens"],
        );
    }
    if req.target_loss.is_some() && !req.budgets.is_empty() {
        return bad(
            "give {} or {}, not both (with {} either sets the loss)",
            &["budgets", "target_loss", "inference_tokens"],
        );
    }
    if req.params.is_some() && req.tokens.is_some() {
        return bad(
            "fix {} or {}, not both (the budget fixes the other)",
            &["params", "tokens"],
        );
    }
    if fixed && req.budgets.is_empty() {
        return bad(
            "{} or {} needs {}: the budget fixes the partner",
            &["params", "tokens", "budgets"],
        );
    }
    if fixed && req.inference_tokens.is_some() {
        return bad(
            "{} chooses N and D itself: do not combine it with {} or {}",
            &["inference_tokens", "params", "tokens"],
        );
    }
    if req.inference_tokens.is_some() && req.unique_tokens.is_some() {
        return bad(
            "{} plans with every token unique: do not combine it with {}",
            &["inference_tokens", "unique_tokens"],
        );
    }
    Ok(if req.inference_tokens.is_some() {
        Question::Inference
    } else if req.target_loss.is_some() {
        Question::TargetLoss
    } else if req.params.is_some() {
        Question::FixedParams
    } else if req.tokens.is_some() {
        Question::FixedTokens
    } else {
        Question::Optimal
    })
}

/// Answer `req` with a loss law and/or a published allocation rule. A rule answers only the
/// compute-optimal question (with `law`, when given, for the loss there); every other question
/// needs the loss law.
///
/// Every row satisfies its question: C = k N D for its allocation; with a target loss (or the
/// loss of a budget's optimum under inference demand), the plan's predicted loss is that loss;
/// with a fixed N or D, the row keeps it and spends the budget.
///
/// # Errors
/// [`Error::InvalidSetting`] for a request that asks no question or several, for a question
/// the law cannot answer (say a target loss at or below its irreducible loss, or a budget whose
/// optimum has less than one parameter), and the errors of the functions it calls.
pub fn answer(law: Option<&Law>, rule: Option<&Rule>, req: &Request) -> Result<Answer> {
    let q = question(req)?;
    let k = req.flops_per_param_token;
    let unique = req.unique_tokens;
    if rule.is_some() && q != Question::Optimal {
        return Err(Error::InvalidSetting(
            "a published allocation rule gives the compute-optimal allocation only; this question needs a loss law whose optimum is that rule, which the source does not publish".into(),
        ));
    }
    let need_law = || {
        law.ok_or_else(|| {
            Error::InvalidSetting(
                "this question needs a loss law, and the source publishes only an allocation rule"
                    .into(),
            )
        })
    };
    let mut rows = Vec::new();
    match q {
        Question::Optimal => {
            for &c in &req.budgets {
                let a = match rule {
                    Some(r) => from_rule(r, law, c, k)?,
                    None => optimal(need_law()?, c, k, unique)?,
                };
                let mut row = Row::of(a);
                row.requested_flops = Some(c);
                rows.push(row);
            }
        }
        Question::TargetLoss => {
            let t = req.target_loss.unwrap_or(f64::NAN);
            let mut row = Row::of(min_flops_for_loss(need_law()?, t, k, unique)?);
            row.target_loss = Some(t);
            rows.push(row);
        }
        Question::FixedParams | Question::FixedTokens => {
            let l = need_law()?;
            for &c in &req.budgets {
                let r = constrained(l, c, k, req.params, req.tokens, unique)?;
                let mut row = Row::of(r.plan);
                row.requested_flops = Some(c);
                row.optimum = Some(r.optimum);
                row.equivalent_flops = Some(r.equivalent_flops);
                row.extra_compute = Some(r.extra_compute);
                rows.push(row);
            }
        }
        Question::Inference => {
            let l = need_law()?;
            let t = req.inference_tokens.unwrap_or(f64::NAN);
            let targets: Vec<(Option<f64>, f64)> = match req.target_loss {
                Some(loss) => vec![(None, loss)],
                None => req
                    .budgets
                    .iter()
                    .map(|&c| Ok((Some(c), optimal(l, c, k, None)?.loss.unwrap_or(f64::NAN))))
                    .collect::<Result<_>>()?,
            };
            for (budget, target) in targets {
                let p = with_inference(l, target, t, k)?;
                let mut row = Row::of(p.plan);
                row.requested_flops = budget;
                row.target_loss = req.target_loss;
                row.inference = Some(InferenceFields {
                    inference_tokens: t,
                    inference_flops: p.inference_flops,
                    total_flops: p.total_flops,
                    chinchilla_optimal: p.chinchilla,
                    chinchilla_total_flops: p.chinchilla_total_flops,
                    saving: p.saving,
                    loss_set_by_budget_flops: budget,
                });
                rows.push(row);
            }
        }
    }
    let closed = rule.is_none() && law.is_some_and(|l| Frontier::of(l, unique).is_some());
    let base = match rule {
        Some(_) => "the published allocation rule",
        None if closed => "closed form (Hoffmann et al. 2022, Eq. 4)",
        None => "numerical minimisation over ln N",
    };
    let inverse = if closed {
        "the exact inverse of the closed frontier L*(C) = E + K (C/k)^-gamma"
    } else {
        "bisection on ln C of the optimal loss, bracketed a decade at a time from C = k"
    };
    let method = match q {
        Question::Optimal => base.to_string(),
        Question::TargetLoss => {
            format!("least C whose optimal loss is the target, by {inverse}; optimum by {base}")
        }
        Question::FixedParams | Question::FixedTokens => format!(
            "the partner is C / (k x fixed); optimum by {base}; equivalent compute by {inverse}"
        ),
        Question::Inference => "least k N D + 2 N T along the iso-loss curve (numerical); the Chinchilla-optimal model of that loss by the inverse of its frontier".to_string(),
    };
    Ok(Answer {
        question: q,
        method,
        flops_per_param_token: k,
        rows,
    })
}

/// A planning request against a [`Source`]: the question in plain numbers, plus the FLOP model
/// and interval level that default to the source's. Every field may be left out when sent as
/// JSON (from Python, say).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PlanRequest {
    /// Budgets C to allocate (empty when a target loss is given).
    pub budgets: Vec<f64>,
    /// The loss to reach at least compute (instead of budgets).
    pub target_loss: Option<f64>,
    /// A fixed model size N, spent against each budget.
    pub params: Option<f64>,
    /// A fixed token count D, spent against each budget.
    pub tokens: Option<f64>,
    /// Tokens T served at inference (Sardana et al. 2024).
    pub inference_tokens: Option<f64>,
    /// Unique tokens U available (data-constrained law only).
    pub unique_tokens: Option<f64>,
    /// k in C = k N D (default: the fit's, or 6).
    pub flops_per_param_token: Option<f64>,
    /// Interval level for fits with bootstrap replicates (default: the fit's, or 0.95).
    pub level: Option<f64>,
}

/// Percentile intervals of a compute-optimal allocation over a fit's usable bootstrap
/// replicates ([`crate::uncertainty::derived_intervals`]); a quantity without enough finite
/// replicates is absent.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AllocationIntervals {
    /// N_opt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<[f64; 2]>,
    /// D_opt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<[f64; 2]>,
    /// L_opt (mean loss at the optimum).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss: Option<[f64; 2]>,
    /// D_opt / N_opt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens_per_param: Option<[f64; 2]>,
}

/// The conventions of a plan, recorded in every row of its JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanConventions {
    /// The source's label.
    pub law: String,
    /// `C = k N D`.
    pub flops_model: String,
    /// k.
    pub flops_per_param_token: f64,
    /// How the numbers were found.
    pub method: String,
    /// The question asked ([`Question::describe`]).
    pub question: String,
}

/// One row of a plan: the answer, with intervals when the source is a bootstrapped fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanRow {
    /// The answer for one budget (or the target loss).
    #[serde(flatten)]
    pub row: Row,
    /// Intervals on the compute-optimal allocation (compute-optimal questions of a fit with
    /// bootstrap replicates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intervals: Option<AllocationIntervals>,
    /// The intervals' level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<f64>,
    /// The conventions.
    pub conventions: PlanConventions,
}

/// A plan: `scaling optimal`'s result. Its JSON is one row when there is one, else the list of
/// rows (the command's JSON).
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The rows.
    pub rows: Vec<PlanRow>,
    /// The question asked.
    pub question: Question,
    /// The source's label.
    pub label: String,
    /// A preset's notes.
    pub notes: Option<String>,
    /// k in C = k N D.
    pub flops_per_param_token: f64,
    /// How the numbers were found.
    pub method: String,
    /// The request's inference tokens.
    pub inference_tokens: Option<f64>,
    /// The request's target loss.
    pub target_loss: Option<f64>,
}

impl Serialize for Plan {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        if self.rows.len() == 1 {
            self.rows[0].serialize(s)
        } else {
            self.rows.serialize(s)
        }
    }
}

/// Answer a planning request against a law source: [`answer`], plus, for the compute-optimal
/// question of a saved fit with bootstrap replicates, percentile intervals on N_opt, D_opt,
/// L_opt and D/N at each budget from the same mechanism as the fit's own intervals
/// ([`crate::uncertainty::derived_intervals`], failed refits left out).
///
/// # Examples
/// ```
/// use scaling::allocate::{plan, Source};
///
/// let src = Source::preset("chinchilla").unwrap();
/// let req = plan::PlanRequest { budgets: vec![5.76e23], ..Default::default() };
/// let p = plan::plan(&src, &req).unwrap();
/// // Approach 3's optimum at Gopher's budget: about 40B parameters (Besiroglu et al. 2024).
/// let n = p.rows[0].row.allocation.params;
/// assert!((n / 40.36e9 - 1.0).abs() < 1e-3);
/// ```
///
/// # Errors
/// [`Error::InvalidSetting`] for a level outside (0, 1), a question the source cannot answer
/// (a published rule asked anything but the compute-optimal allocation, unique tokens without
/// the data-constrained law), and the errors of [`answer`].
pub fn plan(source: &Source, req: &PlanRequest) -> Result<Plan> {
    if let Some(level) = req.level {
        if !(level > 0.0 && level < 1.0) {
            return Err(Error::setting(
                format!("{{}} must be between 0 and 1, got {level}"),
                &["level"],
            ));
        }
    }
    if req.unique_tokens.is_some()
        && source.law.as_ref().map(|l| l.form.clone()) != Some(crate::law::LawForm::DataConstrained)
    {
        return Err(Error::setting(
            "{} needs the data-constrained law (preset muennighoff)",
            &["unique_tokens"],
        ));
    }
    let k = req.flops_per_param_token.unwrap_or(source.k);
    let level = req
        .level
        .or(source
            .fit
            .as_ref()
            .and_then(|f| f.bootstrap.as_ref())
            .map(|b| b.level))
        .unwrap_or(0.95);
    let inner = Request {
        budgets: req.budgets.clone(),
        target_loss: req.target_loss,
        params: req.params,
        tokens: req.tokens,
        inference_tokens: req.inference_tokens,
        unique_tokens: req.unique_tokens,
        flops_per_param_token: k,
    };
    let ans = answer(source.law.as_ref(), source.rule.as_ref(), &inner)?;
    let conventions = PlanConventions {
        law: source.label.clone(),
        flops_model: format!("C = {k} N D"),
        flops_per_param_token: k,
        method: ans.method.clone(),
        question: ans.question.describe().to_string(),
    };
    let boot = match (&source.fit, &source.law, &source.rule) {
        (Some(fit), Some(law), None) if ans.question == Question::Optimal => {
            fit.bootstrap.as_ref().map(|b| (b, law.form.clone()))
        }
        _ => None,
    };
    let rows =
        ans.rows
            .iter()
            .map(|row| {
                let intervals = boot.as_ref().map(|(b, form)| {
                    let c = row.allocation.flops;
                    let iv = crate::uncertainty::derived_intervals(b, form.clone(), level, |l| {
                        match optimal(l, c, k, req.unique_tokens) {
                            Ok(a) => vec![
                                Some(a.params),
                                Some(a.tokens),
                                a.loss,
                                Some(a.tokens_per_param),
                            ],
                            Err(_) => vec![None; 4],
                        }
                    });
                    let get = |i: usize| iv.get(i).copied().flatten().map(|(ci, _)| ci);
                    AllocationIntervals {
                        params: get(0),
                        tokens: get(1),
                        loss: get(2),
                        tokens_per_param: get(3),
                    }
                });
                PlanRow {
                    row: *row,
                    level: intervals.map(|_| level),
                    intervals,
                    conventions: conventions.clone(),
                }
            })
            .collect();
    Ok(Plan {
        rows,
        question: ans.question,
        label: source.label.clone(),
        notes: source.notes.clone(),
        flops_per_param_token: k,
        method: ans.method,
        inference_tokens: req.inference_tokens,
        target_loss: req.target_loss,
    })
}
