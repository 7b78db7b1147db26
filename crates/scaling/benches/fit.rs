//! Criterion benches: one objective evaluation and one exact Hessian, one default fit, a
//! 400-replicate bootstrap (Newton refits) and the 4500-start grid, on
//! Epoch AI's 240 Chinchilla runs (../shared/data) or, when that folder is absent, on the
//! demo's synthetic sweep. Run with `cargo bench -p scaling`; `RAYON_NUM_THREADS=1` gives the
//! one-core figures quoted in the README.

use std::path::PathBuf;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use scaling::data::{Filters, LoadOptions, RunTable, Runs};
use scaling::fit::{self, FitConfig, StartStrategy};
use scaling::law::LawForm;

fn runs() -> (Runs, &'static str) {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/epoch_chinchilla_svg.csv");
    if let Ok(table) = RunTable::read(&p) {
        let mut r = Runs::from_table(
            &table,
            fit::needs(&LawForm::Chinchilla),
            &LoadOptions::default(),
        )
        .unwrap();
        r.apply_filters(&Filters {
            drop_top_loss: 5,
            ..Default::default()
        })
        .unwrap();
        return (r, "epoch240");
    }
    eprintln!("../shared/data is absent: benchmarking on the synthetic demo sweep instead");
    let truth = scaling::law::presets::get("epoch").unwrap().law.unwrap();
    let design = scaling::simulate::isoflop_design(
        &truth,
        &scaling::simulate::CHINCHILLA_BUDGETS,
        27,
        1.5,
        6.0,
    );
    (
        scaling::simulate::sample_runs(&truth, &design, 0.01, 1, "synthetic").unwrap(),
        "synthetic243",
    )
}

fn benches(c: &mut Criterion) {
    let (runs, name) = runs();
    let config = FitConfig::default();
    let problem = fit::problem(&runs, &config).unwrap();
    let theta = [0.597, 6.17, 7.67, 0.347, 0.367];
    let mut grad = [0.0; 5];
    c.bench_function(&format!("objective_value_grad/{name}"), |b| {
        b.iter(|| problem.value_grad(black_box(&theta), &mut grad))
    });
    let mut hess = [0.0; 25];
    c.bench_function(&format!("objective_hessian/{name}"), |b| {
        b.iter(|| problem.hessian(black_box(&theta), &mut hess))
    });
    c.bench_function(&format!("fit_default/{name}"), |b| {
        b.iter(|| fit::fit(black_box(&runs), &config).unwrap())
    });
    let full = fit::fit(&runs, &config).unwrap();
    let bc = scaling::uncertainty::BootstrapConfig {
        replicates: 400,
        seed: 42,
        clusters: None,
        cluster_column: None,
        level: 0.95,
    };
    let mut boot = c.benchmark_group("bootstrap");
    boot.sample_size(10);
    boot.bench_function(format!("bootstrap_400/{name}"), |b| {
        b.iter(|| {
            scaling::uncertainty::bootstrap(black_box(&runs), &config, &full, &bc, &|| {}).unwrap()
        })
    });
    boot.finish();
    // The same law as a user's formula, on the generic path (issue 13: within 5x of the
    // kernel).
    let formula = fit::FitNames {
        law: "E + A*N^-alpha + B*D^-beta".into(),
        ..Default::default()
    }
    .config()
    .unwrap();
    let gp = fit::GeneralProblem::new(
        formula.form.clone(),
        &fit::design(formula.form.form(), &runs, &fit::Columns::new()).unwrap(),
        &runs.loss,
        formula.objective,
        &formula.fixed,
        &formula.bounds,
    )
    .unwrap();
    let mut grad5 = [0.0; 5];
    let theta_f = [0.597, 6.17, 0.347, 7.67, 0.367];
    c.bench_function(&format!("formula_value_grad/{name}"), |b| {
        b.iter(|| gp.value_grad(black_box(&theta_f), &mut grad5))
    });
    c.bench_function(&format!("fit_formula/{name}"), |b| {
        b.iter(|| fit::fit(black_box(&runs), &formula).unwrap())
    });
    let mut g = c.benchmark_group("grid");
    g.sample_size(10);
    let grid = FitConfig {
        starts: StartStrategy::Chinchilla,
        ..Default::default()
    };
    g.bench_function(format!("fit_chinchilla_grid_4500/{name}"), |b| {
        b.iter(|| fit::fit(black_box(&runs), &grid).unwrap())
    });
    g.finish();
}

criterion_group!(fit_benches, benches);
criterion_main!(fit_benches);
