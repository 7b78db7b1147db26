//! The accounting commands as library entry points: `count` (parameters and FLOPs of a
//! shape, or count columns appended to a table), `shape` (shapes near a size) and `reconcile`
//! (Kaplan's exponent in a Chinchilla world). Each takes a plain request (`Deserialize`, with
//! the command line's defaults) and returns a `Serialize` result whose JSON is the command's.

use serde::{Deserialize, Serialize};

use super::{
    add_count_columns, omega, propose, reconcile, Counts, FlopsPerToken, Proposal, Reconciliation,
    Shape, ShapeDefaults,
};
use crate::data::{find_column, ColumnOverrides, Role, RunTable};
use crate::error::{Error, Result};
use crate::law::Law;

/// Said when the head count is not given: without it the attention width is
/// d_attn = d_model (Kaplan et al. 2020), counted as one head of width d_model.
pub const CHINCHILLA_ONE_HEAD: &str = "heads not given: the chinchilla count assumes one head (its softmax term, 3 n_heads n_ctx per layer, counts heads); give the number of heads for it";

/// What to count: a shape, each field optional where the command line has a default
/// (d_ff = 4 d_model, vocabulary 32000, context 2048, one expert, tied embeddings).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct CountRequest {
    /// Layers n_layer.
    pub layers: Option<usize>,
    /// Model width d_model.
    pub d_model: Option<usize>,
    /// Attention heads (default: d_attn = d_model, one head; the counts do not depend on the
    /// split into heads unless the key/value heads differ).
    pub heads: Option<usize>,
    /// Key/value size per head (default d_model / heads).
    pub kv_size: Option<usize>,
    /// Key/value heads for grouped-query attention (default: heads).
    pub kv_heads: Option<usize>,
    /// Feed-forward width (default 4 d_model).
    pub ffw: Option<usize>,
    /// Vocabulary size (default 32000).
    pub vocab: Option<usize>,
    /// Context length (default 2048).
    pub seq: Option<usize>,
    /// Experts per layer (default 1).
    pub experts: Option<usize>,
    /// Experts active per token (default 1).
    pub top_k: Option<usize>,
    /// Separate input and output embeddings.
    pub untied: bool,
    /// Gated feed-forward (SwiGLU).
    pub gated: bool,
    /// With a table: the training-tokens column (default: recognised by name).
    pub tokens_col: Option<String>,
}

/// Parameter and FLOP counts of one shape: the JSON of `scaling count`.
#[derive(Debug, Clone, Serialize)]
pub struct CountResult {
    /// All parameters.
    pub total_params: f64,
    /// Parameters outside the embeddings.
    pub non_embedding_params: f64,
    /// Embedding matrices.
    pub embedding_params: f64,
    /// Parameters used per token.
    pub active_params: f64,
    /// Non-embedding parameters used per token.
    pub active_non_embedding_params: f64,
    /// Training FLOPs per token under each convention.
    pub flops_per_token: FlopsPerToken,
    /// Each convention's FLOPs over 6 N.
    pub ratio_to_six_n: FlopsPerToken,
    /// The shape counted.
    pub shape: Shape,
    /// Whether the head count (or head size) was given.
    pub heads_given: bool,
    /// Caveats ([`CHINCHILLA_ONE_HEAD`] when the heads were not given).
    pub notes: Vec<String>,
    /// The attention width d_attn = heads x head size.
    pub d_attn: f64,
    /// What is counted.
    pub conventions: String,
    /// The parameter counts in full (not in the JSON).
    #[serde(skip)]
    pub counts: Counts,
}

impl CountRequest {
    /// The shape the request describes, and whether the head count was given. Without heads
    /// the attention width is d_attn = d_model (Kaplan et al. 2020), as one head of width
    /// d_model: with as many key/value heads as query heads, the counts do not depend on the
    /// split.
    ///
    /// # Errors
    /// Missing layers or width, a width not divisible by the heads or head size, key/value
    /// heads without query heads, or a shape that does not hold together.
    pub fn shape(&self) -> Result<(Shape, bool)> {
        let need = |v: Option<usize>, what: &str| {
            v.ok_or_else(|| {
                Error::InvalidSetting(format!(
                    "count needs {what} (or a table with shape columns)"
                ))
            })
        };
        let layers = need(self.layers, "the number of layers")?;
        let d_model = need(self.d_model, "the model width d_model")?;
        let (heads, head_dim) = match (self.heads, self.kv_size) {
            (None, _) if self.kv_heads.is_some() => {
                return Err(Error::InvalidSetting(
                    "key/value heads (grouped-query attention) need the number of query heads"
                        .into(),
                ))
            }
            (None, None) => (1, d_model),
            (None, Some(k)) => {
                if k == 0 || !d_model.is_multiple_of(k) {
                    return Err(Error::InvalidSetting(format!(
                        "d_model {d_model} is not divisible by the head size {k}: give the number of heads as well"
                    )));
                }
                (d_model / k, k)
            }
            (Some(h), Some(k)) => (h, k),
            (Some(h), None) => {
                if h == 0 || !d_model.is_multiple_of(h) {
                    return Err(Error::InvalidSetting(format!(
                        "d_model {d_model} is not divisible by {h} heads: give the head size"
                    )));
                }
                (h, d_model / h)
            }
        };
        let s = Shape {
            layers,
            d_model,
            heads,
            head_dim,
            kv_heads: self.kv_heads.unwrap_or(heads),
            ffw: self.ffw.unwrap_or(4 * d_model),
            vocab: self.vocab.unwrap_or(32000),
            seq: self.seq.unwrap_or(2048),
            experts: self.experts.unwrap_or(1),
            top_k: self.top_k.unwrap_or(1),
            tied: !self.untied,
            gated: self.gated,
        };
        s.validate()?;
        Ok((s, self.heads.is_some() || self.kv_size.is_some()))
    }

    fn defaults(&self) -> ShapeDefaults {
        ShapeDefaults {
            layers: self.layers,
            d_model: self.d_model,
            heads: self.heads,
            head_dim: self.kv_size,
            kv_heads: self.kv_heads,
            ffw: self.ffw,
            vocab: self.vocab,
            seq: self.seq,
            experts: self.experts,
            top_k: self.top_k,
            tied: !self.untied,
            gated: self.gated,
        }
    }
}

/// Count the parameters and training FLOPs per token of the shape in `req`, under every
/// convention: 6N (total, non-embedding, active), Kaplan et al. (2020) 3(2N + 2 n_layer n_ctx
/// d_attn), Chinchilla's Appendix F (Hoffmann et al. 2022) and DeepSeek's M = 72 n_layer d^2 +
/// 12 n_layer d n_ctx (DeepSeek-AI 2024). Weight matrices only; backward = 2 x forward.
///
/// # Examples
/// ```
/// use scaling::accounting::{count, CountRequest};
/// // Llama 2 70B's attention as 64 full heads of 128 (Touvron et al. 2023, without GQA).
/// let req = CountRequest {
///     layers: Some(80), d_model: Some(8192), heads: Some(64), kv_size: Some(128),
///     ffw: Some(32768), ..Default::default()
/// };
/// let r = count(&req).unwrap();
/// assert!((r.total_params / 64.69e9 - 1.0).abs() < 1e-3);
/// assert_eq!(r.ratio_to_six_n.six_n, 1.0);
/// ```
///
/// # Errors
/// See [`CountRequest::shape`].
pub fn count(req: &CountRequest) -> Result<CountResult> {
    let (s, heads_given) = req.shape()?;
    let c = s.counts();
    let f = s.flops_per_token();
    let r = |v: f64| v / f.six_n;
    Ok(CountResult {
        total_params: c.total,
        non_embedding_params: c.non_embedding,
        embedding_params: c.embedding,
        active_params: c.active,
        active_non_embedding_params: c.active_non_embedding,
        flops_per_token: f,
        ratio_to_six_n: FlopsPerToken {
            six_n: r(f.six_n),
            six_n_non_embedding: r(f.six_n_non_embedding),
            six_n_active: r(f.six_n_active),
            kaplan: r(f.kaplan),
            chinchilla: r(f.chinchilla),
            deepseek: r(f.deepseek),
        },
        shape: s,
        heads_given,
        notes: if heads_given {
            vec![]
        } else {
            vec![CHINCHILLA_ONE_HEAD.to_string()]
        },
        d_attn: s.d_attn(),
        conventions: "weight matrices only (no biases or norm gains); training FLOPs per token; backward = 2 x forward".into(),
        counts: c,
    })
}

/// Append count columns to a table of shapes (the request's fields give values for shape
/// columns the table lacks); FLOP columns when a training-tokens column is found. Returns the
/// names appended.
///
/// # Examples
/// ```
/// use scaling::accounting::{count_table, CountRequest};
/// use scaling::data::{Column, RunTable};
/// let mut t = RunTable::from_columns("shapes", vec![
///     ("n_layers".into(), Column::Numbers(vec![12.0, 24.0])),
///     ("d_model".into(), Column::Numbers(vec![768.0, 1024.0])),
///     ("n_heads".into(), Column::Numbers(vec![12.0, 16.0])),
///     ("tokens".into(), Column::Numbers(vec![1e9, 2e9])),
/// ]).unwrap();
/// let added = count_table(&mut t, &CountRequest::default()).unwrap();
/// assert!(added.iter().any(|c| c.contains("params")));
/// assert_eq!(t.columns.len(), 4 + added.len());
/// ```
///
/// # Errors
/// A shape field with neither a column nor a value in the request, a cell that is not a
/// positive integer (named by file, row, column and value), or a missing tokens column named
/// in the request.
pub fn count_table(table: &mut RunTable, req: &CountRequest) -> Result<Vec<String>> {
    let overrides = ColumnOverrides {
        tokens: req.tokens_col.clone(),
        ..Default::default()
    };
    let tokens = find_column(table, Role::Tokens, &overrides)?;
    add_count_columns(table, &req.defaults(), tokens)
}

fn default_vocab() -> usize {
    32000
}
fn default_seq() -> usize {
    2048
}
fn default_aspect_min() -> f64 {
    32.0
}
fn default_aspect_max() -> f64 {
    160.0
}
fn default_count() -> usize {
    6
}

/// Shapes near a target size: the request of `scaling shape`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ShapeRequest {
    /// Target total parameters.
    pub params: f64,
    /// Vocabulary size (default 32000).
    #[serde(default = "default_vocab")]
    pub vocab: usize,
    /// Context length (default 2048).
    #[serde(default = "default_seq")]
    pub seq: usize,
    /// Separate input and output embeddings.
    #[serde(default)]
    pub untied: bool,
    /// Smallest aspect ratio d_model / n_layer (default 32).
    #[serde(default = "default_aspect_min")]
    pub aspect_min: f64,
    /// Largest aspect ratio (default 160).
    #[serde(default = "default_aspect_max")]
    pub aspect_max: f64,
    /// How many shapes (default 6).
    #[serde(default = "default_count")]
    pub count: usize,
}

impl ShapeRequest {
    /// The request for `params` with every other setting at its default.
    pub fn new(params: f64) -> Self {
        ShapeRequest {
            params,
            vocab: default_vocab(),
            seq: default_seq(),
            untied: false,
            aspect_min: default_aspect_min(),
            aspect_max: default_aspect_max(),
            count: default_count(),
        }
    }
}

/// The shapes proposed: its JSON (the command's) is the list of proposals.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct ShapeResult {
    /// The proposals, nearest first.
    pub proposals: Vec<Proposal>,
    /// The request answered (not in the JSON; the text report states it).
    #[serde(skip)]
    pub request: Option<ShapeRequest>,
}

/// Up to `req.count` shapes whose total parameter count is nearest `req.params` (see
/// [`propose`] for the grid: d_model a multiple of 128, d_ff = 4 d_model, aspect ratio within
/// the band; after Kaplan et al. 2020 and Hoffmann et al. 2022's shapes).
///
/// # Examples
/// ```
/// use scaling::accounting::{shape, ShapeRequest};
/// let r = shape(&ShapeRequest::new(7e9)).unwrap();
/// assert_eq!(r.proposals.len(), 6);
/// assert!(r.proposals[0].relative_error.abs() < 0.05);
/// ```
///
/// # Errors
/// A non-positive target, an empty aspect band, or a count of 0.
pub fn shape(req: &ShapeRequest) -> Result<ShapeResult> {
    let proposals = propose(
        req.params,
        req.vocab,
        req.seq,
        !req.untied,
        (req.aspect_min, req.aspect_max),
        req.count,
    )?;
    Ok(ShapeResult {
        proposals,
        request: Some(req.clone()),
    })
}

fn default_rvocab() -> f64 {
    32000.0
}
fn default_aspect() -> f64 {
    39.2
}
fn default_min_params() -> f64 {
    768.0
}
fn default_max_params() -> f64 {
    1.5e9
}

/// The settings of `scaling reconcile` (the law is passed beside it).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ReconcileRequest {
    /// omega in N_T = N_E + omega N_E^(1/3) (default V (aspect/12)^(1/3)).
    #[serde(default)]
    pub omega: Option<f64>,
    /// Vocabulary size for omega (default 32000).
    #[serde(default = "default_rvocab")]
    pub vocab: f64,
    /// Aspect ratio d_model / n_layer for omega (default 39.2, Pearce & Song's).
    #[serde(default = "default_aspect")]
    pub aspect: f64,
    /// Lower end of the non-embedding range fitted (default 768, Kaplan's).
    #[serde(default = "default_min_params")]
    pub min_params: f64,
    /// Upper end (default 1.5e9).
    #[serde(default = "default_max_params")]
    pub max_params: f64,
}

impl Default for ReconcileRequest {
    fn default() -> Self {
        ReconcileRequest {
            omega: None,
            vocab: default_rvocab(),
            aspect: default_aspect(),
            min_params: default_min_params(),
            max_params: default_max_params(),
        }
    }
}

/// The reconciliation with the law it followed: the JSON of `scaling reconcile`.
#[derive(Debug, Clone, Serialize)]
pub struct ReconcileResult {
    /// The reconciliation.
    #[serde(flatten)]
    pub reconciliation: Reconciliation,
    /// The law's label (a file name or a preset with its source).
    pub law: String,
    /// The request answered (not in the JSON; the text report states omega's origin).
    #[serde(skip)]
    pub request: ReconcileRequest,
}

/// What Kaplan et al. (2020) would have measured in a world following `law` (Chinchilla form,
/// total parameters): N_T = N_E + omega N_E^(1/3) with omega = V (aspect/12)^(1/3) (Pearce &
/// Song 2024) unless given, the frontier for C_E = 6 N_E D, its local exponents and a power
/// law fitted over the request's range. `label` names the law in the result.
///
/// # Examples
/// ```
/// use scaling::accounting::{reconcile_law, ReconcileRequest};
/// let law = scaling::law::presets::get("chinchilla").unwrap().law.unwrap();
/// let r = reconcile_law(&law, "chinchilla", &ReconcileRequest::default()).unwrap();
/// // Pearce & Song 2024: Kaplan's range gives an exponent near Kaplan's 0.73.
/// assert!(r.reconciliation.kaplan_range_exponent > 0.6);
/// ```
///
/// # Errors
/// A law not of the Chinchilla form, a range that is not positive and increasing, or a
/// non-positive omega.
pub fn reconcile_law(law: &Law, label: &str, req: &ReconcileRequest) -> Result<ReconcileResult> {
    if !(req.min_params > 0.0 && req.max_params > req.min_params) {
        return Err(Error::setting(
            format!(
                "{{}} must be positive and below {{}} (the fitted range of non-embedding \
                 parameters), got [{}, {}]",
                req.min_params, req.max_params
            ),
            &["min_params", "max_params"],
        ));
    }
    let omega = req.omega.unwrap_or_else(|| omega(req.vocab, req.aspect));
    Ok(ReconcileResult {
        reconciliation: reconcile(law, omega, [req.min_params, req.max_params])?,
        law: label.to_string(),
        request: req.clone(),
    })
}
