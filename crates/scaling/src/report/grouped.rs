//! One analysis per group of rows (`--by` on the command line, `by=` in Python) as a front end
//! prints it: the one place that decides the JSON and text of grouped results, so every front
//! end and every command print failed groups the same way.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::data::Group;

/// What a front end prints for the outcomes of one analysis on every group.
#[derive(Debug, Clone, PartialEq)]
pub struct Printed {
    /// The JSON, pretty-printed with a final newline: the single result without grouping; with
    /// grouping an array in group order (see [`crate::methods::grouped_json`]).
    pub json: String,
    /// The text: each result's text, or `LABEL:\n  error: MESSAGE\n\n` for a group that failed.
    pub text: String,
    /// How many groups failed (their errors are printed in their place).
    pub failed: usize,
    /// How many groups there were.
    pub total: usize,
}

/// Why nothing can be printed.
#[derive(Debug)]
pub enum Unprinted<E> {
    /// There was no group at all (no rows to analyse).
    NoRows,
    /// The single analysis failed (without grouping), or every group failed: the first
    /// group's error, and how many other groups there were (all failed too).
    Failed {
        /// The first group.
        group: Group,
        /// Its error.
        error: E,
        /// The number of other groups.
        others: usize,
    },
}

/// Print every group's result or error, in the order the groups first appear. Without
/// grouping the single result is printed as is, and its error is the caller's error. With
/// grouping a failed group does not hide the others: its error (worded by `message`) is printed
/// in its place, as text and as `"error"` in its JSON object; nothing is printed only when
/// every group failed. `text` renders one result under its group's label (`""` without
/// grouping).
///
/// # Examples
/// ```
/// use scaling::data::Group;
/// use scaling::report::grouped::{print_groups, Unprinted};
/// let g = |v: &str| Group { key: vec![("set".into(), v.into())], rows: vec![0] };
/// let outcomes: Vec<(Group, Result<f64, String>)> =
///     vec![(g("a"), Ok(1.5)), (g("b"), Err("too few runs".into()))];
/// let text = |v: &f64, label: &str| format!("[{label}] {v}\n");
/// let p = print_groups(outcomes, true, &text, &|e: &String| e.clone()).unwrap();
/// assert_eq!((p.failed, p.total), (1, 2));
/// assert!(p.text.contains("error: too few runs"));
/// let none: Vec<(Group, Result<f64, String>)> = vec![(g("a"), Err("bad".into()))];
/// assert!(matches!(print_groups(none, true, &text, &|e: &String| e.clone()),
///                  Err(Unprinted::Failed { others: 0, .. })));
/// ```
pub fn print_groups<T: Serialize, E>(
    outcomes: Vec<(Group, Result<T, E>)>,
    grouped: bool,
    text: &dyn Fn(&T, &str) -> String,
    message: &dyn Fn(&E) -> String,
) -> Result<Printed, Unprinted<E>> {
    let total = outcomes.len();
    let failed = outcomes.iter().filter(|(_, r)| r.is_err()).count();
    if !grouped || failed == total {
        let Some((group, r)) = outcomes.into_iter().next() else {
            return Err(Unprinted::NoRows);
        };
        return match r {
            Ok(v) => Ok(Printed {
                json: pretty(&v),
                text: text(&v, &group.label()),
                failed: 0,
                total: 1,
            }),
            Err(error) => Err(Unprinted::Failed {
                group,
                error,
                others: total - 1,
            }),
        };
    }
    let mut s = String::new();
    let worded: Vec<(Group, Result<T, String>)> = outcomes
        .into_iter()
        .map(|(g, r)| {
            let r = match r {
                Ok(v) => {
                    s.push_str(&text(&v, &g.label()));
                    Ok(v)
                }
                Err(e) => {
                    let m = message(&e);
                    s.push_str(&format!("{}:\n  error: {m}\n\n", g.label()));
                    Err(m)
                }
            };
            (g, r)
        })
        .collect();
    Ok(Printed {
        json: pretty(&crate::methods::grouped_json(&worded)),
        text: s,
        failed,
        total,
    })
}

fn pretty<T: Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default() + "\n"
}

/// The file of one group's output (a plot per group): `out` with the group's values inserted
/// before the extension, joined by `-`, each character other than a letter, digit, `-`, `_`
/// or `.` replaced by `_`. Without a group key, `out` itself.
///
/// # Examples
/// ```
/// use std::path::Path;
/// use scaling::data::Group;
/// use scaling::report::grouped::group_path;
/// let g = Group { key: vec![("data".into(), "c4/en".into()), ("lr".into(), "3e-4".into())], rows: vec![] };
/// assert_eq!(group_path(Path::new("out/loss.svg"), &g), Path::new("out/loss.c4_en-3e-4.svg"));
/// ```
pub fn group_path(out: &Path, g: &Group) -> PathBuf {
    if g.key.is_empty() {
        return out.to_path_buf();
    }
    let values: Vec<&str> = g.key.iter().map(|(_, v)| v.as_str()).collect();
    let safe: String = values
        .join("-")
        .chars()
        .map(|c| match c.is_ascii_alphanumeric() || "-_.".contains(c) {
            true => c,
            false => '_',
        })
        .collect();
    let stem = out.file_stem().unwrap_or_default().to_string_lossy();
    let ext = out.extension().unwrap_or_default().to_string_lossy();
    out.with_file_name(format!("{stem}.{safe}.{ext}"))
}
