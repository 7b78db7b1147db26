//! Joint fits across groups, the test of shared parameters, weights and the asymmetric
//! penalty.

mod common;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use scaling::accounting::{load_runs, LoadRequest};
use scaling::data::{Column, RunTable};
use scaling::fit::{self, FitConfig, Objective, Penalty, Space};
use scaling::groups::{fit_groups, GroupsRequest, PairedBootstrap};
use scaling::law::LawForm;

/// Runs on a 6 x 6 grid of N and D per group, drawn from L = E_g + A_g/N^alpha_g + B/D^beta
/// with log-normal noise of `sd`. Returns a table with a `dataset` column.
fn table(groups: &[(&str, f64, f64, f64)], sd: f64, seed: u64) -> RunTable {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut n, mut d, mut l, mut g) = (vec![], vec![], vec![], vec![]);
    for &(name, e, a, alpha) in groups {
        for i in 0..6 {
            for j in 0..6 {
                let (p, t) = (3e7 * 2.5f64.powi(i), 1e9 * 2.2f64.powi(j));
                let z: f64 = (0..12).map(|_| rng.random::<f64>()).sum::<f64>() - 6.0;
                let loss = (e + a / p.powf(alpha) + 410.0 / t.powf(0.28)) * (sd * z).exp();
                n.push(p);
                d.push(t);
                l.push(loss);
                g.push(name.to_string());
            }
        }
    }
    RunTable::from_columns(
        "<synthetic>",
        vec![
            ("params".into(), Column::Numbers(n)),
            ("tokens".into(), Column::Numbers(d)),
            ("loss".into(), Column::Numbers(l)),
            ("dataset".into(), Column::Labels(g)),
        ],
    )
    .unwrap()
}

fn request(shared: &[&str]) -> GroupsRequest {
    GroupsRequest {
        by: "dataset".into(),
        config: FitConfig::default(),
        shared: shared.iter().map(|s| s.to_string()).collect(),
        ties: vec![],
        budgets: vec![1e21],
        bootstrap: None,
    }
}

#[test]
fn joint_fit_sharing_every_parameter_equals_the_pooled_fit() {
    // Two groups drawn from the same law: sharing E, A, B, alpha and beta leaves one law,
    // which must be the fit of the pooled table.
    let t = table(&[("x", 1.7, 400.0, 0.34), ("y", 1.7, 400.0, 0.34)], 0.01, 3);
    let r = fit_groups(
        &t,
        &LoadRequest::default(),
        &request(&["E", "A", "B", "alpha", "beta"]),
        &|| {},
    )
    .unwrap();
    let joint = r.joint.expect("joint fit");
    let runs = load_runs(
        &t,
        fit::needs(&LawForm::Chinchilla),
        &LoadRequest::default(),
        None,
    )
    .unwrap();
    let pooled = fit::fit(&runs, &FitConfig::default()).unwrap();
    for name in ["E", "A", "B", "alpha", "beta"] {
        let (j, p) = (joint.params[name].unwrap(), pooled.params[name].unwrap());
        assert!((j / p - 1.0).abs() < 1e-4, "{name}: joint {j} pooled {p}");
    }
    assert!((joint.objective / pooled.objective - 1.0).abs() < 1e-6);
}

#[test]
fn the_shared_exponent_test_separates_equal_from_different_exponents() {
    // Same exponents, different E and A: no evidence against sharing alpha.
    let same = table(
        &[("x", 1.7, 400.0, 0.34), ("y", 1.9, 300.0, 0.34)],
        0.005,
        11,
    );
    let mut req = request(&["alpha", "beta"]);
    req.config.objective = Objective {
        penalty: Penalty::Squared,
        ..Objective::default()
    };
    let r = fit_groups(&same, &LoadRequest::default(), &req, &|| {}).unwrap();
    let t = r.test.expect("test");
    assert_eq!(t.f_df, [2, 72 - 10]);
    assert!(t.f_p_value > 0.01, "{t:?}");
    // alpha differing by 0.1, with A scaled so both N terms are equal at N = 1e8: the test
    // rejects.
    let diff = table(
        &[
            ("x", 1.7, 400.0, 0.34),
            ("y", 1.7, 400.0 * 1e8f64.powf(0.1), 0.44),
        ],
        0.005,
        11,
    );
    let r = fit_groups(&diff, &LoadRequest::default(), &req, &|| {}).unwrap();
    let t = r.test.expect("test");
    assert!(t.f_p_value < 1e-4, "{t:?}");
    assert!(t.lr_p_value < 1e-4, "{t:?}");
    // The joint law has per-group E and A, and one alpha.
    let j = r.joint.unwrap();
    assert!(j.params.contains_key("E[x]") && j.params.contains_key("alpha"));
    assert!(!j.params.contains_key("alpha[x]"));
    // A saved joint fit reads back as the same law (its conventions record the grouping).
    let back =
        scaling::fit::Fit::from_json_str("j.json", &serde_json::to_string(&j).unwrap()).unwrap();
    assert_eq!(back.law().unwrap().params, j.law().unwrap().params);
    let y = scaling::groups::group_law(&back, 1).unwrap();
    assert_eq!(y.form, LawForm::Chinchilla);
    assert_eq!(y.params[4], j.params["beta"].unwrap());
}

#[test]
fn paired_bootstrap_orders_a_clearly_better_group() {
    // y has a lower floor E: y is better at every budget, so P(x better) is 0 and the gain
    // of y over x exceeds 1.
    let t = table(
        &[("x", 1.9, 400.0, 0.34), ("y", 1.7, 400.0, 0.34)],
        0.005,
        5,
    );
    let mut req = request(&[]);
    req.bootstrap = Some(PairedBootstrap {
        replicates: 40,
        seed: 1,
        level: 0.9,
        pair_column: None,
    });
    let r = fit_groups(&t, &LoadRequest::default(), &req, &|| {}).unwrap();
    let c = &r.comparisons[0];
    let at = &c.at_budget["1e21"];
    assert_eq!(at["P_a_better"].value, Some(0.0));
    let g = &at["gain_b_over_a"];
    assert!(
        g.value.unwrap() > 1.0 && g.interval.unwrap()[0] > 1.0,
        "{g:?}"
    );
    let de = &c.params["E"];
    let [lo, hi] = de.interval.unwrap();
    assert!(
        lo < 0.2 && 0.2 < hi,
        "dE interval {lo} {hi} should hold 0.2"
    );
    // Same seed, same draws: the result is reproducible.
    let again = fit_groups(&t, &LoadRequest::default(), &req, &|| {}).unwrap();
    assert_eq!(
        serde_json::to_string(&again.comparisons).unwrap(),
        serde_json::to_string(&r.comparisons).unwrap()
    );
}

#[test]
fn ties_hold_two_exponents_equal() {
    let t = table(&[("x", 1.7, 400.0, 0.3)], 0.005, 2);
    let mut req = request(&[]);
    req.ties = vec![["alpha".into(), "beta".into()]];
    let r = fit_groups(&t, &LoadRequest::default(), &req, &|| {}).unwrap();
    let f = r.separate[0].fit.as_ref().unwrap();
    assert!(f.params.contains_key("alpha") && !f.params.contains_key("beta"));
    // The truth has alpha 0.3 and beta 0.28: the tied exponent lies near both.
    let a = f.params["alpha"].unwrap();
    assert!((a - 0.29).abs() < 0.03, "{a}");
}

fn synthetic_runs(worsen: &[usize], by: f64) -> scaling::data::Runs {
    let t = table(&[("x", 1.7, 400.0, 0.34)], 0.0, 1);
    let mut runs = load_runs(
        &t,
        fit::needs(&LawForm::Chinchilla),
        &LoadRequest::default(),
        None,
    )
    .unwrap();
    for &i in worsen {
        runs.loss[i] *= 1.0 + by;
    }
    runs
}

#[test]
fn asymmetric_penalty_with_k_one_is_the_symmetric_objective() {
    let runs = synthetic_runs(&[1, 7, 20], 0.03);
    let sym = fit::fit(&runs, &FitConfig::default()).unwrap();
    let one = fit::fit(
        &runs,
        &FitConfig {
            asymmetric: Some(1.0),
            ..FitConfig::default()
        },
    )
    .unwrap();
    assert_eq!(one.conventions.asymmetric, Some(1.0));
    for (n, v) in &sym.params {
        let (a, b) = (v.unwrap(), one.params[n].unwrap());
        assert!((a / b - 1.0).abs() < 1e-4, "{n}: kernel {a} vs k = 1 {b}");
    }
    assert!((sym.objective / one.objective - 1.0).abs() < 1e-6);
}

#[test]
fn asymmetric_penalty_follows_the_best_runs_below_worsened_ones() {
    // A third of the runs made 4% worse (under-tuned): the symmetric fit is pulled up
    // towards them; charging over-prediction 20 times keeps the law near the clean runs.
    let worse: Vec<usize> = (0..36).filter(|i| i % 3 == 0).collect();
    let runs = synthetic_runs(&worse, 0.04);
    let squared = Objective {
        penalty: Penalty::Squared,
        space: Space::Log,
        ..Objective::default()
    };
    let sym = fit::fit(
        &runs,
        &FitConfig {
            objective: squared,
            ..FitConfig::default()
        },
    )
    .unwrap();
    let asym = fit::fit(
        &runs,
        &FitConfig {
            objective: squared,
            asymmetric: Some(20.0),
            ..FitConfig::default()
        },
    )
    .unwrap();
    let clean: Vec<usize> = (0..36).filter(|i| i % 3 != 0).collect();
    let mean_abs = |f: &scaling::fit::Fit, idx: &[usize]| {
        idx.iter().map(|&i| f.residuals[i].abs()).sum::<f64>() / idx.len() as f64
    };
    // Residuals are ln L_hat - ln L: on the clean runs the asymmetric fit is much closer.
    assert!(
        mean_abs(&asym, &clean) < 0.3 * mean_abs(&sym, &clean),
        "asym {} sym {}",
        mean_abs(&asym, &clean),
        mean_abs(&sym, &clean)
    );
    // And it lies below the worsened runs (negative residuals there), by about ln 1.04.
    for &i in &worse {
        assert!(asym.residuals[i] < -0.02, "run {i}: {}", asym.residuals[i]);
    }
}

#[test]
fn zero_weights_drop_runs() {
    let runs = synthetic_runs(&[0, 5], 0.2);
    let mut w = vec![1.0; runs.len()];
    w[0] = 0.0;
    w[5] = 0.0;
    let weighted = fit::fit(
        &runs,
        &FitConfig {
            weights: Some(w),
            weight_column: Some("w".into()),
            ..FitConfig::default()
        },
    )
    .unwrap();
    assert_eq!(weighted.conventions.weights.as_deref(), Some("w"));
    let keep: Vec<usize> = (0..runs.len()).filter(|&i| i != 0 && i != 5).collect();
    let mut kept = runs.clone();
    for v in [&mut kept.params, &mut kept.tokens, &mut kept.loss] {
        *v = keep.iter().map(|&i| v[i]).collect();
    }
    kept.rows = keep.iter().map(|&i| runs.rows[i]).collect();
    let plain = fit::fit(&kept, &FitConfig::default()).unwrap();
    for (n, v) in &plain.params {
        let (a, b) = (v.unwrap(), weighted.params[n].unwrap());
        assert!((a / b - 1.0).abs() < 1e-4, "{n}: {a} vs {b}");
    }
    let bad = fit::fit(
        &runs,
        &FitConfig {
            weights: Some(vec![-1.0; runs.len()]),
            ..FitConfig::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(bad.contains("weight -1"), "{bad}");
}

#[test]
fn marin_three_datasets_joint_fit_and_test() {
    let files: Option<Vec<_>> = ["comma", "dclm", "nemotron"]
        .iter()
        .map(|d| common::shared_data(&format!("marin_202603_isoflop_{d}.csv")))
        .collect();
    let Some(files) = files else { return };
    let tables: Vec<(String, RunTable)> = files
        .iter()
        .map(|f| {
            let t = RunTable::read(f).unwrap();
            (scaling::groups::file_label(&t.path), t)
        })
        .collect();
    let t = scaling::groups::stack_tables(&tables, "dataset").unwrap();
    let load = LoadRequest {
        loss_col: Some("eval/paloma/macro_loss".into()),
        ..LoadRequest::default()
    };
    let r = fit_groups(&t, &load, &request(&["alpha", "beta"]), &|| {}).unwrap();
    assert_eq!(r.groups.len(), 3);
    assert_eq!(r.separate.iter().map(|g| g.runs).sum::<usize>(), 273);
    let test = r.test.unwrap();
    assert!(test.f_p_value > 0.0 && test.f_p_value < 1.0);
    // Every pair is compared at 1e21 with a gain in both directions.
    assert_eq!(r.comparisons.len(), 3);
    for c in &r.comparisons {
        assert!(c.at_budget["1e21"].contains_key("gain_a_over_b"));
    }
}
