//! The JSON of every command on the real datasets, recorded as snapshot files and compared byte
//! for byte. A refactoring must leave these identical; a change in any of them is either a bug
//! fix (named in the commit that regenerates them) or a regression. Regenerate with
//! `UPDATE_SNAPSHOTS=1 cargo test -p scaling-cli --test snapshots` (the files are generated,
//! never edited by hand). Skips, saying why, when ../shared/data is absent.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Name of the snapshot, then the arguments; `DATA/` stands for ../shared/data/ and `TMP/`
/// for a scratch directory shared by the cases (earlier cases write files later ones read).
const CASES: &[(&str, &[&str])] = &[
    (
        "fit_epoch",
        &[
            "fit",
            "DATA/epoch_chinchilla_svg.csv",
            "--drop-top-loss",
            "5",
        ],
    ),
    (
        "fit_epoch_bootstrap",
        &[
            "fit",
            "DATA/epoch_chinchilla_svg.csv",
            "--drop-top-loss",
            "5",
            "--bootstrap",
            "300",
            "--seed",
            "42",
            "-q",
            "--out",
            "TMP/epoch_fit.json",
        ],
    ),
    (
        "fit_epoch_power_flops",
        &[
            "fit",
            "DATA/epoch_chinchilla_svg.csv",
            "--law",
            "power",
            "--x",
            "flops",
        ],
    ),
    (
        "fit_misfitting_mean_squared",
        &[
            "fit",
            "DATA/misfitting2025_scaling_results_last_ckpt.csv",
            "--objective",
            "squared",
            "--reduction",
            "mean",
        ],
    ),
    (
        "predict_epoch",
        &[
            "predict",
            "TMP/epoch_fit.json",
            "--params",
            "70B",
            "--tokens",
            "1.4T",
        ],
    ),
    (
        "optimal_preset_chinchilla",
        &["optimal", "--preset", "chinchilla", "--flops", "5.76e23"],
    ),
    (
        "optimal_preset_epoch",
        &["optimal", "--preset", "epoch", "--flops", "1e21,1e23"],
    ),
    (
        "optimal_epoch_fit",
        &["optimal", "TMP/epoch_fit.json", "--flops", "1e19:1e26"],
    ),
    (
        "isoflop_epoch",
        &[
            "isoflop",
            "DATA/epoch_chinchilla_svg.csv",
            "--budgets",
            "6e18,1e19,3e19,6e19,1e20,3e20,6e20,1e21,3e21",
        ],
    ),
    (
        "envelope_misfitting",
        &[
            "envelope",
            "DATA/misfitting2025_scaling_results_all_ckpts.csv",
            "--run-col",
            "model,sweep,peak_lr,total_steps",
        ],
    ),
    (
        "compare_epoch",
        &[
            "compare",
            "DATA/epoch_chinchilla_svg.csv",
            "--drop-top-loss",
            "5",
            "--budgets",
            "6e18,1e19,3e19,6e19,1e20,3e20,6e20,1e21,3e21",
        ],
    ),
    (
        "powerlaw_porian",
        &[
            "powerlaw",
            "DATA/porian2024_isoflop_optima.csv",
            "--x",
            "flops",
            "--y",
            "n_star",
            "--by",
            "dataset,param_count",
            "--skip-invalid",
        ],
    ),
    (
        "count_llama2_70b",
        &[
            "count",
            "--layers",
            "80",
            "--d-model",
            "8192",
            "--heads",
            "64",
            "--kv-size",
            "128",
            "--ffw",
            "32768",
            "--vocab",
            "32000",
        ],
    ),
    ("shape_7b", &["shape", "--params", "7B"]),
    ("reconcile_epoch", &["reconcile", "--preset", "epoch"]),
    (
        "simulate_near_zero",
        &[
            "simulate",
            "data-strategy",
            "--scenario",
            "near-zero",
            "--kappa",
            "0.25",
        ],
    ),
    (
        "plateau_bnsl",
        &[
            "plateau",
            "DATA/bnsl2022_4digit_addition.csv",
            "--x",
            "training_dataset_size",
            "--y",
            "test_cross_entropy",
            "--holdout",
            "3",
        ],
    ),
    (
        "test_epoch_law",
        &["test", "TMP/epoch_fit.json", "--preset", "epoch"],
    ),
    (
        "predict_epoch_flops",
        &[
            "predict",
            "TMP/epoch_fit.json",
            "--params",
            "70B",
            "--flops",
            "5.88e23",
            "--level",
            "0.9",
        ],
    ),
    (
        "predict_preset_muennighoff",
        &[
            "predict",
            "--preset",
            "muennighoff",
            "--params",
            "8.7B",
            "--tokens",
            "178B",
            "--unique-tokens",
            "25B",
        ],
    ),
    (
        "predict_preset_kaplan",
        &[
            "predict", "--preset", "kaplan", "--params", "1B", "--flops", "1e21",
        ],
    ),
    (
        "demo_small",
        &[
            "demo",
            "--bootstrap",
            "40",
            "--per-budget",
            "5",
            "--seed",
            "3",
        ],
    ),
    (
        "calibrate_epoch_small",
        &[
            "calibrate",
            "DATA/epoch_chinchilla_svg.csv",
            "--drop-top-loss",
            "5",
            "--datasets",
            "3",
            "--bootstrap",
            "20",
            "--noise",
            "gaussian",
            "-q",
        ],
    ),
];

#[test]
fn every_command_json_matches_its_snapshot() {
    let data = root().join("../shared/data");
    if !data.is_dir() {
        eprintln!(
            "skipped: {} is absent (the real datasets live beside the checkout)",
            data.display()
        );
        return;
    }
    let data = data.canonicalize().unwrap();
    let tmp = std::env::temp_dir().join(format!("scaling-snapshots-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some();
    let mut failures = Vec::new();
    for (name, args) in CASES {
        let args: Vec<String> = args
            .iter()
            .map(|a| {
                a.replace("DATA/", &format!("{}/", data.display()))
                    .replace("TMP/", &format!("{}/", tmp.display()))
            })
            .chain(["--format".to_string(), "json".to_string()])
            .collect();
        let out = Command::new(env!("CARGO_BIN_EXE_scaling"))
            .args(&args)
            .output()
            .expect("run scaling");
        assert!(
            out.status.success(),
            "{name}: scaling {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Paths differ between machines: record them relative to the data and scratch folders.
        let text = String::from_utf8(out.stdout)
            .unwrap()
            .replace(&format!("{}/", data.display()), "DATA/")
            .replace(&format!("{}/", tmp.display()), "TMP/");
        let file = dir.join(format!("{name}.json"));
        if update {
            std::fs::write(&file, &text).unwrap();
            continue;
        }
        match std::fs::read_to_string(&file) {
            Ok(want) if want == text => {}
            Ok(_) => failures.push(format!("{name}: JSON differs from {}", file.display())),
            Err(_) => failures.push(format!("{name}: no snapshot {}", file.display())),
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    assert!(
        failures.is_empty(),
        "{}\n(if the change is a named bug fix, regenerate with UPDATE_SNAPSHOTS=1)",
        failures.join("\n")
    );
}
