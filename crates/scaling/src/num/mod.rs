//! The leaf layer: general numerics and formatting that every domain module may use and that
//! uses no other module of the crate. Quantiles (Hyndman and Fan 1996), special functions for
//! p-values (Numerical Recipes, 3rd ed.), and number formatting.

mod format;
mod quantile;
pub mod special;

pub use format::{human, sig};
pub use quantile::{distance_bins, quantile_sorted, quantiles_select, summarise};
