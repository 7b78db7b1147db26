//! # scaling
//!
//! Neural scaling laws, carefully: read a table of training runs, fit the law they follow the
//! way the literature does (Hoffmann et al. 2022, App. D.2) without its traps, and return
//! plain data for the caller to print or save. Nothing here prints or exits.
//!
//! The flow: [`data`] (a validated run table) -> [`law`] (a functional form with named
//! parameters) -> [`fit`] (objective, optimiser, starts) -> a [`fit::Fit`] report.
//! [`simulate`] draws synthetic runs from a known law.

#![deny(missing_docs)]
// `!(x > 0.0)` is deliberate throughout: it is true for NaN, which must be refused too.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

pub mod accounting;
pub mod allocate;
pub mod data;
pub mod downstream;
pub mod error;
mod fastmath;
pub mod fit;
pub mod groups;
pub mod law;
pub mod limits;
pub mod linalg;
pub mod methods;
pub mod num;
pub mod plateau;
pub mod report;
pub mod simulate;
pub mod uncertainty;
pub mod validate;

pub use error::{Error, Result};
