//! Published laws by name. Each preset is a loss law, a published allocation rule, or both,
//! and cites its source.

use serde::Serialize;

use super::Rule;
use super::{Law, LawForm};
use crate::error::{Error, Result};

/// One PF-day in FLOPs (10^15 FLOP/s for a day), Kaplan et al.'s compute unit.
pub const PF_DAY: f64 = 8.64e19;

/// A published law.
#[derive(Debug, Clone, Serialize)]
pub struct Preset {
    /// The name used with `--preset`.
    pub name: &'static str,
    /// What it is.
    pub description: &'static str,
    /// Where it comes from.
    pub source: &'static str,
    /// The loss law, when the source publishes one.
    #[serde(skip)]
    pub law: Option<Law>,
    /// The published allocation rule, when the source gives the frontier directly.
    #[serde(skip)]
    pub rule: Option<Rule>,
    /// Conventions a user must know (which N, which C).
    pub notes: &'static str,
}

impl Preset {
    /// The preset as `scaling presets --format json` writes it: name, description, source and
    /// notes, the law (`null` without one) and the rule (`null` without one).
    ///
    /// # Examples
    /// ```
    /// let p = scaling::law::presets::get("chinchilla").unwrap();
    /// assert_eq!(p.to_json()["law"]["law"], "chinchilla");
    /// ```
    pub fn to_json(&self) -> serde_json::Value {
        let mut o = serde_json::to_value(self).unwrap_or_default();
        if let Some(m) = o.as_object_mut() {
            m.insert(
                "law".into(),
                self.law
                    .as_ref()
                    .map_or(serde_json::Value::Null, |l| l.to_json()),
            );
            m.insert(
                "rule".into(),
                serde_json::to_value(self.rule).unwrap_or_default(),
            );
        }
        o
    }
}

fn chinchilla(params: Vec<f64>) -> Law {
    Law::new(LawForm::Chinchilla, params).expect("published constants are valid")
}

/// All presets.
///
/// # Examples
/// ```
/// let names: Vec<&str> = scaling::law::presets::all().iter().map(|p| p.name).collect();
/// assert!(names.contains(&"chinchilla") && names.contains(&"kaplan"));
/// ```
pub fn all() -> Vec<Preset> {
    vec![
        Preset {
            name: "chinchilla",
            description: "Chinchilla's Approach 3 law with its unrounded constants",
            source: "Hoffmann et al. 2022, arXiv:2203.15556, Eq. 10; unrounded constants (ln A = 6.0073404, ln B = 6.0179186, ln E = 0.5267228, alpha = 0.33917084, beta = 0.2849083) as used by Besiroglu et al. 2024",
            law: Some(chinchilla(vec![
                0.5267228f64.exp(),
                6.0073404f64.exp(),
                6.0179186f64.exp(),
                0.33917084,
                0.2849083,
            ])),
            rule: None,
            notes: "N is total parameters; C = 6 N D; this is Approach 3 (40B at 5.76e23 FLOPs); Approach 1 projects 67B there (preset chinchilla-approach1)",
        },
        Preset {
            name: "chinchilla-rounded",
            description: "Chinchilla's Approach 3 law as printed (E 1.69, A 406.4, B 410.7, alpha 0.34, beta 0.28)",
            source: "Hoffmann et al. 2022, arXiv:2203.15556, Eq. 10",
            law: Some(chinchilla(vec![1.69, 406.4, 410.7, 0.34, 0.28])),
            rule: None,
            notes: "rounding moves the optimum: 32B instead of 40B parameters at 5.76e23 FLOPs",
        },
        Preset {
            name: "chinchilla-approach1",
            description: "Chinchilla's Approaches 1 and 2 frontier: N_opt grows as C^0.50, anchored at Table 3's 67B parameters for Gopher's 5.76e23 FLOPs (N_opt = 67e9 (C / 5.76e23)^0.50, D = C / (6 N))",
            source: "Hoffmann et al. 2022, arXiv:2203.15556, Table 2 (Approach 1: a = 0.50; Approach 2: a = 0.49) and Table 3 (Approach 1 projections: 67B on 1.5T tokens at 5.76e23 FLOPs)",
            law: None,
            rule: Some(Rule::ParamsPower {
                coef: 67e9,
                exponent: 0.50,
                unit_flops: 5.76e23,
                compute_factor: 1.0,
            }),
            notes: "an allocation rule only (Approaches 1 and 2 publish no loss law); D = C / (6 N) gives 1.43T tokens at 5.76e23 FLOPs, where Table 3 prints 1.5T (its rows are not exactly C = 6 N D); the `chinchilla` preset is Approach 3 (40B at the same budget)",
        },
        Preset {
            name: "epoch",
            description: "Epoch AI's refit of Chinchilla's data (Huber likelihood with fitted scale)",
            source: "Besiroglu et al. 2024, arXiv:2404.10102: A 482.01, B 2085.43, E 1.8169, alpha 0.3478, beta 0.3659",
            law: Some(chinchilla(vec![1.8169, 482.01, 2085.43, 0.3478, 0.3659])),
            rule: None,
            notes: "N is total parameters; C = 6 N D",
        },
        Preset {
            name: "kaplan",
            description: "Kaplan et al.'s compute-efficient frontier N_opt = 1.3e9 C_min^0.73 (C_min in PF-days, C = 2 C_min), with their joint loss law L(N, D) = [(6.4e13/N)^(0.076/0.103) + 1.8e13/D]^0.103",
            source: "Kaplan et al. 2020, arXiv:2001.08361, Eq. 1.5 and Section 6 (frontier, critical-batch training spends C = 2 C_min)",
            law: Some(Law::new(LawForm::Kaplan, vec![6.4e13, 1.8e13, 0.076, 0.103]).expect("valid")),
            rule: Some(Rule::ParamsPower {
                coef: 1.3e9,
                exponent: 0.73,
                unit_flops: PF_DAY,
                compute_factor: 2.0,
            }),
            notes: "N is non-embedding parameters; D = C / (6 N); the loss is in nats per token of Kaplan's WebText2 setting",
        },
        Preset {
            name: "muennighoff",
            description: "Muennighoff et al.'s data-constrained law: Chinchilla's form with repeated tokens and excess parameters discounted",
            source: "Muennighoff et al. 2023, arXiv:2305.16264: ln A 6.255414, ln B 7.3049974, ln E 0.6254804, alpha = beta = 0.3526596, R_D* 15.387756, R_N* 5.309743",
            law: Some(
                Law::new(
                    LawForm::DataConstrained,
                    vec![
                        0.6254804f64.exp(),
                        6.255414f64.exp(),
                        7.3049974f64.exp(),
                        0.3526596,
                        0.3526596,
                        15.387756,
                        5.309743,
                    ],
                )
                .expect("valid"),
            ),
            rule: None,
            notes: "give the number of unique tokens U (unique_tokens); without it every token is unique",
        },
        Preset {
            name: "deepseek",
            description: "DeepSeek LLM's frontier in model scale M (non-embedding FLOPs per token): M_opt = 0.1715 C^0.5243, D_opt = 5.8316 C^0.4757, C = M D",
            source: "Bi et al. 2024, DeepSeek LLM, arXiv:2401.02954 (compute-optimal model scale and data)",
            law: None,
            rule: Some(Rule::DeepSeek {
                m_coef: 0.1715,
                m_exponent: 0.5243,
                d_coef: 5.8316,
                d_exponent: 0.4757,
            }),
            notes: "an allocation rule only (no published loss law); params = M / 6, the non-embedding count M's 72 n_layer d^2 term implies, ignoring attention FLOPs",
        },
        Preset {
            name: "llama3",
            description: "Llama 3's optimal training tokens D*(C) = 0.299 C^0.537 (the figure's values; the text rounds to 0.29 and 0.53); N = C / (6 D)",
            source: "Llama Team 2024, The Llama 3 Herd of Models, arXiv:2407.21783 (scaling-law experiments)",
            law: None,
            rule: Some(Rule::TokensPower {
                coef: 0.299,
                exponent: 0.537,
            }),
            notes: "an allocation rule only (no published loss law); 3.8e25 FLOPs gives about 16.3T tokens and 388B parameters (the paper: 402B on 16.55T)",
        },
    ]
}

/// A preset by name.
///
/// # Examples
/// ```
/// let p = scaling::law::presets::get("Chinchilla").unwrap(); // any case
/// let law = p.law.unwrap();
/// // L = E + A / N^alpha + B / D^beta at Chinchilla's size (70B parameters, 1.4T tokens),
/// // with the unrounded constants of the source (ln E, ln A, ln B, alpha, beta).
/// let loss = law.predict(70e9, 1.4e12, 6.0 * 70e9 * 1.4e12);
/// let by_hand = 0.5267228_f64.exp()
///     + 6.0073404_f64.exp() / 70e9_f64.powf(0.33917084)
///     + 6.0179186_f64.exp() / 1.4e12_f64.powf(0.2849083);
/// assert!((loss / by_hand - 1.0).abs() < 1e-12, "{loss} {by_hand}");
/// assert!(scaling::law::presets::get("gpt-5").is_err());
/// ```
///
/// # Errors
/// [`Error::InvalidSetting`] listing the known names.
pub fn get(name: &str) -> Result<Preset> {
    all()
        .into_iter()
        .find(|p| p.name.eq_ignore_ascii_case(name))
        .ok_or_else(|| {
            Error::InvalidSetting(format!(
                "unknown preset {name:?}: known presets are {}",
                all().iter().map(|p| p.name).collect::<Vec<_>>().join(", ")
            ))
        })
}
