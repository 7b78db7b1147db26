//! End-to-end tests of `scaling groups`: several files stacked by stem, the JSON contract,
//! and bad input with exit code 2.

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
    let d = std::env::temp_dir().join(format!("scaling-groups-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A table drawn exactly from L = e + 400/N^0.34 + 410/D^0.28, with weights 1.
fn csv(dir: &Path, name: &str, e: f64) -> String {
    let mut s = String::from("params,tokens,loss,w\n");
    for i in 0..6 {
        for j in 0..5 {
            let (n, d) = (3e7 * 2.5f64.powi(i), 1e9 * 2.5f64.powi(j));
            let l = e + 400.0 * n.powf(-0.34) + 410.0 * d.powf(-0.28);
            s.push_str(&format!("{n},{d},{l},1\n"));
        }
    }
    let p = dir.join(name);
    std::fs::write(&p, s).unwrap();
    p.display().to_string()
}

#[test]
fn groups_of_files_fit_jointly_with_a_test_and_gains() {
    let dir = tempdir("files");
    let a = csv(&dir, "runs_a.csv", 1.7);
    let b = csv(&dir, "runs_b.csv", 1.8);
    let (code, out, err) = scaling(&[
        "groups",
        &a,
        &b,
        "--shared",
        "alpha,beta",
        "--weight-col",
        "w",
        "--format",
        "json",
        "-q",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    // Labels are the stems without their shared prefix.
    assert_eq!(v["groups"], serde_json::json!(["a", "b"]));
    let j = &v["joint"];
    assert!((j["params"]["alpha"].as_f64().unwrap() - 0.34).abs() < 1e-3);
    assert!((j["params"]["E[b]"].as_f64().unwrap() - 1.8).abs() < 1e-3);
    assert_eq!(j["conventions"]["weights"], "w");
    assert!(v["test"]["f_p_value"].as_f64().is_some());
    // a has the lower floor: it is better at 1e21 and its gain over b exceeds 1.
    let at = &v["comparisons"][0]["at_budget"]["1e21"];
    assert!(at["L_opt"]["value"].as_f64().unwrap() < 0.0);
    assert!(at["gain_a_over_b"]["value"].as_f64().unwrap() > 1.0);
}

#[test]
fn groups_bad_input_exits_2() {
    let dir = tempdir("bad");
    let a = csv(&dir, "one.csv", 1.7);
    for (args, msg) in [
        (vec!["groups", a.as_str()], "--by"),
        (vec!["groups", a.as_str(), "--by", "nope"], "nope"),
        (
            vec!["groups", a.as_str(), "--by", "w", "--tie", "alpha"],
            "KEPT=REMOVED",
        ),
        (
            vec!["groups", a.as_str(), "--by", "w", "--asymmetric", "-1"],
            "asymmetric",
        ),
        (
            vec!["groups", a.as_str(), "--by", "w", "--shared", "alpha"],
            "one group",
        ),
    ] {
        let (code, out, err) = scaling(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(out.is_empty());
        assert!(err.contains(msg), "{msg:?} not in {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

/// `fit` takes the same ties, weights and asymmetric penalty as `groups` (one FitSettings
/// flag group), and `fit --by COL --shared` is the groups library's joint fit.
#[test]
fn fit_takes_ties_weights_asymmetry_and_shared_groups() {
    let dir = tempdir("fit");
    let a = csv(&dir, "a.csv", 1.7);
    let json = |args: &[&str]| -> serde_json::Value {
        let (code, out, err) = scaling(args);
        assert_eq!(code, 0, "{args:?}: {err}");
        serde_json::from_str(&out).unwrap()
    };
    // Exact data from alpha = 0.34, beta = 0.28: tied, one exponent between the two.
    let tied = json(&["fit", &a, "--tie", "alpha=beta", "--format", "json"]);
    assert_eq!(
        tied["conventions"]["joint"]["ties"][0],
        serde_json::json!(["alpha", "beta"])
    );
    assert!(tied["params"].get("beta").is_none());
    let al = tied["params"]["alpha"].as_f64().unwrap();
    assert!(al > 0.25 && al < 0.37, "{al}");
    // The tied fit is a saved law that predicts.
    let saved = dir.join("tied.json");
    let s = saved.display().to_string();
    json(&[
        "fit",
        &a,
        "--tie",
        "alpha=beta",
        "--out",
        &s,
        "--format",
        "json",
    ]);
    let p = json(&[
        "predict", &s, "--params", "1e9", "--tokens", "2e10", "--format", "json",
    ]);
    assert!(p["loss"].as_f64().unwrap() > 1.7);
    // k = 1 is the symmetric objective; weights of 1 change nothing.
    let plain = json(&["fit", &a, "--format", "json"]);
    let sym = json(&[
        "fit",
        &a,
        "--asymmetric",
        "1",
        "--weight-col",
        "w",
        "--format",
        "json",
    ]);
    for k in ["E", "A", "B", "alpha", "beta"] {
        let (x, y) = (
            plain["params"][k].as_f64().unwrap(),
            sym["params"][k].as_f64().unwrap(),
        );
        assert!((x - y).abs() < 1e-6 * x.abs(), "{k}: {x} vs {y}");
    }
    assert_eq!(sym["conventions"]["asymmetric"], 1.0);
    assert_eq!(sym["conventions"]["weights"], "w");
    // Joint fit through `fit --by --shared` on a stacked table.
    let both = dir.join("both.csv");
    let mut t = String::from("params,tokens,loss,w,set\n");
    for (f, set) in [(&a, "a"), (&csv(&dir, "b.csv", 1.8), "b")] {
        for line in std::fs::read_to_string(f).unwrap().lines().skip(1) {
            t.push_str(&format!("{line},{set}\n"));
        }
    }
    std::fs::write(&both, t).unwrap();
    let b = both.display().to_string();
    let g = json(&[
        "fit",
        &b,
        "--by",
        "set",
        "--shared",
        "alpha,beta",
        "--format",
        "json",
    ]);
    assert!((g["joint"]["params"]["alpha"].as_f64().unwrap() - 0.34).abs() < 1e-3);
    assert!(g["test"]["f_p_value"].as_f64().is_some());
    let (code, _, err) = scaling(&["fit", &b, "--shared", "alpha"]);
    assert_eq!(code, 2);
    assert!(err.contains("--by"), "{err}");
    let (code, _, err) = scaling(&["fit", &a, "--weight-col", "nope"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--weight-col") && err.contains("nope"),
        "{err}"
    );
}

/// `report --by COL` opens with the groups compared: their figure, the joint fit sharing the
/// exponents and its test, before each group's own section.
#[test]
fn report_by_a_column_compares_the_groups_first() {
    let dir = tempdir("report");
    let both = dir.join("both.csv");
    let mut t = String::from("params,tokens,loss,w,set\n");
    for (f, set) in [
        (csv(&dir, "a.csv", 1.7), "a"),
        (csv(&dir, "b.csv", 1.8), "b"),
    ] {
        for line in std::fs::read_to_string(f).unwrap().lines().skip(1) {
            t.push_str(&format!("{line},{set}\n"));
        }
    }
    std::fs::write(&both, t).unwrap();
    let (b, out) = (both.display().to_string(), dir.join("r.html"));
    let o = out.display().to_string();
    let (code, _, err) = scaling(&["report", &b, "--by", "set", "-o", &o, "--bootstrap", "20"]);
    assert_eq!(code, 0, "{err}");
    let h = std::fs::read_to_string(&out).unwrap();
    let (cmp, a) = (
        h.find("<h2>Groups compared</h2>"),
        h.find("<h2>Group set=a</h2>"),
    );
    assert!(cmp.unwrap() < a.unwrap(), "the comparison comes first");
    assert!(h.contains("joint fit (alpha, beta shared)") && h.contains("test: every group"));
    assert!(
        h.contains("--shared alpha,beta"),
        "the reproduce line names the sharing"
    );
    // `--shared none`: the groups' separate fits and differences, no joint fit or test.
    let (code, _, err) = scaling(&[
        "report",
        &b,
        "--by",
        "set",
        "-o",
        &o,
        "--force",
        "--bootstrap",
        "0",
        "--shared",
        "none",
    ]);
    assert_eq!(code, 0, "{err}");
    let h = std::fs::read_to_string(&out).unwrap();
    assert!(h.contains("<h2>Groups compared</h2>") && !h.contains("joint fit ("));
}

/// `--cluster-col N` resamples model sizes: parameter counts within 0.1% are one size.
#[test]
fn cluster_by_n_groups_sizes_within_a_tolerance() {
    let dir = tempdir("sizes");
    let mut t = String::from("params,tokens,loss\n");
    for i in 0..6 {
        for j in 0..5 {
            // Each size written with a digitising wobble in the fourth digit.
            let n = 3e7 * 2.5f64.powi(i) * (1.0 + 2e-4 * j as f64);
            let d = 1e9 * 2.5f64.powi(j);
            let l = 1.7 + 400.0 * n.powf(-0.34) + 410.0 * d.powf(-0.28);
            t.push_str(&format!("{n},{d},{l}\n"));
        }
    }
    let p = dir.join("wobble.csv");
    std::fs::write(&p, t).unwrap();
    let f = p.display().to_string();
    for col in ["N", "params"] {
        let (code, out, err) = scaling(&[
            "fit",
            &f,
            "--bootstrap",
            "50",
            "--cluster-col",
            col,
            "--format",
            "json",
            "-q",
        ]);
        assert_eq!(code, 0, "{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let b = &v["bootstrap"];
        assert_eq!(b["resampled"], "clusters");
        assert!(
            b["cluster_column"]
                .as_str()
                .unwrap()
                .contains("within 0.1%"),
            "{b}"
        );
    }
}

/// `calibrate --noise grouped --cluster-col N` reports E and G and resamples sizes; any other
/// cluster column is refused with exit code 2.
#[test]
fn calibrate_grouped_noise_with_size_clusters() {
    let dir = tempdir("calibrate");
    let a = csv(&dir, "a.csv", 1.7);
    let (code, out, err) = scaling(&[
        "calibrate",
        &a,
        "--datasets",
        "3",
        "--bootstrap",
        "20",
        "--noise",
        "grouped",
        "--cluster-col",
        "N",
        "--format",
        "json",
        "-q",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v["coverage"]["E"]["datasets"].as_u64().is_some());
    assert!(v["coverage"]["G"]["datasets"].as_u64().is_some());
    assert!(v["resampled"].as_str().unwrap().contains("model sizes"));
    let (code, _, err) = scaling(&["calibrate", &a, "--cluster-col", "w", "-q"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--cluster-col") && err.contains("model sizes"),
        "{err}"
    );
}
