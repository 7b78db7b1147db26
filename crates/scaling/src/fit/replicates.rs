//! The replicates of a bootstrap as a fit keeps them (the bootstrap itself is
//! `uncertainty::bootstrap`, which fills this in).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The replicates of a bootstrap, kept in saved fits.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Bootstrap {
    /// Number of replicates.
    pub replicates: usize,
    /// The seed.
    pub seed: u64,
    /// Interval level (0.95 for 95% intervals).
    pub level: f64,
    /// Budgets (FLOPs) at which intervals on the optimum were computed.
    pub budgets: Vec<f64>,
    /// `runs` or `clusters`.
    pub resampled: String,
    /// The column whose groups were resampled.
    pub cluster_column: Option<String>,
    /// Number of groups (or runs) resampled.
    pub units: usize,
    /// How the replicate fits ended, by status.
    pub statuses: BTreeMap<String, usize>,
    /// How each refit started: warm from the full fit, with the full fit's other optima tried
    /// as a safeguard.
    pub warm_start: String,
    /// Parameter names, the order of each sample.
    pub param_names: Vec<String>,
    /// One row of natural-scale parameters per replicate (a fixed E repeats its value).
    pub samples: Vec<Vec<f64>>,
    /// How each replicate's refit ended: `converged`, `at_bound` (converged with E at 0 or a
    /// term vanished), `iteration_limit`, `line_search_failed`.
    #[serde(default)]
    pub replicate_status: Vec<String>,
    /// For each replicate, the parameters at a bound (`E`, or the coefficient of a vanished
    /// term).
    #[serde(default)]
    pub at_bound: Vec<Vec<String>>,
}

impl Bootstrap {
    /// Replicates whose refit converged (possibly at a bound): the ones intervals use.
    pub fn usable(&self) -> Vec<bool> {
        if self.replicate_status.len() != self.samples.len() {
            return vec![true; self.samples.len()];
        }
        self.replicate_status
            .iter()
            .map(|s| s == "converged" || s == "at_bound")
            .collect()
    }

    /// What a reader must know about these replicates: refits left out, parameters at a bound,
    /// too few replicates for the level.
    pub fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        let usable = self.usable();
        let bad = usable.iter().filter(|u| !**u).count();
        if bad > 0 {
            w.push(format!(
                "{bad} of {} bootstrap refits did not converge and are left out of the intervals (raise the iteration limit, max_iter)",
                self.replicates
            ));
        }
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for b in &self.at_bound {
            for p in b {
                *counts.entry(p.as_str()).or_insert(0) += 1;
            }
        }
        for (p, c) in counts {
            if c * 100 >= self.replicates {
                w.push(format!(
                    "{c} of {} replicates put {p} at its bound ({}): its interval reaches the bound and the data determine it weakly",
                    self.replicates,
                    if p == "E" { "E = 0" } else { "its term vanished" }
                ));
            }
        }
        let tail = self.replicates as f64 * (1.0 - self.level) / 2.0;
        if tail < 10.0 {
            w.push(format!(
                "{} replicates leave only {tail:.1} beyond each end of a {}% interval: use more (at least {})",
                self.replicates,
                (1e6 * 100.0 * self.level).round() / 1e6,
                (20.0 / (1.0 - self.level)).ceil()
            ));
        }
        w
    }
}
