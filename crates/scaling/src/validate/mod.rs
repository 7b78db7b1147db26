//! How far a fit can be trusted away from its data: backtests (fit below a cutoff, predict the
//! runs above it, with new-run intervals that grow with the extrapolation distance), and
//! sensitivity of a law's answers to its parameters, law forms compared on the same runs, and
//! the design of the next runs.
//!
//! This layer sits above `uncertainty` (it fits and bootstraps through
//! [`crate::uncertainty::fit_table`]) and below `report`, which renders its results.

pub mod backtest;
mod compare_forms;
pub mod design;
pub mod sensitivity;

pub use backtest::{
    backtest, inflate, rolling, Axis, Backtest, BacktestRequest, HeldOut, Inflation,
    Misspecification, Rolling, RollingBin, RollingRequest, RollingStep, Split, Summary,
};
pub use compare_forms::{
    compare_forms, gaussian_criteria, FormComparison, FormRow, FormsConventions, FormsRequest,
    HeldOutScore, Holdout,
};
pub use design::{
    design, Beat, Design, DesignConventions, DesignRequest, NewRun, Plan, Quantity,
    SimulateRequest, SimulatedPlan, Simulation, MIN_TOKENS_PER_PARAM,
};
pub use sensitivity::{sensitivity, ExponentShift, ParamSensitivity, Sensitivity, Target};
