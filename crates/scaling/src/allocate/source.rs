//! Where a law to plan with comes from: a saved fit (which brings its bootstrap replicates and
//! its FLOP model), a hand-written law file, or a published law by name.

use std::path::Path;

use crate::error::{Error, Result};
use crate::fit::Fit;
use crate::law::{presets, Law, Rule};

/// A law to plan with, resolved from a file, a fit or a preset name.
#[derive(Debug, Clone)]
pub struct Source {
    /// How to refer to it in output (the file name, or `preset NAME (SOURCE)`).
    pub label: String,
    /// The loss law, when there is one.
    pub law: Option<Law>,
    /// A published allocation rule (presets only).
    pub rule: Option<Rule>,
    /// The saved fit, when the source is one (brings replicates and its FLOP model).
    pub fit: Option<Fit>,
    /// FLOPs per parameter per token k in C = k N D: the fit's, or 6.
    pub k: f64,
    /// A preset's notes.
    pub notes: Option<String>,
}

impl Source {
    /// A published law by name (see [`presets::all`]).
    ///
    /// # Examples
    /// ```
    /// let s = scaling::allocate::Source::preset("chinchilla").unwrap();
    /// assert!(s.law.is_some() && s.fit.is_none());
    /// assert_eq!(s.k, 6.0);
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] for an unknown name (the message lists the known ones).
    pub fn preset(name: &str) -> Result<Source> {
        let p = presets::get(name)?;
        Ok(Source {
            label: format!("preset {} ({})", p.name, p.source),
            law: p.law,
            rule: p.rule,
            fit: None,
            k: 6.0,
            notes: Some(p.notes.to_string()),
        })
    }

    /// A saved fit or a law file's text; `name` labels the source in output and errors.
    /// Anything shaped like a saved fit must be a consistent one ([`Fit::from_json_str`]
    /// validates it): its replicates and data are indexed later.
    ///
    /// # Errors
    /// The errors of [`Fit::from_json_str`] and [`Law::from_json_str`].
    pub fn from_json_str(name: &str, text: &str) -> Result<Source> {
        let fit: Option<Fit> = match serde_json::from_str::<Fit>(text) {
            Ok(_) => Some(Fit::from_json_str(name, text)?),
            Err(_) => None,
        };
        let law = Law::from_json_str(name, text)?;
        Ok(Source {
            label: name.to_string(),
            k: fit
                .as_ref()
                .map(|f| f.conventions.flops_per_param_token)
                .unwrap_or(6.0),
            law: Some(law),
            rule: None,
            fit,
            notes: None,
        })
    }

    /// Read a saved fit or a law file.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be read, then those of [`Source::from_json_str`].
    pub fn load(path: &Path) -> Result<Source> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })?;
        Source::from_json_str(&path.display().to_string(), &text)
    }

    /// The loss law, for analyses that need one (predicting a loss, drawing runs,
    /// sensitivities, reconciling conventions).
    ///
    /// # Examples
    /// ```
    /// use scaling::allocate::Source;
    /// assert!(Source::preset("chinchilla").unwrap().loss_law().is_ok());
    /// // Approaches 1 and 2 publish an allocation rule, not a loss law.
    /// let rule_only = Source::preset("chinchilla-approach1").unwrap();
    /// assert!(rule_only.loss_law().unwrap_err().to_string().contains("no loss law"));
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] when the source publishes only an allocation rule.
    pub fn loss_law(&self) -> Result<&Law> {
        self.law.as_ref().ok_or_else(|| {
            Error::InvalidSetting(format!(
                "{} publishes an allocation rule but no loss law",
                self.label
            ))
        })
    }
}
