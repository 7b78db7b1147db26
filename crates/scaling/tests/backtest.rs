//! Backtests (`scaling::validate`): held-out errors and interval coverage on real data, and the
//! rule that the extrapolation term is calibrated on the training runs only.

mod common;

use scaling::accounting::{load_runs, LoadRequest};
use scaling::data::{Column, ColumnOverrides, Needs, RunTable};
use scaling::fit::FitNames;
use scaling::uncertainty::{BootstrapRequest, FitRequest, RUN_LEVEL};
use scaling::validate::{
    backtest, rolling, Axis, BacktestRequest, Inflation, RollingRequest, Split,
};

fn request(names: FitNames, headers: &[&str], replicates: usize, split: Split) -> BacktestRequest {
    BacktestRequest {
        fit: FitRequest {
            config: names.config_for(headers).unwrap(),
            bootstrap: (replicates > 0).then(|| BootstrapRequest {
                replicates,
                // Single runs, as when these numbers were first measured (issue 11); the
                // default's model sizes are checked in the Epoch test below.
                cluster_column: Some(RUN_LEVEL.into()),
                ..Default::default()
            }),
        },
        split,
        distance_axis: None,
        inflation: Inflation::Calibrated,
    }
}

fn needs_all() -> Needs {
    Needs {
        params: true,
        tokens: true,
        flops: true,
    }
}

/// Issue 11 item 4 (regression): fitting Epoch's runs (Besiroglu et al. 2024,
/// epoch_chinchilla_svg.csv, all 245 rows) with C <= 1e21 and predicting the 23 larger runs,
/// the new-run intervals covered 16 of 23 (70%) at nominal 95%; with the extrapolation term
/// calibrated on the training runs the coverage must lie in 90-98%.
#[test]
fn epoch_cutoff_1e21_extrapolation_intervals_cover_90_to_98_percent() {
    let Some(path) = common::shared_data("epoch_chinchilla_svg.csv") else {
        return;
    };
    let table = RunTable::read(path).unwrap();
    let runs = load_runs(&table, needs_all(), &LoadRequest::default(), None).unwrap();
    let headers: Vec<&str> = table.columns.iter().map(|c| c.as_str()).collect();
    let req = request(
        FitNames::default(),
        &headers,
        200,
        Split::Cutoff {
            axis: Axis::Flops,
            value: 1e21,
        },
    );
    let b = backtest(&table, &runs, &req).unwrap();
    assert_eq!(b.held_out.len(), 23);
    assert_eq!(b.train_runs, 222);
    let s = &b.summary;
    // The old interval, kept beside the new one: 16 of 23.
    let new_run = s.coverage_new_run.unwrap();
    assert!(new_run < 0.8, "new-run coverage {new_run}");
    let cov = s.coverage.unwrap();
    assert!((0.90..=0.98).contains(&cov), "coverage {cov}");
    // The 1.3e22 run (row 245, loss 2.077) sits 1.1 decades out; its interval must reach it.
    let far = b.held_out.iter().find(|h| h.row == 245).unwrap();
    assert!((far.decades - 1.11).abs() < 0.01, "{}", far.decades);
    let m = b.misspecification.as_ref().unwrap();
    assert!(m.kappa > 0.0 && m.inner_cutoffs.len() >= 4, "{m:?}");
    // Errors: median 1.4%, max 4.3% (the 1.3e22 run).
    assert!((s.max_abs_relative_error.unwrap() - 0.0431).abs() < 0.001);

    // By default the bootstrap resamples Epoch's 43 model sizes (runs of one size share their
    // errors), and says so. Its percentile intervals sit slightly differently: 20 or 21 of the
    // 23 runs are covered over seeds 0-9 (mean 89%), against 20-22 (mean 91%) resampling runs;
    // with seed 0, 20 of 23 (the 2.4% error of row 230 falls just outside).
    let mut default = req.clone();
    default.fit.bootstrap.as_mut().unwrap().cluster_column = None;
    let b = backtest(&table, &runs, &default).unwrap();
    let clusters = b.conventions.cluster_column.as_deref().unwrap();
    assert!(clusters.starts_with("N (model sizes"), "{clusters}");
    let covered = b
        .held_out
        .iter()
        .filter(|h| h.covered == Some(true))
        .count();
    assert!((20..=22).contains(&covered), "{covered} of 23");
}

/// The extrapolation term must not see the held-out runs: changing their losses changes the
/// errors but not sigma0 and kappa (synthetic runs from L = 1.7 + 400/N^0.34 + 410/D^0.28 with
/// a deterministic wiggle).
#[test]
fn extrapolation_term_is_calibrated_without_the_held_out_runs() {
    let mut n = Vec::new();
    let mut d = Vec::new();
    let mut l = Vec::new();
    for i in 0..8 {
        for j in 0..6 {
            let (p, t) = (3e7 * 2f64.powi(i), 1e9 * 2f64.powi(j));
            n.push(p);
            d.push(t);
            let wiggle = 1.0 + 0.01 * ((7 * i + 3 * j) as f64).sin();
            l.push((1.7 + 400.0 / p.powf(0.34) + 410.0 / t.powf(0.28)) * wiggle);
        }
    }
    let make = |loss: Vec<f64>| {
        RunTable::from_columns(
            "<arrays>",
            vec![
                ("params".into(), Column::Numbers(n.clone())),
                ("tokens".into(), Column::Numbers(d.clone())),
                ("loss".into(), Column::Numbers(loss)),
            ],
        )
        .unwrap()
    };
    let cutoff = 6.0 * 3e7 * 2f64.powi(6) * 1e9 * 2f64.powi(3);
    let run = |table: &RunTable| {
        let runs = load_runs(table, needs_all(), &LoadRequest::default(), None).unwrap();
        let req = request(
            FitNames::default(),
            &["params", "tokens", "loss"],
            100,
            Split::Cutoff {
                axis: Axis::Flops,
                value: cutoff,
            },
        );
        backtest(table, &runs, &req).unwrap()
    };
    let a = run(&make(l.clone()));
    let held: Vec<usize> = (0..n.len())
        .filter(|&i| 6.0 * n[i] * d[i] > cutoff)
        .collect();
    assert!(!held.is_empty());
    let mut l2 = l.clone();
    for &i in &held {
        l2[i] *= 1.2;
    }
    let b = run(&make(l2));
    let (ma, mb) = (
        a.misspecification.as_ref().unwrap(),
        b.misspecification.as_ref().unwrap(),
    );
    assert_eq!(ma.kappa, mb.kappa);
    assert_eq!(ma.sigma0, mb.sigma0);
    assert!(b.summary.mean_abs_relative_error > a.summary.mean_abs_relative_error);
    // Rolling: every held-out prediction lands in exactly one distance bin.
    let runs = load_runs(&make(l), needs_all(), &LoadRequest::default(), None).unwrap();
    let r = rolling(
        &make(runs.loss.clone()),
        &runs,
        &RollingRequest {
            base: request(
                FitNames::default(),
                &["params", "tokens", "loss"],
                0,
                Split::Cutoff {
                    axis: Axis::Flops,
                    value: 0.0,
                },
            ),
            axis: Axis::Flops,
            cutoffs: Vec::new(),
            bin_width: 0.5,
        },
    )
    .unwrap();
    let binned: usize = r.bins.iter().map(|b| b.summary.runs).sum();
    assert_eq!(binned, r.points.len());
    assert!(r.steps.len() >= 3, "{:?}", r.steps.len());
}

/// Golden: Gadre et al. 2024 (arXiv:2403.08540, Fig. 1; ../shared/REFERENCE.md): the
/// over-training law fitted by least squares (linear space) on the five small RedPajama models
/// predicts the 1.4B model at M = 640 and the 6.9B model at M = 20 with relative errors 0.71%
/// and 0.73%.
#[test]
fn gadre_testbed_backtest_reproduces_the_papers_errors() {
    let Some(path) = common::shared_data("gadre2024_overtraining_testbed.csv") else {
        return;
    };
    let table = RunTable::read(path).unwrap();
    let load = LoadRequest {
        loss_col: Some("loss_c4_val".into()),
        ..Default::default()
    };
    let runs = load_runs(&table, needs_all(), &load, None).unwrap();
    let headers: Vec<&str> = table.columns.iter().map(|c| c.as_str()).collect();
    let train = [
        "rpj-d=96_l=8_h=4-1.0",
        "rpj-d=512_l=8_h=4-1.0",
        "rpj-d=576_l=24_h=8-1.0",
        "rpj-d=1024_l=24_h=8-1.0",
        "rpj-d=96_l=8_h=4-16.0",
    ]
    .map(|n| format!("name == '{n}'"))
    .join(" or ");
    let req = request(
        FitNames {
            law: "overtraining".into(),
            objective: "squared".into(),
            space: "linear".into(),
            ..Default::default()
        },
        &headers,
        0,
        Split::Where {
            train,
            test: Some("name == 'rpj-open_lm_1b-32.0' or name == 'rpj-open_lm_7b-1.0'".into()),
            columns: ColumnOverrides {
                loss: Some("loss_c4_val".into()),
                ..Default::default()
            },
        },
    );
    let b = backtest(&table, &runs, &req).unwrap();
    assert_eq!(b.train_runs, 5);
    let errs: Vec<f64> = b
        .held_out
        .iter()
        .map(|h| 100.0 * h.relative_error)
        .collect();
    assert_eq!(errs.len(), 2);
    assert!((errs[0] - 0.71).abs() < 0.02, "{errs:?}");
    assert!((errs[1] - 0.73).abs() < 0.02, "{errs:?}");
}
