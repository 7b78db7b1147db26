//! `scaling design` end to end: the JSON contract from a run table and from a saved fit, the
//! simulation check, and usage errors with exit code 2 naming the flag.

use std::path::{Path, PathBuf};
use std::process::Command;

fn scaling(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_scaling"))
        .args(args)
        .output()
        .expect("run scaling");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("scaling-design-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// An IsoFLOP sweep drawn by `scaling simulate sweep` from Epoch's law.
fn sweep(dir: &Path) -> String {
    let p = dir.join("sweep.csv").display().to_string();
    let (code, _, err) = scaling(&[
        "simulate",
        "sweep",
        "--preset",
        "epoch",
        "--budgets",
        "1e18,3e18,1e19,3e19,1e20",
        "--per-budget",
        "7",
        "--noise",
        "0.02",
        "--seed",
        "1",
        "--out",
        &p,
    ]);
    assert_eq!(code, 0, "{err}");
    p
}

#[test]
fn design_json_from_runs_and_from_a_saved_fit() {
    let dir = tempdir("json");
    let runs = sweep(&dir);
    let args = [
        "--budget",
        "1e24",
        "--allowance",
        "4e21",
        "--k",
        "3",
        "--format",
        "json",
    ];
    let (code, out, err) = scaling(&[&["design", runs.as_str()], &args[..]].concat());
    assert_eq!(code, 0, "{err}");
    let d: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(d["proposal"]["runs"].as_array().unwrap().len(), 3);
    assert!(d["proposal"]["cost"].as_f64().unwrap() <= 4e21 * (1.0 + 1e-9));
    let w = d["proposal"]["width"].as_f64().unwrap();
    assert!(w < d["current_width"].as_f64().unwrap());
    for a in d["alternatives"].as_array().unwrap() {
        assert!((a["cost"].as_f64().unwrap() / 4e21 - 1.0).abs() < 1e-9);
    }
    assert_eq!(d["conventions"]["flops_per_param_token"], 6.0);
    // The same runs through a saved fit give the same proposal.
    let fit = dir.join("fit.json").display().to_string();
    let (code, _, err) = scaling(&["fit", &runs, "--out", &fit]);
    assert_eq!(code, 0, "{err}");
    let (code, out2, err) = scaling(&[&["design", fit.as_str()], &args[..]].concat());
    assert_eq!(code, 0, "{err}");
    let d2: serde_json::Value = serde_json::from_str(&out2).unwrap();
    assert_eq!(d["proposal"], d2["proposal"]);
}

#[test]
fn design_simulate_reports_wins() {
    let dir = tempdir("sim");
    let runs = sweep(&dir);
    let (code, out, err) = scaling(&[
        "design",
        &runs,
        "--budget",
        "1e24",
        "--allowance",
        "4e21",
        "--simulate",
        "3",
        "--simulate-bootstrap",
        "40",
        "--objective",
        "squared",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("the proposal is narrower than isoflop in"),
        "{out}"
    );
    assert!(out.contains("larger_models"), "{out}");
}

#[test]
fn design_usage_errors_exit_2_and_name_the_flag() {
    let dir = tempdir("err");
    let runs = sweep(&dir);
    let (code, _, err) = scaling(&["design", &runs, "--budget", "1e24", "--allowance", "1e9"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--allowance"), "{err}");
    let (code, _, err) = scaling(&[
        "design",
        &runs,
        "--params",
        "1e9",
        "--tokens",
        "2e10",
        "--allowance",
        "1e21",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--budget"), "{err}");
    let (code, _, err) = scaling(&["design", &runs, "--allowance", "1e21"]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = scaling(&[
        "design",
        &runs,
        "--budget",
        "1e24",
        "--allowance",
        "1e21",
        "--quantity",
        "zeta",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--quantity"), "{err}");
}
