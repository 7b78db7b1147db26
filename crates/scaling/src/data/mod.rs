//! Run tables: reading CSV and JSON, recognising column roles, parsing quantities, validating
//! values and filtering rows.

mod columns;
mod filter;
mod output;
mod quantity;
mod runs;
mod table;

pub use columns::Column;
pub use filter::{group_rows, Group, GroupKey, RowFilter};
pub use output::{check_new, write_new};
pub use quantity::{parse_positive, parse_quantity, QuantityProblem};
pub use runs::{
    find_column, ColumnOverrides, Exclusion, Filters, FlopsCheck, LoadOptions, Needs, Role,
    RoleSources, Runs, ValueSource, FLOPS_CHECK_TOLERANCE,
};
pub use table::{Cells, Row, RunTable};
