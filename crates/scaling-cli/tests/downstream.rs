//! `scaling downstream` on the command line: the published numbers through the binary, its
//! JSON contract, and exit code 2 with a clear message for bad input.

use std::path::PathBuf;
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_scaling"))
}

fn shared(file: &str) -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(file);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("SKIPPED: {} is absent (../shared/data)", p.display());
        None
    }
}

#[test]
fn downstream_ladder_recipe_json_has_the_papers_errors() {
    let Some(p) = shared("bhagia2024_ladder_evals.csv") else {
        return;
    };
    let out = bin()
        .args(["downstream", p.to_str().unwrap(), "--recipe", "ladder"])
        .args([
            "--target", "7B-4T", "--target", "13B-5T", "--format", "json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Bhagia et al. 2024, Sec. 4: 3.8 points (7B-4T) and 4.2 points (13B-5T).
    let e7 = v["average"][0]["mean_abs_error_points"].as_f64().unwrap();
    let e13 = v["average"][1]["mean_abs_error_points"].as_f64().unwrap();
    assert!(
        (e7 - 3.8).abs() < 0.05 && (e13 - 4.2).abs() < 0.05,
        "{e7} {e13}"
    );
    assert_eq!(v["conventions"]["recipe"], "ladder");
    assert_eq!(v["conventions"]["step1_checkpoints"]["rule"], "mean_last");
    assert_eq!(v["tasks"].as_array().unwrap().len(), 8);
    // Every 13B-5T prediction extrapolates step 2 below the ladder's task losses or not;
    // either way the feature the prediction used is recorded.
    assert!(v["tasks"][0]["predictions"][1]["feature"]
        .as_f64()
        .is_some());
}

#[test]
fn downstream_bad_input_exits_2_with_the_column_named() {
    let Some(p) = shared("bhagia2024_ladder_evals.csv") else {
        return;
    };
    let out = bin()
        .args(["downstream", p.to_str().unwrap(), "--recipe", "ladder"])
        .args(["--task", "nope_bpb:nope_acc", "--target", "7B-4T"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nope_acc"), "{err}");
    let out = bin()
        .args(["downstream", p.to_str().unwrap(), "--recipe", "ladder"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing to predict"));
}

#[test]
fn downstream_bad_cell_names_file_row_and_column() {
    let dir = std::env::temp_dir().join(format!("scaling-ds-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("runs.csv");
    std::fs::write(
        &f,
        "run,params,tokens,task_bpb,task_acc\n\
         a,1e8,2e9,1.2,0.30\nb,2e8,4e9,1.1,0.35\nc,4e8,8e9,oops,0.40\n\
         d,8e8,16e9,0.95,0.45\ne,1.6e9,32e9,0.9,0.5\nbig,1e10,2e11,0.8,0.6\n",
    )
    .unwrap();
    let out = bin()
        .args(["downstream", f.to_str().unwrap(), "--run-col", "run"])
        .args([
            "--feature",
            "task_bpb",
            "--metric",
            "task_acc",
            "--target",
            "big",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("task_bpb") && err.contains("oops") && err.contains("row 3"),
        "{err}"
    );
}

/// `--backtest C,...` on the ladder: the JSON has one entry per cutoff, smallest first, and
/// the cutoff above every ladder run predicts only the 7B and 13B targets with the paper's
/// 4.0 points of mean absolute error; `--target` with `--backtest` exits 2 naming both.
#[test]
fn downstream_backtest_rolls_cutoffs_and_refuses_targets() {
    let Some(p) = shared("bhagia2024_ladder_evals.csv") else {
        return;
    };
    let file = p.to_str().unwrap();
    let out = bin()
        .args([
            "downstream",
            file,
            "--recipe",
            "ladder",
            "--backtest",
            "1e22,1e20",
        ])
        .args(["--where", "role == 'ladder' or role == 'target'"])
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cuts = v["cutoffs"].as_array().unwrap();
    assert_eq!(cuts[0]["cutoff"], 1e20);
    assert_eq!(cuts[1]["held_out_runs"], 2);
    let mae = cuts[1]["summary"]["mean_abs_error_points"]
        .as_f64()
        .unwrap();
    assert!((mae - 4.0).abs() < 0.05, "{mae}");
    let text = bin()
        .args([
            "downstream",
            file,
            "--recipe",
            "ladder",
            "--backtest",
            "1e22",
        ])
        .args(["--where", "role == 'ladder' or role == 'target'"])
        .output()
        .unwrap();
    let t = String::from_utf8_lossy(&text.stdout);
    assert!(t.starts_with("Downstream backtest (two-step)"), "{t}");
    assert!(t.contains("predictions at C <= 1.000e22"), "{t}");
    let bad = bin()
        .args([
            "downstream",
            file,
            "--recipe",
            "ladder",
            "--backtest",
            "1e22",
        ])
        .args(["--target", "7B-4T"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let e = String::from_utf8_lossy(&bad.stderr);
    assert!(e.contains("--backtest") && e.contains("--target"), "{e}");
}
