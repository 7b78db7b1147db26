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
    /// Resample whole groups of runs sharing this column's value instead of single runs;
    /// [`RUN_LEVEL`] resamples single runs. `None` chooses: model sizes when the runs repeat
    /// enough sizes, single runs otherwise ([`automatic_clusters`]).
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

/// The cluster column that asks for single runs to be resampled.
pub const RUN_LEVEL: &str = "none";

/// Fewest model sizes for a bootstrap to resample sizes by default.
pub const AUTO_CLUSTER_MIN_SIZES: usize = 20;

/// Fewest model sizes holding two runs or more for a bootstrap to resample sizes by default.
pub const AUTO_CLUSTER_MIN_REPEATED: usize = 3;

/// The clusters a bootstrap resamples when none were asked for, with the words recorded for
/// them ([`Clusters`]): model sizes (N within [`fit::SIZE_TOLERANCE`]) when the runs hold at least
/// [`AUTO_CLUSTER_MIN_SIZES`] sizes of which [`AUTO_CLUSTER_MIN_REPEATED`] repeat, single runs
/// (no labels) otherwise.
///
/// Runs of one size share its architecture, code and tuning, so their errors move together;
/// resampling single runs then treats correlated runs as independent and its intervals are
/// too narrow. Measured with `scaling calibrate` on Epoch AI's design (245 runs, 43 sizes,
/// 150 datasets, seeds 1 and 2): with the within-size correlation of Epoch's residuals, single
/// runs cover alpha 86%, E 91% and a 89% at nominal 95%, model sizes 93-98% for alpha, beta,
/// E and a; with independent noise, model sizes cover 93-97% with the same mean widths as
/// single runs (alpha 0.0425 against 0.0426). Resampling sizes is thus safe with many sizes
/// whether or not the residuals are correlated, and deciding by the estimated correlation
/// (which misses it in a third of the correlated datasets) covers less. With few sizes a
/// resample holds too few distinct sizes to fit the exponent, so runs are resampled and a
/// material correlation is reported as a warning. The cluster bootstrap is Davison & Hinkley
/// (1997), section 3.8.
///
/// # Examples
/// ```
/// use scaling::fit::{fit, FitConfig};
/// let law = scaling::law::presets::get("epoch").unwrap().law.unwrap();
/// // Four budgets of six sizes each: 24 distinct sizes, none repeated.
/// let design = scaling::simulate::isoflop_design(&law, &[1e18, 1e19, 1e20, 1e21], 6, 1.5, 6.0);
/// let runs = scaling::simulate::sample_runs(&law, &design, 0.01, 1, "synthetic").unwrap();
/// let f = fit(&runs, &FitConfig::default()).unwrap();
/// assert!(scaling::uncertainty::automatic_clusters(&runs, &f).labels.is_none());
/// ```
pub fn automatic_clusters(runs: &Runs, fit: &Fit) -> Clusters {
    if runs.params.len() != runs.len() {
        return Clusters::default();
    }
    let ids = fit::size_ids(&runs.params, fit::SIZE_TOLERANCE);
    let mut counts = vec![0usize; ids.iter().max().map_or(0, |m| *m as usize + 1)];
    for &id in &ids {
        counts[id as usize] += 1;
    }
    let repeated = counts.iter().filter(|c| **c >= 2).count();
    if counts.len() < AUTO_CLUSTER_MIN_SIZES || repeated < AUTO_CLUSTER_MIN_REPEATED {
        return Clusters::default();
    }
    let icc = fit
        .residual_correlation
        .iter()
        .find(|rc| rc.by == "N")
        .map(|rc| {
            format!(
                "; their log residuals' intra-class correlation within a size is {}",
                crate::num::sig(rc.icc, 2)
            )
        })
        .unwrap_or_default();
    Clusters {
        labels: Some(fit::size_clusters(&runs.params, fit::SIZE_TOLERANCE)),
        words: Some(format!(
            "N{SIZE_WORDS}, chosen because the runs repeat {repeated} of {} model sizes{icc}",
            counts.len()
        )),
        sizes: true,
    }
}

/// How clusters of model sizes are named in a bootstrap's conventions, after the column:
/// `N (model sizes: N within 0.1%)` ([`fit::SIZE_TOLERANCE`]).
pub const SIZE_WORDS: &str = " (model sizes: N within 0.1%)";

impl BootstrapConfig {
    /// A bootstrap of `fit` that resamples what `scaling fit` does by default: model sizes
    /// when the runs repeat enough of them ([`automatic_clusters`]), single runs otherwise.
    pub fn automatic(runs: &Runs, fit: &Fit, replicates: usize, seed: u64, level: f64) -> Self {
        let c = automatic_clusters(runs, fit);
        BootstrapConfig {
            replicates,
            seed,
            clusters: c.labels,
            cluster_column: c.words,
            level,
        }
    }
}

/// What a bootstrap resamples: the cluster label of every run (`None`: single runs), the
/// words recorded for them, and whether they are model sizes.
#[derive(Debug, Clone, Default)]
pub struct Clusters {
    /// One label per run, or `None` to resample single runs.
    pub labels: Option<Vec<String>>,
    /// What the labels are, as recorded in the bootstrap's conventions.
    pub words: Option<String>,
    /// The labels are model sizes.
    pub sizes: bool,
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
    fit_inputs(runs, TableInputs::gather(table, runs, req)?, req, progress)
}

/// What a fit of runs reads from their table besides N, D, C and the loss: per-run weights,
/// the law's other columns (U, S, named columns) and an explicit cluster column's labels.
/// Gathered before the fit, so a caller can free the table first (`scaling fit` on 1e6 runs
/// keeps its peak memory to the runs and the fit).
#[derive(Debug, Clone, Default)]
pub struct TableInputs {
    /// Per-run weights from the request's weight column.
    pub weights: Option<Vec<f64>>,
    /// The law's columns besides N, D and C.
    pub columns: fit::Columns,
    /// The clusters of an explicit cluster column (`None`: automatic or single runs).
    pub clusters: Option<Clusters>,
}

impl TableInputs {
    /// Read them from `table` for `runs` and the request `req`.
    ///
    /// # Errors
    /// A missing or bad weight, law or cluster column (naming file, row, column and value).
    pub fn gather(table: &RunTable, runs: &Runs, req: &FitRequest) -> Result<TableInputs> {
        let config = &req.config;
        let weights = match (&config.weight_column, &config.weights) {
            (Some(col), None) => Some(weights_from(table, runs, col)?),
            _ => None,
        };
        let clusters = match req
            .bootstrap
            .as_ref()
            .and_then(|b| b.cluster_column.as_deref())
        {
            None | Some(RUN_LEVEL) => None,
            Some(c) => {
                let sizes = clusters_sizes(runs, c);
                Some(Clusters {
                    labels: Some(cluster_labels(table, runs, c)?),
                    // Recorded with the tolerance when clusters are model sizes.
                    words: Some(if sizes {
                        format!("{c}{SIZE_WORDS}")
                    } else {
                        c.to_string()
                    }),
                    sizes,
                })
            }
        };
        Ok(TableInputs {
            weights,
            columns: law_columns(table, runs, &config.form)?,
            clusters,
        })
    }
}

/// [`fit_table`] on inputs gathered from the table ([`TableInputs::gather`]).
///
/// # Examples
/// ```
/// use scaling::accounting::{load_runs, LoadRequest};
/// use scaling::data::RunTable;
/// use scaling::uncertainty::{fit_inputs, FitRequest, TableInputs};
/// let mut csv = String::from("N,D,loss\n");
/// for i in 0..6 {
///     for j in 0..6 {
///         let (n, d) = (1e7 * 3f64.powi(i), 1e9 * 2.5f64.powi(j));
///         csv += &format!("{n},{d},{}\n", 1.7 + 400.0 / n.powf(0.34) + 410.0 / d.powf(0.28));
///     }
/// }
/// let table = RunTable::from_csv_str("runs.csv", &csv).unwrap();
/// let req = FitRequest::default();
/// let runs = load_runs(&table, scaling::fit::needs(&req.config.form), &LoadRequest::default(), None).unwrap();
/// let inputs = TableInputs::gather(&table, &runs, &req).unwrap();
/// drop(table); // the fit needs only the runs and what was gathered
/// let fit = fit_inputs(&runs, inputs, &req, &|| {}).unwrap();
/// assert!((fit.params["beta"].unwrap() - 0.28).abs() < 1e-6);
/// ```
///
/// # Errors
/// As [`fit_table`].
pub fn fit_inputs(
    runs: &Runs,
    inputs: TableInputs,
    req: &FitRequest,
    progress: &(dyn Fn() + Sync),
) -> Result<Fit> {
    let mut weighted;
    let mut config = &req.config;
    if let Some(w) = inputs.weights {
        weighted = config.clone();
        weighted.weights = Some(w);
        config = &weighted;
    }
    let mut result = fit::fit_with_columns(runs, &inputs.columns, config)?;
    drop(inputs.columns);
    if let Some(b) = &req.bootstrap {
        if !b.budgets.is_empty() && config.form != LawForm::Chinchilla {
            return Err(Error::InvalidSetting(
                "budgets give intervals on the compute-optimal allocation, which only the Chinchilla law has".into(),
            ));
        }
        let chosen = match (inputs.clusters, b.cluster_column.as_deref()) {
            (Some(c), _) => c,
            (None, Some(RUN_LEVEL)) => Clusters::default(),
            (None, _) => automatic_clusters(runs, &result),
        };
        let sizes = chosen.sizes;
        let bc = BootstrapConfig {
            replicates: b.replicates,
            seed: b.seed,
            clusters: chosen.labels,
            cluster_column: chosen.words,
            level: b.level,
        };
        let boot = bootstrap(runs, config, &result, &bc, progress)?;
        let budgets = if b.budgets.is_empty() {
            default_budgets(&result)
        } else {
            b.budgets.clone()
        };
        attach(&mut result, boot, &budgets, b.level);
        if sizes {
            advice_taken(&mut result);
        }
    }
    Ok(result)
}

/// Once a bootstrap has resampled model sizes, the fit's correlation warning says so instead
/// of advising it ([`fit::ResidualCorrelation::warning`]).
pub(crate) fn advice_taken(fit: &mut Fit) {
    for rc in &fit.residual_correlation {
        let advice = rc.warning(false);
        for w in fit.warnings.iter_mut().filter(|w| **w == advice) {
            *w = rc.warning(true);
        }
    }
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
