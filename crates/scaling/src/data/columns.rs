//! Run tables built from columns of numbers and labels (arrays, DataFrames) instead of a file.

use crate::error::{Error, Result};

use super::RunTable;

/// One column given as data rather than read from a file.
#[derive(Debug, Clone)]
pub enum Column {
    /// Numbers (a float array). Non-finite values are kept and refused by validation with
    /// the row and column, exactly as a file's cell would be.
    Numbers(Vec<f64>),
    /// Labels (a string or categorical column): group names, run names, dataset names.
    Labels(Vec<String>),
}

impl Column {
    fn len(&self) -> usize {
        match self {
            Column::Numbers(v) => v.len(),
            Column::Labels(v) => v.len(),
        }
    }
}

impl RunTable {
    /// A table from named columns of equal length, validated like a file: the same column
    /// roles are recognised, and every later error names `name`, the 1-based row and the
    /// column. Numbers are stored in their shortest round-trip text, so a column of `f64`
    /// gives bit-identical results to the same values read from a CSV file.
    ///
    /// # Examples
    /// ```
    /// use scaling::data::{Column, RunTable};
    /// let t = RunTable::from_columns(
    ///     "<arrays>",
    ///     vec![
    ///         ("params".into(), Column::Numbers(vec![1e8, 2e8])),
    ///         ("loss".into(), Column::Numbers(vec![3.1, 2.9])),
    ///     ],
    /// )
    /// .unwrap();
    /// assert_eq!(t.rows.len(), 2);
    /// ```
    ///
    /// # Errors
    /// [`Error::Format`] for no columns, columns of different lengths or a repeated name;
    /// [`Error::Empty`] for zero rows.
    pub fn from_columns(name: &str, columns: Vec<(String, Column)>) -> Result<RunTable> {
        let format = |message: String| Error::Format {
            path: name.to_string(),
            message,
        };
        let Some((first, col0)) = columns.first() else {
            return Err(format("no columns were given".into()));
        };
        let n = col0.len();
        for (c, col) in &columns {
            if col.len() != n {
                return Err(format(format!(
                    "column {c:?} has {} values but column {first:?} has {n}",
                    col.len()
                )));
            }
        }
        if n == 0 {
            return Err(Error::Empty {
                path: name.to_string(),
                message: "the table has no data rows".into(),
            });
        }
        let names: Vec<String> = columns.iter().map(|(c, _)| c.clone()).collect();
        for (i, c) in names.iter().enumerate() {
            if names[..i].contains(c) {
                return Err(format(format!("column {c:?} is given twice")));
            }
        }
        let mut rows = super::Cells::new(names.len());
        for i in 0..n {
            let row = columns.iter().map(|(_, col)| match col {
                // `{:?}` is the shortest text that parses back to the same f64.
                Column::Numbers(v) if v[i].is_nan() => "NaN".to_string(),
                Column::Numbers(v) => format!("{:?}", v[i]),
                Column::Labels(v) => v[i].clone(),
            });
            rows.push_row(row).map_err(format)?;
        }
        Ok(RunTable {
            path: name.to_string(),
            columns: names,
            lines: vec![None; n],
            rows,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip_through_text() {
        let xs = vec![0.1 + 0.2, 1e22, 5.7e-320, 123_456_789.123_456_78, -0.0];
        let t =
            RunTable::from_columns("<t>", vec![("x".into(), Column::Numbers(xs.clone()))]).unwrap();
        for (row, x) in t.rows.iter().zip(&xs) {
            assert_eq!(row[0].parse::<f64>().unwrap().to_bits(), x.to_bits());
        }
    }

    #[test]
    fn ragged_columns_are_refused_naming_both() {
        let e = RunTable::from_columns(
            "<t>",
            vec![
                ("a".into(), Column::Numbers(vec![1.0, 2.0])),
                ("b".into(), Column::Labels(vec!["x".into()])),
            ],
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("\"b\" has 1 values") && e.contains("\"a\" has 2"),
            "{e}"
        );
    }
}
