//! Regression tests for issue 11 (crashes, hangs and poison): each reproducer from the bad-input
//! harness, run through the binary. None may panic, hang, print NaN or inf at exit 0, or
//! exit 1 for the user's mistake.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Run the binary with a deadline (a hang is a failure, not a stuck test run).
fn scaling(args: &[&str]) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_scaling"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run scaling");
    let start = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("scaling {args:?} still running after 120 s: a hang");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("output");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("scaling-robust-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

/// A small table drawn from a Chinchilla law (no noise), with one value replaced when asked:
/// (row, column index in params,tokens,loss, text).
fn table(replace: Option<(usize, usize, &str)>) -> String {
    let mut s = String::from("params,tokens,loss\n");
    let mut row = 0;
    for i in 0..6 {
        for j in 0..4 {
            let n = 1e8 * 3f64.powi(i);
            let d = 2e9 * 4f64.powi(j);
            let l = 1.8 + 480.0 * n.powf(-0.35) + 2100.0 * d.powf(-0.37);
            let mut cells = [n.to_string(), d.to_string(), l.to_string()];
            if let Some((r, c, v)) = replace {
                if r == row {
                    cells[c] = v.to_string();
                }
            }
            s.push_str(&cells.join(","));
            s.push('\n');
            row += 1;
        }
    }
    s
}

/// Exit 0 with no NaN or inf anywhere in the output, or exit 2 with one line naming the
/// problem; never a panic.
fn assert_clean(args: &[&str], code: i32, out: &str, err: &str) {
    assert!(!err.contains("panicked"), "{args:?}: {err}");
    assert!(code == 0 || code == 2, "{args:?}: exit {code}: {err}");
    if code == 0 {
        for bad in ["NaN", "inf ", "inf,", "= inf", "\"inf\""] {
            assert!(!out.contains(bad), "{args:?}: {bad:?} at exit 0 in {out}");
        }
    }
}

fn file_has_no_poison(path: &str) {
    let s = std::fs::read_to_string(path).unwrap();
    assert!(!s.contains("NaN") && !s.contains("\"inf\"") && !s.contains("=\"inf"));
}

#[test]
fn plot_and_report_finish_on_1e308_and_subnormal_values() {
    let d = tempdir("extreme");
    for (name, col, v) in [
        ("loss308", 2, "1e308"),
        ("losssub", 2, "1e-320"),
        ("tokens308", 1, "1e300"),
        ("params_sub", 0, "1e-320"),
    ] {
        let f = write(&d, &format!("{name}.csv"), &table(Some((5, col, v))));
        for kind in ["loss-compute", "residuals", "curves", "bootstrap"] {
            let out = d.join(format!("{name}-{kind}.svg")).display().to_string();
            let args = ["plot", kind, &f, "-o", &out, "--bootstrap", "20", "--force"];
            let (code, o, e) = scaling(&args);
            assert_clean(&args, code, &o, &e);
            if code == 0 {
                file_has_no_poison(&out);
            }
        }
        let out = d.join(format!("{name}.html")).display().to_string();
        let args = ["report", &f, "-o", &out, "--bootstrap", "20"];
        let (code, o, e) = scaling(&args);
        assert_clean(&args, code, &o, &e);
        if code == 0 {
            file_has_no_poison(&out);
        }
    }
}

#[test]
fn plot_residuals_with_one_distinct_n_writes_no_nan() {
    let d = tempdir("one-n");
    let mut s = String::from("params,tokens,loss\n");
    for j in 0..12 {
        let dd = 1e9 * 1.5f64.powi(j);
        s.push_str(&format!("1e9,{dd},{}\n", 2.0 + 400.0 * dd.powf(-0.3)));
    }
    let f = write(&d, "one.csv", &s);
    let out = d.join("r.svg").display().to_string();
    let (code, _, err) = scaling(&["plot", "residuals", &f, "-o", &out]);
    if code == 0 {
        file_has_no_poison(&out);
    } else {
        assert_eq!(code, 2, "{err}");
    }
}

#[test]
fn fit_bootstrap_of_u64_max_and_1e9_exit_2_before_work() {
    let d = tempdir("boot-cap");
    let f = write(&d, "r.csv", &table(None));
    for r in ["18446744073709551615", "1000000000"] {
        let (code, _, err) = scaling(&["fit", &f, "--bootstrap", r]);
        assert_eq!(code, 2, "{err}");
        assert!(
            err.contains("allowed") && !err.contains("panicked"),
            "{err}"
        );
    }
}

#[test]
fn unbounded_sizes_are_refused_with_exit_2() {
    let d = tempdir("sizes");
    let f = write(
        &d,
        "r.csv",
        "run,params,tokens,loss\na,1e8,1e9,3\na,1e8,2e9,2.9\n",
    );
    for args in [
        vec!["demo", "--per-budget", "1000000000"],
        vec![
            "simulate",
            "sweep",
            "--preset",
            "epoch",
            "--per-budget",
            "1000000000",
        ],
        vec!["envelope", &f, "--run-col", "run", "--grid", "1000000000"],
        vec![
            "simulate",
            "data-strategy",
            "--scenario",
            "full-range",
            "--sizes",
            "1e2:1e12",
        ],
        vec![
            "calibrate",
            &f,
            "--datasets",
            "100000",
            "--bootstrap",
            "100000",
        ],
    ] {
        let (code, _, err) = scaling(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains("allowed"), "{args:?}: {err}");
    }
}

#[test]
fn simulate_sweep_span_nan_and_noise_1000_write_no_nan_rows() {
    for args in [
        vec!["simulate", "sweep", "--preset", "epoch", "--span", "nan"],
        vec!["simulate", "sweep", "--preset", "epoch", "--span", "inf"],
        vec!["simulate", "sweep", "--preset", "epoch", "--noise", "1000"],
    ] {
        let (code, out, err) = scaling(&args);
        assert_eq!(code, 2, "{args:?}: {out} {err}");
        assert!(out.is_empty());
    }
}

#[test]
fn fit_with_n_1e308_reports_no_inf_or_nan() {
    // With a C column, C is read rather than derived (6 N D would overflow and be refused),
    // and N = 1e308 reaches the fit: its data range and optimum used to be inf and NaN.
    let d = tempdir("n308");
    let mut s = String::from("params,tokens,flops,loss\n");
    for (i, line) in table(None).lines().skip(1).enumerate() {
        let c: Vec<f64> = line.split(',').map(|v| v.parse().unwrap()).collect();
        let n = if i == 3 { 1e308 } else { c[0] };
        s.push_str(&format!(
            "{n:e},{:e},{:e},{}\n",
            c[1],
            6.0 * c[0] * c[1],
            c[2]
        ));
    }
    let f = write(&d, "r.csv", &s);
    for extra in [vec![], vec!["--format", "json"]] {
        let mut args = vec!["fit", f.as_str()];
        args.extend(extra);
        let (code, out, err) = scaling(&args);
        assert_clean(&args, code, &out, &err);
        assert_eq!(code, 0, "{err}");
    }
}

#[test]
fn saved_fit_with_short_samples_or_level_1_5_is_refused_not_a_panic() {
    let d = tempdir("bad-fit");
    let f = write(&d, "r.csv", &table(None));
    let fit = d.join("fit.json").display().to_string();
    let (code, _, err) = scaling(&["fit", &f, "--bootstrap", "40", "-q", "--out", &fit]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&fit).unwrap()).unwrap();
    let mut short = v.clone();
    short["bootstrap"]["samples"] =
        serde_json::Value::Array(v["bootstrap"]["samples"].as_array().unwrap()[..5].to_vec());
    let mut narrow = v.clone();
    for s in narrow["bootstrap"]["samples"].as_array_mut().unwrap() {
        s.as_array_mut().unwrap().truncate(2);
    }
    let mut level = v.clone();
    level["bootstrap"]["level"] = 1.5.into();
    for (name, bad) in [("short", short), ("narrow", narrow), ("level", level)] {
        let p = write(&d, &format!("{name}.json"), &bad.to_string());
        for args in [
            vec!["predict", p.as_str(), "--params", "1e9", "--tokens", "2e10"],
            vec!["optimal", p.as_str(), "--flops", "1e22"],
            vec!["test", p.as_str(), "--preset", "chinchilla"],
        ] {
            let (code, _, err) = scaling(&args);
            assert_eq!(code, 2, "{name} {args:?}: {err}");
            assert!(err.contains("not a usable saved fit"), "{err}");
        }
    }
}

#[test]
fn out_into_a_missing_directory_exits_2_before_work() {
    let d = tempdir("missing-dir");
    let f = write(&d, "r.csv", &table(None));
    let out = d.join("no/such/dir/fit.json").display().to_string();
    let (code, _, err) = scaling(&["fit", &f, "--out", &out]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("does not exist"), "{err}");
}

#[test]
fn dangling_symlink_is_not_written_through_without_force() {
    let d = tempdir("dangling");
    let f = write(&d, "r.csv", &table(None));
    let target = d.join("elsewhere.json");
    let link = d.join("link.json");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let (code, _, err) = scaling(&["fit", &f, "--out", link.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("exists"), "{err}");
    assert!(!target.exists(), "written through the dangling link");
}

#[test]
fn existing_file_is_refused_before_minutes_of_work() {
    // The check used to run after the bootstrap. With a cap-sized bootstrap the refusal must
    // still come at once: a run that did the work would take minutes.
    let d = tempdir("exists-first");
    let f = write(&d, "r.csv", &table(None));
    let out = write(&d, "fit.json", "old");
    let start = Instant::now();
    let (code, _, err) = scaling(&["fit", &f, "--bootstrap", "100000", "--out", &out]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("exists"), "{err}");
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "refused only after the work"
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "old");
}

#[test]
fn forced_write_replaces_the_file_whole_instead_of_truncating_it() {
    // A write through the old file (truncate, then write) destroys it when the write fails half
    // way; the new file is written beside it and renamed over it. A hard link to the old file
    // therefore keeps the old contents.
    let d = tempdir("atomic");
    let f = write(&d, "r.csv", &table(None));
    let out = write(&d, "fit.json", "old contents");
    let keep = d.join("keep.json");
    std::fs::hard_link(&out, &keep).unwrap();
    let (code, _, err) = scaling(&["fit", &f, "--out", &out, "--force"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read_to_string(&keep).unwrap(), "old contents");
    assert!(std::fs::read_to_string(&out).unwrap().contains("\"law\""));
    // No temporary file left beside it.
    let names: Vec<String> = std::fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
}

#[test]
fn plot_to_pdf_is_refused_not_written_as_svg() {
    let d = tempdir("pdf");
    let f = write(&d, "r.csv", &table(None));
    let out = d.join("x.pdf");
    let (code, _, err) = scaling(&["plot", "residuals", &f, "-o", out.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(".svg or .png"), "{err}");
    assert!(!out.exists());
}

#[test]
fn loss_axis_is_labelled_with_the_column_not_nats() {
    let d = tempdir("loss-label");
    let f = write(
        &d,
        "r.csv",
        &table(None).replacen("params,tokens,loss", "params,tokens,val_bpb", 1),
    );
    let out = d.join("c.svg").display().to_string();
    let (code, _, err) = scaling(&[
        "plot",
        "loss-compute",
        &f,
        "--loss-col",
        "val_bpb",
        "--bootstrap",
        "0",
        "-o",
        &out,
    ]);
    assert_eq!(code, 0, "{err}");
    let s = std::fs::read_to_string(&out).unwrap();
    assert!(s.contains(">val_bpb</text>"), "axis named after the column");
    assert!(!s.contains("nats"), "no unit the tool does not know");
}

#[test]
fn column_names_and_group_labels_cannot_send_terminal_escapes() {
    let d = tempdir("escapes");
    let mut s = String::from("params,tokens,\u{1b}]0;pwned\u{7}loss,grp\n");
    for (i, line) in table(None).lines().skip(1).enumerate() {
        s.push_str(&format!("{line},g\u{1b}[31m{}\n", i % 4));
    }
    let f = write(&d, "r.csv", &s);
    let loss = "\u{1b}]0;pwned\u{7}loss";
    let (code, out, err) = scaling(&[
        "fit",
        &f,
        "--loss-col",
        loss,
        "--bootstrap",
        "30",
        "--cluster-col",
        "grp",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("\\u{1b}]0;pwned\\u{7}loss"), "{out}");
    assert!(!out.contains('\u{1b}') && !out.contains('\u{7}'));
    let (code, _, err) = scaling(&["fit", &f, "--loss-col", "nope"]);
    assert_eq!(code, 2);
    assert!(!err.contains('\u{1b}') && err.contains("\\u{1b}"), "{err}");
}
