//! Instruction counts of the objective kernel and the default fit, for callgrind (issue 16).
//! Run on Epoch AI's 240 runs (5 highest losses dropped):
//!
//! ```sh
//! cargo build --release -p scaling --example kernel_count
//! valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.out target/release/examples/kernel_count eval 10000
//! callgrind_annotate /tmp/cg.out | head -30     # instructions / 10000 = one evaluation
//! target/release/examples/kernel_count fit 100  # time per default fit and its starts
//! target/release/examples/kernel_count seeds    # evaluations of each variable-projection seed
//! ```
//!
//! Modes: `eval N` evaluates value and gradient N times at a fixed point; `fit N` runs the
//! default fit N times and prints its objective, time per fit and starts; `seeds` counts the
//! evaluations of each variable-projection seed, polished and screened.

use std::hint::black_box;
use std::path::PathBuf;

use scaling::data::{Filters, LoadOptions, RunTable, Runs};
use scaling::fit::{self, FitConfig};
use scaling::law::LawForm;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).map(String::as_str).unwrap_or("eval");
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/epoch_chinchilla_svg.csv");
    let table = RunTable::read(&p).expect("../shared/data/epoch_chinchilla_svg.csv");
    let mut runs = Runs::from_table(
        &table,
        fit::needs(&LawForm::Chinchilla),
        &LoadOptions::default(),
    )
    .unwrap();
    runs.apply_filters(&Filters {
        drop_top_loss: 5,
        ..Default::default()
    })
    .unwrap();
    let config = FitConfig::default();
    match mode {
        "eval" => {
            let problem = fit::problem(&runs, &config).unwrap();
            let theta = [0.597, 6.17, 7.67, 0.347, 0.367];
            let mut grad = [0.0; 5];
            let mut acc = 0.0;
            for i in 0..n {
                let mut t = theta;
                t[0] += i as f64 * 1e-12;
                acc += problem.value_grad(black_box(&t), &mut grad);
            }
            println!("{n} evaluations: sum {acc:e} grad {grad:?}");
        }
        "seeds" => {
            // The default strategy's polishing: every variable-projection seed run to full
            // convergence, against the same seeds stopped at the grid's screening rule.
            let problem = fit::problem(&runs, &config).unwrap();
            let seeds: Vec<Vec<f64>> = fit::starts::varpro_seeds(&problem, config.varpro_seeds)
                .into_iter()
                .map(|s| s.theta)
                .collect();
            let f = |x: &[f64], g: &mut [f64]| problem.value_grad(x, g);
            let screen = fit::bfgs::Options {
                max_iter: config.optimizer.max_iter,
                gtol: fit::starts::SCREEN_GTOL,
                gtol_stalled: fit::starts::SCREEN_GTOL,
                ftol_rel: fit::starts::SCREEN_FTOL_REL,
            };
            let (mut full_evals, mut screen_evals) = (0, 0);
            for x0 in &seeds {
                let o = fit::bfgs::minimize(f, x0, &config.optimizer);
                let s = fit::bfgs::minimize(f, x0, &screen);
                full_evals += o.evaluations;
                screen_evals += s.evaluations;
                println!(
                    "seed: full {:e} ({} evaluations); screened {:e} ({} evaluations, {:?})",
                    o.f, o.evaluations, s.f, s.evaluations, s.termination
                );
            }
            println!(
                "{} seeds: {full_evals} evaluations polishing every seed, {screen_evals} screening",
                seeds.len()
            );
        }
        _ => {
            let t0 = std::time::Instant::now();
            let mut last = None;
            for _ in 0..n {
                last = Some(fit::fit(black_box(&runs), &config).unwrap());
            }
            let el = t0.elapsed().as_secs_f64() / n as f64;
            let f = last.unwrap();
            let v = serde_json::to_value(&f).unwrap();
            println!(
                "objective {:e}; {:.2} ms per fit; starts {}",
                f.objective,
                el * 1e3,
                v["starts"]
            );
        }
    }
}
