//! `scaling backtest` end to end: the JSON contract, `--roll` with its plot, and usage errors
//! with exit code 2.

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
    let d = std::env::temp_dir().join(format!("scaling-bt-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs from L = 1.8 + 480/N^0.35 + 2100/D^0.37 with a deterministic 1% wiggle.
fn runs_csv(dir: &Path) -> String {
    let mut s = String::from("params,tokens,loss\n");
    for i in 0..7 {
        for j in 0..5 {
            let n = 1e8 * 2f64.powi(i);
            let d = 2e9 * 2f64.powi(j);
            let w = 1.0 + 0.01 * ((5 * i + 3 * j) as f64).sin();
            let l = (1.8 + 480.0 * n.powf(-0.35) + 2100.0 * d.powf(-0.37)) * w;
            s.push_str(&format!("{n},{d},{l}\n"));
        }
    }
    let p = dir.join("runs.csv");
    std::fs::write(&p, s).unwrap();
    p.display().to_string()
}

#[test]
fn backtest_json_contract() {
    let dir = tempdir("json");
    let f = runs_csv(&dir);
    let (code, out, err) = scaling(&[
        "backtest",
        &f,
        "--cutoff",
        "3e20",
        "--bootstrap",
        "100",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let held = v["held_out"].as_array().unwrap();
    assert!(!held.is_empty());
    for key in [
        "predicted",
        "relative_error",
        "decades",
        "interval",
        "new_run_interval",
        "extrapolation_interval",
        "covered",
    ] {
        assert!(held[0].get(key).is_some(), "{key} missing");
    }
    assert!(held.iter().all(|h| h["decades"].as_f64().unwrap() > 0.0));
    assert!(v["summary"]["coverage"].as_f64().is_some());
    assert_eq!(v["conventions"]["level"].as_f64(), Some(0.95));
    assert!(v["misspecification"]["kappa"].as_f64().is_some());
}

#[test]
fn backtest_roll_writes_a_plot() {
    let dir = tempdir("roll");
    let f = runs_csv(&dir);
    let svg = dir.join("roll.svg").display().to_string();
    let (code, out, err) = scaling(&[
        "backtest",
        &f,
        "--roll",
        "--bootstrap",
        "50",
        "--plot",
        &svg,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("by extrapolation distance"), "{out}");
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(
        text.starts_with("<svg") && !text.contains("NaN"),
        "{}",
        &text[..80]
    );
}

#[test]
fn backtest_usage_errors_exit_2() {
    let dir = tempdir("usage");
    let f = runs_csv(&dir);
    for args in [
        vec!["backtest", f.as_str()],
        vec!["backtest", f.as_str(), "--cutoff", "1e20", "--roll"],
        vec![
            "backtest",
            f.as_str(),
            "--cutoff",
            "1e20",
            "--plot",
            "x.svg",
        ],
        vec!["backtest", f.as_str(), "--cutoff", "1e30"],
        vec!["backtest", f.as_str(), "--cutoff", "1e20", "--level", "1.5"],
        vec!["backtest", f.as_str(), "--on", "nope", "--cutoff", "1"],
    ] {
        let (code, out, err) = scaling(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(out.is_empty());
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn sensitivity_json_and_usage() {
    let (code, out, err) = scaling(&[
        "sensitivity",
        "--preset",
        "chinchilla",
        "--flops",
        "1e24",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["per_param"].as_array().unwrap().len(), 5);
    assert_eq!(v["exponent_shifts"].as_array().unwrap().len(), 6);
    let (code, _, err) = scaling(&["sensitivity", "--preset", "chinchilla"]);
    assert_eq!(code, 2, "{err}");
}
