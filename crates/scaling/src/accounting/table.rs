//! Counts for a table of runs with shape columns: each row's shape is read from its columns
//! (or a default given for all rows), and parameter and FLOP columns are appended under every
//! convention, so fitting commands can be run on each.

use super::Shape;
use crate::data::{parse_positive, RunTable};
use crate::error::{Error, Result};

/// Values used for shape fields the table has no column for.
#[derive(Debug, Clone, Default)]
pub struct ShapeDefaults {
    /// Layers.
    pub layers: Option<usize>,
    /// d_model.
    pub d_model: Option<usize>,
    /// Heads.
    pub heads: Option<usize>,
    /// Head dimension (default d_model / heads).
    pub head_dim: Option<usize>,
    /// Key/value heads (default heads).
    pub kv_heads: Option<usize>,
    /// Feed-forward width (default 4 d_model).
    pub ffw: Option<usize>,
    /// Vocabulary (default 32000).
    pub vocab: Option<usize>,
    /// Context (default 2048).
    pub seq: Option<usize>,
    /// Experts (default 1).
    pub experts: Option<usize>,
    /// Active experts (default 1).
    pub top_k: Option<usize>,
    /// Tied embeddings.
    pub tied: bool,
    /// Gated feed-forward.
    pub gated: bool,
}

/// Parameter conventions: the name used with `--params-convention` and the appended column.
pub const PARAMS_CONVENTIONS: [(&str, &str); 3] = [
    ("total", "params_total"),
    ("non-embedding", "params_non_embedding"),
    ("active", "params_active"),
];

/// FLOP conventions: the name used with `--flops-convention` and the appended column.
pub const FLOPS_CONVENTIONS: [(&str, &str); 6] = [
    ("6n", "flops_6n"),
    ("6n-non-embedding", "flops_6n_non_embedding"),
    ("6n-active", "flops_6n_active"),
    ("kaplan", "flops_kaplan"),
    ("chinchilla", "flops_chinchilla"),
    ("deepseek", "flops_deepseek"),
];

const ALIASES: [(&str, &[&str]); 10] = [
    (
        "layers",
        &[
            "n_layers",
            "layers",
            "num_layers",
            "model.num_layers",
            "n_layer",
        ],
    ),
    (
        "d_model",
        &["d_model", "hidden_dim", "model.hidden_dim", "hidden_size"],
    ),
    (
        "heads",
        &["n_heads", "heads", "num_heads", "num_attention_heads"],
    ),
    ("head_dim", &["kv_size", "head_dim"]),
    (
        "kv_heads",
        &["kv_heads", "n_kv_heads", "num_key_value_heads"],
    ),
    (
        "ffw",
        &["ffw_size", "ffw", "d_ff", "ffn_dim", "intermediate_size"],
    ),
    ("vocab", &["vocab", "vocab_size", "n_vocab"]),
    (
        "seq",
        &["seq", "seq_len", "n_ctx", "context", "context_length"],
    ),
    ("experts", &["experts", "n_experts", "num_experts"]),
    ("top_k", &["top_k", "experts_per_token"]),
];

fn find(table: &RunTable, names: &[&str]) -> Option<usize> {
    names.iter().find_map(|n| {
        table
            .columns
            .iter()
            .position(|c| c.trim().eq_ignore_ascii_case(n))
    })
}

/// Append count columns to `table` (see [`PARAMS_CONVENTIONS`], [`FLOPS_CONVENTIONS`]; FLOP
/// columns only when `tokens` names the training-tokens column). Returns the appended names.
///
/// # Errors
/// A shape field with neither a column nor a default, a cell that is not a positive integer
/// (named by file, row, column and value), or a shape that does not hold together.
pub fn add_count_columns(
    table: &mut RunTable,
    defaults: &ShapeDefaults,
    tokens: Option<usize>,
) -> Result<Vec<String>> {
    let cols: Vec<Option<usize>> = ALIASES
        .iter()
        .map(|(_, names)| find(table, names))
        .collect();
    for (i, (field, names)) in ALIASES.iter().enumerate().take(3) {
        let has_default = match i {
            0 => defaults.layers.is_some(),
            1 => defaults.d_model.is_some(),
            _ => defaults.heads.is_some(),
        };
        if cols[i].is_none() && !has_default {
            return Err(Error::MissingColumn {
                path: table.path.clone(),
                role: format!("model shape ({field})"),
                message: format!(
                    "looked for {}; give the value for every row with {{}}",
                    names.join(", ")
                ),
                names: vec![field.to_string()],
            });
        }
    }
    let mut added_rows: Vec<Vec<String>> = Vec::with_capacity(table.rows.len());
    for r in 0..table.rows.len() {
        let int = |i: usize, default: Option<usize>| -> Result<Option<usize>> {
            match cols[i] {
                Some(c) => {
                    let raw = table.cell(r, c);
                    let v = parse_positive(raw).map_err(|p| Error::BadValue {
                        location: table.location(r),
                        column: table.columns[c].clone(),
                        value: raw.to_string(),
                        problem: p.describe().into(),
                    })?;
                    if v.fract() != 0.0 || v > 1e9 {
                        return Err(Error::BadValue {
                            location: table.location(r),
                            column: table.columns[c].clone(),
                            value: raw.to_string(),
                            problem: "not a whole number".into(),
                        });
                    }
                    Ok(Some(v as usize))
                }
                None => Ok(default),
            }
        };
        let layers = int(0, defaults.layers)?.unwrap_or(0);
        let d_model = int(1, defaults.d_model)?.unwrap_or(0);
        let heads = int(2, defaults.heads)?.unwrap_or(0);
        let head_dim = match int(3, defaults.head_dim)? {
            Some(h) => h,
            None if heads > 0 && d_model.is_multiple_of(heads) => d_model / heads,
            None => {
                return Err(Error::setting(
                    format!(
                        "{}: d_model {d_model} is not divisible by {heads} heads; give a head_dim column or {{}}",
                        table.location(r)
                    ),
                    &["kv_size"],
                ))
            }
        };
        let shape = Shape {
            layers,
            d_model,
            heads,
            head_dim,
            kv_heads: int(4, defaults.kv_heads)?.unwrap_or(heads),
            ffw: int(5, defaults.ffw)?.unwrap_or(4 * d_model),
            vocab: int(6, defaults.vocab)?.unwrap_or(32000),
            seq: int(7, defaults.seq)?.unwrap_or(2048),
            experts: int(8, defaults.experts)?.unwrap_or(1),
            top_k: int(9, defaults.top_k)?.unwrap_or(1),
            tied: defaults.tied,
            gated: defaults.gated,
        };
        shape
            .validate()
            .map_err(|e| Error::InvalidSetting(format!("{}: {e}", table.location(r))))?;
        let c = shape.counts();
        let mut row = vec![c.total, c.non_embedding, c.active]
            .into_iter()
            .map(|v| format!("{v}"))
            .collect::<Vec<_>>();
        if let Some(t) = tokens {
            let raw = table.cell(r, t);
            let d = parse_positive(raw).map_err(|p| Error::BadValue {
                location: table.location(r),
                column: table.columns[t].clone(),
                value: raw.to_string(),
                problem: p.describe().into(),
            })?;
            for (_, v) in shape.flops_per_token().entries() {
                row.push(format!("{}", v * d));
            }
        }
        added_rows.push(row);
    }
    let mut names: Vec<String> = PARAMS_CONVENTIONS
        .iter()
        .map(|(_, c)| c.to_string())
        .collect();
    if tokens.is_some() {
        names.extend(FLOPS_CONVENTIONS.iter().map(|(_, c)| c.to_string()));
    }
    for n in &names {
        if table.columns.contains(n) {
            return Err(Error::Format {
                path: table.path.clone(),
                message: format!("the table already has a column {n:?}"),
            });
        }
    }
    let mut rows = crate::data::Cells::new(table.columns.len() + names.len());
    for (row, extra) in table.rows.iter().zip(added_rows) {
        rows.push_row(row.iter().chain(extra.iter().map(String::as_str)))
            .map_err(|message| Error::Format {
                path: table.path.clone(),
                message,
            })?;
    }
    table.columns.extend(names.iter().cloned());
    table.rows = rows;
    Ok(names)
}
