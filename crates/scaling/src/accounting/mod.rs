//! Counting parameters and training FLOPs the way each paper does, proposing model shapes for
//! a target size, and reconciling Kaplan's and Chinchilla's compute-optimal exponents.
//!
//! Counts cover weight matrices (attention, feed-forward, router, embeddings); biases and
//! normalisation gains are left out, as Kaplan et al. (2020) and Hoffmann et al. (2022) do.

mod commands;
mod load;
mod reconcile;
mod shapes;
mod table;

pub use commands::{
    count, count_table, reconcile_law, shape, CountRequest, CountResult, ReconcileRequest,
    ReconcileResult, ShapeRequest, ShapeResult, CHINCHILLA_ONE_HEAD,
};
pub use load::{
    column_overrides, load_runs, prepare_table, row_filter, selected_rows, LoadRequest,
};
pub use reconcile::{omega, reconcile, total_from_non_embedding, LocalExponent, Reconciliation};
pub use shapes::{propose, Proposal};
pub use table::{add_count_columns, ShapeDefaults, FLOPS_CONVENTIONS, PARAMS_CONVENTIONS};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A decoder-only transformer's shape.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Shape {
    /// Layers n_layer.
    pub layers: usize,
    /// Model width d_model.
    pub d_model: usize,
    /// Attention (query) heads.
    pub heads: usize,
    /// Key/value size per head (head dimension).
    pub head_dim: usize,
    /// Key/value heads (grouped-query attention; equal to `heads` for multi-head).
    pub kv_heads: usize,
    /// Feed-forward width d_ff (per expert).
    pub ffw: usize,
    /// Vocabulary size.
    pub vocab: usize,
    /// Context length n_ctx.
    pub seq: usize,
    /// Experts per layer (1: dense).
    pub experts: usize,
    /// Experts active per token.
    pub top_k: usize,
    /// Input and output embeddings share one matrix.
    pub tied: bool,
    /// Gated feed-forward (SwiGLU: three matrices instead of two).
    pub gated: bool,
}

impl Shape {
    /// Check the shape.
    ///
    /// # Errors
    /// Zero sizes, query heads not a multiple of key/value heads, top-k above the experts.
    pub fn validate(&self) -> Result<()> {
        for (name, v) in [
            ("layers", self.layers),
            ("d_model", self.d_model),
            ("heads", self.heads),
            ("kv_size", self.head_dim),
            ("kv_heads", self.kv_heads),
            ("ffw", self.ffw),
            ("vocab", self.vocab),
            ("seq", self.seq),
            ("experts", self.experts),
            ("top_k", self.top_k),
        ] {
            if v == 0 {
                return Err(Error::setting(
                    "{} must be a positive integer, got 0",
                    &[name],
                ));
            }
        }
        if !self.heads.is_multiple_of(self.kv_heads) {
            return Err(Error::setting(format!(
                "{{}} {} is not a multiple of {{}} {} (grouped-query attention shares each key/value head among query heads)",
                self.heads, self.kv_heads
            ), &["heads", "kv_heads"]));
        }
        if self.top_k > self.experts {
            return Err(Error::setting(
                format!("{{}} {} is larger than {{}} {}", self.top_k, self.experts),
                &["top_k", "experts"],
            ));
        }
        Ok(())
    }

    /// Attention width d_attn = heads x head_dim.
    pub fn d_attn(&self) -> f64 {
        (self.heads * self.head_dim) as f64
    }

    fn ffw_matrices(&self) -> f64 {
        if self.gated {
            3.0
        } else {
            2.0
        }
    }

    /// Parameter counts.
    ///
    /// # Formula
    /// Per layer: attention `d (h k) + 2 d (h_kv k) + (h k) d` (Q, K, V, output), feed-forward
    /// `m d d_ff` per expert (m = 2, or 3 gated), router `d E` when E > 1. Embeddings
    /// `V d` (input) plus `V d` more when untied. Active: all but the inactive experts.
    pub fn counts(&self) -> Counts {
        let d = self.d_model as f64;
        let attn = d * self.d_attn()
            + 2.0 * d * (self.kv_heads * self.head_dim) as f64
            + self.d_attn() * d;
        let ffw_one = self.ffw_matrices() * d * self.ffw as f64;
        let router = if self.experts > 1 {
            d * self.experts as f64
        } else {
            0.0
        };
        let l = self.layers as f64;
        let non_embedding = l * (attn + ffw_one * self.experts as f64 + router);
        let active_non_embedding = l * (attn + ffw_one * self.top_k as f64 + router);
        let embedding = self.vocab as f64 * d * if self.tied { 1.0 } else { 2.0 };
        Counts {
            total: non_embedding + embedding,
            embedding,
            non_embedding,
            active: active_non_embedding + embedding,
            active_non_embedding,
            attention_per_layer: attn,
            ffw_per_layer: ffw_one * self.experts as f64,
        }
    }

    /// Training FLOPs per token under each convention.
    ///
    /// # Formula
    /// - 6N: `6 N_total` and `6 N_non-embedding` (Kaplan et al. 2020, Section 2.1);
    /// - Kaplan: `3 (2 N_non-emb + 2 n_layer n_ctx d_attn)` (forward count, Table 1, x3 for
    ///   training), with active parameters for mixtures of experts;
    /// - Chinchilla (Hoffmann et al. 2022, App. F), forward per token: embeddings `2 V d`; per
    ///   layer QKV `2 d (h k + 2 h_kv k)`, logits `2 n_ctx (h k)`, softmax `3 h n_ctx`,
    ///   softmax x V `2 n_ctx (h k)`, output `2 (h k) d`, dense `2 m d d_ff` per active expert
    ///   plus router `2 d E`; final logits `2 d V`; backward = 2 x forward;
    /// - DeepSeek (Bi et al. 2024): `M = 72 n_layer d^2 + 12 n_layer d n_ctx` (non-embedding,
    ///   training).
    pub fn flops_per_token(&self) -> FlopsPerToken {
        let c = self.counts();
        let d = self.d_model as f64;
        let (l, s, v) = (self.layers as f64, self.seq as f64, self.vocab as f64);
        let hk = self.d_attn();
        let kaplan = 3.0 * (2.0 * c.active_non_embedding + 2.0 * l * s * hk);
        let per_layer = 2.0 * d * (hk + 2.0 * (self.kv_heads * self.head_dim) as f64)
            + 2.0 * s * hk
            + 3.0 * self.heads as f64 * s
            + 2.0 * s * hk
            + 2.0 * hk * d
            + 2.0 * self.ffw_matrices() * d * self.ffw as f64 * self.top_k as f64
            + if self.experts > 1 {
                2.0 * d * self.experts as f64
            } else {
                0.0
            };
        let forward = 2.0 * v * d + l * per_layer + 2.0 * d * v;
        let chinchilla = 3.0 * forward;
        let deepseek = 72.0 * l * d * d + 12.0 * l * d * s;
        FlopsPerToken {
            six_n: 6.0 * c.total,
            six_n_non_embedding: 6.0 * c.non_embedding,
            six_n_active: 6.0 * c.active,
            kaplan,
            chinchilla,
            deepseek,
        }
    }
}

/// Parameter counts of a shape.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    /// All parameters.
    pub total: f64,
    /// Embedding matrices.
    pub embedding: f64,
    /// Everything else.
    pub non_embedding: f64,
    /// Parameters used per token (embeddings plus active experts).
    pub active: f64,
    /// Non-embedding parameters used per token.
    pub active_non_embedding: f64,
    /// Attention parameters per layer.
    pub attention_per_layer: f64,
    /// Feed-forward parameters per layer (all experts).
    pub ffw_per_layer: f64,
}

/// Training FLOPs per token under each convention.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FlopsPerToken {
    /// 6 N (total parameters).
    pub six_n: f64,
    /// 6 N (non-embedding parameters).
    pub six_n_non_embedding: f64,
    /// 6 N (active parameters).
    pub six_n_active: f64,
    /// Kaplan et al.'s 3 (2 N + 2 n_layer n_ctx d_attn).
    pub kaplan: f64,
    /// Chinchilla's Appendix F count.
    pub chinchilla: f64,
    /// DeepSeek's M = 72 n_layer d^2 + 12 n_layer d n_ctx.
    pub deepseek: f64,
}

impl FlopsPerToken {
    /// (name, value) for each convention, in a fixed order.
    pub fn entries(&self) -> [(&'static str, f64); 6] {
        [
            ("six_n", self.six_n),
            ("six_n_non_embedding", self.six_n_non_embedding),
            ("six_n_active", self.six_n_active),
            ("kaplan", self.kaplan),
            ("chinchilla", self.chinchilla),
            ("deepseek", self.deepseek),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(layers: usize, d: usize, heads: usize, kv: usize, ffw: usize, vocab: usize) -> Shape {
        Shape {
            layers,
            d_model: d,
            heads,
            head_dim: kv,
            kv_heads: heads,
            ffw,
            vocab,
            seq: 2048,
            experts: 1,
            top_k: 1,
            tied: true,
            gated: false,
        }
    }

    /// Kaplan et al. 2020 (Section 2.1): N = 12 n_layer d_model^2 with d_attn = d_ff/4 = d_model:
    /// 84.93M for (12, 768) and 1.475B for (48, 1600) (../shared/REFERENCE.md).
    #[test]
    fn kaplan_non_embedding_counts() {
        let a = shape(12, 768, 12, 64, 3072, 50257).counts();
        assert_eq!(a.non_embedding, 84_934_656.0);
        let b = shape(48, 1600, 25, 64, 6400, 50257).counts();
        assert_eq!(b.non_embedding, 12.0 * 48.0 * 1600.0 * 1600.0);
        assert!((b.non_embedding / 1.475e9 - 1.0).abs() < 1e-3);
    }

    /// Chinchilla 70B (Hoffmann et al. 2022, Table A9: 80 layers, d 8192, 64 heads, kv 128,
    /// ffw 32768, vocab 32000) holds about 64.7B parameters with tied embeddings.
    #[test]
    fn chinchilla_70b_shape() {
        let c = shape(80, 8192, 64, 128, 32768, 32000).counts();
        assert!((c.total / 64.69e9 - 1.0).abs() < 1e-3, "{}", c.total);
        let f = shape(80, 8192, 64, 128, 32768, 32000).flops_per_token();
        // Appendix F's count sits within a few percent of 6N for large models.
        assert!(
            (f.chinchilla / f.six_n - 1.0).abs() < 0.1,
            "{}",
            f.chinchilla / f.six_n
        );
    }

    #[test]
    fn moe_and_gqa() {
        let mut s = shape(4, 512, 8, 64, 2048, 1000);
        s.kv_heads = 2;
        s.experts = 8;
        s.top_k = 2;
        let c = s.counts();
        assert!(c.active < c.total);
        assert_eq!(c.total - c.active, 4.0 * 6.0 * 2.0 * 512.0 * 2048.0);
        s.kv_heads = 3;
        assert!(s.validate().is_err());
        s.kv_heads = 2;
        s.top_k = 9;
        assert!(s.validate().is_err());
    }
}
