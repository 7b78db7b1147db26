//! The `fit` entry point: a fit and, when asked, its bootstrap intervals, in one call that the
//! command line and Python share.

use crate::data::{RunTable, Runs};
use crate::error::{Error, Result};
use crate::fit::{self, Fit, FitConfig};
use crate::law::{LawForm, Var};

use super::{attach, bootstrap, BootstrapConfig};

/// How to bootstrap a fit (Efron and Tibshirani 1993; Besiroglu et al. 2024 use 4000
/// replicates of Chinchilla's runs).
#[derive(Debug, Clone)]
pub struct BootstrapRequest {
    /// Number of replicates.
    pub replicates: usize,
    /// Seed: replicate r draws from stream r, so results do not depend on the thread count.
    pub seed: u64,
    /// Resample whole groups of runs sharing this column's value instead of single runs.
    pub cluster_column: Option<String>,
    /// Interval level in (0, 1).
    pub level: f64,
    /// Budgets (FLOPs) for intervals on the compute-optimal allocation; empty means the
    /// largest budget in the data and 1e24.
    pub budgets: Vec<f64>,
}

impl Default for BootstrapRequest {
    fn default() -> Self {
        BootstrapRequest {
            replicates: 1000,
            seed: 0,
            cluster_column: None,
            level: 0.95,
            budgets: Vec::new(),
        }
    }
}

/// A fit and, optionally, its bootstrap.
#[derive(Debug, Clone, Default)]
pub struct FitRequest {
    /// The law, objective, starts and optimiser.
    pub config: FitConfig,
    /// Bootstrap the fit for intervals and standard errors.
    pub bootstrap: Option<BootstrapRequest>,
}

/// The group label of every run in `column` of `table` (for the cluster bootstrap). `N`, or
/// the column the runs' N was read from, groups runs by model size: parameter counts within
/// [`fit::SIZE_TOLERANCE`] (0.1%) of each other are one size ([`fit::size_clusters`]), so
/// digitised tables whose sizes differ in the fourth digit are not split into one cluster per
/// run.
///
/// # Errors
/// [`Error::MissingColumn`] when the column is absent, [`Error::BadValue`] for an empty label.
pub fn cluster_labels(table: &RunTable, runs: &Runs, column: &str) -> Result<Vec<String>> {
    if clusters_sizes(runs, column) {
        return Ok(fit::size_clusters(&runs.params, fit::SIZE_TOLERANCE));
    }
    let c = table.field_column("cluster_column", column)?;
    let mut labels = Vec::with_capacity(runs.len());
    for &row in &runs.rows {
        let v = table.cell(row - 1, c).trim().to_string();
        if v.is_empty() {
            return Err(Error::BadValue {
                location: table.location(row - 1),
                column: column.to_string(),
                value: String::new(),
                problem: "empty group label".into(),
            });
        }
        labels.push(v);
    }
    Ok(labels)
}

/// True when clustering `runs` by `column` means by model size (`N`, or the column N was read
/// from), which [`cluster_labels`] does within [`fit::SIZE_TOLERANCE`].
fn clusters_sizes(runs: &Runs, column: &str) -> bool {
    let n_column = match &runs.sources.params {
        Some(crate::data::ValueSource::Column { column }) => Some(column.as_str()),
        _ => None,
    };
    (column == "N" || Some(column) == n_column) && runs.params.len() == runs.len()
}

/// Fit `runs` (read from `table`) and, when the request asks, bootstrap the fit and attach
/// percentile intervals on the parameters and, for the Chinchilla form, on the
/// compute-optimal allocation at the requested budgets (Hoffmann et al. 2022, Eq. 4).
/// `progress` is called once per finished replicate.
///
/// # Examples
/// ```
/// use scaling::accounting::{load_runs, LoadRequest};
/// use scaling::data::{Column, RunTable};
/// use scaling::uncertainty::{fit_table, FitRequest};
/// // Runs drawn exactly from L = 1.7 + 400/N^0.34 + 410/D^0.28.
/// let (mut n, mut d, mut l) = (vec![], vec![], vec![]);
/// for i in 0..6 {
///     for j in 0..6 {
///         let (p, t) = (1e7 * 3f64.powi(i), 1e9 * 2.5f64.powi(j));
///         n.push(p);
///         d.push(t);
///         l.push(1.7 + 400.0 / p.powf(0.34) + 410.0 / t.powf(0.28));
///     }
/// }
/// let table = RunTable::from_columns("<arrays>", vec![
///     ("params".into(), Column::Numbers(n)),
///     ("tokens".into(), Column::Numbers(d)),
///     ("loss".into(), Column::Numbers(l)),
/// ]).unwrap();
/// let req = FitRequest::default();
/// let runs = load_runs(&table, scaling::fit::needs(&req.config.form), &LoadRequest::default(), None).unwrap();
/// let fit = fit_table(&table, &runs, &req, &|| {}).unwrap();
/// assert!((fit.params["alpha"].unwrap() - 0.34).abs() < 1e-6);
/// ```
///
/// # Errors
/// Every error of [`fit::fit`] and [`bootstrap`]; budgets for a law without a
/// compute-optimal allocation.
pub fn fit_table(
    table: &RunTable,
    runs: &Runs,
    req: &FitRequest,
    progress: &(dyn Fn() + Sync),
) -> Result<Fit> {
    let mut weighted;
    let mut config = &req.config;
    if let (Some(col), None) = (&config.weight_column, &config.weights) {
        weighted = config.clone();
        weighted.weights = Some(weights_from(table, runs, col)?);
        config = &weighted;
    }
    let columns = law_columns(table, runs, &config.form)?;
    let mut result = fit::fit_with_columns(runs, &columns, config)?;
    if let Some(b) = &req.bootstrap {
        if !b.budgets.is_empty() && config.form != LawForm::Chinchilla {
            return Err(Error::InvalidSetting(
                "budgets give intervals on the compute-optimal allocation, which only the Chinchilla law has".into(),
            ));
        }
        let clusters = match &b.cluster_column {
            None => None,
            Some(col) => Some(cluster_labels(table, runs, col)?),
        };
        let bc = BootstrapConfig {
            replicates: b.replicates,
            seed: b.seed,
            clusters,
            // Recorded with the tolerance when clusters are model sizes.
            cluster_column: b.cluster_column.as_ref().map(|c| {
                if clusters_sizes(runs, c) {
                    format!("{c} (model sizes: N within 0.1%)")
                } else {
                    c.clone()
                }
            }),
            level: b.level,
        };
        let boot = bootstrap(runs, config, &result, &bc, progress)?;
        let budgets = if b.budgets.is_empty() {
            default_budgets(&result)
        } else {
            b.budgets.clone()
        };
        attach(&mut result, boot, &budgets, b.level);
        if b.cluster_column
            .as_deref()
            .is_some_and(|c| clusters_sizes(runs, c))
        {
            // The advice to resample by model size has been taken.
            for w in result.warnings.iter_mut() {
                if let Some(i) = w.find("; resample by model size") {
                    w.truncate(i);
                    w.push_str("; the bootstrap resampled model sizes, as it should");
                }
            }
        }
    }
    Ok(result)
}

/// Per-run weights of `runs` from `column` of `table`.
///
/// # Errors
/// [`Error::MissingColumn`] for an absent column; [`Error::BadValue`] naming the file, row,
/// column and value of a weight that is not a finite number >= 0.
pub fn weights_from(table: &RunTable, runs: &Runs, column: &str) -> Result<Vec<f64>> {
    let c = table.field_column("weight_col", column)?;
    table.numbers(
        &runs.rows,
        c,
        |v| v >= 0.0,
        "a weight must be a finite number >= 0",
    )
}

/// The columns a law reads besides N, D and C (unique tokens U, steps S, named columns), one
/// value per run of `runs`, keyed by header.
///
/// # Errors
/// [`Error::BadValue`] naming the file, row, column and value of a cell that is not a
/// number (U and S must be positive); a missing column is reported by the fit, which names
/// the headers it tried.
pub fn law_columns(table: &RunTable, runs: &Runs, form: &LawForm) -> Result<fit::Columns> {
    let mut out = fit::Columns::new();
    for v in form.form().variables() {
        let Some(name) = fit::column_for(&v, table.columns.iter().map(|c| c.as_str())) else {
            continue;
        };
        let c = table.column_index(&name).expect("found among the headers");
        let vals = match v {
            Var::Column(_) => table.numbers(&runs.rows, c, |_| true, "not a finite number")?,
            _ => runs
                .rows
                .iter()
                .map(|&row| table.positive(row - 1, c))
                .collect::<Result<_>>()?,
        };
        out.insert(name, vals);
    }
    Ok(out)
}

/// The budgets at which a bootstrapped fit reports its allocation by default: the largest
/// budget in its data (when it has C) and 1e24 FLOPs.
pub fn default_budgets(fit: &Fit) -> Vec<f64> {
    let mut b: Vec<f64> = fit.data_range.flops.map(|r| vec![r[1]]).unwrap_or_default();
    b.push(1e24);
    b
}
