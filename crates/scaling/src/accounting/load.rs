//! Runs from a table under the user's counting conventions: the one loading path that the
//! command line, Python and the tests share.

use serde::{Deserialize, Serialize};

use crate::data::{
    find_column, ColumnOverrides, Filters, LoadOptions, Needs, Role, RowFilter, RunTable, Runs,
};
use crate::error::{Error, Result};

use super::{add_count_columns, FLOPS_CONVENTIONS, PARAMS_CONVENTIONS};

/// How to turn a table into the runs an analysis uses: which columns, which counting
/// conventions, which rows.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadRequest {
    /// User-named columns for N, D, C and the loss (others are recognised by name).
    pub params_col: Option<String>,
    /// Column holding D.
    pub tokens_col: Option<String>,
    /// Column holding C.
    pub flops_col: Option<String>,
    /// Column holding the loss.
    pub loss_col: Option<String>,
    /// Drop rows with invalid values in used columns (each reported) instead of failing.
    pub skip_invalid: bool,
    /// Row filters (FLOP range, the K highest losses).
    pub filters: Filters,
    /// Where the table has shape columns: count N as `total`, `non-embedding` or `active`
    /// parameters (see [`PARAMS_CONVENTIONS`]).
    pub params_convention: Option<String>,
    /// Where the table has shape columns: count C under one of [`FLOPS_CONVENTIONS`].
    pub flops_convention: Option<String>,
    /// FLOPs per parameter per token in C = k N D (Kaplan et al. 2020: 6).
    pub flops_per_param_token: f64,
}

impl Default for LoadRequest {
    fn default() -> Self {
        LoadRequest {
            params_col: None,
            tokens_col: None,
            flops_col: None,
            loss_col: None,
            skip_invalid: false,
            filters: Filters::default(),
            params_convention: None,
            flops_convention: None,
            flops_per_param_token: 6.0,
        }
    }
}

fn pick(given: &Option<String>, table: &[(&str, &str)], what: &str) -> Result<Option<String>> {
    match given {
        None => Ok(None),
        Some(g) => table
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(g))
            .map(|(_, c)| Some(c.to_string()))
            .ok_or_else(|| {
                Error::InvalidSetting(format!(
                    "{what} convention {g:?}: known conventions are {}",
                    table.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                ))
            }),
    }
}

/// Add the count columns to `table` when a counting convention is asked for (idempotent: a
/// table that already has them, say from `scaling count`, keeps its own).
///
/// # Examples
/// ```
/// use scaling::accounting::{prepare_table, LoadRequest};
/// use scaling::data::RunTable;
/// let csv = "n_layers,d_model,n_heads,tokens,loss\n12,768,12,2e10,3.0\n24,1024,16,4e10,2.8\n";
/// let mut t = RunTable::from_csv_str("shapes.csv", csv).unwrap();
/// let req = LoadRequest { params_convention: Some("non-embedding".into()), ..Default::default() };
/// prepare_table(&mut t, &req).unwrap();
/// assert!(t.columns.iter().any(|c| c == "params_non_embedding"));
/// ```
///
/// # Errors
/// A FLOP-count convention without a tokens column; the errors of [`add_count_columns`].
pub fn prepare_table(table: &mut RunTable, req: &LoadRequest) -> Result<()> {
    if req.params_convention.is_none() && req.flops_convention.is_none() {
        return Ok(());
    }
    let overrides = ColumnOverrides {
        tokens: req.tokens_col.clone(),
        ..Default::default()
    };
    let tokens = find_column(table, Role::Tokens, &overrides)?;
    if req.flops_convention.is_some() && tokens.is_none() {
        return Err(Error::MissingColumn {
            path: table.path.clone(),
            role: Role::Tokens.describe().to_string(),
            message: "a FLOP-count convention needs a tokens column (name it)".into(),
            names: vec![],
        });
    }
    if table.column_index("params_total").is_none() {
        add_count_columns(table, &Default::default(), tokens)?;
    }
    Ok(())
}

/// The columns the request names for each role, with counting conventions resolved to the
/// count columns of [`prepare_table`].
///
/// # Examples
/// ```
/// use scaling::accounting::{column_overrides, LoadRequest};
/// let req = LoadRequest { params_convention: Some("total".into()), ..Default::default() };
/// assert_eq!(column_overrides(&req).unwrap().params.as_deref(), Some("params_total"));
/// ```
///
/// # Errors
/// [`Error::InvalidSetting`] for an unknown convention.
pub fn column_overrides(req: &LoadRequest) -> Result<ColumnOverrides> {
    let pc = pick(
        &req.params_convention,
        &PARAMS_CONVENTIONS,
        "parameter-count",
    )?;
    let fc = pick(&req.flops_convention, &FLOPS_CONVENTIONS, "FLOP-count")?;
    Ok(ColumnOverrides {
        params: pc.or(req.params_col.clone()),
        tokens: req.tokens_col.clone(),
        flops: fc.or(req.flops_col.clone()),
        loss: req.loss_col.clone(),
    })
}

/// The row filter of the request (`where`), parsed.
///
/// # Examples
/// ```
/// use scaling::accounting::{row_filter, LoadRequest};
/// let mut req = LoadRequest::default();
/// req.filters.row_filter = Some("N >= 1e9 and".into());
/// assert!(row_filter(&req).is_err()); // the filter ends too early
/// ```
///
/// # Errors
/// [`Error::Filter`] pointing at the character where the text stops making sense.
pub fn row_filter(req: &LoadRequest) -> Result<Option<RowFilter>> {
    req.filters
        .row_filter
        .as_deref()
        .map(RowFilter::parse)
        .transpose()
}

/// The 0-based rows of `table` the request's row filter keeps (every row without one): the
/// rows that grouping then splits.
///
/// # Examples
/// ```
/// use scaling::accounting::{selected_rows, LoadRequest};
/// use scaling::data::RunTable;
/// let t = RunTable::from_csv_str("runs.csv", "set,N,loss\nc4,1e8,3.1\nrw,1e8,3.0\nc4,1e9,2.7\n").unwrap();
/// let mut req = LoadRequest::default();
/// req.filters.row_filter = Some("set == 'c4' and N > 5e8".into());
/// assert_eq!(selected_rows(&t, &req).unwrap(), vec![2]);
/// ```
///
/// # Errors
/// The errors of [`row_filter`] and of evaluating it on the table.
pub fn selected_rows(table: &RunTable, req: &LoadRequest) -> Result<Vec<usize>> {
    match row_filter(req)? {
        None => Ok((0..table.rows.len()).collect()),
        Some(f) => {
            let keep = f.matches(table, &column_overrides(req)?)?;
            Ok((0..table.rows.len()).filter(|&r| keep[r]).collect())
        }
    }
}

/// Validated runs from `table` (only its 0-based rows `rows` when given: one group): roles are
/// resolved, values validated, and the filters applied. Call [`prepare_table`] first when the
/// request names a counting convention (it adds the count columns the convention reads). `needs` says which of N, D and C the analysis uses; C
/// is also needed whenever a FLOP filter is set.
///
/// # Examples
/// ```
/// use scaling::accounting::{load_runs, LoadRequest};
/// use scaling::data::{Column, Needs, RunTable};
/// let mut t = RunTable::from_columns("<arrays>", vec![
///     ("params".into(), Column::Numbers(vec![1e8, 2e8, 4e8])),
///     ("tokens".into(), Column::Numbers(vec![2e9, 4e9, 8e9])),
///     ("loss".into(), Column::Numbers(vec![3.3, 3.0, 2.8])),
/// ]).unwrap();
/// let needs = Needs { params: true, tokens: true, flops: false };
/// let req = LoadRequest::default();
/// scaling::accounting::prepare_table(&mut t, &req).unwrap();
/// let runs = load_runs(&t, needs, &req, None).unwrap();
/// assert_eq!(runs.len(), 3);
/// ```
///
/// # Errors
/// Unknown conventions ([`Error::InvalidSetting`]), a FLOP convention without a tokens
/// column, a bad row filter, and every error of [`Runs::from_table`] and
/// [`Runs::apply_filters`].
pub fn load_runs(
    table: &RunTable,
    needs: Needs,
    req: &LoadRequest,
    rows: Option<Vec<usize>>,
) -> Result<Runs> {
    let opts = LoadOptions {
        columns: column_overrides(req)?,
        skip_invalid: req.skip_invalid,
        flops_per_param_token: req.flops_per_param_token,
        filter: row_filter(req)?,
        rows,
    };
    let mut needs = needs;
    if req.filters.min_flops.is_some() || req.filters.max_flops.is_some() {
        needs.flops = true;
    }
    let mut runs = Runs::from_table(table, needs, &opts)?;
    runs.apply_filters(&req.filters)?;
    Ok(runs)
}
