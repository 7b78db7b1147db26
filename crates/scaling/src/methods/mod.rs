//! Chinchilla's Approaches 1 and 2 (Hoffmann et al. 2022, Section 3) and the power laws they
//! end in.

pub mod envelope;
pub mod isoflop;
pub mod powerlaw;

pub use envelope::{envelope, Curve, EnvelopeResult, Segment};
pub use isoflop::{isoflop, BudgetFit, Grouping, IsoflopConfig, IsoflopResult};
pub use powerlaw::{fit_power_law, PowerLawFit};
