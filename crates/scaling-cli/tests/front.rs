//! The thin front end over the library's entry points (issues 11, 12, 16): `--by` on compare,
//! report, plot and calibrate (groups in first-appearance order, a failed group in its place),
//! report and plot from a saved fit (no second bootstrap), plots and reports that stay small at
//! any number of runs, and library errors that name the command line's flags.

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
    let d = std::env::temp_dir().join(format!("scaling-front-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

/// Two datasets (c4 first, then rpj) of an IsoFLOP-like grid drawn from Chinchilla-like laws,
/// and a third group ("tiny") with two runs, which no law can be fitted to.
fn grouped_csv() -> String {
    let mut s = String::from("dataset,params,tokens,loss\n");
    for (k, ds) in ["c4", "rpj"].iter().enumerate() {
        for i in 0..6 {
            for j in 0..5 {
                let n = 1e8 * 2.5f64.powi(i);
                let d = 2e9 * 3f64.powi(j);
                let l = 1.8 + k as f64 * 0.1 + 480.0 * n.powf(-0.35) + 2100.0 * d.powf(-0.37);
                s.push_str(&format!("{ds},{n},{d},{l}\n"));
            }
        }
    }
    s.push_str("tiny,1e9,2e10,2.5\ntiny,2e9,4e10,2.4\n");
    s
}

fn json(out: &str) -> serde_json::Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

#[test]
fn compare_by_reports_groups_in_order_with_the_failed_one_in_place() {
    let d = tempdir("compare-by");
    let f = write(&d, "r.csv", &grouped_csv());
    let (code, out, err) = scaling(&[
        "compare",
        &f,
        "--by",
        "dataset",
        "--bootstrap",
        "0",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    let groups: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["group"]["dataset"].as_str().unwrap())
        .collect();
    assert_eq!(groups, ["c4", "rpj", "tiny"]);
    assert!(v[0]["approaches"].is_array());
    assert!(v[2]["error"].is_string(), "{}", v[2]);
    assert!(err.contains("1 of 3 groups failed"), "{err}");
    // Each group's exponents are those of compare on that group alone.
    let only = write(
        &d,
        "rpj.csv",
        &grouped_csv()
            .lines()
            .filter(|l| l.starts_with("dataset") || l.starts_with("rpj"))
            .collect::<Vec<_>>()
            .join("\n"),
    );
    let (code, out, err) = scaling(&["compare", &only, "--bootstrap", "0", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let alone = json(&out);
    assert_eq!(alone["approaches"], v[1]["approaches"]);
}

#[test]
fn calibrate_by_runs_each_group() {
    let d = tempdir("calibrate-by");
    let f = write(&d, "r.csv", &grouped_csv());
    let (code, out, err) = scaling(&[
        "calibrate",
        &f,
        "--by",
        "dataset",
        "--datasets",
        "2",
        "--bootstrap",
        "5",
        "-q",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    assert_eq!(v.as_array().unwrap().len(), 3);
    assert_eq!(v[1]["group"]["dataset"], "rpj");
    assert_eq!(v[1]["datasets"], 2);
    assert!(v[1]["design"].as_str().unwrap().ends_with("[dataset=rpj]"));
    assert!(v[2]["error"].is_string());
}

#[test]
fn report_and_plot_by_group() {
    let d = tempdir("report-by");
    let f = write(&d, "r.csv", &grouped_csv());
    let page = d.join("page.html");
    let (code, out, err) = scaling(&[
        "report",
        &f,
        "--by",
        "dataset",
        "--bootstrap",
        "0",
        "-o",
        page.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("wrote "), "{out}");
    let html = std::fs::read_to_string(&page).unwrap();
    let c4 = html.find("<h2>Group dataset=c4</h2>").unwrap();
    let rpj = html.find("<h2>Group dataset=rpj</h2>").unwrap();
    let tiny = html.find("<h2>Group dataset=tiny</h2>").unwrap();
    assert!(c4 < rpj && rpj < tiny);
    assert!(
        html[tiny..].contains("error: "),
        "the failed group says why"
    );
    let svg = d.join("res.svg");
    let (code, out, err) = scaling(&[
        "plot",
        "residuals",
        &f,
        "--by",
        "dataset",
        "-o",
        svg.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(d.join("res.c4.svg").is_file() && d.join("res.rpj.svg").is_file());
    assert!(out.find("dataset=c4").unwrap() < out.find("dataset=rpj").unwrap());
    assert!(out.contains("dataset=tiny:\n  error:"), "{out}");
}

#[test]
fn report_and_plot_take_a_saved_fit_without_refitting() {
    let d = tempdir("saved");
    let f = write(&d, "r.csv", &grouped_csv());
    let fit = d.join("fit.json");
    let (code, _, err) = scaling(&[
        "fit",
        &f,
        "--where",
        "dataset == 'c4'",
        "--bootstrap",
        "30",
        "--seed",
        "5",
        "-q",
        "-o",
        fit.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let saved = json(&std::fs::read_to_string(&fit).unwrap());
    let page = d.join("page.html");
    let (code, _, err) = scaling(&[
        "report",
        "--fit",
        fit.to_str().unwrap(),
        "--bootstrap",
        "7",
        "-o",
        page.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let html = std::fs::read_to_string(&page).unwrap();
    // The saved fit's 30 replicates are drawn, not 7 new ones.
    assert!(html.contains("with 30 bootstrap replicates"), "{html}");
    assert!(html.contains("read from a saved fit"));
    let e = saved["params"]["E"].as_f64().unwrap();
    assert!(html.contains(&format!("E      {}", scaling::report::sig(e, 5))));
    let svg = d.join("boot.svg");
    let (code, _, err) = scaling(&[
        "plot",
        "bootstrap",
        "--fit",
        fit.to_str().unwrap(),
        "-o",
        svg.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = scaling(&[
        "report",
        &f,
        "--by",
        "dataset",
        "--fit",
        fit.to_str().unwrap(),
        "-o",
        d.join("x.html").to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn plots_and_reports_of_many_runs_stay_small_and_say_they_are_thinned() {
    let d = tempdir("many");
    let mut s = String::from("params,tokens,loss\n");
    let mut x = 1u64;
    for i in 0..20_000 {
        // A deterministic scatter of sizes and token counts.
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let u = (x >> 11) as f64 / (1u64 << 53) as f64;
        let n = 1e8 * 100f64.powf(u);
        let t = 2e9 * 50f64.powf((i % 97) as f64 / 97.0);
        let l = 1.8 + 480.0 * n.powf(-0.35) + 2100.0 * t.powf(-0.37);
        s.push_str(&format!("{n},{t},{l}\n"));
    }
    let f = write(&d, "many.csv", &s);
    let page = d.join("page.html");
    let (code, _, err) = scaling(&[
        "report",
        &f,
        "--bootstrap",
        "0",
        "-o",
        page.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.len() < 5_000_000, "{} bytes", html.len());
    assert!(html.contains("of 20000 points drawn)"), "thinning is said");
}

#[test]
fn library_errors_name_flags_on_the_command_line() {
    let d = tempdir("flags");
    let f = write(&d, "r.csv", &grouped_csv());
    let (code, _, err) = scaling(&["fit", &f, "--min-flops", "1e22", "--max-flops", "1e21"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--min-flops 1e22 is above --max-flops 1e21"),
        "{err}"
    );
    let (code, _, err) = scaling(&["fit", &f, "--loss-col", "nope"]);
    assert_eq!(code, 2);
    assert!(err.contains("--loss-col \"nope\" names no column"), "{err}");
    let (code, _, err) = scaling(&["predict", "--preset", "chinchilla", "--tokens", "1e10"]);
    assert_eq!(code, 2);
    assert!(err.contains("this law needs --params"), "{err}");
}
