//! Joining two run tables on a key column (Gadre et al. 2024 keep losses and downstream
//! evaluations in two files joined on the model's `name`).

use std::collections::HashMap;

use crate::data::{Cells, RunTable};
use crate::error::{Error, Result};

/// The rows of `left` with the columns of `right` appended, matched on column `on` (an inner
/// join in `left`'s row order). A column of `right` that `left` also has is kept once (from
/// `left`); where both hold a number the two must agree to 1e-9 relative, so a join on the
/// wrong key is caught.
///
/// # Examples
/// ```
/// use scaling::data::RunTable;
/// let runs = RunTable::from_csv_str("runs.csv", "name,N,loss\na,1e8,3.1\nb,2e8,2.9\n").unwrap();
/// let evals = RunTable::from_csv_str("evals.csv", "name,acc\nb,0.41\na,0.35\n").unwrap();
/// let t = scaling::downstream::join_tables(&runs, &evals, "name").unwrap();
/// assert_eq!(t.columns, vec!["name", "N", "loss", "acc"]);
/// assert_eq!(t.cell(0, 3), "0.35");
/// ```
///
/// # Errors
/// [`Error::MissingColumn`] when either table lacks `on`; [`Error::BadValue`] for a key that
/// appears twice in `right`, a row of `left` whose key is not in `right`, or a shared column
/// whose values disagree.
pub fn join_tables(left: &RunTable, right: &RunTable, on: &str) -> Result<RunTable> {
    let lk = left.named_column("join key (on)", on)?;
    let rk = right.named_column("join key (on)", on)?;
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (i, row) in right.rows.iter().enumerate() {
        let key = row.get(rk).trim();
        if index.insert(key, i).is_some() {
            return Err(Error::BadValue {
                location: right.location(i),
                column: on.to_string(),
                value: key.to_string(),
                problem: "the join key appears more than once in this file".into(),
            });
        }
    }
    let extra: Vec<(usize, Option<usize>)> = right
        .columns
        .iter()
        .enumerate()
        .filter(|(j, _)| *j != rk)
        .map(|(j, c)| (j, left.column_index(c)))
        .collect();
    let mut columns = left.columns.clone();
    columns.extend(
        extra
            .iter()
            .filter(|(_, shared)| shared.is_none())
            .map(|(j, _)| right.columns[*j].clone()),
    );
    let mut rows = Cells::new(columns.len());
    let mut lines = Vec::with_capacity(left.rows.len());
    for (i, row) in left.rows.iter().enumerate() {
        let key = row[lk].trim();
        let Some(&r) = index.get(key) else {
            return Err(Error::BadValue {
                location: left.location(i),
                column: on.to_string(),
                value: key.to_string(),
                problem: format!("no row of {} has this {on}", right.path),
            });
        };
        let mut out = row.to_vec();
        for &(j, shared) in &extra {
            let v = right.cell(r, j);
            match shared {
                None => out.push(v.to_string()),
                Some(l) => {
                    let (a, b) = (row[l].trim(), v.trim());
                    if let (Ok(x), Ok(y)) = (a.parse::<f64>(), b.parse::<f64>()) {
                        if (x - y).abs() > 1e-9 * x.abs().max(y.abs()) {
                            return Err(Error::BadValue {
                                location: left.location(i),
                                column: right.columns[j].clone(),
                                value: a.to_string(),
                                problem: format!(
                                    "{} row {} has {b} in the same column: is {on} the right key?",
                                    right.path,
                                    r + 1
                                ),
                            });
                        }
                    }
                }
            }
        }
        rows.push_row(&out).map_err(|message| Error::Format {
            path: left.path.clone(),
            message,
        })?;
        lines.push(left.lines[i]);
    }
    Ok(RunTable {
        path: format!("{} joined with {} on {on}", left.path, right.path),
        columns,
        rows,
        lines,
    })
}
