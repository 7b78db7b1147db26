//! What the fuzz target checks, shared by the libFuzzer binary and by the plain test harness
//! over the corpus (which builds on stable Rust, without cargo-fuzz).

use scaling::data::{LoadOptions, Needs, RunTable, Runs};
use scaling::fit::Fit;
use scaling::law::Law;

/// Feed `data` to every reader of user files: the CSV and JSON run-table readers (and the
/// run loader on what they accept), the law-file reader and the saved-fit reader. Each must
/// return `Ok` or an error; a panic, a hang or an allocation past memory is a bug. Whatever
/// loads as runs must hold positive finite numbers.
pub fn check(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for table in [
        RunTable::from_csv_str("fuzz.csv", text),
        RunTable::from_json_str("fuzz.json", text),
    ]
    .into_iter()
    .flatten()
    {
        for skip_invalid in [false, true] {
            let opts = LoadOptions {
                skip_invalid,
                ..LoadOptions::default()
            };
            let needs = Needs {
                params: true,
                tokens: true,
                flops: false,
            };
            if let Ok(runs) = Runs::from_table(&table, needs, &opts) {
                for v in runs.params.iter().chain(&runs.tokens).chain(&runs.loss) {
                    assert!(v.is_finite() && *v > 0.0, "loaded {v}");
                }
            }
        }
    }
    if let Ok(law) = Law::from_json_str("fuzz.json", text) {
        let _ = law.predict(1e9, 2e10, 1.2e20);
        let _ = law.optimum(1e24, 6.0);
    }
    if let Ok(fit) = Fit::from_json_str("fuzz.json", text) {
        // A fit that validates can be used without a panic.
        let _ = fit.law();
        let _ = fit.runs();
        if let Some(b) = &fit.bootstrap {
            let _ = b.usable();
            let _ = b.warnings();
        }
    }
}
