//! `scaling forms`: law forms compared on the same runs from the command line. The Chinchilla
//! row's fit is byte for byte `scaling fit --format json` (Epoch AI's 240 runs, Besiroglu et
//! al. 2024); bad forms exit 2 naming the form.

use std::path::PathBuf;
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

#[test]
fn forms_chinchilla_row_is_the_plain_fit() {
    let Some(f) = shared("epoch_chinchilla_svg.csv") else {
        return;
    };
    let (code, out, err) = scaling(&[
        "forms",
        &f,
        "--drop-top-loss",
        "5",
        "--law",
        "chinchilla",
        "--law",
        "E + A*N^-alpha",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let c: serde_json::Value = serde_json::from_str(&out).unwrap();
    let (code, plain, err) = scaling(&["fit", &f, "--drop-top-loss", "5", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let plain: serde_json::Value = serde_json::from_str(&plain).unwrap();
    assert_eq!(c["forms"][0]["fit"], plain);
    assert_eq!(c["runs"], 240);
    assert_eq!(c["best_aic"], "chinchilla");
    assert_eq!(c["forms"][1]["parameters"], 3);

    let (code, text, err) = scaling(&[
        "forms",
        &f,
        "--drop-top-loss",
        "5",
        "--law",
        "chinchilla",
        "--law",
        "kaplan",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(text.contains("1.018274e-3"), "{text}");
    assert!(text.contains("smallest AIC: chinchilla"), "{text}");
}

#[test]
fn forms_refuses_a_bad_formula_and_no_law() {
    let Some(f) = shared("epoch_chinchilla_svg.csv") else {
        return;
    };
    let (code, _, err) = scaling(&[
        "forms",
        &f,
        "--law",
        "chinchilla",
        "--law",
        "E + A*N^-(alpha",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("E + A*N^-(alpha") && err.contains("character"),
        "{err}"
    );
    let (code, _, err) = scaling(&["forms", &f]);
    assert_eq!(code, 2, "{err}");
}
