//! End-to-end tests of the `scaling` binary: bad input gets a one-line error naming the
//! file, row, column and value with exit code 2; good input gets the fit, and saved fits
//! predict exactly.

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

/// A fresh directory for one test.
fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("scaling-cli-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

/// A small valid table drawn from a Chinchilla law (no noise).
fn good_csv() -> String {
    let mut s = String::from("params,tokens,loss\n");
    for i in 0..6 {
        for j in 0..4 {
            let n = 1e8 * 3f64.powi(i);
            let d = 2e9 * 4f64.powi(j);
            let l = 1.8 + 480.0 * n.powf(-0.35) + 2100.0 * d.powf(-0.37);
            s.push_str(&format!("{n},{d},{l}\n"));
        }
    }
    s
}

fn assert_user_error(args: &[&str], must_contain: &[&str]) {
    let (code, stdout, stderr) = scaling(args);
    assert_eq!(code, 2, "args {args:?}: stderr {stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert_eq!(
        stderr.trim().lines().count(),
        1,
        "one line expected: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    for m in must_contain {
        assert!(stderr.contains(m), "{m:?} not in {stderr:?}");
    }
}

#[test]
fn missing_file() {
    assert_user_error(
        &["fit", "/nonexistent/runs.csv"],
        &["/nonexistent/runs.csv", "cannot read"],
    );
}

#[test]
fn missing_column() {
    let d = tempdir("missing-col");
    let f = write(&d, "r.csv", "params,loss\n1e9,2.5\n2e9,2.4\n");
    assert_user_error(
        &["fit", &f],
        &["r.csv", "training tokens D", "--tokens-col"],
    );
    let f = write(&d, "r2.csv", &good_csv());
    assert_user_error(
        &["fit", &f, "--loss-col", "val"],
        &["--loss-col \"val\"", "names no column"],
    );
    // Every flag that names a column goes through one lookup: file, flag, name, headers.
    for args in [
        vec!["powerlaw", &f, "--x", "nope", "--y", "loss"],
        vec!["isoflop", &f, "--by", "nope"],
        vec!["fit", &f, "--cluster-col", "nope", "--bootstrap", "20"],
        vec!["compare", &f, "--run-col", "nope"],
    ] {
        let flag = args[2].to_string();
        assert_user_error(
            &args,
            &["r2.csv", &flag, "\"nope\" is not a header", "\"params\""],
        );
    }
}

#[test]
fn empty_tables() {
    let d = tempdir("empty");
    let f = write(&d, "header.csv", "params,tokens,loss\n");
    assert_user_error(&["fit", &f], &["header.csv", "no data rows"]);
    let f = write(&d, "nothing.csv", "");
    assert_user_error(&["fit", &f], &["nothing.csv"]);
    let f = write(&d, "empty.json", "[]");
    assert_user_error(&["fit", &f], &["empty.json", "no data rows"]);
}

#[test]
fn bad_values_name_file_row_column_value() {
    let d = tempdir("bad-values");
    let cases = [
        ("abc", "not a number"),
        ("0", "zero"),
        ("-1e9", "negative"),
        ("NaN", "NaN"),
        ("inf", "infinite"),
        ("", "empty"),
    ];
    for (i, (value, problem)) in cases.iter().enumerate() {
        let mut csv = good_csv();
        csv.push_str(&format!("{value},1e10,2.5\n"));
        let f = write(&d, &format!("bad{i}.csv"), &csv);
        assert_user_error(
            &["fit", &f],
            &[
                &format!("bad{i}.csv"),
                "row 25 (line 26)",
                "column \"params\"",
                &format!("(value {value:?})"),
                problem,
            ],
        );
    }
}

#[test]
fn skip_invalid_drops_and_reports() {
    let d = tempdir("skip");
    let mut csv = good_csv();
    csv.push_str("oops,1e10,2.5\n1e9,,2.5\n");
    let f = write(&d, "r.csv", &csv);
    let (code, out, err) = scaling(&["fit", &f, "--skip-invalid", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["runs"]["used"], 24);
    assert_eq!(v["runs"]["excluded_count"], 2);
    assert_eq!(v["runs"]["excluded"][0]["row"], 25);
}

#[test]
fn fewer_runs_than_parameters() {
    let d = tempdir("few");
    let f = write(
        &d,
        "r.csv",
        "params,tokens,loss\n1e9,2e10,2.5\n2e9,2e10,2.4\n3e9,4e10,2.3\n",
    );
    assert_user_error(
        &["fit", &f],
        &["r.csv", "3 run(s) cannot determine the 5 free parameters"],
    );
}

#[test]
fn unknown_flag_values() {
    let (code, _, err) = scaling(&["fit", "x.csv", "--law", "kaplan9"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("kaplan9"), "{err}");
    let (code, _, _) = scaling(&["fit", "x.csv", "--starts", "random"]);
    assert_eq!(code, 2);
    let (code, _, err) = scaling(&["fit", "x.csv", "--delta", "-1"]);
    assert_eq!(code, 2, "{err}");
    let d = tempdir("flags");
    let f = write(&d, "r.csv", &good_csv());
    assert_user_error(&["fit", &f, "--law", "power"], &["--x"]);
    assert_user_error(
        &["fit", &f, "--drop-top-loss", "24"],
        &["--drop-top-loss 24"],
    );
    assert_user_error(&["fit", &f, "--min-flops", "1e30"], &["no runs left"]);
}

#[test]
fn fit_json_contract_and_exact_predict() {
    let d = tempdir("predict");
    let f = write(&d, "runs.json", &{
        // The same runs as JSON, with size suffixes in strings.
        let rows: Vec<String> = good_csv()
            .lines()
            .skip(1)
            .map(|l| {
                let v: Vec<&str> = l.split(',').collect();
                format!(
                    "{{\"n_params\": {}, \"training_tokens\": \"{}\", \"val_loss\": {}}}",
                    v[0], v[1], v[2]
                )
            })
            .collect();
        format!("[{}]", rows.join(","))
    });
    let fit_path = d.join("fit.json").display().to_string();
    let (code, out, err) = scaling(&["fit", &f, "--format", "json", "--out", &fit_path]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    for k in ["E", "A", "B", "alpha", "beta"] {
        assert!(v["params"][k].is_number(), "{k}");
    }
    assert!(v["objective"].is_number());
    assert_eq!(v["status"], "converged");
    assert_eq!(v["conventions"]["delta"], 1e-3);
    assert_eq!(v["conventions"]["reduction"], "sum");
    assert_eq!(v["conventions"]["space"], "log");
    assert_eq!(v["conventions"]["columns"]["params"]["column"], "n_params");
    assert!((v["params"]["alpha"].as_f64().unwrap() - 0.35).abs() < 1e-4);
    // The saved file is the same JSON.
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&fit_path).unwrap()).unwrap();
    assert_eq!(saved, v);
    // predict returns exactly E + A N^-alpha + B D^-beta from the saved parameters.
    let (code, out, err) = scaling(&[
        "predict", &fit_path, "--params", "7B", "--tokens", "1.4T", "--format", "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let pv: serde_json::Value = serde_json::from_str(&out).unwrap();
    let p = |k: &str| v["params"][k].as_f64().unwrap();
    let expect = p("E") + p("A") * 7e9f64.powf(-p("alpha")) + p("B") * 1.4e12f64.powf(-p("beta"));
    assert_eq!(pv["loss"].as_f64().unwrap(), expect);
    // The file is not overwritten without --force.
    assert_user_error(&["fit", &f, "--out", &fit_path], &["exists", "--force"]);
    let (code, _, _) = scaling(&["fit", &f, "--out", &fit_path, "--force"]);
    assert_eq!(code, 0);
}

#[test]
fn hand_written_law_file() {
    let d = tempdir("law");
    // Chinchilla's rounded published law (Hoffmann et al. 2022, Eq. 10).
    let law = write(
        &d,
        "chinchilla.json",
        r#"{"law": "chinchilla", "params": {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}}"#,
    );
    let (code, out, err) = scaling(&[
        "predict", &law, "--params", "70B", "--tokens", "1.4T", "--format", "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let expect = 1.69 + 406.4 * 70e9f64.powf(-0.34) + 410.7 * 1.4e12f64.powf(-0.28);
    assert_eq!(v["loss"].as_f64().unwrap(), expect);
    let bad = write(
        &d,
        "bad.json",
        r#"{"law": "chinchilla", "params": {"E": 1.69}}"#,
    );
    assert_user_error(
        &["predict", &bad, "--params", "1e9", "--tokens", "1e10"],
        &["bad.json", "params.A is missing"],
    );
    assert_user_error(&["predict", &law, "--tokens", "1e10"], &["--params"]);
    assert_user_error(
        &["predict", &law, "--params", "-5", "--tokens", "1e10"],
        &["negative"],
    );
}

#[test]
fn unidentified_parameters_are_said_not_printed() {
    let d = tempdir("unid");
    let mut csv = String::from("params,tokens,loss\n");
    for i in 0..12 {
        let n = 1e8 * 2f64.powi(i);
        csv.push_str(&format!("{n},2e10,{}\n", 1.8 + 480.0 * n.powf(-0.35) + 0.5));
    }
    let f = write(&d, "one_d.csv", &csv);
    let (code, out, err) = scaling(&["fit", &f, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v["params"]["beta"].is_null());
    assert!(v["params"]["B"].is_null());
    assert!(v["params"]["alpha"].is_number());
    let (_, text, _) = scaling(&["fit", &f]);
    assert!(text.contains("not identified"), "{text}");
    assert!(text.contains("all runs have the same D"), "{text}");
}

/// Runs whose loss does not depend on N: the seeds end at optima that tie at rounding level
/// (the N term vanished, or its exponent at 0 beside E); the fit reports the one the data
/// determine (E and beta, not A and alpha), says that several tied, and the JSON counts them.
#[test]
fn tied_optima_are_said_and_the_determined_one_reported() {
    let d = tempdir("tied");
    let mut csv = String::from("params,tokens,loss\n");
    for i in 0..30 {
        let n = 1e8 * 1.5f64.powi(i % 6);
        let t = 1e9 * 1.7f64.powi(i / 6 + (i % 3));
        csv.push_str(&format!("{n},{t},{}\n", 1.8 + 2000.0 * t.powf(-0.37)));
    }
    let f = write(&d, "no_n.csv", &csv);
    let (code, out, err) = scaling(&["fit", &f, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(
        v["starts"]["tied_optima"].as_u64().unwrap() >= 2,
        "{}",
        v["starts"]
    );
    assert!(v["params"]["A"].is_null() && v["params"]["alpha"].is_null());
    assert!((v["params"]["E"].as_f64().unwrap() - 1.8).abs() < 1e-6);
    assert!((v["params"]["beta"].as_f64().unwrap() - 0.37).abs() < 1e-6);
    let (_, text, _) = scaling(&["fit", &f]);
    assert!(
        text.contains("distinct parameter sets reached the best objective"),
        "{text}"
    );
    // A fit without ties says nothing of them.
    let g = write(&d, "good.csv", &good_csv());
    let (_, out, _) = scaling(&["fit", &g, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v["starts"].get("tied_optima").is_none(), "{}", v["starts"]);
}

#[test]
fn power_law_from_flops() {
    let d = tempdir("power");
    let mut csv = String::from("compute,loss\n");
    for i in 0..15 {
        let c = 1e18 * 2.5f64.powi(i);
        csv.push_str(&format!("{c},{}\n", 1.7 + 2e3 * c.powf(-0.15)));
    }
    let f = write(&d, "c.csv", &csv);
    let (code, out, err) = scaling(&[
        "fit", &f, "--law", "power", "--x", "flops", "--format", "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!((v["params"]["alpha"].as_f64().unwrap() - 0.15).abs() < 1e-5);
    assert_eq!(v["x"], "flops");
}

#[test]
fn demo_runs_and_labels_synthetic() {
    let (code, out, err) = scaling(&["demo"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("SYNTHETIC"), "{out}");
    assert!(out.contains("truth"), "{out}");
    let (code, out, _) = scaling(&["demo", "--format", "json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["synthetic"], true);
    assert!(v["fit"]["params"]["alpha"].is_number());
}

/// Regression: on Epoch's undesigned budgets the IsoFLOP plot once had an 85-entry legend
/// spilling off the panel and vertex intervals stretching the loss axis below zero.
#[test]
fn isoflop_plot_on_many_snapped_budgets_stays_readable() {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/epoch_chinchilla_svg.csv");
    if !p.exists() {
        eprintln!("SKIPPED: {} is absent", p.display());
        return;
    }
    let d = tempdir("isoplot");
    let svg = d.join("iso.svg");
    let (code, _, err) = scaling(&[
        "plot",
        "isoflop",
        p.to_str().unwrap(),
        "--drop-top-loss",
        "5",
        "-o",
        svg.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let s = std::fs::read_to_string(&svg).unwrap();
    assert!(
        s.contains("colours repeat"),
        "title says the legend was dropped"
    );
    assert!(!s.contains("C = "), "no per-budget legend entries");
    assert!(s.contains("L* interval (cut)"));
    assert!(
        !s.contains(">-"),
        "no negative tick labels on the loss axis"
    );
}

/// Acceptance on the Epoch data (skips when ../shared/data is absent).
#[test]
fn epoch_acceptance_from_the_command_line() {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/epoch_chinchilla_svg.csv");
    if !p.exists() {
        eprintln!(
            "SKIPPED: {} is absent (no ../shared/data beside the checkout)",
            p.display()
        );
        return;
    }
    let (code, out, err) = scaling(&[
        "fit",
        p.to_str().unwrap(),
        "--drop-top-loss",
        "5",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!((v["objective"].as_f64().unwrap() - 0.0010182740178).abs() < 3e-9);
    assert!((v["params"]["alpha"].as_f64().unwrap() - 0.3473).abs() < 5e-4);
    assert_eq!(v["runs"]["used"], 240);
    assert_eq!(v["conventions"]["filters"]["drop_top_loss"], 5);
}

/// `scaling test` JSON contract: numbers chi2, chi2_p_value, lr_statistic, lr_p_value.
#[test]
fn test_command_json_contract() {
    let d = tempdir("test-cmd");
    let f = write(&d, "r.csv", &{
        let mut s = String::from("params,tokens,loss\n");
        let mut k = 0u64;
        for i in 0..8 {
            for j in 0..6 {
                let n = 1e8 * 2f64.powi(i);
                let t = 2e9 * 2.5f64.powi(j);
                // Deterministic pseudo-noise of about 1%.
                k = k
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let eps = ((k >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 0.02;
                let l = (1.8 + 480.0 * n.powf(-0.35) + 2100.0 * t.powf(-0.37)) * (1.0 + eps);
                s.push_str(&format!("{n},{t},{l}\n"));
            }
        }
        s
    });
    let fit_path = d.join("fit.json").display().to_string();
    let (code, _, err) = scaling(&[
        "fit",
        &f,
        "--bootstrap",
        "200",
        "--seed",
        "3",
        "--out",
        &fit_path,
        "--quiet",
    ]);
    assert_eq!(code, 0, "{err}");
    let law = write(
        &d,
        "law.json",
        r#"{"law": "chinchilla", "params": {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}}"#,
    );
    let (code, out, err) = scaling(&["test", &fit_path, "--against", &law, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    for k in ["chi2", "chi2_p_value", "lr_statistic", "lr_p_value"] {
        assert!(v[k].is_number(), "{k}: {out}");
    }
    assert!(v["chi2_p_value"].as_f64().unwrap() < 0.05);
    // A fit without replicates cannot be tested.
    let plain = d.join("plain.json").display().to_string();
    scaling(&["fit", &f, "--out", &plain]);
    assert_user_error(
        &["test", &plain, "--against", &law],
        &["no bootstrap replicates"],
    );
    // A law file is not a fit.
    assert_user_error(&["test", &law, "--against", &law], &["not a saved fit"]);
}

/// predict from a bootstrapped fit: the law's exact value, an interval on the mean that
/// contains it, a wider prediction interval, and where the point lies.
#[test]
fn predict_with_intervals_and_extrapolation() {
    let d = tempdir("predict-iv");
    let mut csv = String::from("params,tokens,loss\n");
    let mut k = 7u64;
    for i in 0..8 {
        for j in 0..6 {
            let n = 1e8 * 2f64.powi(i);
            let t = 2e9 * 2.5f64.powi(j);
            k = k
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let eps = ((k >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 0.02;
            csv.push_str(&format!(
                "{n},{t},{}\n",
                (1.8 + 480.0 * n.powf(-0.35) + 2100.0 * t.powf(-0.37)) * (1.0 + eps)
            ));
        }
    }
    let f = write(&d, "r.csv", &csv);
    let fit_path = d.join("fit.json").display().to_string();
    let (code, _, err) = scaling(&[
        "fit",
        &f,
        "--bootstrap",
        "300",
        "--out",
        &fit_path,
        "--quiet",
    ]);
    assert_eq!(code, 0, "{err}");
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&fit_path).unwrap()).unwrap();
    let p = |k: &str| saved["params"][k].as_f64().unwrap();
    for (n, t, inside) in [(1e9f64, 2e10f64, true), (7e10, 1.4e12, false)] {
        let (code, out, err) = scaling(&[
            "predict",
            &fit_path,
            "--params",
            &n.to_string(),
            "--tokens",
            &t.to_string(),
            "--format",
            "json",
        ]);
        assert_eq!(code, 0, "{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let loss = v["loss"].as_f64().unwrap();
        assert_eq!(
            loss,
            p("E") + p("A") * n.powf(-p("alpha")) + p("B") * t.powf(-p("beta"))
        );
        let ci = [
            v["interval"][0].as_f64().unwrap(),
            v["interval"][1].as_f64().unwrap(),
        ];
        let pi = [
            v["prediction_interval"][0].as_f64().unwrap(),
            v["prediction_interval"][1].as_f64().unwrap(),
        ];
        assert!(ci[0] <= loss && loss <= ci[1], "{ci:?} {loss}");
        assert!(pi[0] < ci[0] && ci[1] < pi[1], "{pi:?} {ci:?}");
        // The new-run interval under its own name, with its method (issue 11 item 4).
        assert_eq!(v["new_run_interval"], v["prediction_interval"]);
        assert!(v["new_run_method"].as_str().unwrap().contains("leverage"));
        assert_eq!(v["extrapolation"]["inside"], inside);
    }
}

/// `scaling optimal`: the JSON contract (an object for one budget, an array for several, with
/// numbers flops, params, tokens, loss) and the published allocations (Hoffmann et al. 2022:
/// about 40.4B unrounded and 32.2B rounded at 5.76e23; Kaplan et al. 2020: 4.68B at 1e21).
#[test]
fn optimal_contract_and_published_values() {
    let one = |args: &[&str]| -> serde_json::Value {
        let (code, out, err) = scaling(args);
        assert_eq!(code, 0, "{args:?}: {err}");
        serde_json::from_str(&out).unwrap()
    };
    let v = one(&[
        "optimal",
        "--preset",
        "chinchilla",
        "--flops",
        "5.76e23",
        "--format",
        "json",
    ]);
    for k in ["flops", "params", "tokens", "loss"] {
        assert!(v[k].is_number(), "{k}");
    }
    assert!((v["params"].as_f64().unwrap() / 40.4e9 - 1.0).abs() < 0.01);
    let c = v["flops"].as_f64().unwrap();
    assert!(
        (6.0 * v["params"].as_f64().unwrap() * v["tokens"].as_f64().unwrap() / c - 1.0).abs()
            < 1e-12
    );
    let v = one(&[
        "optimal",
        "--preset",
        "chinchilla-rounded",
        "--flops",
        "5.76e23",
        "--format",
        "json",
    ]);
    assert!((v["params"].as_f64().unwrap() / 32.2e9 - 1.0).abs() < 0.01);
    let v = one(&[
        "optimal", "--preset", "kaplan", "--flops", "1e21", "--format", "json",
    ]);
    assert!((v["params"].as_f64().unwrap() / 4.68e9 - 1.0).abs() < 0.02);
    let v = one(&[
        "optimal",
        "--preset",
        "epoch",
        "--flops",
        "1e19:1e26",
        "--format",
        "json",
    ]);
    assert_eq!(v.as_array().unwrap().len(), 8);
    for row in v.as_array().unwrap() {
        for k in ["flops", "params", "tokens", "loss"] {
            assert!(row[k].is_number(), "{k}");
        }
    }
}

/// An allocation from a saved fit equals the closed form from its parameters.
#[test]
fn optimal_from_a_saved_fit_is_the_closed_form() {
    let d = tempdir("optimal-fit");
    let f = write(&d, "r.csv", &good_csv());
    let fit_path = d.join("fit.json").display().to_string();
    let (code, _, err) = scaling(&["fit", &f, "--out", &fit_path]);
    assert_eq!(code, 0, "{err}");
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&fit_path).unwrap()).unwrap();
    let p = |k: &str| saved["params"][k].as_f64().unwrap();
    let (code, out, err) = scaling(&["optimal", &fit_path, "--flops", "1e22", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let (alpha, beta) = (p("alpha"), p("beta"));
    let g = (alpha * p("A") / (beta * p("B"))).powf(1.0 / (alpha + beta));
    let n = g * (1e22f64 / 6.0).powf(beta / (alpha + beta));
    assert!(
        (v["params"].as_f64().unwrap() / n - 1.0).abs() < 1e-12,
        "{} vs {n}",
        v["params"]
    );
}

/// Muennighoff et al. 2023 worked examples (../shared/REFERENCE.md).
#[test]
fn data_constrained_predictions() {
    for (n, d, expect) in [
        ("6.34e9", "242e9", 2.2256440889984477),
        ("8.67e9", "178e9", 2.2269634075087867),
    ] {
        let (code, out, err) = scaling(&[
            "predict",
            "--preset",
            "muennighoff",
            "--params",
            n,
            "--tokens",
            d,
            "--unique-tokens",
            "25e9",
            "--format",
            "json",
        ]);
        assert_eq!(code, 0, "{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let l = v["loss"].as_f64().unwrap();
        assert!((l / expect - 1.0).abs() < 1e-9, "{l} vs {expect}");
    }
}

#[test]
fn planning_bad_input() {
    assert_user_error(
        &["optimal", "--preset", "nope", "--flops", "1e20"],
        &["unknown preset \"nope\"", "chinchilla"],
    );
    assert_user_error(
        &["optimal", "--preset", "chinchilla", "--flops", "-1"],
        &["negative"],
    );
    assert_user_error(
        &["optimal", "--preset", "chinchilla", "--flops", "0"],
        &["zero"],
    );
    assert_user_error(
        &["optimal", "--preset", "chinchilla", "--target-loss", "1.2"],
        &["irreducible"],
    );
    assert_user_error(
        &["optimal", "--preset", "deepseek", "--target-loss", "2"],
        &["published allocation rule"],
    );
    assert_user_error(&["optimal", "--preset", "chinchilla"], &["--flops"]);
    assert_user_error(
        &[
            "optimal",
            "--preset",
            "chinchilla",
            "--flops",
            "1e22",
            "--unique-tokens",
            "1e9",
        ],
        &["data-constrained"],
    );
    assert_user_error(
        &[
            "predict", "--preset", "llama3", "--params", "1e9", "--tokens", "1e10",
        ],
        &["no loss law"],
    );
    let (code, out, _) = scaling(&["presets"]);
    assert_eq!(code, 0);
    for name in [
        "chinchilla",
        "chinchilla-rounded",
        "epoch",
        "kaplan",
        "muennighoff",
        "deepseek",
        "llama3",
    ] {
        assert!(out.contains(name), "{name}");
    }
}

/// Regressions from review: a law tested against a fit with a different fixed E, inconsistent
/// predict inputs, a non-finite derived C, and a fixed E above the smallest loss are errors.
#[test]
fn review_regressions_are_errors() {
    let d = tempdir("review");
    let f = write(&d, "r.csv", &good_csv());
    let fit_path = d.join("fixe.json").display().to_string();
    let (code, _, err) = scaling(&[
        "fit",
        &f,
        "--fix-e",
        "1.8",
        "--bootstrap",
        "50",
        "--out",
        &fit_path,
        "-q",
    ]);
    assert_eq!(code, 0, "{err}");
    let law = write(
        &d,
        "l.json",
        r#"{"law": "chinchilla", "params": {"E": 1.0, "A": 400, "B": 400, "alpha": 0.3, "beta": 0.3}}"#,
    );
    assert_user_error(
        &["test", &fit_path, "--against", &law],
        &["held E fixed at 1.8", "E = 1"],
    );
    assert_user_error(
        &[
            "predict", &fit_path, "--params", "7B", "--tokens", "1.4T", "--flops", "1e30",
        ],
        &["disagree"],
    );
    assert_user_error(
        &[
            "predict", &fit_path, "--params", "1e308", "--tokens", "1e308",
        ],
        &["not a positive finite number"],
    );
    assert_user_error(
        &["fit", &f, "--fix-e", "5"],
        &["--fix-e 5", "not below the smallest loss"],
    );
    assert_user_error(&["fit", &f, "--level", "0.9"], &["--bootstrap"]);
}

/// `scaling count` JSON contract and golden counts: Kaplan's 12 n_layer d^2 (84.93M for
/// (12, 768)); Chinchilla's 70B shape holds about 64.7B with tied embeddings (Hoffmann et al.
/// 2022, Table A9).
#[test]
fn count_contract_and_goldens() {
    let (code, out, err) = scaling(&[
        "count",
        "--layers",
        "12",
        "--d-model",
        "768",
        "--heads",
        "12",
        "--vocab",
        "50257",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    for k in [
        "total_params",
        "non_embedding_params",
        "embedding_params",
        "active_params",
    ] {
        assert!(v[k].is_number(), "{k}");
    }
    assert_eq!(v["non_embedding_params"].as_f64().unwrap(), 84_934_656.0);
    for k in [
        "six_n",
        "six_n_non_embedding",
        "kaplan",
        "chinchilla",
        "deepseek",
    ] {
        assert!(v["flops_per_token"][k].is_number(), "{k}");
    }
    let (code, out, _) = scaling(&[
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
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!((v["total_params"].as_f64().unwrap() / 64.69e9 - 1.0).abs() < 1e-3);
    assert_user_error(
        &["count", "--layers", "2", "--d-model", "100", "--heads", "3"],
        &["not divisible"],
    );
    assert_user_error(
        &["count", "--layers", "0", "--d-model", "128", "--heads", "2"],
        &["--layers"],
    );
    assert_user_error(
        &[
            "count",
            "--layers",
            "2",
            "--d-model",
            "128",
            "--heads",
            "2",
            "--experts",
            "4",
            "--top-k",
            "8",
        ],
        &["--top-k 8"],
    );
}

/// `scaling reconcile --preset epoch` (Pearce & Song 2024): a Kaplan-range exponent well
/// above 0.5 and a large-scale exponent equal to beta / (alpha + beta).
#[test]
fn reconcile_contract() {
    let (code, out, err) = scaling(&["reconcile", "--preset", "epoch", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let k = v["kaplan_range_exponent"].as_f64().unwrap();
    let l = v["large_scale_exponent"].as_f64().unwrap();
    assert!(k > 0.65 && k < 0.85, "{k}");
    assert!((l - 0.3659 / (0.3478 + 0.3659)).abs() < 1e-9, "{l}");
    let locals = v["local_exponents"].as_array().unwrap();
    assert!(!locals.is_empty());
    assert!(locals[0]["non_embedding_params"].is_number() && locals[0]["exponent"].is_number());
}

/// A table with shape columns: `count FILE` appends counts under every convention, and `fit`
/// can use any of them (`--params-convention`, `--flops-convention`).
#[test]
fn conventions_from_shape_columns() {
    let d = tempdir("shapes");
    let mut csv = String::from("n_layers,d_model,n_heads,tokens,loss\n");
    for (i, (l, dm)) in [
        (4, 256),
        (6, 384),
        (8, 512),
        (10, 640),
        (12, 768),
        (16, 1024),
        (20, 1280),
        (24, 1536),
    ]
    .iter()
    .enumerate()
    {
        for j in 0..3 {
            let t = 1e9 * 2f64.powi(i as i32 + j);
            let n = 12.0 * (*l as f64) * (*dm as f64).powi(2);
            let loss = 1.7 + 300.0 * n.powf(-0.3) + 900.0 * t.powf(-0.3);
            csv.push_str(&format!("{l},{dm},{},{t},{loss}\n", dm / 64));
        }
    }
    let f = write(&d, "shapes.csv", &csv);
    let (code, out, err) = scaling(&["count", &f]);
    assert_eq!(code, 0, "{err}");
    let header = out.lines().next().unwrap();
    for c in [
        "params_total",
        "params_non_embedding",
        "flops_kaplan",
        "flops_chinchilla",
    ] {
        assert!(header.contains(c), "{header}");
    }
    let (code, out, err) = scaling(&[
        "fit",
        &f,
        "--params-convention",
        "non-embedding",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["conventions"]["columns"]["params"]["column"],
        "params_non_embedding"
    );
    assert!((v["params"]["alpha"].as_f64().unwrap() - 0.3).abs() < 1e-3);
    let (code, out, err) = scaling(&[
        "fit",
        &f,
        "--law",
        "power",
        "--x",
        "flops",
        "--flops-convention",
        "kaplan",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["conventions"]["columns"]["flops"]["column"],
        "flops_kaplan"
    );
    assert_user_error(
        &["fit", &f, "--params-convention", "embedding"],
        &["known conventions"],
    );
}

fn shared(file: &str) -> Option<String> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(file);
    if p.exists() {
        Some(p.display().to_string())
    } else {
        eprintln!(
            "SKIPPED: {} is absent (no ../shared/data beside the checkout)",
            p.display()
        );
        None
    }
}

/// Porian et al. 2024: `scaling powerlaw` of n_star on flops per configuration reproduces every
/// reported n_exponent (porian2024_reported_fits.csv) to 1e-5.
#[test]
fn porian_exponents_reproduced() {
    let (Some(optima), Some(fits)) = (
        shared("porian2024_isoflop_optima.csv"),
        shared("porian2024_reported_fits.csv"),
    ) else {
        return;
    };
    let (code, out, err) = scaling(&[
        "powerlaw",
        &optima,
        "--x",
        "flops",
        "--y",
        "n_star",
        "--by",
        "source_file,row",
        "--skip-invalid",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let got: Vec<&serde_json::Value> = v.as_array().unwrap().iter().collect();
    let text = std::fs::read_to_string(&fits).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |n: &str| header.iter().position(|h| *h == n).unwrap();
    let mut checked = 0;
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        let (src, row, expo) = (
            f[col("source_file")],
            f[col("row")],
            f[col("n_exponent")].parse::<f64>().unwrap(),
        );
        let g = got
            .iter()
            .find(|g| g["group"]["source_file"] == src && g["group"]["row"] == row)
            .unwrap_or_else(|| panic!("no group {src} {row}"));
        assert!(
            (g["exponent"].as_f64().unwrap() - expo).abs() < 1e-5,
            "{src} {row}"
        );
        checked += 1;
    }
    assert_eq!(checked, 15);
}

/// On Epoch's data snapped to Chinchilla's nine budgets, Approach 2 gives a and b inside the
/// published Approach 2 intervals (Hoffmann et al. 2022, Table 2: a 0.462-0.534,
/// b 0.483-0.529); compare shows Approaches 2 and 3 with intervals.
#[test]
fn approach_two_on_epoch_data() {
    let Some(epoch) = shared("epoch_chinchilla_svg.csv") else {
        return;
    };
    let budgets = "6e18,1e19,3e19,6e19,1e20,3e20,6e20,1e21,3e21";
    let (code, out, err) = scaling(&[
        "isoflop",
        &epoch,
        "--budgets",
        budgets,
        "--bootstrap",
        "100",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let (a, b) = (
        v["params_exponent"].as_f64().unwrap(),
        v["tokens_exponent"].as_f64().unwrap(),
    );
    assert!((0.462..=0.534).contains(&a), "a {a}");
    assert!((0.483..=0.529).contains(&b), "b {b}");
    let bs = v["budgets"].as_array().unwrap();
    assert_eq!(bs.len(), 9);
    for k in ["flops", "params", "tokens", "loss"] {
        assert!(bs[0][k].is_number(), "{k}");
    }
    let (code, out, err) = scaling(&[
        "compare",
        &epoch,
        "--drop-top-loss",
        "5",
        "--budgets",
        budgets,
        "--bootstrap",
        "100",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let ap = v["approaches"].as_array().unwrap();
    assert!(
        ap[0]["a_interval"].is_array() && ap[1]["a_interval"].is_array(),
        "{out}"
    );
    assert!(v["approach2_bias_check"]["bias_a"].is_number());
}

/// Approach 1 on the (Mis)Fitting curves (Li et al. 2025) reports a and b with intervals;
/// the JSON has params_exponent and tokens_exponent. Curves without a size, and a run id that
/// mixes sizes, are errors.
#[test]
fn envelope_on_real_curves() {
    let Some(curves) = shared("misfitting2025_scaling_results_all_ckpts.csv") else {
        return;
    };
    let (code, out, err) = scaling(&[
        "envelope",
        &curves,
        "--run-col",
        "model,sweep,peak_lr",
        "--bootstrap",
        "50",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let (a, b) = (
        v["params_exponent"].as_f64().unwrap(),
        v["tokens_exponent"].as_f64().unwrap(),
    );
    assert!(a > 0.2 && a < 0.8 && (a + b - 1.0).abs() < 1e-9, "{a} {b}");
    assert!(v["params_exponent_interval"].is_array());
    let d = tempdir("envelope");
    let f = write(&d, "nosize.csv", "run,tokens,loss\na,1e9,3.0\na,2e9,2.9\n");
    assert_user_error(
        &["envelope", &f, "--run-col", "run"],
        &["no column for the model size"],
    );
    let f = write(
        &d,
        "mixed.csv",
        "run,params,tokens,loss\na,1e8,1e9,3.0\na,2e8,2e9,2.9\n",
    );
    assert_user_error(
        &["envelope", &f, "--run-col", "run"],
        &["two sizes", "--run-col"],
    );
}

/// `scaling simulate data-strategy` JSON contract: numbers rate, rate_theory, asymptote,
/// asymptote_theory and an array points of (n, mean error, low, high).
#[test]
fn data_strategy_contract() {
    let (code, out, err) = scaling(&[
        "simulate",
        "data-strategy",
        "--scenario",
        "low-noise",
        "--gamma",
        "0.5",
        "--reps",
        "200",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    for k in ["rate", "rate_theory", "asymptote", "asymptote_theory"] {
        assert!(v[k].is_number(), "{k}");
    }
    assert!((v["rate"].as_f64().unwrap() - 1.5).abs() < 0.1);
    let p = v["points"].as_array().unwrap();
    assert!(p.len() >= 3 && p[0].as_array().unwrap().len() == 4);
    assert_user_error(
        &[
            "simulate",
            "data-strategy",
            "--scenario",
            "near-zero",
            "--kappa",
            "0.7",
        ],
        &["--kappa"],
    );
}

/// `scaling plateau` on Caballero et al.'s 4-digit addition curve, fitted on its first 14
/// points, reports the held-out error on the last 3 for each form.
#[test]
fn plateau_on_bnsl_curve() {
    let Some(f) = shared("bnsl2022_4digit_addition.csv") else {
        return;
    };
    let (code, out, err) = scaling(&[
        "plateau",
        &f,
        "--x",
        "training_dataset_size",
        "--y",
        "test_cross_entropy",
        "--holdout",
        "3",
        "--bootstrap",
        "50",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["fit_points"], 14);
    assert_eq!(v["heldout_points"], 3);
    let forms = v["forms"].as_array().unwrap();
    assert_eq!(forms.len(), 3);
    for f in forms {
        assert!(f["heldout_rmse"].is_number(), "{f}");
    }
    assert!(["plateau", "still falling", "cannot tell"].contains(&v["verdict"].as_str().unwrap()));
}

/// `scaling simulate sweep` writes a run table the fitting commands read.
#[test]
fn sweep_round_trip() {
    let d = tempdir("sweep");
    let out_path = d.join("runs.csv").display().to_string();
    let (code, _, err) = scaling(&[
        "simulate", "sweep", "--preset", "epoch", "--noise", "0.005", "--seed", "3", "--out",
        &out_path,
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = scaling(&["fit", &out_path, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!((v["params"]["alpha"].as_f64().unwrap() - 0.3478).abs() < 0.05);
    let (code, _, err) = scaling(&[
        "simulate",
        "sweep",
        "--preset",
        "chinchilla",
        "--grid-params",
        "1e8:1e10",
        "--grid-tokens",
        "1e9:1e11",
        "--noise-kind",
        "exponential",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_user_error(
        &["simulate", "sweep", "--preset", "llama3"],
        &["no loss law"],
    );
}

/// `scaling report` writes one self-contained page: inline SVG plots, no http(s) reference a
/// browser would fetch, under 5 MB, and text from the user's file escaped.
#[test]
fn report_is_self_contained_and_escaped() {
    let d = tempdir("report");
    let mut csv = String::from("params,tokens,<script>alert(1)</script>\n");
    for line in good_csv().lines().skip(1) {
        csv.push_str(line);
        csv.push('\n');
    }
    let f = write(&d, "runs.csv", &csv);
    let out = d.join("report.html").display().to_string();
    let (code, _, err) = scaling(&[
        "report",
        &f,
        "--loss-col",
        "<script>alert(1)</script>",
        "--bootstrap",
        "100",
        "-o",
        &out,
    ]);
    assert_eq!(code, 0, "{err}");
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.len() < 5_000_000);
    assert!(html.matches("<svg").count() >= 3, "plots");
    assert!(!html.contains("http://") && !html.contains("https://"));
    assert!(!html.contains("<script"), "user text must be escaped");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    // The law is checked: a backtest (or why there is none) and the next runs to train.
    assert!(html.contains("<h2>Backtest: fitted below the top half decade of compute"));
    assert!(html.contains("<h2>Which runs next?"));
    let svg = d.join("lc.svg").display().to_string();
    let (code, _, err) = scaling(&[
        "plot",
        "loss-compute",
        &f,
        "--loss-col",
        "<script>alert(1)</script>",
        "-o",
        &svg,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(std::fs::read_to_string(&svg).unwrap().starts_with("<svg"));
    assert_user_error(
        &[
            "plot",
            "loss-compute",
            &f,
            "--loss-col",
            "<script>alert(1)</script>",
            "-o",
            &svg,
        ],
        &["exists"],
    );
    // PNG: chosen by the extension, drawn with the embedded font, scale checked.
    let png = d.join("lc.png").display().to_string();
    let (code, _, err) = scaling(&[
        "plot",
        "residuals",
        &f,
        "--loss-col",
        "<script>alert(1)</script>",
        "--scale",
        "1",
        "-o",
        &png,
    ]);
    assert_eq!(code, 0, "{err}");
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    // IHDR width: the residual figure is 1680 units wide, drawn at one pixel per unit.
    assert_eq!(u32::from_be_bytes(bytes[16..20].try_into().unwrap()), 1680);
    assert_user_error(
        &[
            "plot",
            "residuals",
            &f,
            "--loss-col",
            "<script>alert(1)</script>",
            "--scale",
            "0",
            "--force",
            "-o",
            &png,
        ],
        &["scale"],
    );
}

/// Regressions from the second review: rule presets refuse questions their rule cannot answer,
/// --unique-tokens reaches constrained plans, single-variable laws cannot allocate, plans with
/// less than one parameter or token are errors, large gamma keeps its rate, levels are checked.
#[test]
fn second_review_regressions() {
    assert_user_error(
        &[
            "optimal", "--preset", "kaplan", "--flops", "1e21", "--params", "4.68e9",
        ],
        &["published allocation rule"],
    );
    let (code, out, err) = scaling(&[
        "optimal",
        "--preset",
        "muennighoff",
        "--flops",
        "1e22",
        "--params",
        "5e9",
        "--unique-tokens",
        "1e10",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!((v["loss"].as_f64().unwrap() - 2.2872).abs() < 1e-3, "{out}");
    let d = tempdir("review2");
    let pf = write(
        &d,
        "pf.json",
        r#"{"law":"power","x":"flops","params":{"E":1.7,"A":2000,"alpha":0.05}}"#,
    );
    assert_user_error(
        &["optimal", &pf, "--flops", "1e21"],
        &["cannot say how to split compute"],
    );
    assert_user_error(
        &[
            "optimal",
            "--preset",
            "chinchilla",
            "--flops",
            "1e20",
            "--tokens",
            "1e20",
        ],
        &["fewer than one parameter"],
    );
    assert_user_error(
        &["optimal", "--preset", "chinchilla", "--target-loss", "1000"],
        &["any run reaches it"],
    );
    assert_user_error(
        &[
            "optimal",
            "--preset",
            "chinchilla",
            "--flops",
            "1e22",
            "--target-loss",
            "2",
        ],
        &["not both"],
    );
    let (code, out, err) = scaling(&[
        "simulate",
        "data-strategy",
        "--scenario",
        "low-noise",
        "--gamma",
        "2.5",
        "--reps",
        "100",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(
        (v["rate"].as_f64().unwrap() - 3.5).abs() < 0.2,
        "{}",
        v["rate"]
    );
    assert!(v["asymptote"].as_f64().unwrap().is_finite());
    assert_user_error(
        &[
            "simulate",
            "data-strategy",
            "--scenario",
            "full-range",
            "--level",
            "1.5",
        ],
        &["--level"],
    );
    assert_user_error(
        &[
            "simulate",
            "data-strategy",
            "--scenario",
            "full-range",
            "--sizes",
            "100,100,1000",
        ],
        &["repeat"],
    );
}

/// compare on loss curves (--run-col) includes Approach 1 and warns when approaches disagree.
#[test]
fn compare_with_curves_includes_approach_one() {
    let Some(curves) = shared("misfitting2025_scaling_results_all_ckpts.csv") else {
        return;
    };
    let (code, out, err) = scaling(&[
        "compare",
        &curves,
        "--run-col",
        "model,sweep,peak_lr,total_steps",
        "--bootstrap",
        "50",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let ap = v["approaches"].as_array().unwrap();
    assert!(
        ap[0]["approach"]
            .as_str()
            .unwrap()
            .starts_with("Approach 1"),
        "{out}"
    );
    assert!(ap[0]["a"].is_number() && ap[0]["a_interval"].is_array());
    assert!(v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w.as_str().unwrap().contains("disagree")));
}

/// Issue 13: `--law` takes a formula; `--param` fixes or bounds a parameter; a saved formula
/// fit predicts exactly what the fit's parameters give.
#[test]
fn fit_formula_law_with_params_and_predict() {
    let d = tempdir("formula");
    let f = write(&d, "r.csv", &good_csv());
    let out = d.join("fit.json").display().to_string();
    let (code, stdout, stderr) = scaling(&[
        "fit",
        &f,
        "--law",
        "E + A*N^-alpha + B*D^-beta",
        "--param",
        "beta=0.01:2",
        "--param",
        "E=1.8",
        "--format",
        "json",
        "--out",
        &out,
    ]);
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["law"], "formula");
    assert_eq!(v["formula"], "E + A*N^-alpha + B*D^-beta");
    assert_eq!(v["params"]["E"], 1.8);
    assert_eq!(v["conventions"]["fixed"]["E"], 1.8);
    assert_eq!(
        v["conventions"]["bounds"]["beta"],
        serde_json::json!([0.01, 2.0])
    );
    let p = |k: &str| v["params"][k].as_f64().unwrap();
    assert!((p("alpha") / 0.35 - 1.0).abs() < 1e-6, "{}", p("alpha"));
    assert!((p("beta") / 0.37 - 1.0).abs() < 1e-6, "{}", p("beta"));
    let (n, t) = (3e9f64, 5e10f64);
    let want = p("E") + p("A") * n.powf(-p("alpha")) + p("B") * t.powf(-p("beta"));
    let (code, stdout, stderr) = scaling(&[
        "predict", &out, "--params", "3e9", "--tokens", "5e10", "--format", "json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let pv: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let got = pv["loss"].as_f64().unwrap();
    assert!(((got - want) / want).abs() < 1e-14, "{got} vs {want}");
}

/// Issue 13: a formula that does not parse is a usage error (exit 2) pointing at the
/// character; a name that is neither a law nor a formula says what is known.
#[test]
fn formula_parse_error_points_at_the_character() {
    let d = tempdir("formula-error");
    let f = write(&d, "r.csv", &good_csv());
    let (code, stdout, stderr) = scaling(&["fit", &f, "--law", "E + A*N^^alpha"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.contains("character 9"), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    let caret = lines
        .iter()
        .position(|l| l.trim() == "^")
        .expect("a caret line");
    assert_eq!(
        lines[caret].find('^'),
        lines[caret - 1].find("^^").map(|i| i + 1),
        "{stderr}"
    );
    assert_user_error(
        &["fit", &f, "--law", "kaplan9"],
        &["kaplan9", "not known", "formula"],
    );
    assert_user_error(
        &["fit", &f, "--law", "chinchilla", "--param", "gamma=1"],
        &["gamma", "not a parameter"],
    );
}

/// `powerlaw` on a constant x used to print a slope with a standard error of 5.5e14 (exit 0),
/// and its errors read "error: : ..." with no file name.
#[test]
fn powerlaw_constant_x_refused_with_file_and_column() {
    let d = tempdir("powerlaw-const");
    let mut text = String::from("width,loss\n");
    for i in 1..=10 {
        text.push_str(&format!("0.1,{i}\n"));
    }
    let f = write(&d, "const.csv", &text);
    assert_user_error(
        &["powerlaw", &f, "--x", "width", "--y", "loss"],
        &["const.csv", "\"width\"", "all x values are equal"],
    );
    let (_, _, err) = scaling(&["powerlaw", &f, "--x", "width", "--y", "loss"]);
    assert!(!err.contains("error: :"), "{err}");
}

// ---- issue 11: columns, filters, groups, reproduce commands, counting ----

/// Like [`good_csv`] with a `dataset` column and the given C = ratio x 6ND column.
fn csv_with_c(ratio: f64) -> String {
    let mut s = String::from("dataset,params,tokens,C,loss\n");
    for (k, ds) in ["rpj", "c4"].iter().enumerate() {
        for i in 0..5 {
            for j in 0..4 {
                let n = 1e8 * 3f64.powi(i);
                let d = 2e9 * 4f64.powi(j);
                let l = 1.8 + k as f64 * 0.1 + 480.0 * n.powf(-0.35) + 2100.0 * d.powf(-0.37);
                s.push_str(&format!("{ds},{n},{d},{},{l}\n", ratio * 6.0 * n * d));
            }
        }
    }
    s
}

fn json(out: &str) -> serde_json::Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

#[test]
fn fit_uses_flops_column_without_flops_filter() {
    let d = tempdir("fit-flops-col");
    let f = write(&d, "r.csv", &csv_with_c(1.3));
    let (code, out, err) = scaling(&["fit", &f, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    // The largest budget is the C column's, as in `report` (not 6 N D).
    let max_c = 1.3 * 6.0 * 1e8 * 81.0 * 2e9 * 64.0;
    let got = v["data_range"]["flops"][1].as_f64().unwrap();
    assert!((got / max_c - 1.0).abs() < 1e-12, "{got} vs {max_c}");
    let check = &v["conventions"]["columns"]["flops_check"];
    assert!(
        (check["max_ratio"].as_f64().unwrap() - 1.3).abs() < 1e-9,
        "{check}"
    );
    assert!(check["uses"]
        .as_str()
        .unwrap()
        .contains("law is fitted on N and D"));
    let w = v["warnings"].as_array().unwrap();
    assert!(
        w.iter().any(|w| w
            .as_str()
            .unwrap()
            .contains("differs from C = 6 N D by up to 30%")),
        "{w:?}"
    );
    // Marin's W&B export: fit and report now see the same largest budget, 3.00e20 FLOPs.
    if let Some(marin) = shared("marin_202603_isoflop_comma.csv") {
        let (code, out, err) = scaling(&[
            "fit",
            &marin,
            "--loss-col",
            "eval/paloma/macro_loss",
            "--format",
            "json",
        ]);
        assert_eq!(code, 0, "{err}");
        let v = json(&out);
        let top = v["data_range"]["flops"][1].as_f64().unwrap();
        assert!((top / 3.0e20 - 1.0).abs() < 1e-3, "{top}");
        assert!(v["warnings"]
            .to_string()
            .contains("throughput/total_gflops"));
    }
}

/// Split a POSIX shell line made by the report (words, single quotes, '\'' escapes).
fn shell_split(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    cur.push(q);
                }
            }
            '\\' => {
                in_word = true;
                if let Some(q) = chars.next() {
                    cur.push(q);
                }
            }
            ' ' => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            _ => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    words
}

fn html_unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
}

#[test]
fn report_reproduce_commands_keep_every_flag() {
    let d = tempdir("reproduce");
    let text = csv_with_c(1.0).replace(",loss\n", ",val loss\n");
    let f = write(&d, "runs.csv", &text);
    let html = d.join("page.html");
    let args = [
        "report",
        &f,
        "-o",
        html.to_str().unwrap(),
        "--bootstrap",
        "20",
        "--seed",
        "3",
        "--loss-col",
        "val loss",
        "--drop-top-loss",
        "2",
        "--where",
        "dataset == 'rpj' and N < 5e9",
        "--flops-col",
        "C",
    ];
    let (code, _, err) = scaling(&args);
    assert_eq!(code, 0, "{err}");
    let page = std::fs::read_to_string(&html).unwrap();
    let block = page
        .split("<h2>Reproduce</h2><pre>")
        .nth(1)
        .and_then(|s| s.split("</pre>").next())
        .unwrap();
    let lines: Vec<String> = html_unescape(block).lines().map(String::from).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    // The report command, run again, makes the same page.
    let report = shell_split(&lines[0]);
    assert_eq!(report[0], "scaling");
    std::fs::remove_file(&html).unwrap();
    let words: Vec<&str> = report[1..].iter().map(String::as_str).collect();
    let (code, _, err) = scaling(&words);
    assert_eq!(code, 0, "{}: {err}", lines[0]);
    assert_eq!(std::fs::read_to_string(&html).unwrap(), page);
    // The fit command gives the fit the page shows.
    let fit = shell_split(&lines[1]);
    let words: Vec<&str> = fit[1..].iter().map(String::as_str).collect();
    let (code, out, err) = scaling(&words);
    assert_eq!(code, 0, "{}: {err}", lines[1]);
    let v = json(&out);
    assert_eq!(v["conventions"]["filters"]["drop_top_loss"], 2);
    assert_eq!(
        v["conventions"]["filters"]["where"],
        "dataset == 'rpj' and N < 5e9"
    );
    let used = v["runs"]["used"].as_u64().unwrap();
    // rpj rows with N < 5e9: 4 sizes x 4 token counts, minus the 2 highest losses.
    assert_eq!(used, 14);
    assert!(page.contains(&format!("runs: {used} used of")), "{page}");
    let e = v["params"]["E"].as_f64().unwrap();
    assert!(
        page.contains(&format!("E      {}", scaling::report::sig(e, 5))),
        "E {e} not on the page"
    );
}

#[test]
fn where_filter_on_every_command_that_reads_runs() {
    let d = tempdir("where-all");
    let f = write(&d, "runs.csv", &csv_with_c(1.0));
    let w = "dataset == 'c4'";
    let (code, out, err) = scaling(&["fit", &f, "--where", w, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    assert_eq!(v["runs"]["used"], 20);
    assert_eq!(v["runs"]["excluded_count"], 20);
    for cmd in [
        vec!["compare", &f, "--where", w, "--bootstrap", "0"],
        vec!["isoflop", &f, "--where", w, "--bootstrap", "0"],
        vec![
            "calibrate",
            &f,
            "--where",
            w,
            "--datasets",
            "2",
            "--bootstrap",
            "2",
        ],
    ] {
        let (code, _, err) = scaling(&cmd);
        // isoflop may find no budget on this grid; what matters is that --where is accepted
        // and the error, if any, is about the data, not the flag.
        assert!(!err.contains("unexpected argument"), "{cmd:?}: {err}");
        assert!(code == 0 || code == 2, "{cmd:?}: {err}");
    }
    let svg = d.join("p.svg");
    let (code, _, err) = scaling(&[
        "plot",
        "residuals",
        &f,
        "--where",
        w,
        "-o",
        svg.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = scaling(&[
        "powerlaw",
        &f,
        "--x",
        "params",
        "--y",
        "loss",
        "--where",
        "dataset == 'rpj' and tokens == 2e9",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(json(&out)["points"], 5);
    // A bad filter: exit 2, the character named and marked.
    let (code, out, err) = scaling(&["fit", &f, "--where", "dataset == 'rpj' and N << 1e9"]);
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty());
    assert!(
        err.starts_with("error: --where: filter, character 25:"),
        "{err}"
    );
    assert!(err.contains(&format!("\n  {}^", " ".repeat(24))), "{err}");
    let (code, _, err) = scaling(&["fit", &f, "--where", "model == 'x'"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("\"model\" is not a column") && err.contains("\n  ^"),
        "{err}"
    );
}

#[test]
fn by_reports_each_group_in_first_appearance_order_and_failed_groups_in_place() {
    let d = tempdir("by-order");
    // Groups appear as z, a, m; group a has one point, which no power law fits.
    let f = write(
        &d,
        "t.csv",
        "g,x,y\nz,1,2\nz,2,4.1\nz,4,7.9\na,1,3\nm,1,1\nm,10,10.5\nm,100,99\n",
    );
    let (code, out, err) = scaling(&["powerlaw", &f, "--x", "x", "--y", "y", "--by", "g"]);
    assert_eq!(code, 0, "{err}");
    let (pz, pa, pm) = (
        out.find("g=z:").unwrap(),
        out.find("g=a:").unwrap(),
        out.find("g=m:").unwrap(),
    );
    assert!(pz < pa && pa < pm, "{out}");
    assert!(out[pa..pm].contains("error:"), "{out}");
    assert!(err.contains("1 of 3 groups failed"), "{err}");
    let (code, out, _) = scaling(&[
        "powerlaw", &f, "--x", "x", "--y", "y", "--by", "g", "--format", "json",
    ]);
    assert_eq!(code, 0);
    let v = json(&out);
    let groups: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["group"]["g"].as_str().unwrap())
        .collect();
    assert_eq!(groups, ["z", "a", "m"]);
    assert!(v[1]["error"].as_str().is_some() && v[1].get("exponent").is_none());
    assert!(v[2]["exponent"].as_f64().is_some());
    // Every group failing is the command failing.
    let (code, _, err) = scaling(&[
        "powerlaw", &f, "--x", "x", "--y", "y", "--by", "g", "--where", "g == 'a'",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("group g=a"), "{err}");
}

#[test]
fn fit_by_fits_each_group() {
    let d = tempdir("fit-by");
    let f = write(&d, "runs.csv", &csv_with_c(1.0));
    let (code, out, err) = scaling(&["fit", &f, "--by", "dataset", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    let arr = v.as_array().unwrap();
    assert_eq!(arr.len(), 2);
    assert_eq!(arr[0]["group"]["dataset"], "rpj");
    assert_eq!(arr[1]["group"]["dataset"], "c4");
    // The c4 rows were drawn with E 0.1 higher.
    let e0 = arr[0]["params"]["E"].as_f64().unwrap();
    let e1 = arr[1]["params"]["E"].as_f64().unwrap();
    assert!(
        (e0 - 1.8).abs() < 1e-3 && (e1 - 1.9).abs() < 1e-3,
        "{e0} {e1}"
    );
    assert_user_error(
        &["fit", &f, "--by", "dataset", "--out", "x.json"],
        &["--out"],
    );
}

#[test]
fn dash_reads_runs_from_stdin() {
    use std::io::Write as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_scaling"))
        .args(["fit", "-", "--format", "json"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(good_csv().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(v["runs"]["used"], 24);
    assert_eq!(v["runs"]["source"], "-");
}

#[test]
fn device_input_is_refused_not_read() {
    // /dev/zero never ends: reading it would eat memory. It is refused before reading.
    assert_user_error(&["fit", "/dev/zero"], &["/dev/zero", "not a regular file"]);
}

#[test]
fn count_without_heads_uses_d_attn_equal_d_model() {
    let (code, no_heads, err) = scaling(&[
        "count",
        "--layers",
        "12",
        "--d-model",
        "768",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, heads, err) = scaling(&[
        "count",
        "--layers",
        "12",
        "--d-model",
        "768",
        "--heads",
        "12",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let (a, b) = (json(&no_heads), json(&heads));
    assert_eq!(a["total_params"], b["total_params"]);
    // Kaplan's count and 6N need only n_layer and d_model; Chinchilla's softmax term counts
    // heads, so it is marked as assuming one.
    for k in ["six_n", "six_n_non_embedding", "kaplan", "deepseek"] {
        assert_eq!(a["flops_per_token"][k], b["flops_per_token"][k], "{k}");
    }
    assert!(a["notes"].to_string().contains("one head"), "{a}");
    assert_eq!(a["d_attn"], 768.0);
    assert_eq!(a["heads_given"], false);
    let (_, text, _) = scaling(&["count", "--layers", "12", "--d-model", "768"]);
    assert!(
        text.contains("d_attn = d_model = 768 (heads not given"),
        "{text}"
    );
}

#[test]
fn count_file_format_json_is_honoured() {
    let d = tempdir("count-json");
    let f = write(
        &d,
        "s.csv",
        "n_layers,d_model,n_heads,tokens\n12,768,12,1e10\n",
    );
    let (code, out, err) = scaling(&["count", &f, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    assert_eq!(v[0]["d_model"], 768.0);
    assert!(v[0]["params_total"].as_f64().unwrap() > 1e8, "{v}");
    let (_, csv, _) = scaling(&["count", &f]);
    assert!(csv.starts_with("n_layers,d_model,n_heads,tokens,"), "{csv}");
}

#[test]
fn shape_count_zero_is_an_error_not_an_empty_table() {
    assert_user_error(&["shape", "--params", "7B", "--count", "0"], &["0 shapes"]);
}

#[test]
fn reconcile_says_omega_is_47481_by_the_formula() {
    let (code, out, err) = scaling(&["reconcile", "--preset", "epoch"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("omega = 47481"), "{out}");
    assert!(out.contains("Pearce & Song print 47491"), "{out}");
}

/// Llama 3 (arXiv:2407.21783, Sec. 3.2.1) fit the compute-optimal tokens as
/// D*(C) = A C^alpha with (A, alpha) = (0.299, 0.537): `isoflop` on the digitised Figure 2
/// prints that coefficient, so it can be read off.
#[test]
fn isoflop_text_prints_the_coefficient_of_d_star() {
    let Some(llama) = shared("llama3_isoflops_digitized.csv") else {
        return;
    };
    let (code, out, err) = scaling(&[
        "isoflop",
        &llama,
        "--budget-col",
        "compute_budget",
        "--keep-flagged",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("D* = 0.2994 C^0.5368"), "{out}");
}

#[test]
fn compare_accepts_keep_flagged_it_suggests() {
    let d = tempdir("compare-keep");
    let f = write(&d, "r.csv", &good_csv());
    let (code, _, err) = scaling(&["compare", &f, "--keep-flagged", "--bootstrap", "0"]);
    assert!(!err.contains("unexpected argument"), "{err}");
    assert!(code == 0 || code == 2, "{err}");
}

/// `scaling optimal ... --format json`, parsed, or the exit code and stderr.
fn plan_json(args: &[&str]) -> Result<serde_json::Value, (i32, String)> {
    let mut all = vec!["optimal"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    let (code, out, err) = scaling(&all);
    if code == 0 {
        // serde_json writes NaN and infinity as null, which `num` refuses.
        assert!(!out.contains("NaN"), "{out}");
        Ok(serde_json::from_str(&out).unwrap())
    } else {
        Err((code, err))
    }
}

fn plan_num(v: &serde_json::Value, k: &str) -> f64 {
    v[k].as_f64()
        .unwrap_or_else(|| panic!("{k} is not a number in {v}"))
}

/// Regression (issue 11): `optimal FIT --target-loss`, `--params`, `--tokens` and
/// `--inference-tokens` exited with "at 5.9999999999999986e1 FLOPs this plan has N = 3.9e-1"
/// for fits of Epoch's runs, the kyo-takano subset and the demo's runs. Each question now
/// answers with numbers that satisfy it.
#[test]
fn optimal_answers_every_question_for_fits_of_real_data() {
    let d = tempdir("plan-real");
    let demo = d.join("demo.csv").display().to_string();
    let (code, _, err) = scaling(&["demo", "--write-runs", &demo]);
    assert_eq!(code, 0, "{err}");
    let mut files = vec![(demo, vec![])];
    if let Some(f) = shared("epoch_chinchilla_svg.csv") {
        files.push((f, vec!["--drop-top-loss", "5"]));
    }
    if let Some(f) = shared("kyo_takano_chinchilla_subset.csv") {
        files.push((f, vec![]));
    }
    for (i, (file, extra)) in files.iter().enumerate() {
        let fit = d.join(format!("fit{i}.json")).display().to_string();
        let mut args = vec!["fit", file.as_str(), "--out", &fit];
        args.extend(extra);
        let (code, _, err) = scaling(&args);
        assert_eq!(code, 0, "{file}: {err}");
        let opt = plan_json(&[&fit, "--flops", "1e22"]).unwrap();
        let target = plan_num(&opt, "loss");
        let check = |v: &serde_json::Value| {
            let c = plan_num(v, "flops");
            assert!(
                (6.0 * plan_num(v, "params") * plan_num(v, "tokens") / c - 1.0).abs() < 1e-12,
                "{file}: {v}"
            );
        };
        let t = plan_json(&[&fit, "--target-loss", &target.to_string()])
            .unwrap_or_else(|e| panic!("{file}: {e:?}"));
        check(&t);
        assert!(
            (plan_num(&t, "loss") / target - 1.0).abs() < 1e-6,
            "{file}: {t}"
        );
        assert!(
            (plan_num(&t, "flops") / 1e22 - 1.0).abs() < 1e-6,
            "{file}: {t}"
        );
        for (flag, value, key, expect) in [
            ("--params", "7B", "params", 7e9),
            ("--tokens", "1T", "tokens", 1e12),
        ] {
            let v = plan_json(&[&fit, "--flops", "1e22", flag, value])
                .unwrap_or_else(|e| panic!("{file} {flag}: {e:?}"));
            check(&v);
            assert_eq!(plan_num(&v, key), expect, "{file}: {v}");
            assert_eq!(plan_num(&v, "flops"), 1e22);
            assert!(plan_num(&v, "extra_compute") >= 0.0, "{file}: {v}");
            assert!(plan_num(&v, "equivalent_flops") <= 1e22, "{file}: {v}");
        }
        let v = plan_json(&[&fit, "--flops", "1e22", "--inference-tokens", "1T"])
            .unwrap_or_else(|e| panic!("{file} inference: {e:?}"));
        check(&v);
        assert!(
            (plan_num(&v, "loss") / target - 1.0).abs() < 1e-6,
            "{file}: {v}"
        );
        assert_eq!(plan_num(&v, "requested_flops"), 1e22);
        assert!(plan_num(&v, "params") < plan_num(&v["chinchilla_optimal"], "params"));
        let v = plan_json(&[&fit, "--target-loss", "2.5", "--inference-tokens", "1T"])
            .unwrap_or_else(|e| panic!("{file} inference: {e:?}"));
        assert!(
            (plan_num(&v, "loss") / 2.5 - 1.0).abs() < 1e-6,
            "{file}: {v}"
        );
    }
}

/// Regression (issue 11): questions a law cannot answer exit 2 with the reason, never a
/// message about 60 FLOPs.
#[test]
fn optimal_refuses_unanswerable_questions_with_the_reason() {
    assert_user_error(
        &["optimal", "--preset", "epoch", "--target-loss", "1.8"],
        &["target loss 1.8", "irreducible loss E = 1.8169"],
    );
    assert_user_error(
        &[
            "optimal",
            "--preset",
            "muennighoff",
            "--target-loss",
            "2.1",
            "--unique-tokens",
            "25B",
        ],
        &["lowest loss this law reaches with 25.0B unique tokens"],
    );
    assert_user_error(
        &["optimal", "--preset", "epoch", "--flops", "100"],
        &["fewer than one parameter", "only from 3.7751e2 FLOPs"],
    );
    assert_user_error(
        &[
            "optimal",
            "--preset",
            "muennighoff",
            "--flops",
            "1e22",
            "--unique-tokens",
            "25B",
            "--inference-tokens",
            "1T",
        ],
        &["--unique-tokens", "--inference-tokens"],
    );
    // The data-constrained law answers targets above its floor with limited data.
    let v = plan_json(&[
        "--preset",
        "muennighoff",
        "--target-loss",
        "2.3",
        "--unique-tokens",
        "25B",
    ])
    .unwrap();
    assert!((plan_num(&v, "loss") / 2.3 - 1.0).abs() < 1e-6, "{v}");
    assert!(plan_num(&v, "epochs") > 1.0, "{v}");
}

/// Regression (issue 11): law files with a zero or negative exponent (or B = 0) were planned
/// with (one parameter on all the tokens; NaN with --inference-tokens at exit 0).
#[test]
fn optimal_refuses_laws_with_nonpositive_exponents() {
    let d = tempdir("bad-exponents");
    for (name, params, expect) in [
        ("a0", r#""alpha": 0, "beta": 0.28, "B": 400"#, "alpha = 0"),
        (
            "bn",
            r#""alpha": 0.34, "beta": -0.1, "B": 400"#,
            "beta = -0.1",
        ),
        ("b0", r#""alpha": 0.34, "beta": 0.28, "B": 0"#, "B = 0"),
    ] {
        let f = write(
            &d,
            &format!("{name}.json"),
            &format!(r#"{{"law": "chinchilla", "params": {{"E": 1.7, "A": 400, {params}}}}}"#),
        );
        for q in [
            vec!["--flops", "1e22"],
            vec!["--flops", "1e22", "--inference-tokens", "1T"],
        ] {
            let mut args = vec!["optimal", f.as_str()];
            args.extend(q);
            assert_user_error(&args, &[&format!("{name}.json"), expect, "out of range"]);
        }
    }
}

/// Regression (issue 11): the inference table headed its first column "training FLOPs" with
/// the smaller model's compute, so no row said which budget it answered.
#[test]
fn optimal_inference_table_shows_the_requested_budget() {
    let (code, out, err) = scaling(&[
        "optimal",
        "--preset",
        "chinchilla",
        "--flops",
        "1e21,1e23",
        "--inference-tokens",
        "10T",
    ]);
    assert_eq!(code, 0, "{err}");
    let head = out
        .lines()
        .find(|l| l.trim_start().starts_with("budget FLOPs  training FLOPs"))
        .unwrap_or_else(|| panic!("no budget column: {out}"));
    let rows: Vec<&str> = out.lines().skip_while(|l| *l != head).skip(1).collect();
    assert_eq!(rows.len(), 2, "{out}");
    for (row, budget) in rows.iter().zip(["1.000e21", "1.000e23"]) {
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(cells[0], budget, "{out}");
        assert_ne!(
            cells[1], budget,
            "training FLOPs differ from the budget: {out}"
        );
    }
    let v = plan_json(&[
        "--preset",
        "chinchilla",
        "--flops",
        "1e21,1e23",
        "--inference-tokens",
        "10T",
    ])
    .unwrap();
    for (row, c) in v.as_array().unwrap().iter().zip([1e21, 1e23]) {
        assert_eq!(plan_num(row, "requested_flops"), c);
        assert_eq!(plan_num(row, "loss_set_by_budget_flops"), c);
        assert!(plan_num(row, "flops") > c, "{row}");
    }
}

/// Hoffmann et al. 2022, Table 3 (Approach 1; ../shared/REFERENCE.md): 67B parameters at
/// Gopher's 5.76e23 FLOPs, beside Approach 3's 40B from the chinchilla preset.
#[test]
fn presets_include_chinchilla_approach1_67b() {
    let v = plan_json(&["--preset", "chinchilla-approach1", "--flops", "5.76e23"]).unwrap();
    assert!((plan_num(&v, "params") / 67e9 - 1.0).abs() < 1e-9, "{v}");
    assert!(v["loss"].is_null());
    let (code, out, _) = scaling(&["presets"]);
    assert_eq!(code, 0);
    assert!(out.contains("chinchilla-approach1") && out.contains("Table 3"));
    let (code, out, _) = scaling(&["optimal", "--preset", "chinchilla", "--flops", "5.76e23"]);
    assert_eq!(code, 0);
    assert!(out.contains("chinchilla-approach1"), "{out}");
}
