//! Documented caps on the sizes a caller can ask for, checked before any work starts, so that
//! a mistyped `1e9` is refused at once instead of allocating tens of gigabytes or running for
//! days. Each cap sits far above what a study needs (Besiroglu et al. 2024 bootstrap with 4000
//! replicates; Chinchilla's envelope used a 1500-point grid) and far below what this machine
//! class can hold (a few GB of memory, a few cores).

use crate::error::{Error, Result};

/// Bootstrap replicates in one bootstrap (a refit each, ~150 bytes kept each: 100,000 take
/// minutes and about 15 MB).
pub const MAX_REPLICATES: usize = 100_000;

/// Simulated datasets times bootstrap replicates in one calibration (a refit each).
pub const MAX_CALIBRATION_REFITS: usize = 2_000_000;

/// Synthetic runs in one design (budgets times models per budget, or a grid's N times D).
pub const MAX_DESIGN_RUNS: usize = 1_000_000;

/// Points of the envelope's FLOP grid (Approach 1).
pub const MAX_GRID: usize = 1_000_000;

/// Samples drawn in one data-strategy experiment: the sum of the training-set sizes (or of
/// their candidate pools) times the repetitions. 2e9 draws take about a minute on two cores.
pub const MAX_DRAWS: f64 = 2e9;

/// Refuse `value` of `what` (e.g. "bootstrap replicates") above `max`.
///
/// # Examples
/// ```
/// assert!(scaling::limits::check("replicates", 10, 100).is_ok());
/// assert!(scaling::limits::check("replicates", 1000, 100).is_err());
/// ```
///
/// # Errors
/// [`Error::InvalidSetting`] naming the quantity, the value and the cap.
pub fn check(what: &str, value: usize, max: usize) -> Result<()> {
    if value > max {
        return Err(Error::InvalidSetting(format!(
            "{value} {what} is more than the {max} allowed (a cap that keeps memory and time bounded)"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_refuse_only_above_the_cap() {
        assert!(check("bootstrap replicates", MAX_REPLICATES, MAX_REPLICATES).is_ok());
        let e = check("bootstrap replicates", usize::MAX, MAX_REPLICATES).unwrap_err();
        assert!(e.is_user_error());
        assert!(e
            .to_string()
            .contains("18446744073709551615 bootstrap replicates"));
    }
}
