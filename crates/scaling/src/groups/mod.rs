//! Groups of runs (datasets, architectures, optimisers): separate and joint fits, a test of
//! shared parameters, paired-bootstrap differences and the compute-equivalent gain.
//!
//! - Separate fits: the base law fitted to each group's runs.
//! - Joint fit: one [`Joint`] law over every group with the `shared` parameters common to all
//!   groups and the rest per group (Gadre et al. 2024, arXiv:2403.08540, compare C4,
//!   RedPajama and RefinedWeb this way; per-optimiser scaling studies share exponents
//!   because separate fits of few runs are ill-conditioned).
//! - Test of shared parameters: the F test of the nested least-squares models (Seber & Wild
//!   2003, *Nonlinear Regression*, Sec. 5.3),
//!   `F = ((SSE_joint - SSE_sep) / q) / (SSE_sep / (n - p_sep))` with q = p_sep - p_joint,
//!   against F(q, n - p_sep), and the likelihood-ratio statistic
//!   `LR = n ln(SSE_joint / SSE_sep)` against chi2(q) (Wilks 1938). Both refit with squared
//!   log residuals whatever the objective of the fits reported, because the F and chi2
//!   reference distributions hold for least squares.
//! - Paired bootstrap (Efron & Tibshirani 1993): replicate r draws the pairing keys (the
//!   budgets, by default) with replacement, and every group's runs at a drawn key get its
//!   count as weight, so all groups are refitted on the same budgets; every difference and
//!   the probability that one group is better come from the same draws.
//! - Compute-equivalent gain of A over B at budget C: the multiplier m = C / C_A where
//!   `L_A^opt(C_A) = L_B^opt(C)`, the loss at the compute-optimal allocation (Hoffmann et al.
//!   2022, Eq. 4); m > 1 means A reaches B's loss at C with m times less compute (the
//!   "effective compute multiplier" labs report for a data or architecture change).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::accounting::{load_runs, selected_rows, LoadRequest};
use crate::data::{group_rows, Cells, RunTable, Runs};
use crate::error::{Error, Result};
use crate::fit::{self, joint_config, Columns, Fit, FitConfig, Penalty};
use crate::law::joint::GROUP_INDEX;
use crate::law::{Joint, JointSpec, Law, LawForm, Variable};
use crate::num::special::{chi2_sf, f_sf};
use crate::num::summarise;
use crate::uncertainty::{self, law_columns, weights_from, BootstrapConfig};

/// Stack several tables into one, adding a column `column` holding each table's label (the
/// file stem, say), so that `--by column` groups them. Columns are the union of the tables'
/// headers in order of first appearance; a table without a column gets empty cells.
///
/// # Examples
/// ```
/// use scaling::data::RunTable;
/// let a = RunTable::from_csv_str("a.csv", "N,loss\n1e8,3.1\n").unwrap();
/// let b = RunTable::from_csv_str("b.csv", "N,D,loss\n2e8,4e9,2.9\n").unwrap();
/// let t = scaling::groups::stack_tables(&[("a".into(), a), ("b".into(), b)], "dataset").unwrap();
/// assert_eq!(t.columns, vec!["N", "loss", "D", "dataset"]);
/// assert_eq!(t.cell(1, 3), "b");
/// ```
///
/// # Errors
/// [`Error::InvalidSetting`] when a table already has a column named `column`, or no table
/// is given.
pub fn stack_tables(tables: &[(String, RunTable)], column: &str) -> Result<RunTable> {
    if tables.is_empty() {
        return Err(Error::InvalidSetting("no tables to stack".into()));
    }
    let mut columns: Vec<String> = Vec::new();
    for (_, t) in tables {
        if t.columns.iter().any(|c| c == column) {
            return Err(Error::InvalidSetting(format!(
                "{}: already has a column {column:?}; name the label column differently",
                t.path
            )));
        }
        for c in &t.columns {
            if !columns.contains(c) {
                columns.push(c.clone());
            }
        }
    }
    let mut rows = Cells::new(columns.len() + 1);
    let mut lines = Vec::new();
    for (label, t) in tables {
        let idx: Vec<Option<usize>> = columns.iter().map(|c| t.column_index(c)).collect();
        for (r, row) in t.rows.iter().enumerate() {
            let mut out: Vec<String> = idx
                .iter()
                .map(|i| i.map(|i| row[i].to_string()).unwrap_or_default())
                .collect();
            out.push(label.clone());
            rows.push_row(&out).map_err(|message| Error::Format {
                path: t.path.clone(),
                message,
            })?;
            lines.push(t.lines.get(r).copied().flatten());
        }
    }
    columns.push(column.to_string());
    Ok(RunTable {
        path: tables
            .iter()
            .map(|(_, t)| t.path.clone())
            .collect::<Vec<_>>()
            .join(" + "),
        columns,
        rows,
        lines,
    })
}

/// The label of a file as a group: its stem (`runs/marin_comma.csv` -> `marin_comma`).
pub fn file_label(path: &str) -> String {
    std::path::Path::new(path)
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| path.to_string())
}

/// Labels for several files as groups: their stems without the prefix and suffix they all
/// share at a `_`, `-` or `.` boundary (`marin_isoflop_comma.csv`, `marin_isoflop_dclm.csv`
/// -> `comma`, `dclm`); the whole stems when that would leave a label empty or two alike.
///
/// # Examples
/// ```
/// let paths = ["runs/marin_isoflop_comma.csv".to_string(), "runs/marin_isoflop_dclm.csv".to_string()];
/// assert_eq!(scaling::groups::file_labels(&paths), vec!["comma", "dclm"]);
/// ```
pub fn file_labels(paths: &[String]) -> Vec<String> {
    let stems: Vec<String> = paths.iter().map(|p| file_label(p)).collect();
    if stems.len() < 2 {
        return stems;
    }
    let first = stems[0].as_bytes();
    let mut pre = first.len();
    let mut suf = first.len();
    for s in &stems[1..] {
        let b = s.as_bytes();
        pre = pre.min(first.iter().zip(b).take_while(|(x, y)| x == y).count());
        suf = suf.min(
            first
                .iter()
                .rev()
                .zip(b.iter().rev())
                .take_while(|(x, y)| x == y)
                .count(),
        );
    }
    let sep = |c: u8| c == b'_' || c == b'-' || c == b'.';
    // Cut only at a separator: the shared prefix up to and including its last separator.
    let pre = first[..pre]
        .iter()
        .rposition(|&c| sep(c))
        .map_or(0, |i| i + 1);
    let suf = first[first.len() - suf..]
        .iter()
        .position(|&c| sep(c))
        .map_or(0, |i| suf - i);
    let out: Vec<String> = stems
        .iter()
        .map(|s| {
            let end = s.len().saturating_sub(suf).max(pre);
            s[pre.min(s.len())..end].to_string()
        })
        .collect();
    let mut uniq = out.clone();
    uniq.sort();
    uniq.dedup();
    if out.iter().any(|s| s.is_empty()) || uniq.len() != out.len() {
        stems
    } else {
        out
    }
}

/// A paired bootstrap of the groups.
#[derive(Debug, Clone)]
pub struct PairedBootstrap {
    /// Replicates.
    pub replicates: usize,
    /// Seed (replicate r draws from ChaCha stream r).
    pub seed: u64,
    /// Interval level in (0, 1).
    pub level: f64,
    /// The column whose values pair runs across groups; `None`: the budget C rounded to two
    /// significant digits.
    pub pair_column: Option<String>,
}

/// What to fit and compare.
#[derive(Debug, Clone)]
pub struct GroupsRequest {
    /// The column that defines the groups.
    pub by: String,
    /// The base law, objective and optimiser; fixed and bounded parameters by base name apply
    /// to every group's copy (a joint name such as `E[rpj]` names one copy).
    pub config: FitConfig,
    /// Base parameters shared by every group in the joint fit (empty: no joint fit).
    pub shared: Vec<String>,
    /// Ties `[kept, removed]` inside the law (`alpha=beta`), applied to every fit (the
    /// `config` is the untied base law; its `weight_column` weights the runs).
    pub ties: Vec<[String; 2]>,
    /// Budgets (FLOPs) for losses, N_opt, differences and compute-equivalent gains.
    pub budgets: Vec<f64>,
    /// The paired bootstrap, if wanted.
    pub bootstrap: Option<PairedBootstrap>,
}

/// One group's separate fit (or why it failed).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GroupFit {
    /// The group's label.
    pub group: String,
    /// Runs in the group.
    pub runs: usize,
    /// The fit, when it succeeded.
    pub fit: Option<Fit>,
    /// The error, when it failed.
    pub error: Option<String>,
    /// Loss at the compute-optimal allocation per budget (`L_opt@1e21` -> value).
    pub at_budget: BTreeMap<String, f64>,
}

/// The test of shared parameters.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SharedTest {
    /// The null hypothesis in words.
    pub hypothesis: String,
    /// Runs n.
    pub runs: usize,
    /// Free parameters of the separate fits together.
    pub params_separate: usize,
    /// Free parameters of the joint fit.
    pub params_joint: usize,
    /// Sum of squared residuals of the separate fits (least squares).
    pub sse_separate: f64,
    /// Sum of squared residuals of the joint fit (least squares).
    pub sse_joint: f64,
    /// F statistic.
    pub f: f64,
    /// Its degrees of freedom (q, n - p_sep).
    pub f_df: [usize; 2],
    /// P(F > f) under the null.
    pub f_p_value: f64,
    /// Likelihood-ratio statistic n ln(SSE_joint / SSE_sep).
    pub lr: f64,
    /// P(chi2(q) > LR) under the null.
    pub lr_p_value: f64,
    /// How the test was computed.
    pub method: String,
}

/// An estimate with its paired-bootstrap interval.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Estimate {
    /// The point estimate (from the full-data fits).
    pub value: Option<f64>,
    /// The percentile interval, when bootstrapped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<[f64; 2]>,
}

/// Group A against group B.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Comparison {
    /// Group A.
    pub a: String,
    /// Group B.
    pub b: String,
    /// Differences A - B of every base parameter.
    pub params: BTreeMap<String, Estimate>,
    /// At each budget: `L_opt` (A - B), `N_opt_ratio` (A / B), `P_a_better`,
    /// `gain_a_over_b` and `gain_b_over_a` (compute multipliers).
    pub at_budget: BTreeMap<String, BTreeMap<String, Estimate>>,
}

/// One group's compute-optimal frontier: at each budget C, the loss L_opt(C) and the size
/// N_opt(C) (Hoffmann et al. 2022, Eq. 4) of its separate fit, with intervals when
/// bootstrapped.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Frontier {
    /// The group.
    pub group: String,
    /// Budgets (FLOPs).
    pub flops: Vec<f64>,
    /// L_opt per budget.
    pub loss: Vec<Option<f64>>,
    /// Its interval per budget.
    pub loss_interval: Vec<Option<[f64; 2]>>,
    /// N_opt per budget (laws with a compute-optimal allocation).
    pub params: Vec<Option<f64>>,
    /// Its interval per budget.
    pub params_interval: Vec<Option<[f64; 2]>>,
}

/// Every convention that changes a number of the comparison.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GroupsConventions {
    /// The group column.
    pub by: String,
    /// Shared parameters of the joint fit.
    pub shared: Vec<String>,
    /// Ties `[kept, removed]`.
    pub ties: Vec<[String; 2]>,
    /// Budgets (FLOPs).
    pub budgets: Vec<f64>,
    /// k in C = k N D.
    pub flops_per_param_token: f64,
    /// How the bootstrap pairs runs across groups (null without a bootstrap).
    pub pairing: Option<String>,
    /// Replicates, seed and level (null without a bootstrap).
    pub bootstrap: Option<BootstrapSettings>,
    /// The loss at a budget and the compute-equivalent gain, in words.
    pub gain: String,
}

/// The bootstrap's settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BootstrapSettings {
    /// Replicates.
    pub replicates: usize,
    /// Seed.
    pub seed: u64,
    /// Level.
    pub level: f64,
    /// Pairing keys drawn per replicate.
    pub keys: usize,
    /// Replicates whose refit converged and enter the intervals.
    pub usable: usize,
}

/// The groups' fits and their comparison.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GroupsResult {
    /// The groups, in order of first appearance.
    pub groups: Vec<String>,
    /// Separate fits, one per group.
    pub separate: Vec<GroupFit>,
    /// The joint fit with the shared parameters (null without `shared`).
    pub joint: Option<Fit>,
    /// The joint fit's error, when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub joint_error: Option<String>,
    /// The test of the shared parameters (null without `shared` or with one group).
    pub test: Option<SharedTest>,
    /// Pairwise comparisons (A before B in group order).
    pub comparisons: Vec<Comparison>,
    /// Each group's compute-optimal frontier on a grid of budgets, with paired-bootstrap
    /// intervals (for plots).
    pub frontiers: Vec<Frontier>,
    /// Conventions.
    pub conventions: GroupsConventions,
    /// Things the reader should know.
    pub warnings: Vec<String>,
}

/// The runs of `runs` at positions `idx`.
fn subset(runs: &Runs, idx: &[usize]) -> Runs {
    let pick = |v: &Vec<f64>| -> Vec<f64> {
        if v.len() == runs.len() {
            idx.iter().map(|&i| v[i]).collect()
        } else {
            vec![]
        }
    };
    Runs {
        source: runs.source.clone(),
        total_rows: runs.total_rows,
        params: pick(&runs.params),
        tokens: pick(&runs.tokens),
        flops: pick(&runs.flops),
        loss: pick(&runs.loss),
        rows: idx.iter().map(|&i| runs.rows[i]).collect(),
        sources: runs.sources.clone(),
        excluded: runs.excluded.clone(),
        flops_per_param_token: runs.flops_per_param_token,
        filters: runs.filters.clone(),
    }
}

fn subset_columns(cols: &Columns, idx: &[usize]) -> Columns {
    cols.iter()
        .map(|(k, v)| (k.clone(), idx.iter().map(|&i| v[i]).collect()))
        .collect()
}

/// The loss at the compute-optimal allocation for budget `c` (Hoffmann et al. 2022, Eq. 4),
/// or the law's loss at C for a law of C alone; `None` for other laws.
pub fn loss_at_budget(law: &Law, c: f64, k: f64) -> Option<f64> {
    if let Some(o) = law.optimum(c, k) {
        return Some(o.loss);
    }
    if law.form.variables() == vec![Variable::Flops] {
        let l = law.predict(f64::NAN, f64::NAN, c);
        return l.is_finite().then_some(l);
    }
    None
}

/// The smallest compute multiplier reported: B's loss is beyond A's reach with a million
/// times the budget (the largest reported is its inverse).
pub const GAIN_FLOOR: f64 = 1e-6;

/// The compute multiplier m = C / C_A with `L_A(C_A) = L_B(C)` (see the module
/// documentation), by bisection on ln C_A over [C / 1e6, C * 1e6], clamped to
/// [[`GAIN_FLOOR`], 1 / [`GAIN_FLOOR`]]; `None` when either law has no loss at a budget.
pub fn compute_gain(a: &Law, b: &Law, c: f64, k: f64) -> Option<f64> {
    let target = loss_at_budget(b, c, k)?;
    let f = |lnc: f64| loss_at_budget(a, lnc.exp(), k).map(|l| l - target);
    let (mut lo, mut hi) = (
        c.ln() - 6.0 * std::f64::consts::LN_10,
        c.ln() + 6.0 * std::f64::consts::LN_10,
    );
    let (flo, fhi) = (f(lo)?, f(hi)?);
    // The loss falls with compute: f(lo) > 0 > f(hi) brackets the root. Out of that range
    // the multiplier is reported at the range's end (1e-6: B's loss is out of A's reach
    // within a million times the budget; 1e6: A beats it with a millionth).
    if fhi >= 0.0 {
        return Some(GAIN_FLOOR);
    }
    if flo <= 0.0 {
        return Some(1.0 / GAIN_FLOOR);
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        match f(mid) {
            Some(v) if v > 0.0 => lo = mid,
            Some(_) => hi = mid,
            None => return None,
        }
        if hi - lo < 1e-12 {
            break;
        }
    }
    Some(c / (0.5 * (lo + hi)).exp())
}

fn budget_key(c: f64) -> String {
    crate::uncertainty::at_budget("", c)
        .trim_start_matches('@')
        .to_string()
}

/// A start for the joint law from the groups' separate fits: each joint parameter takes the
/// mean of its groups' values.
fn start_from(joint: &Joint, fits: &[Option<Law>]) -> Option<Vec<f64>> {
    let names = crate::law::Form::param_names(joint);
    let nb = joint.base().param_names().len();
    let mut sum = vec![0.0; names.len()];
    let mut cnt = vec![0usize; names.len()];
    for (g, f) in fits.iter().enumerate() {
        let law = f.as_ref()?;
        for j in 0..nb {
            let k = joint.index(g, j);
            sum[k] += law.params[j];
            cnt[k] += 1;
        }
    }
    Some(sum.iter().zip(&cnt).map(|(s, c)| s / *c as f64).collect())
}

/// Sum of weighted squared residuals of a fit.
fn sse(fit: &Fit, w: Option<&[f64]>) -> f64 {
    fit.residuals
        .iter()
        .enumerate()
        .map(|(i, r)| w.map_or(1.0, |w| w[i]) * r * r)
        .sum()
}

fn free_count(fit: &Fit) -> usize {
    fit.params.len() - fit.conventions.fixed.len()
}

/// Fit each group separately and, with `shared`, jointly; test the shared parameters; and
/// with a bootstrap, put paired intervals on the groups' differences and compute-equivalent
/// gains. `progress` is called once per bootstrap replicate (twice per replicate with a
/// joint fit).
///
/// # Examples
/// ```
/// use scaling::accounting::LoadRequest;
/// use scaling::data::RunTable;
/// use scaling::groups::{fit_groups, GroupsRequest};
/// let mut csv = String::from("set,N,D,loss\n");
/// for (set, e) in [("a", 1.7), ("b", 1.8)] {
///     for i in 0..5 {
///         for j in 0..4 {
///             let (n, d) = (3e7 * 3f64.powi(i), 1e9 * 3f64.powi(j));
///             let l = e + 400.0 / n.powf(0.34) + 410.0 / d.powf(0.28);
///             csv.push_str(&format!("{set},{n},{d},{l}\n"));
///         }
///     }
/// }
/// let table = RunTable::from_csv_str("runs.csv", &csv).unwrap();
/// let req = GroupsRequest {
///     by: "set".into(),
///     config: Default::default(),
///     shared: vec!["alpha".into(), "beta".into()],
///     ties: vec![],
///     budgets: vec![1e21],
///     bootstrap: None,
/// };
/// let r = fit_groups(&table, &LoadRequest::default(), &req, &|| {}).unwrap();
/// assert_eq!(r.groups, vec!["a", "b"]);
/// assert!((r.joint.unwrap().params["alpha"].unwrap() - 0.34).abs() < 1e-3);
/// assert!(r.test.is_some()); // the F and LR tests of sharing alpha and beta
/// ```
///
/// # Errors
/// A missing group column or weight column, bad settings (unknown shared or tied
/// parameters), a joint law over fewer than two groups, and every error of loading runs.
/// A group whose separate fit fails is reported in its place.
pub fn fit_groups(
    table: &RunTable,
    load: &LoadRequest,
    req: &GroupsRequest,
    progress: &(dyn Fn() + Sync),
) -> Result<GroupsResult> {
    let base = &req.config;
    let rows = selected_rows(table, load)?;
    let groups = group_rows(table, std::slice::from_ref(&req.by), &rows)?;
    let labels: Vec<String> = groups
        .iter()
        .map(|g| g.key.first().map(|k| k.1.clone()).unwrap_or_default())
        .collect();
    if labels.len() < 2 && !req.shared.is_empty() {
        return Err(Error::InsufficientData(format!(
            "{}: column {:?} holds one group ({}), so nothing can be shared across groups",
            table.path,
            req.by,
            labels.join(", ")
        )));
    }
    let k = load.flops_per_param_token;
    let budgets = if req.budgets.is_empty() {
        vec![1e21, 1e23]
    } else {
        req.budgets.clone()
    };
    // One load of every run, split by group, so filters act once on the pooled table.
    let runs = load_runs(table, fit::needs(&base.form), load, Some(rows.clone()))?;
    let by_col = table.named_column("by", &req.by)?;
    let group_of: Vec<usize> = runs
        .rows
        .iter()
        .map(|&r| {
            let v = table.cell(r - 1, by_col).trim();
            labels.iter().position(|l| l == v).unwrap_or(0)
        })
        .collect();
    let mut columns = law_columns(table, &runs, &base.form)?;
    let weights = match &base.weight_column {
        Some(c) => Some(weights_from(table, &runs, c)?),
        None => None,
    };
    let spec = |shared: Vec<String>, groups: Vec<String>| JointSpec {
        base_law: base.form.name().to_string(),
        base_x: base.form.x(),
        base_formula: match &base.form {
            LawForm::Formula(f) => Some(f.text().to_string()),
            _ => None,
        },
        group_column: req.by.clone(),
        groups,
        shared,
        ties: req.ties.clone(),
    };
    // Separate fits (ties applied through a one-group joint law).
    let mut separate = Vec::new();
    let mut laws: Vec<Option<Law>> = Vec::new();
    for (g, label) in labels.iter().enumerate() {
        let idx: Vec<usize> = (0..runs.len()).filter(|&i| group_of[i] == g).collect();
        let gr = subset(&runs, &idx);
        let gc = subset_columns(&columns, &idx);
        let one = || -> Result<Fit> {
            let mut config = base.clone();
            if !req.ties.is_empty() {
                config = joint_config(base, spec(vec![], vec![label.clone()]), vec![])?;
            }
            config.weights = weights
                .as_ref()
                .map(|w| idx.iter().map(|&i| w[i]).collect());
            fit::fit_with_columns(&gr, &gc, &config)
        };
        let (fit, error) = match one() {
            Ok(f) => (Some(f), None),
            Err(e) => (None, Some(e.to_string())),
        };
        // The base law of the group (a one-group joint law's parameters are the base ones
        // with ties expanded).
        let law = fit.as_ref().and_then(|f| base_law(f, &base.form));
        let mut at = BTreeMap::new();
        if let Some(l) = &law {
            for &c in &budgets {
                if let Some(v) = loss_at_budget(l, c, k) {
                    at.insert(format!("L_opt@{}", budget_key(c)), v);
                }
            }
        }
        laws.push(law);
        separate.push(GroupFit {
            group: label.clone(),
            runs: idx.len(),
            fit,
            error,
            at_budget: at,
        });
    }
    columns.insert(
        GROUP_INDEX.into(),
        group_of.iter().map(|&g| g as f64).collect(),
    );
    let mut warnings = Vec::new();
    let fit_joint = |shared: Vec<String>, config: &FitConfig| -> Result<(Fit, FitConfig)> {
        let j = Joint::new(config.form.clone(), spec(shared.clone(), labels.clone()))?;
        let starts: Vec<Vec<f64>> = start_from(&j, &laws).into_iter().collect();
        let mut cfg = joint_config(config, spec(shared, labels.clone()), starts)?;
        cfg.weights = weights.clone();
        let f = fit::fit_with_columns(&runs, &columns, &cfg)?;
        Ok((f, cfg))
    };
    let (joint, joint_error) = if req.shared.is_empty() {
        (None, None)
    } else {
        match fit_joint(req.shared.clone(), base) {
            Ok((f, _)) => (Some(f), None),
            Err(e) => (None, Some(e.to_string())),
        }
    };
    // The F / LR test, on least-squares refits.
    let test = if req.shared.is_empty() || laws.iter().any(|l| l.is_none()) {
        None
    } else {
        let ls = FitConfig {
            objective: fit::Objective {
                penalty: Penalty::Squared,
                ..base.objective
            },
            asymmetric: None,
            ..base.clone()
        };
        let sep = fit_joint(vec![], &ls);
        let joi = fit_joint(req.shared.clone(), &ls);
        match (sep, joi) {
            (Ok((s, _)), Ok((j, _))) => {
                let n = runs.len();
                let (ps, pj) = (free_count(&s), free_count(&j));
                let (ss, sj) = (sse(&s, weights.as_deref()), sse(&j, weights.as_deref()));
                let q = ps.saturating_sub(pj);
                if q == 0 || n <= ps {
                    warnings.push(format!(
                        "the test of shared parameters needs more runs ({n}) than the separate fits' {ps} parameters and at least one shared parameter"
                    ));
                    None
                } else {
                    // A joint fit cannot beat the separate fits it nests; clamp rounding.
                    let diff = (sj - ss).max(0.0);
                    let f = (diff / q as f64) / (ss / (n - ps) as f64);
                    let lr = n as f64 * (sj.max(ss) / ss).ln();
                    Some(SharedTest {
                        hypothesis: format!(
                            "every group has the same {} (joint fit) against each group its own",
                            req.shared.join(", ")
                        ),
                        runs: n,
                        params_separate: ps,
                        params_joint: pj,
                        sse_separate: ss,
                        sse_joint: sj,
                        f,
                        f_df: [q, n - ps],
                        f_p_value: f_sf(f, q as f64, (n - ps) as f64),
                        lr,
                        lr_p_value: chi2_sf(lr, q as f64),
                        method: format!(
                            "least-squares refits ({} residuals, squared, summed{}) of the separate and joint laws; F = ((SSE_joint - SSE_sep)/q) / (SSE_sep/(n - p_sep)) ~ F(q, n - p_sep); LR = n ln(SSE_joint/SSE_sep) ~ chi2(q)",
                            match base.objective.space {
                                fit::Space::Log => "log",
                                fit::Space::Linear => "linear",
                            },
                            if weights.is_some() { ", weighted" } else { "" }
                        ),
                    })
                }
            }
            (Err(e), _) | (_, Err(e)) => {
                warnings.push(format!("the test of shared parameters failed: {e}"));
                None
            }
        }
    };
    // Point comparisons from the separate fits.
    let base_names = base.form.param_names();
    let compare = |a: &Law,
                   b: &Law|
     -> (
        BTreeMap<String, f64>,
        BTreeMap<String, BTreeMap<String, f64>>,
    ) {
        let mut p = BTreeMap::new();
        for (j, n) in base_names.iter().enumerate() {
            p.insert(n.clone(), a.params[j] - b.params[j]);
        }
        let mut at = BTreeMap::new();
        for &c in &budgets {
            let mut m = BTreeMap::new();
            if let (Some(la), Some(lb)) = (loss_at_budget(a, c, k), loss_at_budget(b, c, k)) {
                m.insert("L_opt".to_string(), la - lb);
                m.insert("P_a_better".to_string(), if la < lb { 1.0 } else { 0.0 });
            }
            if let (Some(oa), Some(ob)) = (a.optimum(c, k), b.optimum(c, k)) {
                m.insert("N_opt_ratio".to_string(), oa.params / ob.params);
            }
            if let Some(g) = compute_gain(a, b, c, k) {
                m.insert("gain_a_over_b".to_string(), g);
            }
            if let Some(g) = compute_gain(b, a, c, k) {
                m.insert("gain_b_over_a".to_string(), g);
            }
            at.insert(budget_key(c), m);
        }
        (p, at)
    };
    let pairs: Vec<(usize, usize)> = (0..labels.len())
        .flat_map(|a| (a + 1..labels.len()).map(move |b| (a, b)))
        .collect();
    // Paired bootstrap of the separate fits: one joint law with nothing shared is the
    // separate fits in one problem, so the shared bootstrap resamples every group alike.
    let mut draws: Option<Vec<Vec<Law>>> = None;
    let mut settings = None;
    let mut pairing = None;
    if let Some(pb) = &req.bootstrap {
        if laws.iter().all(|l| l.is_some()) && labels.len() >= 2 {
            let keys: Vec<String> = match &pb.pair_column {
                Some(c) => uncertainty::cluster_labels(table, &runs, c)?,
                None => {
                    let c: Vec<f64> = if runs.flops.len() == runs.len() {
                        runs.flops.clone()
                    } else if runs.params.len() == runs.len() && runs.tokens.len() == runs.len() {
                        (0..runs.len())
                            .map(|i| k * runs.params[i] * runs.tokens[i])
                            .collect()
                    } else {
                        return Err(Error::InsufficientData(
                            "the paired bootstrap pairs runs by budget C, which these runs lack; name a pairing column".into(),
                        ));
                    };
                    c.iter().map(|v| format!("{v:.1e}")).collect()
                }
            };
            pairing = Some(match &pb.pair_column {
                Some(c) => format!("runs with the same value of column {c:?} are drawn together in every group"),
                None => "runs with the same budget C (two significant digits) are drawn together in every group".into(),
            });
            let mut distinct = keys.clone();
            distinct.sort();
            distinct.dedup();
            let (sep_fit, sep_cfg) = fit_joint(vec![], base)?;
            let bc = BootstrapConfig {
                replicates: pb.replicates,
                seed: pb.seed,
                clusters: Some(keys.clone()),
                cluster_column: Some(pb.pair_column.clone().unwrap_or_else(|| "budget".into())),
                level: pb.level,
            };
            let boot = uncertainty::bootstrap(&runs, &sep_cfg, &sep_fit, &bc, progress)?;
            let LawForm::Joint(j) = &sep_cfg.form else {
                unreachable!("a joint config")
            };
            let samples = uncertainty::usable_samples(&boot);
            settings = Some(BootstrapSettings {
                replicates: pb.replicates,
                seed: pb.seed,
                level: pb.level,
                keys: distinct.len(),
                usable: samples.len(),
            });
            draws = Some(
                samples
                    .iter()
                    .map(|s| {
                        (0..labels.len())
                            .map(|g| Law {
                                form: base.form.clone(),
                                params: j.group_params(g, s),
                            })
                            .collect()
                    })
                    .collect(),
            );
            if let Some(w) = boot.warnings().into_iter().next() {
                warnings.push(w);
            }
        } else {
            warnings.push(
                "no paired bootstrap: it needs at least two groups whose separate fits succeeded"
                    .into(),
            );
        }
    }
    let level = req.bootstrap.as_ref().map_or(0.95, |b| b.level);
    let mut comparisons = Vec::new();
    for &(a, b) in &pairs {
        let (Some(la), Some(lb)) = (&laws[a], &laws[b]) else {
            continue;
        };
        let (pp, pa) = compare(la, lb);
        let reps: Option<Vec<_>> = draws
            .as_ref()
            .map(|d| d.iter().map(|r| compare(&r[a], &r[b])).collect());
        let iv = |vals: Vec<f64>| -> Option<[f64; 2]> { summarise(&vals, level).map(|x| x.0) };
        let mut params = BTreeMap::new();
        for (n, v) in pp {
            let interval = reps.as_ref().and_then(|r| {
                iv(r.iter()
                    .map(|x| x.0.get(&n).copied().unwrap_or(f64::NAN))
                    .collect())
            });
            params.insert(
                n,
                Estimate {
                    value: Some(v),
                    interval,
                },
            );
        }
        let mut at_budget = BTreeMap::new();
        for &c in &budgets {
            let key = budget_key(c);
            let mut m = BTreeMap::new();
            for q in [
                "L_opt",
                "N_opt_ratio",
                "P_a_better",
                "gain_a_over_b",
                "gain_b_over_a",
            ] {
                let point = pa.get(&key).and_then(|x| x.get(q)).copied();
                let series: Option<Vec<f64>> = reps.as_ref().map(|r| {
                    r.iter()
                        .map(|x| {
                            x.1.get(&key)
                                .and_then(|y| y.get(q))
                                .copied()
                                .unwrap_or(f64::NAN)
                        })
                        .collect()
                });
                let est = if q == "P_a_better" {
                    // The probability is the share of replicates in which A's loss is lower.
                    match &series {
                        Some(s) => {
                            let f: Vec<f64> = s.iter().copied().filter(|v| v.is_finite()).collect();
                            Estimate {
                                value: (!f.is_empty())
                                    .then(|| f.iter().sum::<f64>() / f.len() as f64),
                                interval: None,
                            }
                        }
                        None => continue,
                    }
                } else {
                    Estimate {
                        value: point,
                        interval: series.and_then(iv),
                    }
                };
                if est.value.is_some() || est.interval.is_some() {
                    m.insert(q.to_string(), est);
                }
            }
            at_budget.insert(key, m);
        }
        comparisons.push(Comparison {
            a: labels[a].clone(),
            b: labels[b].clone(),
            params,
            at_budget,
        });
    }
    // Frontiers on a grid from the smallest budget in the data to the largest requested.
    let mut frontiers = Vec::new();
    let cmin = runs
        .flops
        .iter()
        .cloned()
        .fold(f64::INFINITY, f64::min)
        .min(budgets.iter().cloned().fold(f64::INFINITY, f64::min));
    let cmax = budgets.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    if cmin.is_finite() && cmax.is_finite() && cmax > cmin {
        let grid: Vec<f64> = (0..40)
            .map(|i| (cmin.ln() + (cmax.ln() - cmin.ln()) * i as f64 / 39.0).exp())
            .collect();
        for (g, label) in labels.iter().enumerate() {
            let Some(law) = &laws[g] else { continue };
            let lo = |l: &Law, c: f64| loss_at_budget(l, c, k);
            let no = |l: &Law, c: f64| l.optimum(c, k).map(|o| o.params);
            let band = |f: &dyn Fn(&Law, f64) -> Option<f64>| -> Vec<Option<[f64; 2]>> {
                grid.iter()
                    .map(|&c| {
                        let d = draws.as_ref()?;
                        let v: Vec<f64> =
                            d.iter().map(|r| f(&r[g], c).unwrap_or(f64::NAN)).collect();
                        summarise(&v, level).map(|x| x.0)
                    })
                    .collect()
            };
            frontiers.push(Frontier {
                group: label.clone(),
                flops: grid.clone(),
                loss: grid.iter().map(|&c| lo(law, c)).collect(),
                loss_interval: band(&lo),
                params: grid.iter().map(|&c| no(law, c)).collect(),
                params_interval: band(&no),
            });
        }
    }
    for s in &separate {
        if let Some(e) = &s.error {
            warnings.push(format!("group {}: {e}", s.group));
        }
    }
    Ok(GroupsResult {
        groups: labels,
        separate,
        joint,
        joint_error,
        test,
        comparisons,
        frontiers,
        conventions: GroupsConventions {
            by: req.by.clone(),
            shared: req.shared.clone(),
            ties: req.ties.clone(),
            budgets,
            flops_per_param_token: k,
            pairing,
            bootstrap: settings,
            gain: "L_opt@C is the loss at the compute-optimal allocation of budget C under C = k N D (Hoffmann et al. 2022, Eq. 4; the law's loss at C for a law of C alone); gain_a_over_b@C = C / C_A where L_A(C_A) = L_B(C): A reaches B's loss at C with that many times less compute (> 1: A better), searched within [C/1e6, 1e6 C] and reported as 1e-6 when B's loss is out of A's reach there (1e6 at the other end)".into(),
        },
        warnings,
    })
}

/// The base law of a group's separate fit (a fit with ties is a one-group joint law: its
/// parameters are mapped back to the base form's).
fn base_law(fit: &Fit, base: &LawForm) -> Option<Law> {
    let law = fit.law()?;
    match &law.form {
        LawForm::Joint(j) => Some(Law {
            form: base.clone(),
            params: j.group_params(0, &law.params),
        }),
        _ => Some(law),
    }
}

/// The base law of group `g` in a joint fit.
pub fn group_law(joint: &Fit, g: usize) -> Option<Law> {
    let law = joint.law()?;
    match &law.form {
        LawForm::Joint(j) => Some(Law {
            form: j.base().clone(),
            params: j.group_params(g, &law.params),
        }),
        _ => None,
    }
}

/// [`fit_groups`] once per loss column of `targets` (an empty list: the loss column of
/// `load`), on the same runs with the same settings, so the paired bootstrap draws the same
/// replicates for every target and their results can be read side by side. Results are in
/// the order of `targets`, each with its column (`None` for the default loss).
///
/// # Examples
/// ```
/// use scaling::accounting::LoadRequest;
/// use scaling::data::RunTable;
/// use scaling::groups::{fit_groups_targets, GroupsRequest};
/// let mut csv = String::from("set,N,D,loss,loss2\n");
/// for (set, e) in [("a", 1.7), ("b", 1.8)] {
///     for i in 0..5 {
///         for j in 0..4 {
///             let (n, d) = (3e7 * 3f64.powi(i), 1e9 * 3f64.powi(j));
///             let l = e + 400.0 / n.powf(0.34) + 410.0 / d.powf(0.28);
///             csv.push_str(&format!("{set},{n},{d},{l},{}\n", l + 0.1));
///         }
///     }
/// }
/// let table = RunTable::from_csv_str("runs.csv", &csv).unwrap();
/// let req = GroupsRequest {
///     by: "set".into(),
///     config: Default::default(),
///     shared: vec!["alpha".into(), "beta".into()],
///     ties: vec![],
///     budgets: vec![1e21],
///     bootstrap: None,
/// };
/// let targets = ["loss".to_string(), "loss2".to_string()];
/// let r = fit_groups_targets(&table, &LoadRequest::default(), &req, &targets, &|| {}).unwrap();
/// assert_eq!(r[1].0.as_deref(), Some("loss2"));
/// ```
///
/// # Errors
/// The first error of [`fit_groups`].
pub fn fit_groups_targets(
    table: &RunTable,
    load: &LoadRequest,
    req: &GroupsRequest,
    targets: &[String],
    progress: &(dyn Fn() + Sync),
) -> Result<Vec<(Option<String>, GroupsResult)>> {
    if targets.is_empty() {
        return Ok(vec![(None, fit_groups(table, load, req, progress)?)]);
    }
    targets
        .iter()
        .map(|t| {
            let load = LoadRequest {
                loss_col: Some(t.clone()),
                ..load.clone()
            };
            Ok((Some(t.clone()), fit_groups(table, &load, req, progress)?))
        })
        .collect()
}

/// A groups request by name, as every front end spells it (the command line's flags, Python's
/// keyword arguments): one translation into a [`GroupsRequest`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
#[serde(deny_unknown_fields)]
pub struct GroupsNames {
    /// The base law, objective and fixed or bounded parameters.
    pub fit: fit::FitNames,
    /// The group column.
    pub by: String,
    /// Shared parameters.
    pub shared: Vec<String>,
    /// Budgets (FLOPs; empty: 1e21 and 1e23).
    pub budgets: Vec<f64>,
    /// Paired-bootstrap replicates (none: no bootstrap).
    pub replicates: Option<usize>,
    /// Seed.
    pub seed: u64,
    /// Level (0: 0.95).
    pub level: f64,
    /// The pairing column (none: budgets).
    pub pair_col: Option<String>,
}

impl GroupsNames {
    /// The request these names stand for, on a table with these headers.
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] for a bad tie, level, asymmetric factor or budget, and every
    /// error of [`fit::FitNames::config_for`].
    pub fn request(&self, headers: &[&str]) -> Result<GroupsRequest> {
        let level = if self.level == 0.0 { 0.95 } else { self.level };
        if !(level > 0.0 && level < 1.0) {
            return Err(Error::InvalidSetting(format!(
                "the level must be between 0 and 1, got {level}"
            )));
        }
        if let Some(c) = self.budgets.iter().find(|c| !(c.is_finite() && **c > 0.0)) {
            return Err(Error::InvalidSetting(format!(
                "budgets must be positive FLOPs, got {c}"
            )));
        }
        let ties = self.fit.parsed_ties()?;
        if let Some(r) = self.replicates {
            crate::limits::check("bootstrap replicates", r, crate::limits::MAX_REPLICATES)?;
        }
        let config = self.fit.untied_config_for(headers)?;
        Ok(GroupsRequest {
            by: self.by.clone(),
            config,
            shared: self.shared.clone(),
            ties,
            budgets: self.budgets.clone(),
            bootstrap: self.replicates.map(|r| PairedBootstrap {
                replicates: r,
                seed: self.seed,
                level,
                pair_column: self.pair_col.clone(),
            }),
        })
    }
}
