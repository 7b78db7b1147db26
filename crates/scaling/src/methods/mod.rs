//! Chinchilla's Approaches 1 and 2 (Hoffmann et al. 2022, Section 3) and the power laws they
//! end in.

pub mod envelope;
pub mod isoflop;
mod overview;
pub mod powerlaw;

pub use envelope::{envelope, Curve, EnvelopeResult, Segment};
pub use isoflop::{isoflop, BudgetFit, Grouping, IsoflopConfig, IsoflopResult};
pub use overview::{
    overview, overview_groups, overview_with, AllocationRow, GroupedOverview, Overview,
    OverviewRequest, ReportChecks, DESIGN_ALLOWANCE, DESIGN_RUNS, DESIGN_TARGET,
};
pub use powerlaw::{fit_power_law, PowerLawFit};
pub mod table;

pub use table::{
    check_level, chinchilla_needs, chinchilla_runs, compare, compare_with, curves_from_checkpoints,
    envelope_table, for_groups, grouped_json, isoflop_table, powerlaw_table, ApproachRow,
    BiasCheck, CompareRequest, Comparison, EnvelopeReport, EnvelopeRequest, IsoflopRequest,
    PowerlawRequest, PowerlawResult,
};
