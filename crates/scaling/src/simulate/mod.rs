//! Synthetic data: runs drawn from a known law (for the demo, tests and calibration), and the
//! data-strategy experiments of "Are Scaling Laws Really Plateauing?".

mod demo;
mod requests;
mod strategy;
mod sweep;

pub use demo::{demo, Demo, DemoDesign, DemoRequest, DEMO_TRUTH_SOURCE};
pub use requests::{data_strategy, sweep, DataStrategyResult, StrategyRequest, SweepRequest};
pub use strategy::{simulate_strategy, Scenario, StrategyConfig, StrategyPoint, StrategyResult};
pub use sweep::{
    grid_design, isoflop_design, sample_runs, sample_runs_with, NoiseKind, CHINCHILLA_BUDGETS,
};
