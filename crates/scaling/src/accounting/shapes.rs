//! Model shapes near a target size, for turning an allocation into a model.

use serde::{Deserialize, Serialize};

use super::{Counts, Shape};
use crate::error::{Error, Result};

/// A proposed shape with its exact counts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Proposal {
    /// The shape.
    pub shape: Shape,
    /// Its counts.
    pub counts: Counts,
    /// d_model / n_layer.
    pub aspect_ratio: f64,
    /// (total - target) / target.
    pub relative_error: f64,
}

/// Up to `n` shapes whose total parameter count is nearest `target`: d_model a multiple of
/// 128, head dimension 128 (64 below d_model 1024), d_ff = 4 d_model, aspect ratio
/// d_model / n_layer within `aspect` (Kaplan et al. 2020 find loss flat over a wide band;
/// Chinchilla's shapes sit between about 40 and 130), at most two per width.
///
/// # Errors
/// A non-positive target, an empty aspect band, or `n` = 0.
pub fn propose(
    target: f64,
    vocab: usize,
    seq: usize,
    tied: bool,
    aspect: (f64, f64),
    n: usize,
) -> Result<Vec<Proposal>> {
    if !(target.is_finite() && target > 0.0) {
        return Err(Error::setting(
            format!("{{}} must be positive, got {target}"),
            &["params"],
        ));
    }
    if n == 0 {
        return Err(Error::InvalidSetting(
            "asked for 0 shapes: ask for at least one".into(),
        ));
    }
    if !(aspect.0 > 0.0 && aspect.1 >= aspect.0) {
        return Err(Error::InvalidSetting(format!(
            "the aspect-ratio band [{}, {}] is empty",
            aspect.0, aspect.1
        )));
    }
    let mut all = Vec::new();
    for d in (128..=65536).step_by(128) {
        let head_dim = if d >= 1024 { 128 } else { 64 };
        let lo = ((d as f64 / aspect.1).ceil() as usize).max(1);
        let hi = (d as f64 / aspect.0).floor() as usize;
        for layers in lo..=hi.min(512) {
            let shape = Shape {
                layers,
                d_model: d,
                heads: d / head_dim,
                head_dim,
                kv_heads: d / head_dim,
                ffw: 4 * d,
                vocab,
                seq,
                experts: 1,
                top_k: 1,
                tied,
                gated: false,
            };
            let counts = shape.counts();
            let rel = (counts.total - target) / target;
            if rel.abs() <= 0.15 {
                all.push(Proposal {
                    shape,
                    counts,
                    aspect_ratio: d as f64 / layers as f64,
                    relative_error: rel,
                });
            }
        }
    }
    all.sort_by(|a, b| a.relative_error.abs().total_cmp(&b.relative_error.abs()));
    let mut out: Vec<Proposal> = Vec::new();
    for p in all {
        if out.len() >= n {
            break;
        }
        if out
            .iter()
            .filter(|q| q.shape.d_model == p.shape.d_model)
            .count()
            < 2
        {
            out.push(p);
        }
    }
    if out.is_empty() {
        return Err(Error::InvalidSetting(format!(
            "no shape within 15% of {target:e} parameters in the aspect band [{}, {}]",
            aspect.0, aspect.1
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proposals_are_near_and_valid() {
        let p = propose(7e9, 32000, 4096, true, (32.0, 160.0), 5).unwrap();
        assert!(!p.is_empty());
        for q in &p {
            assert!(q.relative_error.abs() <= 0.15);
            assert_eq!(q.shape.d_model % 128, 0);
            assert!(q.shape.validate().is_ok());
            assert_eq!(q.shape.heads * q.shape.head_dim, q.shape.d_model);
        }
        assert!(p[0].relative_error.abs() < 0.01, "{:?}", p[0]);
    }
}
