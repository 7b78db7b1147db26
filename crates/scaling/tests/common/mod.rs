//! Helpers shared by integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

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
