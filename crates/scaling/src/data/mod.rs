//! Run tables: reading CSV and JSON, recognising column roles, parsing quantities, validating
//! values and filtering rows.

mod columns;
mod quantity;
mod runs;
mod table;

pub use columns::Column;
pub use quantity::{parse_positive, parse_quantity, QuantityProblem};
pub use runs::{
    find_column, ColumnOverrides, Exclusion, Filters, LoadOptions, Needs, Role, RoleSources, Runs,
    ValueSource,
};
pub use table::RunTable;
