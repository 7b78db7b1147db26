//! From a raw [`RunTable`] to validated runs: which column plays which role, values parsed
//! and checked, missing quantities derived from C = k N D, and filters applied with every
//! excluded row recorded.

use serde::{Deserialize, Serialize};

use super::filter::RowFilter;
use super::quantity::parse_positive;
use super::table::RunTable;
use crate::error::{Error, Result};

/// The role a column plays in a run table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Model size N, in parameters.
    Params,
    /// Training tokens D.
    Tokens,
    /// Training compute C, in FLOPs.
    Flops,
    /// Final (validation) loss, in nats.
    Loss,
}

impl Role {
    /// All roles in a fixed order.
    pub const ALL: [Role; 4] = [Role::Params, Role::Tokens, Role::Flops, Role::Loss];

    /// Column names recognised for this role, in order of preference. Matching ignores case
    /// and treats spaces and hyphens as underscores ("Model Size" matches `model_size`).
    /// The plain names come first, then the names Weights & Biases logging commonly uses
    /// (`model/params`, `train/tokens`, `eval/loss`, ...).
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            Role::Params => &[
                "params",
                "n_params",
                "parameters",
                "model_size",
                "n",
                "num_params",
                "n_parameters",
                "param_count",
                "parameter_count",
                "num_parameters",
                "model/params",
                "model/num_params",
                "model/n_params",
                "model/parameters",
                "model/num_parameters",
                "model/param_count",
                "config/num_params",
                "parameters/total",
            ],
            Role::Tokens => &[
                "tokens",
                "n_tokens",
                "training_tokens",
                "num_tokens",
                "d",
                "tokens_seen",
                "total_tokens",
                "train/tokens",
                "train/num_tokens",
                "train/tokens_seen",
                "train/total_tokens",
                "throughput/total_tokens",
                "data/tokens",
            ],
            Role::Flops => &[
                "flops",
                "compute",
                "training_flop",
                "training_flops",
                "c",
                "total_flops",
                "compute_budget",
                "train/flops",
                "train/total_flops",
                "throughput/total_flops",
                "total_gflops",
                "throughput/total_gflops",
            ],
            Role::Loss => &[
                "loss",
                "val_loss",
                "eval_loss",
                "validation_loss",
                "eval/loss",
                "val/loss",
                "valid/loss",
                "validation/loss",
                "eval/val_loss",
            ],
        }
    }

    /// The request field that names this role's column ([`ColumnOverrides`] in a
    /// `LoadRequest`); front ends name it their own way (see [`Error::render`]).
    pub fn setting(self) -> &'static str {
        match self {
            Role::Params => "params_col",
            Role::Tokens => "tokens_col",
            Role::Flops => "flops_col",
            Role::Loss => "loss_col",
        }
    }

    /// A human name with the unit.
    pub fn describe(self) -> &'static str {
        match self {
            Role::Params => "parameters N",
            Role::Tokens => "training tokens D",
            Role::Flops => "training compute C (FLOPs)",
            Role::Loss => "loss",
        }
    }
}

/// `normalise(header) == alias` for an ASCII alias, without allocating.
fn same_name(header: &str, alias: &str) -> bool {
    let h = header.trim();
    h.len() == alias.len()
        && h.bytes().zip(alias.bytes()).all(|(a, b)| {
            let a = a.to_ascii_lowercase();
            (if a == b' ' || a == b'-' { b'_' } else { a }) == b
        })
}

/// A header as matched against aliases: trimmed, lower case, spaces and hyphens as `_`.
pub(crate) fn normalise(name: &str) -> String {
    name.trim()
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c == ' ' || c == '-' { '_' } else { c })
        .collect()
}

/// Column names given by the user for each role (`--params-col` and friends).
#[derive(Debug, Clone, Default)]
pub struct ColumnOverrides {
    /// Column holding N.
    pub params: Option<String>,
    /// Column holding D.
    pub tokens: Option<String>,
    /// Column holding C.
    pub flops: Option<String>,
    /// Column holding the loss.
    pub loss: Option<String>,
}

impl ColumnOverrides {
    fn get(&self, role: Role) -> Option<&str> {
        match role {
            Role::Params => self.params.as_deref(),
            Role::Tokens => self.tokens.as_deref(),
            Role::Flops => self.flops.as_deref(),
            Role::Loss => self.loss.as_deref(),
        }
    }
}

/// Where the values of a role came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ValueSource {
    /// Read from a column of the file.
    Column {
        /// The column header.
        column: String,
    },
    /// Computed from the other quantities under the FLOP model C = k N D.
    Derived {
        /// The formula, e.g. `D = C / (6 N)`.
        formula: String,
    },
}

/// Which quantities a command needs (the loss is always needed).
#[derive(Debug, Clone, Copy, Default)]
pub struct Needs {
    /// N is used.
    pub params: bool,
    /// D is used.
    pub tokens: bool,
    /// C is used.
    pub flops: bool,
}

/// How to turn a table into runs.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// User-named columns.
    pub columns: ColumnOverrides,
    /// Drop rows with invalid values in used columns instead of failing.
    pub skip_invalid: bool,
    /// FLOPs per parameter per token in C = k N D (6 by default: Kaplan et al. 2020, forward
    /// 2ND plus backward 4ND).
    pub flops_per_param_token: f64,
    /// Keep only rows this filter selects (the others are listed as excluded, unvalidated).
    pub filter: Option<RowFilter>,
    /// Consider only these 0-based table rows (one group of a grouped analysis); the other
    /// rows are neither validated nor listed.
    pub rows: Option<Vec<usize>>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            columns: ColumnOverrides::default(),
            skip_invalid: false,
            flops_per_param_token: 6.0,
            filter: None,
            rows: None,
        }
    }
}

/// A row left out of the analysis, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exclusion {
    /// 1-based data row in the file.
    pub row: usize,
    /// The reason, e.g. `invalid value` or `drop-top-loss`.
    pub reason: String,
}

/// Row filters applied after validation, in this order: FLOP range, then the K highest
/// losses among the remaining runs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filters {
    /// Keep runs with C >= this.
    pub min_flops: Option<f64>,
    /// Keep runs with C <= this.
    pub max_flops: Option<f64>,
    /// Drop the K runs with the highest loss (Besiroglu et al. 2024 drop 5 of Chinchilla's
    /// 245 points); ties are broken by row order.
    pub drop_top_loss: usize,
    /// The row filter the runs were selected with (`dataset == 'rpj' and N < 1e9`), applied
    /// before the others.
    #[serde(default, rename = "where")]
    pub row_filter: Option<String>,
}

/// Validated runs ready for fitting. Vectors of roles that were neither needed nor derivable
/// are empty.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Runs {
    /// The file they came from.
    pub source: String,
    /// Data rows in the file.
    pub total_rows: usize,
    /// Model sizes N (parameters).
    pub params: Vec<f64>,
    /// Training tokens D.
    pub tokens: Vec<f64>,
    /// Training compute C (FLOPs).
    pub flops: Vec<f64>,
    /// Losses (nats).
    pub loss: Vec<f64>,
    /// 1-based file row of each run.
    pub rows: Vec<usize>,
    /// Source of N, D, C and the loss (`None` when not available).
    pub sources: RoleSources,
    /// Rows left out, with reasons.
    pub excluded: Vec<Exclusion>,
    /// FLOPs per parameter per token used in derivations.
    pub flops_per_param_token: f64,
    /// The filters applied (recorded by [`Runs::apply_filters`]).
    pub filters: Filters,
}

/// Where each role's values came from.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RoleSources {
    /// Source of N.
    pub params: Option<ValueSource>,
    /// Source of D.
    pub tokens: Option<ValueSource>,
    /// Source of C.
    pub flops: Option<ValueSource>,
    /// Source of the loss.
    pub loss: Option<ValueSource>,
    /// When N, D and C were all read from columns: how far C is from k N D, and which
    /// quantity each result uses.
    #[serde(default)]
    pub flops_check: Option<FlopsCheck>,
}

/// How a table's own C compares with the FLOP model C = k N D, when it has all three.
///
/// The law is fitted on N and D, and an allocation spends C = k N D; a C column is used as
/// given for everything measured in compute (the range of budgets, the largest budget,
/// loss-against-compute plots, IsoFLOP budgets). Tables often count C their own way
/// (embeddings, attention), so the two can differ: Marin's runs differ by up to 35%.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlopsCheck {
    /// The k of C = k N D compared against.
    pub flops_per_param_token: f64,
    /// Smallest C / (k N D) over the runs read.
    pub min_ratio: f64,
    /// Largest C / (k N D).
    pub max_ratio: f64,
    /// Relative difference above which a warning is given ([`FLOPS_CHECK_TOLERANCE`]).
    pub tolerance: f64,
    /// Runs whose |C / (k N D) - 1| exceeds the tolerance.
    pub runs_beyond_tolerance: usize,
    /// Which quantity each number uses.
    pub uses: String,
    /// The warning, when some run is beyond the tolerance.
    pub warning: Option<String>,
}

/// Relative difference between a C column and k N D above which loading warns (5%).
pub const FLOPS_CHECK_TOLERANCE: f64 = 0.05;

/// Compare C with k N D over the runs, or `None` unless all three are present.
fn flops_check(runs: &Runs, column: &str) -> Option<FlopsCheck> {
    let n = runs.len();
    if n == 0 || runs.params.len() != n || runs.tokens.len() != n || runs.flops.len() != n {
        return None;
    }
    let k = runs.flops_per_param_token;
    // In log space, so that N D beyond 1e308 (or below 1e-308) still gives a finite ratio.
    let ratios: Vec<f64> = (0..n)
        .map(|i| {
            let lr = runs.flops[i].ln() - k.ln() - runs.params[i].ln() - runs.tokens[i].ln();
            lr.clamp(-700.0, 700.0).exp()
        })
        .collect();
    let min_ratio = ratios.iter().copied().fold(f64::INFINITY, f64::min);
    let max_ratio = ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let beyond = ratios
        .iter()
        .filter(|r| (*r - 1.0).abs() > FLOPS_CHECK_TOLERANCE)
        .count();
    let kstr = fmt_k(k);
    let uses = format!(
        "C from column {column:?} for budgets, compute ranges and plots; the law is fitted on N and D, and allocations spend C = {kstr} N D"
    );
    let worst = (min_ratio - 1.0).abs().max((max_ratio - 1.0).abs());
    let warning = (beyond > 0).then(|| {
        let ratio = |r: f64| {
            if (1e-3..1e4).contains(&r) {
                format!("{r:.3}")
            } else {
                format!("{r:.3e}")
            }
        };
        let by = if worst <= 10.0 {
            format!("{:.0}%", 100.0 * worst)
        } else {
            format!("a factor of {}", ratio(max_ratio.max(1.0 / min_ratio)))
        };
        format!(
            "column {column:?} differs from C = {kstr} N D by up to {by} ({beyond} of {n} runs beyond {:.0}%; C / ({kstr} N D) from {} to {}): {uses}",
            100.0 * FLOPS_CHECK_TOLERANCE,
            ratio(min_ratio),
            ratio(max_ratio)
        )
    });
    Some(FlopsCheck {
        flops_per_param_token: k,
        min_ratio,
        max_ratio,
        tolerance: FLOPS_CHECK_TOLERANCE,
        runs_beyond_tolerance: beyond,
        uses,
        warning,
    })
}

/// Find the column for a role: the user's override (which must exist) or the best alias.
///
/// # Examples
/// ```
/// use scaling::data::{find_column, ColumnOverrides, Role, RunTable};
/// let t = RunTable::from_csv_str("runs.csv", "n_params,tokens,val_loss\n1e8,2e9,3.1\n").unwrap();
/// let none = ColumnOverrides::default();
/// assert_eq!(find_column(&t, Role::Params, &none).unwrap(), Some(0)); // by alias
/// let ov = ColumnOverrides { loss: Some("val_loss".into()), ..Default::default() };
/// assert_eq!(find_column(&t, Role::Loss, &ov).unwrap(), Some(2));
/// ```
///
/// # Errors
/// [`Error::MissingColumn`] when the override names no column, or when two columns match
/// the same alias (`Loss` and `loss`): taking one silently could fit the wrong numbers.
pub fn find_column(
    table: &RunTable,
    role: Role,
    overrides: &ColumnOverrides,
) -> Result<Option<usize>> {
    if let Some(name) = overrides.get(role) {
        return match table.column_index(name) {
            Some(i) => Ok(Some(i)),
            None => Err(Error::MissingColumn {
                path: table.path.clone(),
                role: role.describe().into(),
                message: format!(
                    "{{}} {name:?} names no column (columns are: {})",
                    table.column_list()
                ),
                names: vec![role.setting().into()],
            }),
        };
    }
    // One pass over the headers, comparing without allocating (linear in the columns: a
    // 200,000-column header costs milliseconds), keeping the most preferred alias matched.
    let aliases = role.aliases();
    let mut best: Option<(usize, Vec<usize>)> = None;
    for (i, c) in table.columns.iter().enumerate() {
        let Some(rank) = aliases.iter().position(|a| same_name(c, a)) else {
            continue;
        };
        match &mut best {
            Some((r, cols)) if *r == rank => cols.push(i),
            Some((r, _)) if *r < rank => {}
            _ => best = Some((rank, vec![i])),
        }
    }
    match best {
        None => {}
        Some((_, cols)) if cols.len() == 1 => return Ok(Some(cols[0])),
        Some((rank, several)) => {
            let names: Vec<String> = several
                .iter()
                .map(|&i| format!("{:?}", table.columns[i]))
                .collect();
            return Err(Error::setting(
                format!(
                    "{}: columns {} both read as {:?} (case, spaces and hyphens are ignored), so which one holds the {} is unclear; name one with {{}}",
                    table.path,
                    names.join(" and "),
                    aliases[rank],
                    role.describe(),
                ),
                &[role.setting()],
            ));
        }
    }
    Ok(None)
}

fn missing(table: &RunTable, role: Role, extra: &str) -> Error {
    Error::MissingColumn {
        path: table.path.clone(),
        role: role.describe().into(),
        message: format!(
            "looked for {}{extra}; name it with {{}} (columns are: {})",
            role.aliases().join(", "),
            table.column_list()
        ),
        names: vec![role.setting().into()],
    }
}

/// Parse one row: the read columns of N, D, C (derived ones computed from C = k N D) and the
/// loss, or the error naming the first bad cell.
#[allow(clippy::too_many_arguments)]
fn parse_row(
    table: &RunTable,
    r: usize,
    row: super::Row<'_>,
    read: &[bool; 3],
    idx: &[Option<usize>; 3],
    cl: usize,
    derive: &[Option<String>; 3],
    k: f64,
    c_scale: f64,
) -> Result<([f64; 3], f64)> {
    let cell = |c: usize| -> Result<f64> {
        parse_positive(&row[c]).map_err(|p| Error::BadValue {
            location: table.location(r),
            column: table.columns[c].clone(),
            value: row[c].to_string(),
            problem: p.describe().into(),
        })
    };
    let mut vals = [f64::NAN; 3];
    for i in 0..3 {
        if read[i] {
            vals[i] = cell(idx[i].expect("read columns exist"))?;
        }
    }
    let loss = cell(cl)?;
    if read[2] {
        vals[2] *= c_scale;
    }
    if derive[0].is_some() {
        vals[0] = vals[2] / (k * vals[1]);
    }
    if derive[1].is_some() {
        vals[1] = vals[2] / (k * vals[0]);
    }
    if derive[2].is_some() {
        vals[2] = k * vals[0] * vals[1];
    }
    for (i, v) in vals.iter().enumerate() {
        if (read[i] || derive[i].is_some()) && !(v.is_finite() && *v > 0.0) {
            return Err(Error::BadValue {
                location: table.location(r),
                column: ["N", "D", "C"][i].into(),
                value: v.to_string(),
                problem: format!(
                    "derived value is not a positive finite number ({})",
                    derive[i].clone().unwrap_or_default()
                ),
            });
        }
    }
    Ok((vals, loss))
}

impl Runs {
    /// Validate a table into runs, reading the columns for the roles in `needs` (plus the
    /// loss), deriving what is missing from C = k N D.
    ///
    /// # Errors
    /// A missing column, or (unless `skip_invalid`) the first empty, non-numeric, zero,
    /// negative, NaN or infinite value in a used column, named by file, row, column and value.
    pub fn from_table(table: &RunTable, needs: Needs, opts: &LoadOptions) -> Result<Runs> {
        let k = opts.flops_per_param_token;
        if !(k.is_finite() && k > 0.0) {
            return Err(Error::setting(
                format!("{{}} must be a positive number, got {k}"),
                &["flops_per_param_token"],
            ));
        }
        let cols = [
            find_column(table, Role::Params, &opts.columns)?,
            find_column(table, Role::Tokens, &opts.columns)?,
            find_column(table, Role::Flops, &opts.columns)?,
            find_column(table, Role::Loss, &opts.columns)?,
        ];
        let [cn, cd, cc, cl] = cols;
        let cl = cl.ok_or_else(|| missing(table, Role::Loss, ""))?;
        // Decide which columns are read and which quantities are derived.
        let mut read = [false; 3];
        let mut derive: [Option<String>; 3] = [None, None, None];
        let kstr = fmt_k(k);
        let want = [needs.params, needs.tokens, needs.flops];
        for (i, role) in [Role::Params, Role::Tokens, Role::Flops]
            .into_iter()
            .enumerate()
        {
            if !want[i] {
                continue;
            }
            if cols[i].is_some() {
                read[i] = true;
                continue;
            }
            // Derive from the other two, which must both be columns.
            let (j, l) = match i {
                0 => (1, 2),
                1 => (0, 2),
                _ => (0, 1),
            };
            if cols[j].is_some() && cols[l].is_some() {
                read[j] = true;
                read[l] = true;
                derive[i] = Some(match i {
                    0 => format!("N = C / ({kstr} D)"),
                    1 => format!("D = C / ({kstr} N)"),
                    _ => format!("C = {kstr} N D"),
                });
            } else {
                let extra = match i {
                    0 => " (or both D and C, to derive N = C / (6 D))",
                    1 => " (or both N and C, to derive D = C / (6 N))",
                    _ => " (or both N and D, to derive C = 6 N D)",
                };
                return Err(missing(table, role, extra));
            }
        }
        // C for reporting when N and D are read but C is not needed: a C column the table
        // has is used as given (so every command reports the same compute), otherwise C is
        // derived from N and D.
        if !read[2] && derive[2].is_none() && read[0] && read[1] {
            if cc.is_some() {
                read[2] = true;
            } else {
                derive[2] = Some(format!("C = {kstr} N D"));
            }
        }
        let idx = [cn, cd, cc];
        let mut runs = Runs {
            source: table.path.clone(),
            total_rows: table.rows.len(),
            params: vec![],
            tokens: vec![],
            flops: vec![],
            loss: vec![],
            rows: vec![],
            sources: RoleSources::default(),
            excluded: vec![],
            flops_per_param_token: k,
            filters: Filters::default(),
        };
        // A C column named in GFLOPs (Marin's `throughput/total_gflops`) is read as FLOPs.
        let c_scale = match cc {
            Some(i) if read[2] && normalise(&table.columns[i]).contains("gflop") => 1e9,
            _ => 1.0,
        };
        let src = |i: usize| -> Option<ValueSource> {
            if i == 2 && read[2] && c_scale != 1.0 {
                return Some(ValueSource::Derived {
                    formula: format!(
                        "C = 1e9 x column {:?} (GFLOPs, by its name)",
                        table.columns[idx[2].unwrap()]
                    ),
                });
            }
            if read[i] {
                Some(ValueSource::Column {
                    column: table.columns[idx[i].unwrap()].clone(),
                })
            } else {
                derive[i]
                    .clone()
                    .map(|formula| ValueSource::Derived { formula })
            }
        };
        runs.sources = RoleSources {
            params: src(0),
            tokens: src(1),
            flops: src(2),
            loss: Some(ValueSource::Column {
                column: table.columns[cl].clone(),
            }),
            flops_check: None,
        };
        let mut in_scope = vec![opts.rows.is_none(); table.rows.len()];
        for &r in opts.rows.iter().flatten() {
            if let Some(s) = in_scope.get_mut(r) {
                *s = true;
            }
        }
        let selected = match &opts.filter {
            Some(f) => f.matches(table, &opts.columns)?,
            None => vec![true; table.rows.len()],
        };
        let mut filtered_out = 0;
        for (r, row) in table.rows.iter().enumerate() {
            if !in_scope[r] {
                continue;
            }
            if !selected[r] {
                filtered_out += 1;
                runs.excluded.push(Exclusion {
                    row: r + 1,
                    reason: format!(
                        "not selected by the filter {:?}",
                        opts.filter.as_ref().map_or("", |f| f.text())
                    ),
                });
                continue;
            }
            match parse_row(table, r, row, &read, &idx, cl, &derive, k, c_scale) {
                Ok((vals, loss)) => {
                    if runs.sources.params.is_some() {
                        runs.params.push(vals[0]);
                    }
                    if runs.sources.tokens.is_some() {
                        runs.tokens.push(vals[1]);
                    }
                    if runs.sources.flops.is_some() {
                        runs.flops.push(vals[2]);
                    }
                    runs.loss.push(loss);
                    runs.rows.push(r + 1);
                }
                Err(err) if opts.skip_invalid => runs.excluded.push(Exclusion {
                    row: r + 1,
                    reason: format!("invalid value: {err}"),
                }),
                Err(err) => return Err(err),
            }
        }
        if runs.loss.is_empty() && filtered_out > 0 && filtered_out == runs.excluded.len() {
            return Err(Error::Empty {
                path: table.path.clone(),
                message: format!(
                    "the filter {:?} selects none of the {} rows",
                    opts.filter.as_ref().map_or("", |f| f.text()),
                    filtered_out
                ),
            });
        }
        if runs.loss.is_empty() {
            return Err(Error::Empty {
                path: table.path.clone(),
                message: format!(
                    "no valid runs: all {} rows have invalid values ({} skipped)",
                    runs.excluded.len() - filtered_out,
                    runs.excluded.len() - filtered_out
                ),
            });
        }
        // Give back the slack of growing by doubling: a million runs keep 40 bytes each.
        for v in [
            &mut runs.params,
            &mut runs.tokens,
            &mut runs.flops,
            &mut runs.loss,
        ] {
            v.shrink_to_fit();
        }
        runs.rows.shrink_to_fit();
        runs.filters.row_filter = opts.filter.as_ref().map(|f| f.text().to_string());
        if read == [true; 3] {
            runs.sources.flops_check = flops_check(&runs, &table.columns[cc.expect("read")]);
        }
        Ok(runs)
    }

    /// Number of runs.
    pub fn len(&self) -> usize {
        self.loss.len()
    }

    /// True when no runs are left.
    pub fn is_empty(&self) -> bool {
        self.loss.is_empty()
    }

    /// Apply the FLOP range and then drop the K highest-loss runs, recording each exclusion.
    ///
    /// # Errors
    /// An invalid filter (negative bound, min above max, K not less than the number of runs)
    /// or no runs left.
    pub fn apply_filters(&mut self, f: &Filters) -> Result<()> {
        for (name, v) in [("min_flops", f.min_flops), ("max_flops", f.max_flops)] {
            if let Some(v) = v {
                if !(v.is_finite() && v > 0.0) {
                    return Err(Error::setting(
                        format!("{{}} must be a positive number of FLOPs, got {v}"),
                        &[name],
                    ));
                }
            }
        }
        if let (Some(lo), Some(hi)) = (f.min_flops, f.max_flops) {
            if lo > hi {
                return Err(Error::setting(
                    format!("{{}} {lo:e} is above {{}} {hi:e}"),
                    &["min_flops", "max_flops"],
                ));
            }
        }
        if f.min_flops.is_some() || f.max_flops.is_some() {
            if self.flops.is_empty() {
                return Err(Error::setting(
                    "{}/{} need compute C (a FLOPs column, or N and D)",
                    &["min_flops", "max_flops"],
                ));
            }
            let keep: Vec<bool> = self
                .flops
                .iter()
                .map(|&c| {
                    f.min_flops.is_none_or(|lo| c >= lo) && f.max_flops.is_none_or(|hi| c <= hi)
                })
                .collect();
            let reasons: Vec<String> = self
                .flops
                .iter()
                .map(|&c| {
                    if f.min_flops.is_some_and(|lo| c < lo) {
                        format!("C = {c:.4e} below the minimum FLOPs")
                    } else {
                        format!("C = {c:.4e} above the maximum FLOPs")
                    }
                })
                .collect();
            self.retain(&keep, |i| reasons[i].clone());
        }
        if f.drop_top_loss > 0 {
            let n = self.len();
            if f.drop_top_loss >= n {
                return Err(Error::setting(
                    format!("{{}} {} would drop all {n} runs", f.drop_top_loss),
                    &["drop_top_loss"],
                ));
            }
            let mut order: Vec<usize> = (0..n).collect();
            // Highest loss first; ties keep file order.
            order.sort_by(|&i, &j| self.loss[j].total_cmp(&self.loss[i]).then(i.cmp(&j)));
            let mut keep = vec![true; n];
            for &i in &order[..f.drop_top_loss] {
                keep[i] = false;
            }
            let losses = self.loss.clone();
            let k = f.drop_top_loss;
            self.retain(&keep, |i| {
                format!(
                    "drop-top-loss {k}: loss {} is among the {k} highest",
                    losses[i]
                )
            });
        }
        if self.is_empty() {
            return Err(Error::Empty {
                path: self.source.clone(),
                message: "no runs left after the FLOP filters".into(),
            });
        }
        let row_filter = self.filters.row_filter.take();
        self.filters = f.clone();
        if self.filters.row_filter.is_none() {
            self.filters.row_filter = row_filter;
        }
        Ok(())
    }

    fn retain(&mut self, keep: &[bool], reason: impl Fn(usize) -> String) {
        for (i, &k) in keep.iter().enumerate() {
            if !k {
                self.excluded.push(Exclusion {
                    row: self.rows[i],
                    reason: reason(i),
                });
            }
        }
        let filt = |v: &mut Vec<f64>| {
            if !v.is_empty() {
                let mut it = keep.iter();
                v.retain(|_| *it.next().unwrap());
            }
        };
        filt(&mut self.params);
        filt(&mut self.tokens);
        filt(&mut self.flops);
        filt(&mut self.loss);
        let mut it = keep.iter();
        self.rows.retain(|_| *it.next().unwrap());
        self.excluded.sort_by_key(|e| e.row);
    }
}

fn fmt_k(k: f64) -> String {
    if k.fract() == 0.0 {
        format!("{k:.0}")
    } else {
        format!("{k}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> RunTable {
        RunTable::from_csv_str("t.csv", text).unwrap()
    }

    fn nd() -> Needs {
        Needs {
            params: true,
            tokens: true,
            flops: false,
        }
    }

    #[test]
    fn aliases_and_derivation() {
        let t = table("Model Size,Training FLOP,loss\n1e9,6e19,2.5\n2B,1.2e20,2.4\n");
        let r = Runs::from_table(&t, nd(), &LoadOptions::default()).unwrap();
        assert_eq!(r.params, [1e9, 2e9]);
        assert!((r.tokens[0] - 1e10).abs() < 1.0);
        assert_eq!(
            r.sources.tokens,
            Some(ValueSource::Derived {
                formula: "D = C / (6 N)".into()
            })
        );
        assert_eq!(r.flops, [6e19, 1.2e20]);
    }

    #[test]
    fn flops_derived_from_n_and_d() {
        let t = table("params,tokens,loss\n1e9,2e10,2.5\n");
        let r = Runs::from_table(&t, nd(), &LoadOptions::default()).unwrap();
        assert_eq!(r.flops, [1.2e20]);
    }

    #[test]
    fn bad_values_name_row_column_value() {
        let t = table("N,D,loss\n1e9,2e10,2.5\n1e9,-5,2.5\n");
        let e = Runs::from_table(&t, nd(), &LoadOptions::default()).unwrap_err();
        let s = e.to_string();
        assert!(s.contains("t.csv, row 2 (line 3)"), "{s}");
        assert!(s.contains("column \"D\""), "{s}");
        assert!(s.contains("\"-5\""), "{s}");
        assert!(s.contains("negative"), "{s}");
    }

    #[test]
    fn unused_columns_are_not_checked() {
        let t = table("N,D,note,loss\n1e9,2e10,oops,2.5\n");
        let r = Runs::from_table(&t, nd(), &LoadOptions::default()).unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r.flops, [1.2e20]);
    }

    #[test]
    fn fit_reads_flops_column_without_flops_filter() {
        // Marin's tables carry N, D and their own C; C is used as given (not 6ND) even when
        // the command only needs N and D, so `fit` and `report` agree on the budgets.
        let t = table("N,D,C,loss\n1e9,2e10,1.5e20,2.5\n2e9,2e10,2.4e20,2.4\n");
        let r = Runs::from_table(&t, nd(), &LoadOptions::default()).unwrap();
        assert_eq!(r.flops, [1.5e20, 2.4e20]);
        assert_eq!(
            r.sources.flops,
            Some(ValueSource::Column { column: "C".into() })
        );
        let check = r.sources.flops_check.as_ref().unwrap();
        // 1.5e20 / (6 * 1e9 * 2e10) = 1.25; 2.4e20 / 2.4e20 = 1.
        assert!((check.max_ratio - 1.25).abs() < 1e-12);
        assert_eq!(check.runs_beyond_tolerance, 1);
        let w = check.warning.as_ref().unwrap();
        assert!(w.contains("up to 25%") && w.contains("\"C\""), "{w}");
    }

    #[test]
    fn flops_column_matching_6nd_gives_no_warning() {
        let t = table("N,D,C,loss\n1e9,2e10,1.22e20,2.5\n");
        let r = Runs::from_table(&t, nd(), &LoadOptions::default()).unwrap();
        let check = r.sources.flops_check.unwrap();
        assert!(check.warning.is_none());
        assert!(check.uses.contains("allocations spend C = 6 N D"));
    }

    #[test]
    fn loss_and_loss_in_other_case_is_an_error_naming_both() {
        let t = table("N,D,Loss,loss\n1e9,2e10,2.5,2.6\n");
        let e = Runs::from_table(&t, nd(), &LoadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"Loss\" and \"loss\""), "{e}");
        assert!(e.contains("name one with loss_col"), "{e}");
        // Naming one settles it.
        let opts = LoadOptions {
            columns: ColumnOverrides {
                loss: Some("loss".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        let r = Runs::from_table(&t, nd(), &opts).unwrap();
        assert_eq!(r.loss, [2.6]);
    }

    #[test]
    fn gflops_column_is_read_as_flops() {
        // Marin's W&B export: `throughput/total_gflops` is in GFLOPs (PROVENANCE.md).
        let t = table("parameter_count,throughput/total_tokens,throughput/total_gflops,loss\n1e9,2e10,1.2e11,2.5\n");
        let r = Runs::from_table(&t, nd(), &LoadOptions::default()).unwrap();
        assert_eq!(r.flops, [1.2e20]);
        assert!(r.sources.flops_check.unwrap().warning.is_none());
    }

    #[test]
    fn wandb_style_names_are_recognised() {
        let t = table("model/params,train/tokens,train/loss,eval/loss\n1e9,2e10,2.4,2.5\n");
        let r = Runs::from_table(&t, nd(), &LoadOptions::default()).unwrap();
        assert_eq!(r.params, [1e9]);
        assert_eq!(r.tokens, [2e10]);
        // The evaluation loss, not the training loss.
        assert_eq!(r.loss, [2.5]);
    }

    #[test]
    fn where_filter_excludes_rows_unvalidated_and_records_them() {
        let t = table("dataset,N,D,loss\nrpj,1e9,2e10,2.5\nc4,bad,2e10,2.5\nrpj,3e9,2e10,2.3\n");
        let opts = LoadOptions {
            filter: Some(RowFilter::parse("dataset == 'rpj'").unwrap()),
            ..Default::default()
        };
        let r = Runs::from_table(&t, nd(), &opts).unwrap();
        assert_eq!(r.rows, [1, 3]);
        assert_eq!(r.excluded.len(), 1);
        assert!(r.excluded[0].reason.contains("dataset == 'rpj'"));
        assert_eq!(r.filters.row_filter.as_deref(), Some("dataset == 'rpj'"));
        let opts = LoadOptions {
            filter: Some(RowFilter::parse("dataset == 'x'").unwrap()),
            ..Default::default()
        };
        let e = Runs::from_table(&t, nd(), &opts).unwrap_err().to_string();
        assert!(e.contains("selects none of the 3 rows"), "{e}");
    }

    #[test]
    fn skip_invalid_records_rows() {
        let t = table("N,D,loss\n1e9,2e10,2.5\n1e9,,2.5\n1e9,2e10,nan\n");
        let opts = LoadOptions {
            skip_invalid: true,
            ..Default::default()
        };
        let r = Runs::from_table(&t, nd(), &opts).unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r.excluded.len(), 2);
        assert_eq!(r.excluded[0].row, 2);
        assert_eq!(r.excluded[1].row, 3);
    }

    #[test]
    fn override_must_exist() {
        let t = table("N,D,loss\n1e9,2e10,2.5\n");
        let opts = LoadOptions {
            columns: ColumnOverrides {
                loss: Some("val".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        let e = Runs::from_table(&t, nd(), &opts).unwrap_err().to_string();
        assert!(e.contains("loss_col \"val\""), "{e}");
    }

    #[test]
    fn missing_tokens_says_how_to_fix() {
        let t = table("N,loss\n1e9,2.5\n");
        let e = Runs::from_table(&t, nd(), &LoadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("tokens_col"), "{e}");
    }

    #[test]
    fn filters_in_order() {
        let t = table("N,D,loss\n1,1,5\n1,2,4\n1,3,3\n1,4,2\n1,5,1\n");
        let mut r = Runs::from_table(&t, nd(), &LoadOptions::default()).unwrap();
        r.apply_filters(&Filters {
            min_flops: Some(7.0),
            max_flops: None,
            drop_top_loss: 1,
            row_filter: None,
        })
        .unwrap();
        // C = 6, 12, 18, 24, 30: row 1 below the floor, then row 2 has the top loss left.
        assert_eq!(r.rows, [3, 4, 5]);
        assert_eq!(r.excluded.iter().map(|e| e.row).collect::<Vec<_>>(), [1, 2]);
    }
}
