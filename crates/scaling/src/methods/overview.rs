//! The whole analysis of a run table that the HTML report and the plots draw: the Chinchilla
//! fit (Approach 3) with its bootstrap, Approach 2 on the same runs, and the compute-optimal
//! allocation at round budgets with intervals. A saved fit can stand in for the fit, so a report
//! or a plot never bootstraps a second time.

use serde::{Deserialize, Serialize};

use crate::accounting::{self, LoadRequest};
use crate::data::{group_rows, Group, RunTable, Runs};
use crate::error::Result;
use crate::fit::{self, Fit, FitConfig};
use crate::groups::{fit_groups, GroupsRequest, GroupsResult, PairedBootstrap};
use crate::law::LawForm;
use crate::uncertainty::{self, BootstrapConfig};

use super::isoflop::{isoflop, Grouping, IsoflopConfig, IsoflopResult};

/// What to analyse.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct OverviewRequest {
    /// Bootstrap replicates of the fit (below 2: none). Ignored with a saved fit.
    pub bootstrap: usize,
    /// Seed of the bootstrap and of Approach 2's resamples.
    pub seed: u64,
    /// IsoFLOP budgets to snap runs to for Approach 2 (empty: runs whose FLOPs agree within 5%).
    pub budgets: Vec<f64>,
    /// Run Approach 2 at all.
    pub isoflop: bool,
    /// Also check the law ([`ReportChecks`]): a backtest holding out the largest compute
    /// budget, and the next runs that would most sharpen N_opt at 1e24 FLOPs.
    #[serde(default)]
    pub checks: bool,
}

impl Default for OverviewRequest {
    fn default() -> Self {
        OverviewRequest {
            bootstrap: 1000,
            seed: 0,
            budgets: Vec::new(),
            isoflop: true,
            checks: false,
        }
    }
}

/// The compute-optimal allocation at one budget, with the 95% percentile interval of N* over
/// the usable bootstrap replicates.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AllocationRow {
    /// The budget C (FLOPs).
    pub flops: f64,
    /// N*.
    pub params: f64,
    /// D*.
    pub tokens: f64,
    /// D* / N*.
    pub tokens_per_param: f64,
    /// The law's loss at the optimum.
    pub loss: Option<f64>,
    /// 95% interval on N*.
    pub params_interval: Option<[f64; 2]>,
}

/// The analysis behind a report: the fit, Approach 2, and allocations at 1e19 to 1e26 FLOPs.
#[derive(Debug, Clone, Serialize)]
pub struct Overview {
    /// The Chinchilla fit (Approach 3), bootstrapped when asked or when saved so.
    pub fit: Fit,
    /// True when `fit` is a saved fit rather than one made here.
    pub saved_fit: bool,
    /// Approach 2 on the same runs, when budgets could be formed.
    pub isoflop: Option<IsoflopResult>,
    /// Why Approach 2 is missing, when it is.
    pub isoflop_error: Option<String>,
    /// The allocation at 1e19, 1e20, ..., 1e26 FLOPs (Hoffmann et al. 2022, Eq. 4).
    pub allocations: Vec<AllocationRow>,
    /// The checks of the law, when asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checks: Option<ReportChecks>,
    /// The runs analysed.
    #[serde(skip)]
    pub runs: Runs,
}

/// How far the report's law can be trusted and what to train next: a backtest (fit on the
/// runs below the top half decade of compute, cut between budgets, and predict the runs above
/// with new-run intervals and the calibrated extrapolation term, the report's replicates up to
/// 400;
/// [`crate::validate::backtest()`]) and a design (the [`DESIGN_RUNS`] runs within
/// [`DESIGN_ALLOWANCE`] of the data's total compute that most shrink the interval on N_opt at
/// [`DESIGN_TARGET`] FLOPs; [`crate::validate::design()`]). Each is absent with the reason when
/// the runs cannot support it.
#[derive(Debug, Clone, Serialize)]
pub struct ReportChecks {
    /// The backtest.
    pub backtest: Option<crate::validate::Backtest>,
    /// Why there is no backtest.
    pub backtest_error: Option<String>,
    /// The design.
    pub design: Option<crate::validate::Design>,
    /// Why there is no design.
    pub design_error: Option<String>,
}

/// Above this many runs the report's backtest has no bootstrap and no extrapolation term (so
/// errors but no intervals): both refit many times, minutes on 1e4 runs; `scaling backtest`
/// runs them at any size.
pub const CALIBRATED_TERM_MAX_RUNS: usize = 2000;

/// The budget at which the report's design sharpens N_opt (FLOPs).
pub const DESIGN_TARGET: f64 = 1e24;
/// The report's design allowance, as a fraction of the compute of the runs analysed.
pub const DESIGN_ALLOWANCE: f64 = 0.25;
/// The runs the report's design proposes.
pub const DESIGN_RUNS: usize = 4;

/// The checks of [`ReportChecks`] on `runs` with the fit `f`.
fn report_checks(
    runs: &Runs,
    f: &Fit,
    replicates: usize,
    seed: u64,
    progress: &(dyn Fn() + Sync),
) -> ReportChecks {
    use crate::validate::{self, Axis, BacktestRequest, DesignRequest, Inflation, Split};
    let k = runs.flops_per_param_token;
    let flops: Vec<f64> = if runs.flops.len() == runs.len() {
        runs.flops.clone()
    } else {
        (0..runs.len())
            .map(|i| k * runs.params[i] * runs.tokens[i])
            .collect()
    };
    // Budgets as distinct compute levels (within 5%); hold out the largest.
    let mut levels: Vec<f64> = flops.clone();
    levels.sort_by(f64::total_cmp);
    levels.dedup_by(|b, a| *b <= *a * 1.05);
    let backtest = (|| -> Result<crate::validate::Backtest> {
        if levels.len() < 3 {
            return Err(crate::error::Error::InsufficientData(format!(
                "{} distinct compute budgets: a backtest needs three or more",
                levels.len()
            )));
        }
        // Hold out the top half decade of compute, cutting between budgets.
        let top = levels[levels.len() - 1] / 10f64.sqrt();
        let below = levels
            .iter()
            .rposition(|&c| c < top)
            .unwrap_or(levels.len() - 2);
        let cutoff = (levels[below] * levels[below + 1]).sqrt();
        // A table of the runs themselves, so the backtest reads the same numbers.
        let table = RunTable::from_columns(
            &runs.source,
            vec![
                (
                    "params".into(),
                    crate::data::Column::Numbers(runs.params.clone()),
                ),
                (
                    "tokens".into(),
                    crate::data::Column::Numbers(runs.tokens.clone()),
                ),
                ("flops".into(), crate::data::Column::Numbers(flops.clone())),
                (
                    "loss".into(),
                    crate::data::Column::Numbers(runs.loss.clone()),
                ),
            ],
        )?;
        let load = LoadRequest {
            flops_per_param_token: k,
            ..LoadRequest::default()
        };
        let mut needs = fit::needs(&LawForm::Chinchilla);
        needs.flops = true;
        let t_runs = accounting::load_runs(&table, needs, &load, None)?;
        let req = BacktestRequest {
            fit: uncertainty::FitRequest {
                config: FitConfig::default(),
                // The report's replicate count, at most 400; none without a bootstrap or on
                // large tables (the backtest's bootstrap takes minutes on 1e4 runs).
                bootstrap: (replicates >= 2 && runs.len() <= CALIBRATED_TERM_MAX_RUNS).then(|| {
                    uncertainty::BootstrapRequest {
                        seed,
                        replicates: replicates.min(400),
                        ..validate::backtest::default_bootstrap()
                    }
                }),
            },
            split: Split::Cutoff {
                axis: Axis::Flops,
                value: cutoff,
            },
            distance_axis: None,
            // The calibrated term refits inner backtests: kept to tables of a size a
            // report builds in seconds (the backtest records which term it used).
            inflation: if runs.len() <= CALIBRATED_TERM_MAX_RUNS {
                Inflation::Calibrated
            } else {
                Inflation::None
            },
        };
        validate::backtest(&table, &t_runs, &req)
    })();
    let total: f64 = flops.iter().sum();
    let req = DesignRequest {
        target: validate::Target::Budget {
            flops: DESIGN_TARGET,
            flops_per_param_token: k,
        },
        quantity: validate::Quantity::NOpt,
        allowance: DESIGN_ALLOWANCE * total,
        runs: DESIGN_RUNS,
        level: 0.95,
        simulate: None,
    };
    let design = validate::design(f, &req, progress);
    let (backtest, backtest_error) = match backtest {
        Ok(b) => (Some(b), None),
        Err(e) => (None, Some(e.to_string())),
    };
    let (design, design_error) = match design {
        Ok(d) => (Some(d), None),
        Err(e) => (None, Some(e.to_string())),
    };
    ReportChecks {
        backtest,
        backtest_error,
        design,
        design_error,
    }
}

/// Analyse `runs`: fit the Chinchilla law (or take `saved`, a fit of the same runs with its
/// bootstrap), bootstrap it with intervals at the largest budget and 1e24, run Approach 2 on
/// the same runs, and allocate 1e19 to 1e26 FLOPs with N*'s percentile interval from the one
/// interval mechanism ([`uncertainty::derived_intervals`]).
///
/// # Examples
/// ```
/// use scaling::methods::{overview, OverviewRequest};
/// let law = scaling::law::presets::get("epoch").unwrap().law.unwrap();
/// let budgets = [1e18, 1e19, 1e20];
/// let design = scaling::simulate::isoflop_design(&law, &budgets, 7, 1.5, 6.0);
/// let runs = scaling::simulate::sample_runs(&law, &design, 0.01, 1, "synthetic").unwrap();
/// let req = OverviewRequest { bootstrap: 20, budgets: budgets.to_vec(), ..Default::default() };
/// let o = overview(&runs, None, &req).unwrap();
/// assert!(o.isoflop.is_some());
/// assert_eq!(o.allocations.len(), 8);
/// assert!(o.allocations[0].params_interval.is_some());
/// ```
///
/// # Errors
/// Those of [`fit::fit`] and [`uncertainty::bootstrap`].
pub fn overview(runs: &Runs, saved: Option<Fit>, req: &OverviewRequest) -> Result<Overview> {
    overview_with(runs, saved, req, &|| {})
}

/// [`overview`], calling `progress` once per finished bootstrap replicate (for a front end's
/// progress bar; `req.bootstrap` of them when the fit is made here, none for a saved fit).
///
/// # Examples
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use scaling::methods::{overview_with, OverviewRequest};
/// let law = scaling::law::presets::get("epoch").unwrap().law.unwrap();
/// let design = scaling::simulate::isoflop_design(&law, &[1e18, 1e19, 1e20], 6, 1.5, 6.0);
/// let runs = scaling::simulate::sample_runs(&law, &design, 0.01, 1, "synthetic").unwrap();
/// let done = AtomicUsize::new(0);
/// let req = OverviewRequest { bootstrap: 10, ..Default::default() };
/// overview_with(&runs, None, &req, &|| { done.fetch_add(1, Ordering::Relaxed); }).unwrap();
/// assert_eq!(done.load(Ordering::Relaxed), 10);
/// ```
///
/// # Errors
/// Those of [`overview`].
pub fn overview_with(
    runs: &Runs,
    saved: Option<Fit>,
    req: &OverviewRequest,
    progress: &(dyn Fn() + Sync),
) -> Result<Overview> {
    let saved_fit = saved.is_some();
    let f = match saved {
        Some(f) => f,
        None => {
            let config = FitConfig::default();
            let mut f = fit::fit(runs, &config)?;
            if req.bootstrap >= 2 && f.law().is_some() {
                // Model sizes when the runs repeat enough of them, as `fit` does.
                let bc = BootstrapConfig::automatic(runs, &f, req.bootstrap, req.seed, 0.95);
                let sizes = bc.clusters.is_some();
                let b = uncertainty::bootstrap(runs, &config, &f, &bc, progress)?;
                if sizes {
                    uncertainty::request::advice_taken(&mut f);
                }
                let budgets: Vec<f64> = f
                    .data_range
                    .flops
                    .map(|r| vec![r[1], 1e24])
                    .unwrap_or_else(|| vec![1e24]);
                uncertainty::attach(&mut f, b, &budgets, 0.95);
            }
            f
        }
    };
    let (iso, isoflop_error) = if req.isoflop {
        let grouping = if req.budgets.is_empty() {
            Grouping::Tolerance(0.05)
        } else {
            Grouping::Listed(req.budgets.clone())
        };
        let r = isoflop(
            &runs.params,
            &runs.tokens,
            &runs.flops,
            &runs.loss,
            &IsoflopConfig {
                grouping,
                replicates: 200,
                seed: req.seed,
                level: 0.95,
                keep_flagged: false,
            },
        );
        match r {
            Ok(r) => (Some(r), None),
            Err(e) => (None, Some(e.to_string())),
        }
    } else {
        (None, None)
    };
    let allocations = allocations(&f);
    let checks = req
        .checks
        .then(|| report_checks(runs, &f, req.bootstrap, req.seed, progress));
    Ok(Overview {
        fit: f,
        saved_fit,
        isoflop: iso,
        isoflop_error,
        allocations,
        checks,
        runs: runs.clone(),
    })
}

/// The allocation at 1e19..1e26 FLOPs with N*'s 95% interval (none without a bootstrap).
fn allocations(f: &Fit) -> Vec<AllocationRow> {
    let (Some(law), Some(_)) = (f.law(), f.implied.as_ref()) else {
        return Vec::new();
    };
    let k = f.conventions.flops_per_param_token;
    let budgets: Vec<f64> = (19..=26).map(|e| 10f64.powi(e)).collect();
    let ivs = f.bootstrap.as_ref().map(|b| {
        uncertainty::derived_intervals(b, law.form.clone(), 0.95, |l| {
            budgets
                .iter()
                .map(|&c| l.optimum(c, k).map(|o| o.params))
                .collect()
        })
    });
    budgets
        .iter()
        .enumerate()
        .filter_map(|(i, &c)| {
            let al = crate::allocate::optimal(&law, c, k, None).ok()?;
            Some(AllocationRow {
                flops: c,
                params: al.params,
                tokens: al.tokens,
                tokens_per_param: al.tokens_per_param,
                loss: al.loss,
                params_interval: ivs
                    .as_ref()
                    .and_then(|v| v.get(i).copied().flatten())
                    .map(|(iv, _)| iv),
            })
        })
        .collect()
}

/// The analysis of a run table by groups: one [`Overview`] per group of the columns `by`
/// (groups in order of first appearance; a group whose analysis fails keeps its error in its
/// place) and, when `by` is one column with at least two groups, the groups compared
/// ([`crate::groups::fit_groups`]: separate fits, a joint fit sharing `shared` with its test,
/// paired-bootstrap differences and compute-equivalent gains at 1e21 and 1e23 FLOPs). The
/// comparison's bootstrap has `req.bootstrap` replicates and `req.seed`.
///
/// # Examples
/// ```
/// use scaling::accounting::LoadRequest;
/// use scaling::data::RunTable;
/// use scaling::methods::{overview_groups, OverviewRequest};
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
/// let req = OverviewRequest { bootstrap: 0, isoflop: false, ..Default::default() };
/// let shared = ["alpha".to_string(), "beta".to_string()];
/// let g = overview_groups(&table, &LoadRequest::default(), &["set".into()], &shared, &req, &|| {})
///     .unwrap();
/// assert_eq!(g.sections.len(), 2);
/// let cmp = g.comparison.unwrap().unwrap();
/// assert!((cmp.joint.unwrap().params["alpha"].unwrap() - 0.34).abs() < 1e-3);
/// ```
///
/// # Errors
/// A column of `by` that is not a header, a row filter that does not parse, and the errors
/// of loading runs that concern the whole table.
pub fn overview_groups(
    table: &RunTable,
    load: &LoadRequest,
    by: &[String],
    shared: &[String],
    req: &OverviewRequest,
    progress: &(dyn Fn() + Sync),
) -> Result<GroupedOverview> {
    let selected = accounting::selected_rows(table, load)?;
    let groups = group_rows(table, by, &selected)?;
    let mut needs = fit::needs(&LawForm::Chinchilla);
    needs.flops = true;
    let sections: Vec<(Group, Result<Overview>)> = groups
        .into_iter()
        .map(|g| {
            let rows = (!g.key.is_empty()).then(|| g.rows.clone());
            let one = accounting::load_runs(table, needs, load, rows)
                .and_then(|runs| overview_with(&runs, None, req, progress));
            (g, one)
        })
        .collect();
    let comparison = match by {
        [col] if sections.len() >= 2 => {
            let greq = GroupsRequest {
                by: col.clone(),
                config: FitConfig::default(),
                shared: shared.to_vec(),
                ties: vec![],
                budgets: vec![],
                bootstrap: (req.bootstrap >= 2).then_some(PairedBootstrap {
                    replicates: req.bootstrap,
                    seed: req.seed,
                    level: 0.95,
                    pair_column: None,
                }),
            };
            Some(fit_groups(table, load, &greq, progress))
        }
        _ => None,
    };
    Ok(GroupedOverview {
        sections,
        comparison,
    })
}

/// What [`overview_groups`] returns.
#[derive(Debug)]
pub struct GroupedOverview {
    /// Each group and its analysis (or the error that stopped it).
    pub sections: Vec<(Group, Result<Overview>)>,
    /// The groups compared (one `by` column with two groups or more), or why that failed.
    pub comparison: Option<Result<GroupsResult>>,
}
