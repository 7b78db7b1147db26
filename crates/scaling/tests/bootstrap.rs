//! Bootstrap: Epoch AI's 95% intervals (Besiroglu et al. 2024, arXiv:2404.10102, 4000
//! resamples of their 240 runs: alpha (0.317, 0.373), beta (0.331, 0.415), E (1.769, 1.871),
//! a = 0.513 with SE 0.020) reproduced within 0.01, and the result is bit-identical for a seed
//! whatever the number of threads.

mod common;

use scaling::fit::{self, FitConfig};
use scaling::uncertainty::{self, BootstrapConfig};

fn config(r: usize, seed: u64) -> BootstrapConfig {
    BootstrapConfig {
        replicates: r,
        seed,
        clusters: None,
        cluster_column: None,
        level: 0.95,
    }
}

#[test]
fn epoch_intervals() {
    let Some(runs) = common::epoch_runs() else {
        return;
    };
    let cfg = FitConfig::default();
    let full = fit::fit(&runs, &cfg).unwrap();
    let boot = uncertainty::bootstrap(&runs, &cfg, &full, &config(4000, 42), &|| {}).unwrap();
    let (iv, se) = uncertainty::intervals(&full, &boot, &[1e24], 0.95);
    for (name, lo, hi) in [
        ("alpha", 0.317, 0.373),
        ("beta", 0.331, 0.415),
        ("E", 1.769, 1.871),
    ] {
        let [l, h] = iv[name];
        assert!(
            (l - lo).abs() < 0.01 && (h - hi).abs() < 0.01,
            "{name}: [{l}, {h}] vs [{lo}, {hi}]"
        );
    }
    assert!((se["a"] - 0.020).abs() < 0.003, "SE(a) {}", se["a"]);
    assert_eq!(
        boot.statuses.get("converged"),
        Some(&4000),
        "{:?}",
        boot.statuses
    );
}

/// `f` run on a pool of `threads` threads.
fn on_threads<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

#[test]
fn same_seed_same_bits_any_thread_count() {
    let Some(runs) = common::epoch_runs() else {
        return;
    };
    let cfg = FitConfig::default();
    let full = fit::fit(&runs, &cfg).unwrap();
    let run = |threads: usize| {
        on_threads(threads, || {
            uncertainty::bootstrap(&runs, &cfg, &full, &config(200, 7), &|| {}).unwrap()
        })
    };
    let (one, two) = (run(1), run(2));
    assert_eq!(one.samples, two.samples);
    let other = uncertainty::bootstrap(&runs, &cfg, &full, &config(200, 8), &|| {}).unwrap();
    assert_ne!(one.samples, other.samples);
}

/// The generic path (Kaplan's joint law: Newton refits with a finite-difference Hessian, and
/// several local minima on these runs) gives the same bits with one, two and three threads.
#[test]
fn generic_path_same_seed_same_bits_any_thread_count() {
    let Some(runs) = common::epoch_runs() else {
        return;
    };
    let cfg = fit::FitNames {
        law: "kaplan".into(),
        ..Default::default()
    }
    .config()
    .unwrap();
    let full = fit::fit(&runs, &cfg).unwrap();
    let run = |threads: usize| {
        on_threads(threads, || {
            uncertainty::bootstrap(&runs, &cfg, &full, &config(100, 5), &|| {}).unwrap()
        })
    };
    let one = run(1);
    assert_eq!(one.samples, run(2).samples);
    assert_eq!(one.samples, run(3).samples);
    assert_eq!(
        one.statuses.get("converged"),
        Some(&100),
        "{:?}",
        one.statuses
    );
}

/// Resampling whole groups: with one group per model size, a replicate draws sizes.
#[test]
fn cluster_bootstrap_resamples_groups() {
    let Some(runs) = common::epoch_runs() else {
        return;
    };
    let cfg = FitConfig::default();
    let full = fit::fit(&runs, &cfg).unwrap();
    let labels: Vec<String> = runs.params.iter().map(|n| format!("{:.2e}", n)).collect();
    let groups = {
        let mut l = labels.clone();
        l.sort();
        l.dedup();
        l.len()
    };
    let bc = BootstrapConfig {
        clusters: Some(labels),
        cluster_column: Some("size".into()),
        ..config(100, 1)
    };
    let boot = uncertainty::bootstrap(&runs, &cfg, &full, &bc, &|| {}).unwrap();
    assert_eq!(boot.resampled, "clusters");
    assert_eq!(boot.units, groups);
    assert_eq!(boot.samples.len(), 100);
}

/// Besiroglu et al. (2024): Chinchilla's published (unrounded) parameters are rejected on
/// these 240 runs (chi-squared about 238 with 5 df, p about 1.7e-49; the acceptance bar is
/// p < 1e-20); the fit itself is not rejected.
#[test]
fn chinchilla_law_is_rejected_on_epoch_data() {
    let Some(runs) = common::epoch_runs() else {
        return;
    };
    let cfg = FitConfig::default();
    let mut full = fit::fit(&runs, &cfg).unwrap();
    full.bootstrap =
        Some(uncertainty::bootstrap(&runs, &cfg, &full, &config(1000, 42), &|| {}).unwrap());
    let chinchilla = scaling::law::Law::new(
        scaling::law::LawForm::Chinchilla,
        vec![
            0.5267228f64.exp(),
            6.0073404f64.exp(),
            6.0179186f64.exp(),
            0.33917084,
            0.2849083,
        ],
    )
    .unwrap();
    let t = uncertainty::test_law(&full, &runs, &cfg, &chinchilla, 1e-3).unwrap();
    assert_eq!(t.chi2_df, 5);
    assert!(
        t.chi2_p_value < 1e-20,
        "chi2 {} p {}",
        t.chi2,
        t.chi2_p_value
    );
    assert!(
        t.lr_p_value < 1e-10,
        "LR {} p {}",
        t.lr_statistic,
        t.lr_p_value
    );
    let own = full.law().unwrap();
    let t = uncertainty::test_law(&full, &runs, &cfg, &own, 1e-3).unwrap();
    assert!(t.chi2 < 1e-12 && t.chi2_p_value > 0.99, "{}", t.chi2);
    assert!(t.lr_p_value > 0.5, "{}", t.lr_p_value);
}

/// Small calibration study (the full one is bench/calibration.sh, quoted in the README):
/// datasets drawn on a 9-budget IsoFLOP design from a known law with 1% Gaussian noise in log
/// loss; nominal 95% intervals must cover the true alpha, beta and a in most datasets. With
/// 40 datasets the Monte Carlo standard error of a coverage near 0.95 is about 0.035, so the
/// bar (0.8) fails only for intervals that are clearly too narrow.
#[test]
fn small_calibration_study() {
    use scaling::uncertainty::{calibrate, CalibrationConfig, Noise, Resampling};
    let truth = scaling::law::presets::get("epoch").unwrap().law.unwrap();
    let design = scaling::simulate::isoflop_design(
        &truth,
        &scaling::simulate::CHINCHILLA_BUDGETS,
        12,
        1.5,
        6.0,
    );
    let runs = scaling::simulate::sample_runs(&truth, &design, 0.0, 0, "design").unwrap();
    let cal = CalibrationConfig {
        datasets: 40,
        replicates: 150,
        seed: 11,
        level: 0.95,
        noise: Noise::Gaussian { sd: 0.01 },
        resampling: Resampling::Runs,
    };
    let c = calibrate(&truth, &runs, &FitConfig::default(), &cal, &|| {}).unwrap();
    for name in ["alpha", "beta", "a"] {
        let v = &c.coverage[name];
        assert_eq!(v.datasets, 40, "{name}");
        assert!(
            v.coverage >= 0.8,
            "{name}: coverage {} ({} of {})",
            v.coverage,
            v.covered,
            v.datasets
        );
        assert!(v.mean_width > 0.0);
    }
}

/// Issue 11 item 4: fit Epoch's runs with C <= 1e21 (as `scaling fit ... --drop-top-loss 5
/// --max-flops 1e21 --bootstrap`) and predict the 23 larger runs of the same file. The interval
/// on the mean loss is not meant for single runs; the new-run interval adds the run-to-run
/// noise and must cover more of them. Measured (1000 replicates, seed 42): the mean interval
/// covers 3 of 23, the new-run interval 16 of 23 (70%), short of the nominal 95%: the larger
/// runs miss the law by up to 2.7% in ln L, about three times the residual scale, a systematic
/// extrapolation error that neither the bootstrap nor the residuals see (README, "Prediction
/// intervals"). The bound below guards that measured coverage; it is not the 90-98% target.
#[test]
fn prediction_interval_too_narrow_when_extrapolating_epoch() {
    use scaling::data::{Filters, LoadOptions, RunTable, Runs};
    let Some(path) = common::shared_data("epoch_chinchilla_svg.csv") else {
        return;
    };
    let table = RunTable::read(&path).unwrap();
    let all = Runs::from_table(
        &table,
        fit::needs(&scaling::law::LawForm::Chinchilla),
        &LoadOptions::default(),
    )
    .unwrap();
    let mut train = all.clone();
    train
        .apply_filters(&Filters {
            max_flops: Some(1e21),
            drop_top_loss: 5,
            ..Default::default()
        })
        .unwrap();
    let cfg = FitConfig::default();
    let mut full = fit::fit(&train, &cfg).unwrap();
    let boot = uncertainty::bootstrap(&train, &cfg, &full, &config(1000, 42), &|| {}).unwrap();
    uncertainty::attach(&mut full, boot, &[1e24], 0.95);
    let law = full.law().unwrap();
    let (mut held, mut mean_cov, mut new_cov) = (0, 0, 0);
    for i in (0..all.len()).filter(|&i| all.flops[i] > 1e21) {
        let (n, d, c, l) = (all.params[i], all.tokens[i], all.flops[i], all.loss[i]);
        let p = uncertainty::predict(&law, Some(&full), n, d, c, None);
        let [ml, mh] = p.interval.unwrap();
        let [nl, nh] = p.new_run_interval.unwrap();
        assert!(
            nl <= ml && mh <= nh,
            "the new-run interval holds the mean one"
        );
        assert_eq!(p.prediction_interval, p.new_run_interval);
        held += 1;
        mean_cov += usize::from(ml <= l && l <= mh);
        new_cov += usize::from(nl <= l && l <= nh);
    }
    eprintln!("Epoch, fit C <= 1e21, {held} held-out runs: mean interval covers {mean_cov}, new-run interval {new_cov}");
    assert_eq!(held, 23);
    assert!(new_cov > mean_cov);
    assert!(new_cov >= 15, "new-run coverage {new_cov} of 23");
    assert_eq!(
        full.conventions.new_run_interval.as_deref(),
        Some(uncertainty::NEW_RUN_METHOD)
    );
}

/// A calibration in which no simulated dataset can be fitted used to report "0 of 0
/// datasets" as coverage 0.000; it is an error now.
#[test]
fn calibrate_zero_of_zero_datasets_is_an_error() {
    use scaling::uncertainty::{calibrate, CalibrationConfig, Noise, Resampling};
    let truth = scaling::law::presets::get("epoch").unwrap().law.unwrap();
    // Three runs cannot determine five parameters: every simulated fit fails.
    let design = scaling::simulate::isoflop_design(&truth, &[1e19], 3, 1.5, 6.0);
    let runs = scaling::simulate::sample_runs(&truth, &design, 0.0, 0, "design").unwrap();
    let cal = CalibrationConfig {
        datasets: 4,
        replicates: 10,
        seed: 1,
        level: 0.95,
        noise: Noise::Gaussian { sd: 0.01 },
        resampling: Resampling::Runs,
    };
    let err = calibrate(&truth, &runs, &FitConfig::default(), &cal, &|| {}).unwrap_err();
    assert!(err.to_string().contains("no coverage to report"), "{err}");
}

/// Regression for issue 12: `scaling optimal FIT` computed its intervals from every bootstrap
/// replicate, while the fit's own intervals (`fit --flops`) leave out refits that failed, so
/// the two gave different intervals for the same N_opt, D_opt and L_opt. Both now go through
/// `uncertainty::derived_intervals`. Here one replicate is marked failed and given a wild
/// law; the plan's intervals must still equal the fit's.
#[test]
fn optimal_intervals_leave_out_failed_refits_like_fit() {
    let Some(runs) = common::epoch_runs() else {
        return;
    };
    let cfg = FitConfig::default();
    let mut full = fit::fit(&runs, &cfg).unwrap();
    let mut boot = uncertainty::bootstrap(&runs, &cfg, &full, &config(60, 7), &|| {}).unwrap();
    // A refit that stopped at the iteration limit far from the optimum.
    boot.replicate_status[0] = "max_iterations".into();
    boot.samples[0] = vec![0.5, 50.0, 5e4, 0.2, 0.6];
    let c = 1e24;
    uncertainty::attach(&mut full, boot, &[c], 0.9);
    let fit_iv = full.intervals.clone().unwrap();
    let src = scaling::allocate::Source {
        label: "fit".into(),
        law: full.law(),
        rule: None,
        k: full.conventions.flops_per_param_token,
        fit: Some(full),
        notes: None,
    };
    let req = scaling::allocate::plan::PlanRequest {
        budgets: vec![c],
        level: Some(0.9),
        ..Default::default()
    };
    let p = scaling::allocate::plan::plan(&src, &req).unwrap();
    let iv = p.rows[0].intervals.unwrap();
    assert_eq!(iv.params.unwrap(), fit_iv["N_opt@1e24"]);
    assert_eq!(iv.tokens.unwrap(), fit_iv["D_opt@1e24"]);
    assert_eq!(iv.loss.unwrap(), fit_iv["L_opt@1e24"]);
    assert_eq!(
        iv.tokens_per_param.unwrap(),
        fit_iv["tokens_per_param@1e24"]
    );
}

/// Grouped noise: the residuals split into per-size effects and deviations that add back up;
/// a study with it and size-clustered bootstraps reports E and G and what it resampled, and
/// only iid noise carries the "best case" note.
#[test]
fn grouped_noise_and_size_clusters_in_calibration() {
    use scaling::uncertainty::{calibrate, grouped_noise, CalibrationConfig, Noise, Resampling};
    let labels: Vec<String> = ["a", "a", "b", "b", "b", "c"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let r = [0.01, 0.03, -0.02, -0.01, 0.0, 0.005];
    let Noise::Grouped {
        groups,
        effects,
        deviations,
    } = grouped_noise(&labels, &r)
    else {
        panic!("grouped noise")
    };
    assert_eq!(groups, vec![0, 0, 1, 1, 1, 2]);
    assert!((effects[0] - 0.02).abs() < 1e-15 && (effects[1] + 0.01).abs() < 1e-15);
    for i in 0..r.len() {
        assert!((effects[groups[i]] + deviations[i] - r[i]).abs() < 1e-15);
    }
    let truth = scaling::law::presets::get("epoch").unwrap().law.unwrap();
    let design = scaling::simulate::isoflop_design(
        &truth,
        &scaling::simulate::CHINCHILLA_BUDGETS,
        8,
        1.5,
        6.0,
    );
    let runs = scaling::simulate::sample_runs(&truth, &design, 0.01, 3, "design").unwrap();
    let sizes = fit::size_clusters(&runs.params, fit::SIZE_TOLERANCE);
    let resid = fit::fit(&runs, &FitConfig::default()).unwrap().residuals;
    let grouped = CalibrationConfig {
        datasets: 6,
        replicates: 50,
        seed: 2,
        level: 0.95,
        noise: grouped_noise(&sizes, &resid),
        resampling: Resampling::Clusters(sizes),
    };
    let c = calibrate(&truth, &runs, &FitConfig::default(), &grouped, &|| {}).unwrap();
    for q in ["alpha", "beta", "E", "a", "G"] {
        assert_eq!(c.coverage[q].datasets, 6, "{q}");
    }
    assert!(c.resampled.contains("model sizes") && c.notes.is_empty());
    let iid = CalibrationConfig {
        noise: Noise::Gaussian { sd: 0.01 },
        resampling: Resampling::Runs,
        ..grouped
    };
    let c = calibrate(&truth, &runs, &FitConfig::default(), &iid, &|| {}).unwrap();
    assert_eq!(c.resampled, "runs");
    assert!(c.notes[0].contains("best case"));
}

/// Issue 17 item 4: by default the bootstrap resamples model sizes when the runs repeat enough
/// sizes (Epoch AI's 240 runs: 43 sizes, 41 repeated; Besiroglu et al. 2024's file), records
/// why, and says the fit's advice was taken; `none` resamples single runs as Besiroglu et al.
/// did; a design of distinct sizes resamples runs.
#[test]
fn default_bootstrap_resamples_model_sizes_when_sizes_repeat() {
    use scaling::accounting::{load_runs, LoadRequest};
    use scaling::data::{Filters, RunTable};
    use scaling::uncertainty::{fit_table, BootstrapRequest, FitRequest, RUN_LEVEL};
    let Some(path) = common::shared_data("epoch_chinchilla_svg.csv") else {
        return;
    };
    let table = RunTable::read(&path).unwrap();
    let load = LoadRequest {
        filters: Filters {
            drop_top_loss: 5,
            ..Default::default()
        },
        ..Default::default()
    };
    let form = scaling::law::LawForm::Chinchilla;
    let runs = load_runs(&table, fit::needs(&form), &load, None).unwrap();
    let fit_with = |cluster: Option<&str>| {
        let req = FitRequest {
            config: FitConfig::default(),
            bootstrap: Some(BootstrapRequest {
                replicates: 200,
                seed: 3,
                cluster_column: cluster.map(str::to_string),
                ..Default::default()
            }),
        };
        fit_table(&table, &runs, &req, &|| {}).unwrap()
    };
    let default = fit_with(None);
    let b = default.bootstrap.as_ref().unwrap();
    assert_eq!((b.resampled.as_str(), b.units), ("clusters", 43));
    let words = b.cluster_column.as_deref().unwrap();
    assert!(
        words
            .starts_with("N (model sizes: N within 0.1%), chosen because the runs repeat 41 of 43"),
        "{words}"
    );
    assert!(
        default
            .warnings
            .iter()
            .any(|w| w.contains("resampled model sizes, as it should")),
        "{:?}",
        default.warnings
    );
    // The same clusters as asking for them by name.
    let named = fit_with(Some("N"));
    assert_eq!(
        named.bootstrap.as_ref().unwrap().samples,
        b.samples,
        "default and --cluster-col N draw the same replicates"
    );
    let runs_only = fit_with(Some(RUN_LEVEL));
    let r = runs_only.bootstrap.as_ref().unwrap();
    assert_eq!((r.resampled.as_str(), r.units), ("runs", 240));
    assert!(r.cluster_column.is_none());
    // Resampling sizes widens alpha's interval on these correlated runs.
    let width = |f: &scaling::fit::Fit| {
        let [lo, hi] = f.intervals.as_ref().unwrap()["alpha"];
        hi - lo
    };
    assert!(width(&default) > width(&runs_only));
}
