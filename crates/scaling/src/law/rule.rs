//! Published allocation rules: frontiers given directly rather than derived from a loss law
//! (they are evaluated by `allocate::from_rule`).

use serde::{Deserialize, Serialize};

/// A published allocation rule: the frontier given directly rather than derived from a loss law.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Rule {
    /// N_opt = coef (C_min / unit)^exponent with C_min = C / compute_factor (Kaplan et al.
    /// 2020: coef 1.3e9, exponent 0.73, unit a PF-day, C = 2 C_min; Hoffmann et al. 2022,
    /// Approach 1: coef 67e9, exponent 0.50, unit 5.76e23 FLOPs, C = C_min); D = C / (k N).
    ParamsPower {
        /// Coefficient.
        coef: f64,
        /// Exponent.
        exponent: f64,
        /// FLOPs per unit of C_min.
        unit_flops: f64,
        /// C / C_min.
        compute_factor: f64,
    },
    /// D_opt = coef C^exponent (Llama 3); N = C / (k D).
    TokensPower {
        /// Coefficient.
        coef: f64,
        /// Exponent.
        exponent: f64,
    },
    /// DeepSeek LLM: M_opt = m_coef C^m_exponent (non-embedding FLOPs per token),
    /// D_opt = d_coef C^d_exponent, C = M D; reported N = M / 6.
    DeepSeek {
        /// Coefficient of M.
        m_coef: f64,
        /// Exponent of M.
        m_exponent: f64,
        /// Coefficient of D.
        d_coef: f64,
        /// Exponent of D.
        d_exponent: f64,
    },
}
