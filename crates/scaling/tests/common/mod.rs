//! Helpers shared by integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

use scaling::data::{Filters, LoadOptions, RunTable, Runs};

/// The shared data folder (`../shared/data` beside the repository), or `None` with a
/// message on stderr when it is absent, so tests that need it can skip and say why.
pub fn shared_data(file: &str) -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(file);
    if p.exists() {
        Some(p)
    } else {
        eprintln!(
            "SKIPPED: {} is absent (the shared data folder ../shared/data is not beside this checkout)",
            p.display()
        );
        None
    }
}

/// Epoch AI's 240 runs (Besiroglu et al. 2024): `epoch_chinchilla_svg.csv` without its five
/// highest losses, read for the Chinchilla law; `None` (with the skip message) when absent.
pub fn epoch_runs() -> Option<Runs> {
    let table = RunTable::read(shared_data("epoch_chinchilla_svg.csv")?).unwrap();
    let mut runs = Runs::from_table(
        &table,
        scaling::fit::needs(&scaling::law::LawForm::Chinchilla),
        &LoadOptions::default(),
    )
    .unwrap();
    runs.apply_filters(&Filters {
        drop_top_loss: 5,
        ..Default::default()
    })
    .unwrap();
    Some(runs)
}

/// Every `.rs` file under `dir`, recursively (for tests that read the sources).
pub fn rust_files(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}
