//! Chinchilla's methods on a run table: the entry points that the command line and Python call
//! with a plain request (columns named, settings with defaults) and that return the command's
//! result. The numerics live in [`mod@super::isoflop`], [`mod@super::envelope`] and [`super::powerlaw`];
//! this file reads the table, groups rows and puts the three approaches side by side.

use serde::{Deserialize, Serialize};

use crate::accounting::{load_runs, LoadRequest};
use crate::data::{find_column, parse_positive, ColumnOverrides, Group, Role, RunTable, Runs};
use crate::error::{Error, Result};
use crate::fit::{self, FitConfig};
use crate::law::LawForm;
use crate::num::sig;
use crate::uncertainty::{self, BootstrapConfig};

use super::envelope::{envelope, Curve, EnvelopeResult};
use super::isoflop::{isoflop, Grouping, IsoflopConfig, IsoflopResult};
use super::powerlaw::{fit_power_law, PowerLawFit};

fn default_level() -> f64 {
    0.95
}

/// An interval level must lie in (0, 1); the error names the request field `level`.
///
/// # Examples
/// ```
/// use scaling::methods::check_level;
/// assert!(check_level(0.95).is_ok());
/// let e = check_level(95.0).unwrap_err();
/// assert_eq!(e.to_string(), "level must be between 0 and 1, got 95");
/// ```
pub fn check_level(level: f64) -> Result<()> {
    if level > 0.0 && level < 1.0 {
        Ok(())
    } else {
        Err(Error::setting(
            format!("{{}} must be between 0 and 1, got {level}"),
            &["level"],
        ))
    }
}

/// Run `f` on every group, keeping each group's result or error in the order the groups first
/// appear: with grouping, one failed group does not hide the others.
///
/// # Examples
/// ```
/// use scaling::data::{group_rows, Column, RunTable};
/// use scaling::methods::{for_groups, powerlaw_table, PowerlawRequest};
/// let t = RunTable::from_columns("<arrays>", vec![
///     ("set".into(), Column::Labels(vec!["a".into(), "a".into(), "a".into(), "b".into()])),
///     ("x".into(), Column::Numbers(vec![1.0, 10.0, 100.0, 1.0])),
///     ("y".into(), Column::Numbers(vec![2.0, 20.0, 200.0, 5.0])),
/// ]).unwrap();
/// let req = PowerlawRequest { x: "x".into(), y: "y".into(), ..Default::default() };
/// let groups = group_rows(&t, &["set".to_string()], &[0, 1, 2, 3]).unwrap();
/// let out = for_groups(groups, |g| powerlaw_table(&t, &g.rows, &req));
/// assert!((out[0].1.as_ref().unwrap().fit.exponent - 1.0).abs() < 1e-12);
/// assert!(out[1].1.is_err()); // one point: no line
/// ```
pub fn for_groups<T>(
    groups: Vec<Group>,
    mut f: impl FnMut(&Group) -> Result<T>,
) -> Vec<(Group, Result<T>)> {
    groups
        .into_iter()
        .map(|g| {
            let r = f(&g);
            (g, r)
        })
        .collect()
}

/// The JSON of grouped results: an array, in group order, of each result's JSON object with
/// its `group` key (column -> value) added, or `{"error": message, "group": ...}` for a group
/// that failed.
pub fn grouped_json<T: Serialize>(
    outcomes: &[(Group, std::result::Result<T, String>)],
) -> serde_json::Value {
    let arr = outcomes
        .iter()
        .map(|(g, r)| {
            let mut v = match r {
                Ok(v) => serde_json::to_value(v).unwrap_or(serde_json::Value::Null),
                Err(e) => serde_json::json!({ "error": e }),
            };
            if let Some(o) = v.as_object_mut() {
                o.insert(
                    "group".into(),
                    serde_json::to_value(g.key_map()).unwrap_or_default(),
                );
            }
            v
        })
        .collect();
    serde_json::Value::Array(arr)
}

/// A power law y = a x^b between two columns (least squares in log-log space).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct PowerlawRequest {
    /// Column of x.
    pub x: String,
    /// Column of y.
    pub y: String,
    /// Leave out rows whose x or y is empty or not positive (counted) instead of failing.
    pub skip_invalid: bool,
    /// Interval level of the exponent's t interval.
    pub level: f64,
}

impl Default for PowerlawRequest {
    fn default() -> Self {
        PowerlawRequest {
            x: String::new(),
            y: String::new(),
            skip_invalid: false,
            level: default_level(),
        }
    }
}

/// The power law between two columns, with the rows it skipped.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PowerlawResult {
    /// The fit (exponent, coefficient, t intervals, R^2).
    #[serde(flatten)]
    pub fit: PowerLawFit,
    /// Rows left out for an empty or invalid x or y.
    pub skipped_rows: usize,
    /// Column of x.
    pub x: String,
    /// Column of y.
    pub y: String,
}

/// Fit y = a x^b to the columns `x` and `y` of `rows` (0-based table rows).
///
/// # Examples
/// ```
/// use scaling::data::{Column, RunTable};
/// use scaling::methods::{powerlaw_table, PowerlawRequest};
/// let t = RunTable::from_columns("<arrays>", vec![
///     ("flops".into(), Column::Numbers(vec![1e18, 1e19, 1e20])),
///     ("n".into(), Column::Numbers(vec![1e8, 1e8 * 10f64.sqrt(), 1e9])),
/// ]).unwrap();
/// let req = PowerlawRequest { x: "flops".into(), y: "n".into(), ..Default::default() };
/// let r = powerlaw_table(&t, &[0, 1, 2], &req).unwrap();
/// assert!((r.fit.exponent - 0.5).abs() < 1e-12);
/// ```
///
/// # Errors
/// A column that is not a header, an invalid cell (unless `skip_invalid`), a level outside
/// (0, 1), and the errors of [`fit_power_law`].
pub fn powerlaw_table(
    table: &RunTable,
    rows: &[usize],
    req: &PowerlawRequest,
) -> Result<PowerlawResult> {
    check_level(req.level)?;
    let xi = table.field_column("x", &req.x)?;
    let yi = table.field_column("y", &req.y)?;
    let (mut xs, mut ys, mut skipped) = (vec![], vec![], 0);
    for &r in rows {
        match (table.positive(r, xi), table.positive(r, yi)) {
            (Ok(x), Ok(y)) => {
                xs.push(x);
                ys.push(y);
            }
            (Err(e), _) | (_, Err(e)) if !req.skip_invalid => return Err(e),
            _ => skipped += 1,
        }
    }
    let fit = fit_power_law(&xs, &ys, req.level).map_err(|e| match e {
        Error::InsufficientData(m) => Error::InsufficientData(format!(
            "{}: column {:?} against column {:?}: {m}",
            table.path, req.x, req.y
        )),
        other => other,
    })?;
    Ok(PowerlawResult {
        fit,
        skipped_rows: skipped,
        x: req.x.clone(),
        y: req.y.clone(),
    })
}

/// Approach 2 (IsoFLOP profiles) on a table: how runs are grouped into budgets, and the
/// bootstrap.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct IsoflopRequest {
    /// Column holding each run's budget (FLOPs).
    pub budget_col: Option<String>,
    /// Otherwise: snap runs to these budgets (FLOPs).
    pub budgets: Vec<f64>,
    /// Otherwise: runs whose FLOPs agree within this relative tolerance form a budget.
    pub tolerance: f64,
    /// Use flagged budgets (off-centre, weak curvature, few points) in the power-law fits.
    pub keep_flagged: bool,
    /// Bootstrap replicates for the intervals.
    pub bootstrap: usize,
    /// Seed of the bootstrap.
    pub seed: u64,
    /// Interval level.
    pub level: f64,
}

impl Default for IsoflopRequest {
    fn default() -> Self {
        IsoflopRequest {
            budget_col: None,
            budgets: vec![],
            tolerance: 0.05,
            keep_flagged: false,
            bootstrap: 400,
            seed: 0,
            level: default_level(),
        }
    }
}

impl IsoflopRequest {
    /// How the runs of `runs` (loaded from `table`) are grouped into budgets.
    fn grouping(&self, table: &RunTable, runs: &Runs) -> Result<Grouping> {
        if let Some(c) = &self.budget_col {
            let i = table.field_column("budget_col", c)?;
            let v = runs
                .rows
                .iter()
                .map(|&file_row| {
                    let r = file_row - 1;
                    parse_positive(table.cell(r, i)).map_err(|p| Error::BadValue {
                        location: table.location(r),
                        column: c.clone(),
                        value: table.cell(r, i).to_string(),
                        problem: p.describe().into(),
                    })
                })
                .collect::<Result<Vec<f64>>>()?;
            return Ok(Grouping::Given(v));
        }
        if !self.budgets.is_empty() {
            return Ok(Grouping::Listed(self.budgets.clone()));
        }
        Ok(Grouping::Tolerance(self.tolerance))
    }

    fn config(&self, table: &RunTable, runs: &Runs) -> Result<IsoflopConfig> {
        Ok(IsoflopConfig {
            grouping: self.grouping(table, runs)?,
            replicates: self.bootstrap,
            seed: self.seed,
            level: self.level,
            keep_flagged: self.keep_flagged,
        })
    }
}

/// The runs every Chinchilla method reads: N, D and C with the loss.
pub fn chinchilla_needs() -> crate::data::Needs {
    let mut n = fit::needs(&LawForm::Chinchilla);
    n.flops = true;
    n
}

/// Approach 2 on `runs` loaded from `table` (with [`chinchilla_needs`]).
///
/// # Examples
/// ```
/// use scaling::accounting::{load_runs, LoadRequest};
/// use scaling::data::{Column, RunTable};
/// use scaling::methods::{chinchilla_needs, isoflop_table, IsoflopRequest};
/// // Three budgets, five sizes each, drawn from L = 1.7 + 400/N^0.34 + 410/D^0.28.
/// let (mut n, mut d, mut l) = (vec![], vec![], vec![]);
/// for c in [1e18_f64, 1e19, 1e20] {
///     for k in -2..=2 {
///         let p = (c / 6.0).sqrt() * 0.1 * 2f64.powi(k);
///         let t = c / (6.0 * p);
///         n.push(p); d.push(t);
///         l.push(1.7 + 400.0 / p.powf(0.34) + 410.0 / t.powf(0.28));
///     }
/// }
/// let t = RunTable::from_columns("<arrays>", vec![
///     ("params".into(), Column::Numbers(n)), ("tokens".into(), Column::Numbers(d)),
///     ("loss".into(), Column::Numbers(l)),
/// ]).unwrap();
/// let runs = load_runs(&t, chinchilla_needs(), &LoadRequest::default(), None).unwrap();
/// let r = isoflop_table(&t, &runs, &IsoflopRequest { bootstrap: 0, ..Default::default() }).unwrap();
/// assert_eq!(r.budgets.len(), 3);
/// assert!((r.params_exponent + r.tokens_exponent - 1.0).abs() < 1e-9);
/// ```
///
/// # Errors
/// A budget column that is not a header or holds an invalid value, and the errors of
/// [`isoflop`].
pub fn isoflop_table(table: &RunTable, runs: &Runs, req: &IsoflopRequest) -> Result<IsoflopResult> {
    let cfg = req.config(table, runs)?;
    isoflop(&runs.params, &runs.tokens, &runs.flops, &runs.loss, &cfg)
}

/// Approach 1 (lower envelope of loss curves) on a table with one row per checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct EnvelopeRequest {
    /// Columns that together identify a run.
    pub run_col: Vec<String>,
    /// Column holding N (default: recognised by name).
    pub params_col: Option<String>,
    /// Column holding the tokens seen at the checkpoint (default: recognised by name).
    pub tokens_col: Option<String>,
    /// Instead of tokens: a column of optimiser steps, with `tokens_per_step`.
    pub steps_col: Option<String>,
    /// Tokens per optimiser step (batch size x sequence length), with `steps_col`.
    pub tokens_per_step: Option<f64>,
    /// Column holding the loss (default: recognised by name).
    pub loss_col: Option<String>,
    /// Drop checkpoints before this fraction of each run's final tokens (warm-up).
    pub min_fraction: f64,
    /// Log-spaced FLOP grid size (Chinchilla used 1500).
    pub grid: usize,
    /// Bootstrap replicates (runs resampled).
    pub bootstrap: usize,
    /// Seed of the bootstrap.
    pub seed: u64,
    /// Interval level.
    pub level: f64,
}

impl Default for EnvelopeRequest {
    fn default() -> Self {
        EnvelopeRequest {
            run_col: vec![],
            params_col: None,
            tokens_col: None,
            steps_col: None,
            tokens_per_step: None,
            loss_col: None,
            min_fraction: 0.0,
            grid: 1500,
            bootstrap: 200,
            seed: 0,
            level: default_level(),
        }
    }
}

impl EnvelopeRequest {
    /// The settings that are wrong whatever the table: a level outside (0, 1), a minimum
    /// fraction outside [0, 1), a steps column without the tokens per step.
    ///
    /// # Examples
    /// ```
    /// use scaling::methods::EnvelopeRequest;
    /// let req = EnvelopeRequest { steps_col: Some("step".into()), ..Default::default() };
    /// assert_eq!(req.check().unwrap_err().to_string(), "steps_col needs tokens_per_step");
    /// ```
    pub fn check(&self) -> Result<()> {
        check_level(self.level)?;
        if !(0.0..1.0).contains(&self.min_fraction) {
            return Err(Error::setting(
                format!("{{}} must be in [0, 1), got {}", self.min_fraction),
                &["min_fraction"],
            ));
        }
        if self.steps_col.is_some() && self.tokens_per_step.is_none() {
            return Err(Error::setting(
                "{} needs {}",
                &["steps_col", "tokens_per_step"],
            ));
        }
        Ok(())
    }
}

/// Approach 1's result with what reading the curves found.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnvelopeReport {
    /// The envelope, its segments and the exponents.
    #[serde(flatten)]
    pub result: EnvelopeResult,
    /// Runs whose checkpoints were out of order in the table (often a run column is missing).
    pub warnings: Vec<String>,
    /// Checkpoints before this fraction of each run's final tokens were dropped.
    pub min_fraction: f64,
}

/// A run's id, size and checkpoints (tokens, loss) as read.
type RawCurve = (String, f64, Vec<(f64, f64)>);

/// Loss curves from a table of checkpoints: one [`Curve`] per run (runs in the order they
/// first appear; checkpoints sorted by tokens, duplicates dropped, and those before
/// `min_fraction` of the run's final tokens left out), with a warning per run whose tokens do
/// not increase in table order.
///
/// # Errors
/// Missing size, tokens or loss columns, an invalid cell, and a run id that mixes two sizes.
pub fn curves_from_checkpoints(
    table: &RunTable,
    rows: &[usize],
    req: &EnvelopeRequest,
) -> Result<(Vec<Curve>, Vec<String>)> {
    req.check()?;
    let ov = ColumnOverrides {
        params: req.params_col.clone(),
        tokens: req.tokens_col.clone(),
        flops: None,
        loss: req.loss_col.clone(),
    };
    let missing = |role: &str, message: &str| Error::MissingColumn {
        path: table.path.clone(),
        role: role.into(),
        message: message.into(),
        names: vec![],
    };
    let nc = find_column(table, Role::Params, &ov)?
        .ok_or_else(|| missing("the model size N", "curves need a size; name its column"))?;
    let lc = find_column(table, Role::Loss, &ov)?
        .ok_or_else(|| missing(Role::Loss.describe(), "name the loss column"))?;
    let (dc, per_step) = match (&req.steps_col, req.tokens_per_step) {
        (Some(s), Some(t)) => (table.field_column("steps_col", s)?, t),
        (Some(_), None) => {
            return Err(Error::setting(
                "{} needs {}",
                &["steps_col", "tokens_per_step"],
            ))
        }
        (None, _) => (
            find_column(table, Role::Tokens, &ov)?.ok_or_else(|| {
                missing(
                    Role::Tokens.describe(),
                    "name the tokens column (or a steps column and the tokens per step)",
                )
            })?,
            1.0,
        ),
    };
    let run_idx: Vec<usize> = req
        .run_col
        .iter()
        .map(|c| table.field_column("run_col", c))
        .collect::<Result<_>>()?;
    let mut curves: Vec<RawCurve> = Vec::new();
    let mut warnings: Vec<String> = Vec::new();
    for &r in rows {
        let cell = |c: usize| table.positive(r, c);
        let (n, d, l) = (cell(nc)?, cell(dc)? * per_step, cell(lc)?);
        let id = run_idx
            .iter()
            .map(|&i| table.cell(r, i).trim())
            .collect::<Vec<_>>()
            .join("/");
        match curves.iter_mut().find(|c| c.0 == id) {
            Some(c) => {
                if c.1 != n {
                    let why = format!(
                        "{}: run {id:?} has two sizes ({} and {n}): add the column that tells them apart to {{}}",
                        table.location(r),
                        c.1
                    );
                    return Err(Error::setting(why, &["run_col"]));
                }
                if let Some(last) = c.2.last() {
                    if d <= last.0 && !warnings.iter().any(|w| w.contains(&format!("run {id:?}"))) {
                        warnings.push(format!(
                            "run {id:?}: tokens do not increase in file order at row {} ({d} after {}); checkpoints were sorted, but this often means the run columns (run_col) miss one",
                            r + 1,
                            last.0
                        ));
                    }
                }
                c.2.push((d, l));
            }
            None => curves.push((id, n, vec![(d, l)])),
        }
    }
    let curves = curves
        .into_iter()
        .map(|(run, n, mut pts)| {
            pts.sort_by(|x, y| x.0.total_cmp(&y.0));
            pts.dedup_by(|x, y| x.0 == y.0);
            let dmax = pts.last().map(|p| p.0).unwrap_or(0.0);
            Curve {
                run,
                params: n,
                points: pts
                    .into_iter()
                    .filter(|p| p.0 >= req.min_fraction * dmax)
                    .collect(),
            }
        })
        .collect();
    Ok((curves, warnings))
}

/// Approach 1 on the checkpoints in `rows` (0-based table rows) of `table`, with C = 6ND.
///
/// # Examples
/// ```
/// use scaling::data::{Column, RunTable};
/// use scaling::methods::{envelope_table, EnvelopeRequest};
/// // Four runs of L = 1.7 + 400/N^0.34 + 410/D^0.28, eight checkpoints each.
/// let (mut run, mut n, mut d, mut l) = (vec![], vec![], vec![], vec![]);
/// for (i, p) in [1e7_f64, 4e7, 1.6e8, 6.4e8].into_iter().enumerate() {
///     for k in 0..8 {
///         let t = 1e8 * 3f64.powi(k);
///         run.push(format!("r{i}")); n.push(p); d.push(t);
///         l.push(1.7 + 400.0 / p.powf(0.34) + 410.0 / t.powf(0.28));
///     }
/// }
/// let t = RunTable::from_columns("<arrays>", vec![
///     ("run".into(), Column::Labels(run)), ("params".into(), Column::Numbers(n)),
///     ("tokens".into(), Column::Numbers(d)), ("loss".into(), Column::Numbers(l)),
/// ]).unwrap();
/// let req = EnvelopeRequest { run_col: vec!["run".into()], bootstrap: 0, ..Default::default() };
/// let rows: Vec<usize> = (0..32).collect();
/// let r = envelope_table(&t, &rows, &req).unwrap();
/// assert_eq!(r.result.runs, 4);
/// assert!((r.result.params_exponent + r.result.tokens_exponent - 1.0).abs() < 1e-9);
/// ```
///
/// # Errors
/// The errors of [`curves_from_checkpoints`] and [`envelope`], and a level outside (0, 1).
pub fn envelope_table(
    table: &RunTable,
    rows: &[usize],
    req: &EnvelopeRequest,
) -> Result<EnvelopeReport> {
    crate::limits::check("envelope grid points", req.grid, crate::limits::MAX_GRID)?;
    req.check()?;
    let (curves, warnings) = curves_from_checkpoints(table, rows, req)?;
    let result = envelope(&curves, req.grid, 6.0, req.bootstrap, req.seed, req.level)?;
    Ok(EnvelopeReport {
        result,
        warnings,
        min_fraction: req.min_fraction,
    })
}

/// Chinchilla's three approaches on the same runs: the settings of Approaches 1 and 2 and
/// the bootstrap shared by all.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct CompareRequest {
    /// Snap runs to these IsoFLOP budgets for Approach 2.
    pub budgets: Vec<f64>,
    /// Column holding each run's budget.
    pub budget_col: Option<String>,
    /// Otherwise runs whose FLOPs agree within this relative tolerance form a budget.
    pub tolerance: f64,
    /// Use flagged IsoFLOP budgets in Approach 2.
    pub keep_flagged: bool,
    /// For loss curves: the columns identifying a run. Approach 1 then runs on all
    /// checkpoints, and Approaches 2 and 3 on each run's last checkpoint.
    pub run_col: Vec<String>,
    /// Bootstrap replicates (Approach 3 refits, Approach 2 resamples; Approach 1 at most 200).
    pub bootstrap: usize,
    /// Seed.
    pub seed: u64,
    /// Interval level.
    pub level: f64,
    /// Only these 0-based table rows (one group of a grouping: `runs` must be loaded from the
    /// same rows); `None` for every row.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<Vec<usize>>,
}

impl Default for CompareRequest {
    fn default() -> Self {
        CompareRequest {
            budgets: vec![],
            budget_col: None,
            tolerance: 0.05,
            keep_flagged: false,
            run_col: vec![],
            bootstrap: 400,
            seed: 0,
            level: default_level(),
            rows: None,
        }
    }
}

/// One approach's exponents: N_opt ~ C^a and D_opt ~ C^b.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApproachRow {
    /// Which approach, and whether on this data or as published.
    pub approach: String,
    /// a in N_opt ~ C^a.
    pub a: f64,
    /// Interval on a (this data: bootstrap at the request's level; published: 10-90%).
    pub a_interval: Option<[f64; 2]>,
    /// b in D_opt ~ C^b.
    pub b: f64,
    /// Interval on b.
    pub b_interval: Option<[f64; 2]>,
    /// Approach 2: budgets used in the power-law fits.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub budgets_used: Option<usize>,
}

/// Approach 2 run on the same design with losses drawn without noise from the Approach 3 law:
/// how far Approach 2's exponents land from the law's own.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BiasCheck {
    /// a of the Approach 3 law.
    pub law_a: f64,
    /// Approach 2's a on the simulated losses.
    pub approach2_a_on_simulated: f64,
    /// approach2_a_on_simulated - law_a.
    pub bias_a: f64,
    /// b of the Approach 3 law.
    pub law_b: Option<f64>,
    /// Approach 2's b on the simulated losses.
    pub approach2_b_on_simulated: f64,
    /// approach2_b_on_simulated - law_b.
    pub bias_b: f64,
}

/// Chinchilla's approaches side by side (this data, then the published values).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Comparison {
    /// Approaches 1 (with run columns), 3 and 2 on this data, then Chinchilla's published
    /// Approaches 1-3 (Hoffmann et al. 2022, Table 2) and Kaplan et al. 2020.
    pub approaches: Vec<ApproachRow>,
    /// Approach 2's bias on this design (None when Approach 2 or 3 is unavailable).
    pub approach2_bias_check: Option<BiasCheck>,
    /// Approaches that are unavailable, and pairs whose intervals on a do not overlap.
    pub warnings: Vec<String>,
    /// Interval level.
    pub level: f64,
    /// Bootstrap replicates.
    pub bootstrap: usize,
    /// Seed.
    pub seed: u64,
    /// Runs used by Approaches 2 and 3.
    pub runs: usize,
}

/// A published (approach, a, interval on a, b, interval on b) row.
pub type Published = (&'static str, f64, Option<[f64; 2]>, f64, Option<[f64; 2]>);

/// Chinchilla Table 2 (Hoffmann et al. 2022; 10-90% intervals) and Kaplan et al. 2020.
pub const PUBLISHED: [Published; 4] = [
    (
        "Chinchilla Approach 1 (published)",
        0.50,
        Some([0.488, 0.502]),
        0.50,
        Some([0.501, 0.512]),
    ),
    (
        "Chinchilla Approach 2 (published)",
        0.49,
        Some([0.462, 0.534]),
        0.51,
        Some([0.483, 0.529]),
    ),
    (
        "Chinchilla Approach 3 (published)",
        0.46,
        Some([0.454, 0.455]),
        0.54,
        Some([0.542, 0.543]),
    ),
    ("Kaplan et al. 2020 (published)", 0.73, None, 0.27, None),
];

/// Each run's last checkpoint (the most tokens) when runs are identified by `run_col`.
fn last_checkpoints(table: &RunTable, runs: &Runs, run_col: &[String]) -> Result<Runs> {
    let idx: Vec<usize> = run_col
        .iter()
        .map(|c| table.field_column("run_col", c))
        .collect::<Result<_>>()?;
    let mut last: Vec<(String, usize)> = Vec::new();
    for i in 0..runs.len() {
        let row = runs.rows[i] - 1;
        let id = idx
            .iter()
            .map(|&c| table.cell(row, c).trim())
            .collect::<Vec<_>>()
            .join("/");
        match last.iter_mut().find(|(k, _)| *k == id) {
            Some((_, j)) if runs.tokens[i] > runs.tokens[*j] => *j = i,
            Some(_) => {}
            None => last.push((id, i)),
        }
    }
    let keep: Vec<usize> = last.iter().map(|(_, i)| *i).collect();
    let pick = |v: &[f64]| {
        if v.len() == runs.len() {
            keep.iter().map(|&i| v[i]).collect()
        } else {
            vec![]
        }
    };
    Ok(Runs {
        params: pick(&runs.params),
        tokens: pick(&runs.tokens),
        flops: pick(&runs.flops),
        loss: pick(&runs.loss),
        rows: keep.iter().map(|&i| runs.rows[i]).collect(),
        ..runs.clone()
    })
}

/// Compare Chinchilla's three approaches (Hoffmann et al. 2022, Section 3) on one table:
/// Approach 1 (lower envelope of loss curves; only with `run_col`), Approach 3 (the parametric
/// fit L = E + A/N^alpha + B/D^beta, whose a = beta/(alpha+beta) and b = alpha/(alpha+beta))
/// and Approach 2 (IsoFLOP parabolas), with bootstrap intervals, a check of Approach 2's bias
/// on this design (Approach 2 on losses drawn without noise from the Approach 3 law), a
/// warning for each pair whose intervals on a do not overlap, and the published values.
///
/// `runs` are `table`'s runs loaded with [`chinchilla_needs`] under `load` (whose columns and
/// row filter Approach 1 reuses on the checkpoints).
///
/// # Examples
/// ```
/// use scaling::accounting::{load_runs, LoadRequest};
/// use scaling::data::{Column, RunTable};
/// use scaling::methods::{chinchilla_needs, compare, CompareRequest};
/// let (mut n, mut d, mut l) = (vec![], vec![], vec![]);
/// for c in [1e18_f64, 1e19, 1e20] {
///     for k in -2..=2 {
///         let p = (c / 6.0).sqrt() * 0.1 * 2f64.powi(k);
///         let t = c / (6.0 * p);
///         n.push(p); d.push(t);
///         l.push(1.7 + 400.0 / p.powf(0.34) + 410.0 / t.powf(0.28));
///     }
/// }
/// let t = RunTable::from_columns("<arrays>", vec![
///     ("params".into(), Column::Numbers(n)), ("tokens".into(), Column::Numbers(d)),
///     ("loss".into(), Column::Numbers(l)),
/// ]).unwrap();
/// let load = LoadRequest::default();
/// let runs = load_runs(&t, chinchilla_needs(), &load, None).unwrap();
/// let req = CompareRequest { bootstrap: 0, ..Default::default() };
/// let c = compare(&t, &runs, &load, &req).unwrap();
/// // Approach 3 recovers the law: a = beta / (alpha + beta).
/// assert!((c.approaches[0].a - 0.28 / 0.62).abs() < 1e-4);
/// assert!(c.approach2_bias_check.is_some());
/// ```
///
/// # Errors
/// A level outside (0, 1), run or budget columns that are not headers, and the errors of the
/// Approach 3 fit and bootstrap. Approaches 1 and 2 failing on this data is a warning.
pub fn compare(
    table: &RunTable,
    runs: &Runs,
    load: &LoadRequest,
    req: &CompareRequest,
) -> Result<Comparison> {
    compare_with(table, runs, load, req, &|| {})
}

/// [`compare`], calling `progress` once per finished replicate of Approach 3's bootstrap (for
/// a front end's progress bar; `req.bootstrap` of them when it runs).
///
/// # Examples
/// ```
/// use scaling::accounting::{load_runs, LoadRequest};
/// use scaling::data::{Column, RunTable};
/// use scaling::methods::{chinchilla_needs, compare_with, CompareRequest};
/// let (mut n, mut d, mut l) = (vec![], vec![], vec![]);
/// for c in [1e18_f64, 1e19, 1e20] {
///     for k in -2..=2 {
///         let p = (c / 6.0).sqrt() * 0.1 * 2f64.powi(k);
///         n.push(p); d.push(c / (6.0 * p));
///         l.push(1.7 + 400.0 / p.powf(0.34) + 410.0 / (c / (6.0 * p)).powf(0.28));
///     }
/// }
/// let t = RunTable::from_columns("<arrays>", vec![
///     ("params".into(), Column::Numbers(n)), ("tokens".into(), Column::Numbers(d)),
///     ("loss".into(), Column::Numbers(l)),
/// ]).unwrap();
/// let load = LoadRequest::default();
/// let runs = load_runs(&t, chinchilla_needs(), &load, None).unwrap();
/// let ticks = std::sync::atomic::AtomicUsize::new(0);
/// let req = CompareRequest { bootstrap: 8, ..Default::default() };
/// compare_with(&t, &runs, &load, &req, &|| { ticks.fetch_add(1, std::sync::atomic::Ordering::Relaxed); }).unwrap();
/// assert_eq!(ticks.into_inner(), 8);
/// ```
///
/// # Errors
/// Those of [`compare`].
pub fn compare_with(
    table: &RunTable,
    runs: &Runs,
    load: &LoadRequest,
    req: &CompareRequest,
    progress: &(dyn Fn() + Sync),
) -> Result<Comparison> {
    check_level(req.level)?;
    let config = FitConfig::default();
    let mut rows: Vec<ApproachRow> = Vec::new();
    let mut warnings: Vec<String> = Vec::new();
    let runs = if req.run_col.is_empty() {
        runs.clone()
    } else {
        // Approach 1 on every checkpoint the row filter keeps.
        let env = EnvelopeRequest {
            run_col: req.run_col.clone(),
            params_col: load.params_col.clone(),
            tokens_col: load.tokens_col.clone(),
            loss_col: load.loss_col.clone(),
            bootstrap: req.bootstrap.min(200),
            seed: req.seed,
            level: req.level,
            ..Default::default()
        };
        let a1 = crate::accounting::selected_rows(table, load).and_then(|sel| {
            let sel: Vec<usize> = match &req.rows {
                Some(group) => {
                    let group: std::collections::HashSet<usize> = group.iter().copied().collect();
                    sel.into_iter().filter(|r| group.contains(r)).collect()
                }
                None => sel,
            };
            envelope_table(table, &sel, &env)
        });
        match a1 {
            Ok(v) => rows.push(ApproachRow {
                approach: "Approach 1 (lower envelope, this data)".into(),
                a: v.result.params_exponent,
                a_interval: v.result.params_exponent_interval,
                b: v.result.tokens_exponent,
                b_interval: v.result.tokens_exponent_interval,
                budgets_used: None,
            }),
            Err(e) => warnings.push(format!("Approach 1 is not available on this data: {e}")),
        }
        // Approaches 2 and 3 on each run's last checkpoint.
        last_checkpoints(table, runs, &req.run_col)?
    };
    // Approach 3.
    let f3 = fit::fit(&runs, &config)?;
    let a3 = f3.implied.as_ref().map(|i| (i.a, i.b));
    let mut iv3 = (None, None);
    if let (Some(_), true) = (a3, req.bootstrap >= 2) {
        // Model sizes when the runs repeat enough of them, as `fit` does.
        let bc = BootstrapConfig::automatic(&runs, &f3, req.bootstrap, req.seed, req.level);
        let b = uncertainty::bootstrap(&runs, &config, &f3, &bc, progress)?;
        let (iv, _) = uncertainty::intervals(&f3, &b, &[], req.level);
        iv3 = (iv.get("a").copied(), iv.get("b").copied());
    }
    if let Some((pa, pb)) = a3 {
        rows.push(ApproachRow {
            approach: "Approach 3 (parametric fit, this data)".into(),
            a: pa,
            a_interval: iv3.0,
            b: pb,
            b_interval: iv3.1,
            budgets_used: None,
        });
    } else {
        warnings.push(
            "Approach 3: the fit does not identify every parameter, so it implies no a and b"
                .into(),
        );
    }
    // Approach 2.
    let iso = IsoflopRequest {
        budget_col: req.budget_col.clone(),
        budgets: req.budgets.clone(),
        tolerance: req.tolerance,
        keep_flagged: req.keep_flagged,
        bootstrap: req.bootstrap,
        seed: req.seed,
        level: req.level,
    };
    let cfg = iso.config(table, &runs)?;
    let a2 = match isoflop(&runs.params, &runs.tokens, &runs.flops, &runs.loss, &cfg) {
        Ok(r) => {
            rows.push(ApproachRow {
                approach: "Approach 2 (IsoFLOP profiles, this data)".into(),
                a: r.params_exponent,
                a_interval: r.params_exponent_interval,
                b: r.tokens_exponent,
                b_interval: r.tokens_exponent_interval,
                budgets_used: Some(r.budgets.iter().filter(|b| b.used).count()),
            });
            Some(r)
        }
        Err(e) => {
            warnings.push(format!("Approach 2 is not available on this data: {e}"));
            None
        }
    };
    // Bias check: Approach 2 on the same design, drawn without noise from the Approach 3 fit.
    let mut bias = None;
    if let (Some(law), Some(_)) = (f3.law(), &a2) {
        let sim: Vec<f64> = (0..runs.len())
            .map(|i| law.predict(runs.params[i], runs.tokens[i], runs.flops[i]))
            .collect();
        let cfg0 = IsoflopConfig {
            replicates: 0,
            ..cfg.clone()
        };
        if let Ok(r0) = isoflop(&runs.params, &runs.tokens, &runs.flops, &sim, &cfg0) {
            let truth = law.params_exponent().unwrap_or(f64::NAN);
            bias = Some(BiasCheck {
                law_a: truth,
                approach2_a_on_simulated: r0.params_exponent,
                bias_a: r0.params_exponent - truth,
                law_b: law.tokens_exponent(),
                approach2_b_on_simulated: r0.tokens_exponent,
                bias_b: r0.tokens_exponent - law.tokens_exponent().unwrap_or(f64::NAN),
            });
        }
    }
    // Disagreement between any two approaches on this data.
    let ours: Vec<(&str, [f64; 2])> = rows
        .iter()
        .filter_map(|r| Some((r.approach.as_str(), r.a_interval?)))
        .collect();
    for x in 0..ours.len() {
        for y in x + 1..ours.len() {
            let ([l1, h1], [l2, h2]) = (ours[x].1, ours[y].1);
            if h1 < l2 || h2 < l1 {
                warnings.push(format!(
                    "{} and {} disagree on a: their intervals [{}, {}] and [{}, {}] do not overlap",
                    ours[x].0,
                    ours[y].0,
                    sig(l1, 3),
                    sig(h1, 3),
                    sig(l2, 3),
                    sig(h2, 3)
                ));
            }
        }
    }
    for (name, pa, ia, pb, ib) in PUBLISHED {
        rows.push(ApproachRow {
            approach: name.into(),
            a: pa,
            a_interval: ia,
            b: pb,
            b_interval: ib,
            budgets_used: None,
        });
    }
    Ok(Comparison {
        approaches: rows,
        approach2_bias_check: bias,
        warnings,
        level: req.level,
        bootstrap: req.bootstrap,
        seed: req.seed,
        runs: runs.len(),
    })
}

/// Load the runs the Chinchilla methods read from `table` (its 0-based `rows` when given).
///
/// # Examples
/// ```
/// let law = scaling::law::presets::get("epoch").unwrap().law.unwrap();
/// let points = scaling::simulate::isoflop_design(&law, &[1e18, 1e19, 1e20], 6, 1.5, 6.0);
/// let runs = scaling::simulate::sample_runs(&law, &points, 0.01, 1, "synthetic").unwrap();
/// let t = scaling::data::RunTable::from_csv_str("runs.csv", &scaling::report::lab::runs_csv(&runs)).unwrap();
/// let loaded = scaling::methods::chinchilla_runs(&t, &Default::default(), None).unwrap();
/// assert_eq!(loaded.len(), runs.len());
/// ```
///
/// # Errors
/// The errors of [`load_runs`].
pub fn chinchilla_runs(
    table: &RunTable,
    load: &LoadRequest,
    rows: Option<Vec<usize>>,
) -> Result<Runs> {
    load_runs(table, chinchilla_needs(), load, rows)
}
