//! Every form through the one law interface: the formula acceptance test on Epoch's runs,
//! published goldens (Gadre et al. 2024; Muennighoff et al. 2023), synthetic recovery of every
//! built-in form and of user formulas, gradients against finite differences, finite
//! predictions over the domain, and saved fits that predict identically when reloaded.

mod common;

use std::sync::Arc;

use scaling::accounting::{load_runs, LoadRequest};
use scaling::data::{Column, RunTable};
use scaling::fit::{self, Fit, FitConfig, FitNames, Status};
use scaling::law::{Formula, Law, LawForm, Var, Variable};
use scaling::uncertainty::{fit_table, BootstrapRequest, FitRequest};

fn table(cols: Vec<(&str, Vec<f64>)>) -> RunTable {
    RunTable::from_columns(
        "<synthetic>",
        cols.into_iter()
            .map(|(n, v)| (n.to_string(), Column::Numbers(v)))
            .collect(),
    )
    .unwrap()
}

fn fit_names(t: RunTable, names: &FitNames) -> Fit {
    let headers: Vec<String> = t.columns.clone();
    let h: Vec<&str> = headers.iter().map(|s| s.as_str()).collect();
    let config = names.config_for(&h).unwrap();
    let runs = load_runs(&t, fit::needs(&config.form), &LoadRequest::default(), None).unwrap();
    fit_table(
        &t,
        &runs,
        &FitRequest {
            config,
            bootstrap: None,
        },
        &|| {},
    )
    .unwrap()
}

fn fit_law(t: RunTable, law: &str, x: Option<&str>) -> Fit {
    fit_names(
        t,
        &FitNames {
            law: law.into(),
            x: x.map(String::from),
            ..Default::default()
        },
    )
}

/// Data drawn exactly from `truth` on the design `cols` (which must hold every variable the
/// law reads: N as "params", D as "tokens", U as "unique_tokens", S as "steps").
fn exact(truth: &Law, cols: &[(&str, Vec<f64>)]) -> RunTable {
    let get = |name: &str| cols.iter().find(|c| c.0 == name).map(|c| c.1.clone());
    let m = cols[0].1.len();
    let loss: Vec<f64> = (0..m)
        .map(|i| {
            truth
                .predict_with(&|v: &Var| match v {
                    Var::N => get("params").map(|c| c[i]),
                    Var::D => get("tokens").map(|c| c[i]),
                    Var::C => get("flops")
                        .map(|c| c[i])
                        .or_else(|| Some(6.0 * get("params")?[i] * get("tokens")?[i])),
                    Var::M => Some(get("tokens")?[i] / get("params")?[i]),
                    Var::U => get("unique_tokens").map(|c| c[i]),
                    Var::S => get("steps").map(|c| c[i]),
                    Var::Column(c) => get(c).map(|c| c[i]),
                })
                .unwrap()
        })
        .collect();
    let mut all: Vec<(&str, Vec<f64>)> = cols.to_vec();
    all.push(("loss", loss));
    table(all)
}

fn grid(ns: &[f64], ds: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let mut n = vec![];
    let mut d = vec![];
    for &a in ns {
        for &b in ds {
            n.push(a);
            d.push(b);
        }
    }
    (n, d)
}

fn geom(lo: f64, hi: f64, k: usize) -> Vec<f64> {
    (0..k)
        .map(|i| (lo.ln() + (hi / lo).ln() * i as f64 / (k - 1) as f64).exp())
        .collect()
}

fn assert_recovered(f: &Fit, truth: &Law, rtol: f64) {
    for (name, t) in truth.form.param_names().iter().zip(&truth.params) {
        let v = f.params[name].unwrap_or_else(|| panic!("{name} not identified: {f:#?}"));
        assert!(
            ((v - t) / t).abs() < rtol,
            "{}: {name} = {v}, truth {t} (status {})",
            truth.form.name(),
            f.status_detail
        );
    }
}

/// Acceptance (issue 13): the formula `E + A*N^-alpha + B*D^-beta` fitted to Epoch's 240
/// runs gives the built-in Chinchilla result: objective 1.0182740178e-3 and every parameter
/// within 1e-7 relative.
#[test]
fn formula_fit_matches_builtin_chinchilla_on_epoch() {
    let Some(runs) = common::epoch_runs() else {
        return;
    };
    let builtin = fit::fit(&runs, &FitConfig::default()).unwrap();
    let config = FitNames {
        law: "E + A*N^-alpha + B*D^-beta".into(),
        ..Default::default()
    }
    .config()
    .unwrap();
    assert!(!config.uses_kernel());
    let formula = fit::fit(&runs, &config).unwrap();
    assert_eq!(formula.law, "formula");
    assert_eq!(
        formula.status,
        Status::Converged,
        "{}",
        formula.status_detail
    );
    assert!(
        (formula.objective - 1.0182740178e-3).abs() < 1e-13,
        "{}",
        formula.objective
    );
    for (k, v) in &builtin.params {
        let (a, b) = (v.unwrap(), formula.params[k].unwrap());
        assert!(((a - b) / a).abs() < 1e-7, "{k}: built-in {a}, formula {b}");
    }
}

/// Golden: Gadre et al. 2024 (arXiv:2403.08540, Fig. 1; ../shared/REFERENCE.md): on the
/// RedPajama runs of their testbed, C4-eval loss, the five fitting models (d = 96, 512, 576,
/// 1024 at M = 20 and d = 96 at M = 320) fitted by least squares give E = 1.84, a = 212,
/// b = 367, eta = 0.136, and predict the held-out 1.4B model at M = 640 and the 6.9B model
/// at M = 20 with relative errors 0.71% and 0.73% (published with their code).
#[test]
fn overtraining_law_reproduces_gadre_fig1() {
    let Some(path) = common::shared_data("gadre2024_overtraining_testbed.csv") else {
        return;
    };
    let t = RunTable::read(path).unwrap();
    let col = |n: &str| t.column_index(n).unwrap();
    let (name, n, d, l) = (
        col("name"),
        col("params"),
        col("tokens"),
        col("loss_c4_val"),
    );
    let fitting = [
        "rpj-d=96_l=8_h=4-1.0",
        "rpj-d=512_l=8_h=4-1.0",
        "rpj-d=576_l=24_h=8-1.0",
        "rpj-d=1024_l=24_h=8-1.0",
        "rpj-d=96_l=8_h=4-16.0",
    ];
    let row = |key: &str| -> [f64; 3] {
        let r = t.rows.iter().find(|r| &r[name] == key).unwrap();
        [
            r[n].parse().unwrap(),
            r[d].parse().unwrap(),
            r[l].parse().unwrap(),
        ]
    };
    let rows: Vec<[f64; 3]> = fitting.iter().map(|k| row(k)).collect();
    let five = table(vec![
        ("params", rows.iter().map(|r| r[0]).collect()),
        ("tokens", rows.iter().map(|r| r[1]).collect()),
        ("loss", rows.iter().map(|r| r[2]).collect()),
    ]);
    let f = fit_names(
        five,
        &FitNames {
            law: "overtraining".into(),
            objective: "squared".into(),
            space: "linear".into(),
            ..Default::default()
        },
    );
    assert_eq!(f.status, Status::Converged, "{}", f.status_detail);
    let p = |k: &str| f.params[k].unwrap();
    assert!((p("E") - 1.84).abs() < 0.005, "E {}", p("E"));
    assert!((p("a") - 212.0).abs() < 0.5, "a {}", p("a"));
    assert!((p("b") - 367.0).abs() < 0.5, "b {}", p("b"));
    assert!((p("eta") - 0.136).abs() < 5e-4, "eta {}", p("eta"));
    let law = f.law().unwrap();
    for (key, published) in [
        ("rpj-open_lm_1b-32.0", 0.0071),
        ("rpj-open_lm_7b-1.0", 0.0073),
    ] {
        let [n, d, loss] = row(key);
        let pred = law.predict(n, d, 6.0 * n * d);
        let rel = (pred - loss).abs() / loss;
        assert!(
            (rel - published).abs() < 5e-4,
            "{key}: relative error {rel}"
        );
    }
}

/// Golden: Muennighoff et al. 2023's worked examples (../shared/REFERENCE.md) through the
/// formula engine: L(6.34e9, 242e9, U = 25e9) = 2.2256440889984477 and
/// L(8.67e9, 178e9, 25e9) = 2.2269634075087867.
#[test]
fn data_constrained_law_gives_muennighoffs_worked_examples() {
    let law = scaling::law::presets::get("muennighoff")
        .unwrap()
        .law
        .unwrap();
    for (n, d, want) in [
        (6.34e9, 242e9, 2.2256440889984477),
        (8.67e9, 178e9, 2.2269634075087867),
    ] {
        let got = law.predict_unique(n, d, 6.0 * n * d, Some(25e9));
        assert!(((got - want) / want).abs() < 1e-14, "{got} vs {want}");
    }
}

#[test]
fn kaplan_joint_law_is_recovered() {
    let truth = Law::new(LawForm::Kaplan, vec![6.4e13, 1.8e13, 0.076, 0.103]).unwrap();
    let (n, d) = grid(&geom(1e7, 1e10, 6), &geom(1e8, 1e11, 6));
    let f = fit_law(
        exact(&truth, &[("params", n), ("tokens", d)]),
        "kaplan",
        None,
    );
    assert_recovered(&f, &truth, 1e-3);
}

#[test]
fn kaplan_steps_law_is_recovered() {
    let truth = Law::new(LawForm::KaplanSteps, vec![6.5e13, 2.1e3, 0.077, 0.76]).unwrap();
    let (n, s) = grid(&geom(1e6, 1e9, 6), &geom(1e3, 1e6, 6));
    let f = fit_law(
        exact(&truth, &[("params", n), ("steps", s)]),
        "kaplan-steps",
        None,
    );
    assert_recovered(&f, &truth, 1e-3);
    assert_eq!(f.conventions.variables["S"], "column \"steps\"");
}

#[test]
fn data_constrained_law_is_recovered_with_a_unique_tokens_column() {
    let truth = scaling::law::presets::get("muennighoff")
        .unwrap()
        .law
        .unwrap();
    let (mut n, mut d, mut u) = (vec![], vec![], vec![]);
    for &nn in &geom(1e8, 1e10, 5) {
        for &dd in &geom(1e9, 3e11, 5) {
            for frac in [1.0, 0.25, 0.05, 0.01] {
                n.push(nn);
                d.push(dd);
                u.push(dd * frac);
            }
        }
    }
    let f = fit_law(
        exact(
            &truth,
            &[("params", n), ("tokens", d), ("unique_tokens", u)],
        ),
        "data-constrained",
        None,
    );
    assert_recovered(&f, &truth, 1e-3);
}

#[test]
fn overtraining_law_is_recovered() {
    let truth = Law::new(LawForm::Overtraining, vec![1.84, 212.0, 367.0, 0.136]).unwrap();
    let mut n = vec![];
    let mut d = vec![];
    for &nn in &geom(1e7, 1e10, 5) {
        for m in [5.0, 20.0, 80.0, 320.0] {
            n.push(nn);
            d.push(nn * m);
        }
    }
    let f = fit_law(
        exact(&truth, &[("params", n), ("tokens", d)]),
        "overtraining",
        None,
    );
    assert_recovered(&f, &truth, 1e-3);
}

#[test]
fn multiplicative_law_is_recovered() {
    let truth = Law::new(LawForm::Multiplicative, vec![1.7, 3e4, 0.3, 0.25]).unwrap();
    let (n, d) = grid(&geom(1e7, 1e10, 6), &geom(1e8, 1e11, 6));
    let f = fit_law(
        exact(&truth, &[("params", n), ("tokens", d)]),
        "multiplicative",
        None,
    );
    assert_recovered(&f, &truth, 1e-3);
}

#[test]
fn broken_power_law_is_recovered() {
    let form = LawForm::BrokenPower {
        x: Variable::Tokens,
    };
    let truth = Law::new(form, vec![0.5, 50.0, 0.15, 0.25, 1e9, 0.3]).unwrap();
    let d = geom(1e6, 1e12, 40);
    let f = fit_law(
        exact(&truth, &[("tokens", d)]),
        "broken-power",
        Some("tokens"),
    );
    assert_recovered(&f, &truth, 1e-3);
}

/// Formulas a user might write, including the example with an interaction term
/// (named G: `C` is the compute variable), recovered from exact data.
#[test]
fn user_formulas_are_recovered() {
    let (n, d) = grid(&geom(1e7, 1e10, 7), &geom(1e8, 1e11, 7));
    // (formula, truth in the order parameters first appear, parameter settings)
    let cases: [(&str, &[f64], &[&str]); 3] = [
        (
            "E + A*N^-alpha + B*D^-beta + G*(N*D)^-gamma",
            &[1.7, 400.0, 0.34, 410.0, 0.28, 5e3, 0.2],
            &[],
        ),
        // A scale far from the exponent grid needs bounds, which also set its start grid.
        (
            "E + A*(N/1e9)^-alpha*exp(-D/T)",
            &[2.0, 0.5, 0.3, 3e10],
            &["T=1e9:1e12"],
        ),
        (
            "E + A*N^-alpha*(1 + B*D^-beta)",
            &[1.5, 300.0, 0.3, 2.0, 0.1],
            &[],
        ),
    ];
    for (text, truth, settings) in cases {
        let form = LawForm::Formula(Arc::new(Formula::parse(text, &[]).unwrap()));
        let law = Law::new(form, truth.to_vec()).unwrap();
        let t = exact(&law, &[("params", n.clone()), ("tokens", d.clone())]);
        let f = fit_names(
            t,
            &FitNames {
                law: text.into(),
                params: settings.iter().map(|s| s.to_string()).collect(),
                ..Default::default()
            },
        );
        assert_recovered(&f, &law, 1e-3);
    }
}

fn every_form() -> Vec<(LawForm, Vec<f64>, Vec<f64>)> {
    // (form, parameters, one run's variable values in the form's order)
    let f = |t: &str| LawForm::Formula(Arc::new(Formula::parse(t, &[]).unwrap()));
    vec![
        (
            LawForm::Chinchilla,
            vec![1.7, 400.0, 410.0, 0.34, 0.28],
            vec![3e8, 6e9],
        ),
        (
            LawForm::Power { x: Variable::Flops },
            vec![1.7, 30.0, 0.05],
            vec![1e20],
        ),
        (
            LawForm::Kaplan,
            vec![6.4e13, 1.8e13, 0.076, 0.103],
            vec![3e8, 6e9],
        ),
        (
            LawForm::KaplanSteps,
            vec![6.5e13, 2.1e3, 0.077, 0.76],
            vec![3e8, 5e4],
        ),
        (
            LawForm::DataConstrained,
            scaling::law::presets::get("muennighoff")
                .unwrap()
                .law
                .unwrap()
                .params,
            vec![6.34e9, 25e9, 242e9],
        ),
        (
            LawForm::Overtraining,
            vec![1.84, 212.0, 367.0, 0.136],
            vec![40.0, 1e20],
        ),
        (
            LawForm::Multiplicative,
            vec![1.7, 3e4, 0.3, 0.25],
            vec![3e8, 6e9],
        ),
        (
            LawForm::BrokenPower {
                x: Variable::Tokens,
            },
            vec![0.5, 50.0, 0.15, 0.25, 1e9, 0.3],
            vec![3e9],
        ),
        (
            f("E + A*N^-alpha*exp(-D/T) + min(B, N)"),
            vec![2.0, 1.0, 0.3, 3e10, 0.1],
            vec![1e9, 1e10],
        ),
    ]
}

/// Property: for every form, the exact gradient of ln L matches central finite differences
/// at a point and at perturbed parameters around it.
#[test]
fn every_form_gradient_matches_finite_differences() {
    for (form, p0, x) in every_form() {
        let def = form.form();
        let vars = def.variables();
        assert_eq!(vars.len(), x.len(), "{}", form.name());
        for scale in [1.0, 0.9, 1.1] {
            let p: Vec<f64> = p0.iter().map(|v| v * scale).collect();
            let mut g = vec![0.0; p.len()];
            let v = def.ln_predict_grad(&x, &p, Some(&mut g));
            assert!(v.is_finite(), "{}", form.name());
            for i in 0..p.len() {
                let h = 1e-6 * p[i].abs();
                let (mut a, mut b) = (p.clone(), p.clone());
                a[i] += h;
                b[i] -= h;
                let fd = (def.ln_predict_grad(&x, &a, None) - def.ln_predict_grad(&x, &b, None))
                    / (2.0 * h);
                assert!(
                    (fd - g[i]).abs() <= 1e-5 * g[i].abs() + 1e-9 / p[i].abs(),
                    "{} d/d{}: fd {fd} vs exact {}",
                    form.name(),
                    def.param_names()[i],
                    g[i]
                );
            }
        }
    }
}

/// Property: predictions are finite and positive over the domain (N, D, C, U, S, M over
/// ten decades each, parameters as published).
#[test]
fn every_form_predicts_finite_values_over_the_domain() {
    for (form, p, x0) in every_form() {
        let def = form.form();
        for k in -5..=5 {
            let x: Vec<f64> = x0.iter().map(|v| v * 10f64.powi(k)).collect();
            let l = def.predict(&x, &p);
            assert!(l.is_finite() && l > 0.0, "{} at {x:?}: {l}", form.name());
        }
    }
}

/// Property: a fitted law of every kind, saved as JSON and read back as a law file, predicts
/// exactly what the fit predicts.
#[test]
fn saved_fits_reload_and_predict_identically() {
    let (n, d) = grid(&geom(1e7, 1e10, 6), &geom(1e8, 1e11, 6));
    let mult = Law::new(LawForm::Multiplicative, vec![1.7, 3e4, 0.3, 0.25]).unwrap();
    let chin = Law::new(LawForm::Chinchilla, vec![1.7, 400.0, 410.0, 0.34, 0.28]).unwrap();
    let kap = Law::new(LawForm::Kaplan, vec![6.4e13, 1.8e13, 0.076, 0.103]).unwrap();
    for (law, truth) in [
        ("multiplicative", &mult),
        ("E + A*N^-alpha*D^-beta", &mult),
        ("chinchilla", &chin),
        ("kaplan", &kap),
    ] {
        let t = exact(truth, &[("params", n.clone()), ("tokens", d.clone())]);
        let f = fit_law(t, law, None);
        let json = serde_json::to_string(&f).unwrap();
        let back: Fit = serde_json::from_str(&json).unwrap();
        let reloaded = Law::from_json_str("fit.json", &json).unwrap();
        let fitted = f.law().unwrap();
        assert_eq!(back.law().unwrap(), fitted, "{law}");
        for (nn, dd) in [(1e8, 2e9), (7e10, 1.4e12), (3e6, 1e8)] {
            let a = fitted.predict(nn, dd, 6.0 * nn * dd);
            let b = reloaded.predict(nn, dd, 6.0 * nn * dd);
            assert_eq!(a.to_bits(), b.to_bits(), "{law} at N={nn}, D={dd}");
        }
    }
}

/// `--param`: a fixed parameter stays at its value and is reported fixed; a bound holds.
#[test]
fn params_fix_and_bound() {
    let truth = Law::new(LawForm::Chinchilla, vec![1.7, 400.0, 410.0, 0.34, 0.28]).unwrap();
    let (n, d) = grid(&geom(1e7, 1e10, 6), &geom(1e8, 1e11, 6));
    let t = exact(&truth, &[("params", n), ("tokens", d)]);
    let f = fit_names(
        t,
        &FitNames {
            law: "chinchilla".into(),
            params: vec!["alpha=0.34".into(), "beta=0.01:0.3".into()],
            ..Default::default()
        },
    );
    assert_eq!(f.params["alpha"], Some(0.34));
    assert_eq!(f.conventions.fixed["alpha"], 0.34);
    assert_recovered(&f, &truth, 1e-3);
    assert_eq!(f.conventions.bounds["beta"], [Some(0.01), Some(0.3)]);
    // A bound that excludes the truth leaves beta at the bound, and the status says so.
    let (n, d) = grid(&geom(1e7, 1e10, 6), &geom(1e8, 1e11, 6));
    let t = exact(&truth, &[("params", n), ("tokens", d)]);
    let f = fit_names(
        t,
        &FitNames {
            law: "chinchilla".into(),
            params: vec!["beta=0.01:0.2".into()],
            ..Default::default()
        },
    );
    assert!(f.params["beta"].unwrap() <= 0.2);
    assert_eq!(f.status, Status::AtBound, "{}", f.status_detail);
    assert!(f.at_bound.contains(&"beta".to_string()));
}

/// The bootstrap of a generic-path fit resamples through the same path and puts intervals
/// on every free parameter.
#[test]
fn bootstrap_runs_through_the_generic_path() {
    let truth = Law::new(LawForm::Multiplicative, vec![1.7, 3e4, 0.3, 0.25]).unwrap();
    let (n, d) = grid(&geom(1e7, 1e10, 6), &geom(1e8, 1e11, 6));
    let mut t = exact(&truth, &[("params", n), ("tokens", d)]);
    // 1% multiplicative noise, deterministic.
    let li = t.column_index("loss").unwrap();
    let mut noisy = scaling::data::Cells::new(t.columns.len());
    for (i, r) in t.rows.iter().enumerate() {
        let mut cells = r.to_vec();
        let v: f64 = cells[li].parse().unwrap();
        cells[li] = (v * (1.0 + 0.01 * ((i as f64 * 2.39).sin()))).to_string();
        noisy.push_row(cells).unwrap();
    }
    t.rows = noisy;
    let config = FitNames {
        law: "multiplicative".into(),
        ..Default::default()
    }
    .config()
    .unwrap();
    let runs = load_runs(&t, fit::needs(&config.form), &LoadRequest::default(), None).unwrap();
    let f = fit_table(
        &t,
        &runs,
        &FitRequest {
            config,
            bootstrap: Some(BootstrapRequest {
                replicates: 200,
                seed: 3,
                ..Default::default()
            }),
        },
        &|| {},
    )
    .unwrap();
    let iv = f.intervals.as_ref().unwrap();
    for name in ["E", "A", "alpha", "beta"] {
        let [lo, hi] = iv[name];
        let v = f.params[name].unwrap();
        assert!(lo < v && v < hi, "{name}: {v} outside [{lo}, {hi}]");
    }
    let b = f.bootstrap.as_ref().unwrap();
    assert_eq!(b.samples.len(), 200);
    assert!(
        b.statuses.get("converged").copied().unwrap_or(0) >= 190,
        "{:?}",
        b.statuses
    );
}

/// The generic path's bootstrap (Newton refits with the Hessian by forward differences of
/// the formula's exact gradient) gives the kernel's intervals (Newton with the exact Hessian)
/// for the same law written as a formula, on Epoch's runs with the same seed: two independent
/// derivative codes and parametrisations that agree to 1e-8 (measured: 3e-10).
#[test]
fn formula_bootstrap_matches_the_kernel_bootstrap_on_epoch() {
    let Some(runs) = common::epoch_runs() else {
        return;
    };
    let boot = |law: &str| {
        let config = FitNames {
            law: law.into(),
            ..Default::default()
        }
        .config()
        .unwrap();
        let full = fit::fit(&runs, &config).unwrap();
        let bc = scaling::uncertainty::BootstrapConfig {
            replicates: 200,
            seed: 3,
            clusters: None,
            cluster_column: None,
            level: 0.95,
        };
        let b = scaling::uncertainty::bootstrap(&runs, &config, &full, &bc, &|| {}).unwrap();
        (b.param_names.clone(), b.samples)
    };
    let (kn, ks) = boot("chinchilla");
    let (fnames, fs) = boot("E + A*N^-alpha + B*D^-beta");
    assert_eq!(ks.len(), fs.len());
    let mut worst = 0.0f64;
    for (kr, fr) in ks.iter().zip(&fs) {
        for (i, name) in kn.iter().enumerate() {
            let j = fnames.iter().position(|n| n == name).unwrap();
            worst = worst.max(((kr[i] - fr[j]) / kr[i]).abs());
        }
    }
    assert!(
        worst < 1e-6,
        "largest relative difference of a replicate: {worst:e}"
    );
}

/// Chinchilla's 4500-point grid is a grid over that form's five parameters: another form asked
/// for it is started from its own grid, and the fit says so instead of recording "chinchilla"
/// as the strategy it did not use.
#[test]
fn the_paper_grid_asked_for_another_form_is_reported_not_silently_replaced() {
    let truth = Law::new(LawForm::Kaplan, vec![6.4e13, 1.8e13, 0.076, 0.103]).unwrap();
    let (n, d) = grid(&geom(1e7, 1e10, 6), &geom(1e8, 1e11, 6));
    let f = fit_names(
        exact(&truth, &[("params", n), ("tokens", d)]),
        &FitNames {
            law: "kaplan".into(),
            starts: "chinchilla".into(),
            ..Default::default()
        },
    );
    assert_recovered(&f, &truth, 1e-3);
    assert_eq!(f.conventions.starts, fit::StartStrategy::Grid);
    assert_eq!(f.starts.strategy, fit::StartStrategy::Grid);
    assert!(
        f.warnings.iter().any(|w| w.contains("4500-point grid")),
        "{:?}",
        f.warnings
    );
}

/// `starts = grid` on a formula: BFGS from every point of its 28 x 28 start grid (the linear
/// parameters solved at each), screened and abandoned as the kernel's grid, the best polished.
/// On Epoch's runs it finds the kernel's optimum (objective 1.0182740178e-3, within 1e-12
/// relative), reports every start's ending, and lists the starts it used.
#[test]
fn formula_grid_screens_every_start_and_finds_the_kernel_optimum() {
    let Some(runs) = common::epoch_runs() else {
        return;
    };
    let builtin = fit::fit(&runs, &FitConfig::default()).unwrap();
    let config = FitNames {
        law: "E + A*N^-alpha + B*D^-beta".into(),
        starts: "grid".into(),
        ..Default::default()
    }
    .config()
    .unwrap();
    let f = fit::fit(&runs, &config).unwrap();
    assert_eq!(f.status, Status::Converged, "{}", f.status_detail);
    let rel = ((f.objective - builtin.objective) / builtin.objective).abs();
    assert!(rel < 1e-12, "{} vs {}", f.objective, builtin.objective);
    let st = &f.starts;
    assert_eq!(st.strategy, fit::StartStrategy::Grid);
    assert_eq!(st.count, 784);
    assert_eq!(st.terminations.values().sum::<usize>(), 784);
    assert!(st.reached_best >= 1 && st.reached_best <= st.count);
    let screen = st.screen.as_ref().expect("the grid records its screen");
    assert_eq!(screen.polished, fit::POLISH);
    assert!(screen.evaluations > 784 && screen.polish_evaluations > 0);
    assert_eq!(st.seeds.as_ref().map(|s| s.len()), Some(784));
    assert!(
        f.warnings.iter().all(|w| !w.contains("grid starts")),
        "{:?}",
        f.warnings
    );
}
