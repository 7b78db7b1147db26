//! `scaling optimal` and `scaling presets`, and how a law is named on the command line: a file
//! (a saved fit or a hand-written law) or `--preset NAME`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Args;

use scaling::allocate::{self, plan::Question, Rule};
use scaling::fit::Fit;
use scaling::law::{presets, Law};
use scaling::report::{human, sig};

use crate::{quantity, usage, Format};

/// A law named on the command line.
pub struct Source {
    /// How to refer to it in output.
    pub label: String,
    /// The loss law, when there is one.
    pub law: Option<Law>,
    /// A published allocation rule (presets only).
    pub rule: Option<Rule>,
    /// The saved fit, when the file is one (brings replicates and its FLOP model).
    pub fit: Option<Fit>,
    /// FLOPs per parameter per token of the fit, or 6.
    pub k: f64,
    /// A preset's notes.
    pub notes: Option<String>,
}

/// Resolve a law file or a preset name (exactly one).
pub fn resolve(path: Option<&Path>, preset: Option<&str>) -> Result<Source> {
    match (path, preset) {
        (Some(_), Some(_)) => Err(usage("give a law file or --preset, not both")),
        (None, None) => Err(usage(
            "name a law: a saved fit or law file, or --preset NAME (see `scaling presets`)",
        )),
        (None, Some(name)) => {
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
        (Some(path), None) => {
            let text = std::fs::read_to_string(path).map_err(|source| scaling::Error::Io {
                path: path.display().to_string(),
                source,
            })?;
            let name = path.display().to_string();
            // Anything shaped like a saved fit must be a consistent one: its replicates and
            // data are indexed later.
            let fit: Option<Fit> = match serde_json::from_str::<Fit>(&text) {
                Ok(_) => Some(Fit::from_json_str(&name, &text)?),
                Err(_) => None,
            };
            let law = Law::from_json_str(&name, &text)?;
            Ok(Source {
                label: path.display().to_string(),
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
    }
}

#[derive(Args)]
#[command(allow_negative_numbers = true)]
pub struct OptimalArgs {
    /// A saved fit (`scaling fit --out`) or a law file; or use --preset.
    law: Option<PathBuf>,
    /// A published law by name (`scaling presets` lists them).
    #[arg(long)]
    preset: Option<String>,
    /// Budgets in FLOPs: values separated by commas, or ranges A:B by decades (A:B:K for K per
    /// decade), e.g. 5.76e23 or 1e19:1e26.
    #[arg(long, value_name = "C")]
    flops: Vec<String>,
    /// The least compute (and its N and D) that reaches this loss.
    #[arg(long, value_parser = quantity, value_name = "L")]
    target_loss: Option<f64>,
    /// Fix the model size: the best token count for it under each budget, and the extra
    /// compute it costs against the optimum.
    #[arg(long, value_parser = quantity, value_name = "N")]
    params: Option<f64>,
    /// Fix the token count instead.
    #[arg(long, value_parser = quantity, value_name = "D")]
    tokens: Option<f64>,
    /// Tokens to be served at inference: minimise training plus inference compute
    /// (k N D + 2 N T) for the loss of the budget's optimum (or --target-loss), after Sardana
    /// et al. 2024.
    #[arg(long, value_parser = quantity, value_name = "T")]
    inference_tokens: Option<f64>,
    /// Unique tokens available (data-constrained law: --preset muennighoff): the best N and
    /// number of epochs.
    #[arg(long, value_parser = quantity, value_name = "U")]
    unique_tokens: Option<f64>,
    /// FLOPs per parameter per token in C = k N D (default: the fit's, or 6).
    #[arg(long, value_parser = quantity, value_name = "K")]
    flops_per_param_token: Option<f64>,
    /// Interval level for fits with bootstrap replicates (default: the fit's).
    #[arg(long)]
    level: Option<f64>,
    /// Output format (markdown prints a table).
    #[arg(long, value_enum, default_value = "text")]
    format: OutFormat,
}

/// Output formats of `scaling optimal`.
#[derive(Clone, Copy, clap::ValueEnum, PartialEq)]
pub enum OutFormat {
    /// A readable table.
    Text,
    /// A Markdown table.
    Markdown,
    /// JSON.
    Json,
}

/// Percentile intervals of an allocation over a fit's bootstrap replicates.
fn replicate_intervals(
    fit: &Fit,
    law: &Law,
    flops: f64,
    k: f64,
    unique: Option<f64>,
    level: f64,
) -> Option<serde_json::Map<String, serde_json::Value>> {
    let boot = fit.bootstrap.as_ref()?;
    let mut cols: [Vec<f64>; 4] = Default::default();
    for s in &boot.samples {
        let l = Law {
            form: law.form,
            params: s.clone(),
        };
        if let Ok(a) = allocate::optimal(&l, flops, k, unique) {
            cols[0].push(a.params);
            cols[1].push(a.tokens);
            cols[2].push(a.loss.unwrap_or(f64::NAN));
            cols[3].push(a.tokens_per_param);
        }
    }
    let mut o = serde_json::Map::new();
    for (name, v) in ["params", "tokens", "loss", "tokens_per_param"]
        .iter()
        .zip(&cols)
    {
        if let Some(([lo, hi], _)) = scaling::uncertainty::summarise(v, level) {
            o.insert(name.to_string(), serde_json::json!([lo, hi]));
        }
    }
    Some(o)
}

/// `scaling optimal`.
pub fn cmd_optimal(a: OptimalArgs, out: &mut String) -> Result<()> {
    let src = resolve(a.law.as_deref(), a.preset.as_deref())?;
    let k = a.flops_per_param_token.unwrap_or(src.k);
    if let Some(level) = a.level {
        if !(level > 0.0 && level < 1.0) {
            return Err(usage(format!(
                "--level must be between 0 and 1, got {level}"
            )));
        }
    }
    let budgets: Vec<f64> = if a.flops.is_empty() {
        vec![]
    } else {
        allocate::parse_budgets(&a.flops.join(","))?
    };
    if budgets.is_empty() && a.target_loss.is_none() {
        return Err(usage(
            "give --flops C (one or more budgets, or a range like 1e19:1e26) or --target-loss L",
        ));
    }
    // One question at a time.
    if a.target_loss.is_some() && (a.params.is_some() || a.tokens.is_some()) {
        return Err(usage(
            "--target-loss answers its own question: do not combine it with --params or --tokens",
        ));
    }
    if a.target_loss.is_some() && !budgets.is_empty() {
        return Err(usage("give --flops or --target-loss, not both (with --inference-tokens either sets the loss)"));
    }
    if (a.params.is_some() || a.tokens.is_some()) && budgets.is_empty() {
        return Err(usage(
            "--params or --tokens needs --flops: the budget fixes the partner",
        ));
    }
    if (a.params.is_some() || a.tokens.is_some()) && a.inference_tokens.is_some() {
        return Err(usage("--inference-tokens chooses N and D itself: do not combine it with --params or --tokens"));
    }
    let asks_law = a.target_loss.is_some()
        || a.params.is_some()
        || a.tokens.is_some()
        || a.inference_tokens.is_some();
    if src.rule.is_some() && asks_law {
        return Err(usage(format!(
            "{} is a published allocation rule; --target-loss, --params, --tokens and --inference-tokens need a loss law whose optimum is that rule, which it does not publish",
            src.label
        )));
    }
    if a.unique_tokens.is_some()
        && src.law.as_ref().map(|l| l.form) != Some(scaling::law::LawForm::DataConstrained)
    {
        return Err(usage(
            "--unique-tokens needs the data-constrained law (--preset muennighoff)",
        ));
    }
    if a.unique_tokens.is_some() && a.inference_tokens.is_some() {
        return Err(usage(
            "--inference-tokens plans with every token unique: do not combine it with --unique-tokens",
        ));
    }
    let level = a
        .level
        .or(src
            .fit
            .as_ref()
            .and_then(|f| f.bootstrap.as_ref())
            .map(|b| b.level))
        .unwrap_or(0.95);
    let req = allocate::plan::Request {
        budgets,
        target_loss: a.target_loss,
        params: a.params,
        tokens: a.tokens,
        inference_tokens: a.inference_tokens,
        unique_tokens: a.unique_tokens,
        flops_per_param_token: k,
    };
    let ans = allocate::plan::answer(src.law.as_ref(), src.rule.as_ref(), &req)?;
    let kind = ans.question.describe();
    let method = ans.method.clone();
    let mut rows: Vec<serde_json::Map<String, serde_json::Value>> = Vec::new();
    for row in &ans.rows {
        let mut o = match serde_json::to_value(row)? {
            serde_json::Value::Object(o) => o,
            _ => unreachable!("a row serialises to an object"),
        };
        if ans.question == Question::Optimal {
            if let (Some(fit), Some(law), None) = (&src.fit, &src.law, &src.rule) {
                let c = row.allocation.flops;
                if let Some(iv) = replicate_intervals(fit, law, c, k, a.unique_tokens, level) {
                    o.insert("intervals".into(), iv.into());
                    o.insert("level".into(), level.into());
                }
            }
        }
        rows.push(o);
    }
    match a.format {
        OutFormat::Json => {
            for r in rows.iter_mut() {
                r.insert(
                    "conventions".into(),
                    serde_json::json!({
                        "law": src.label,
                        "flops_model": format!("C = {k} N D"),
                        "flops_per_param_token": k,
                        "method": method,
                        "question": kind,
                    }),
                );
            }
            let v = if rows.len() == 1 {
                serde_json::Value::Object(rows.remove(0))
            } else {
                serde_json::Value::Array(rows.into_iter().map(serde_json::Value::Object).collect())
            };
            out.push_str(&serde_json::to_string_pretty(&v)?);
            out.push('\n');
        }
        fmt => {
            let md = fmt == OutFormat::Markdown;
            let _ = writeln!(out, "{} from {}", capitalise(kind), src.label);
            let _ = writeln!(out, "FLOP model C = {k} N D; {method}");
            if let Some(n) = &src.notes {
                let _ = writeln!(out, "note: {n}");
            }
            if let Some(t) = a.inference_tokens {
                let _ = writeln!(
                    out,
                    "each row: the model of least training + inference compute (k N D + 2 N T, T = {}) \
                     reaching the loss shown, against the Chinchilla-optimal model of that loss",
                    human(t)
                );
                if a.target_loss.is_none() {
                    let _ = writeln!(
                        out,
                        "budget FLOPs: the budget asked for, whose compute-optimal model sets the loss; \
                         training FLOPs: what the plan's smaller, longer-trained model spends"
                    );
                }
            }
            let _ = writeln!(out);
            out.push_str(&table(&rows, md));
        }
    }
    Ok(())
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn num(o: &serde_json::Map<String, serde_json::Value>, k: &str) -> Option<f64> {
    o.get(k).and_then(|v| v.as_f64())
}

/// The rows as a text or Markdown table.
fn table(rows: &[serde_json::Map<String, serde_json::Value>], md: bool) -> String {
    let ivs = rows.iter().any(|r| r.contains_key("intervals"));
    let epochs = rows.iter().any(|r| r.contains_key("epochs"));
    let extra = rows.iter().any(|r| r.contains_key("extra_compute"));
    let inf = rows.iter().any(|r| r.contains_key("saving"));
    // With inference demand the plan trains with less compute than the budget it answers, so
    // the requested budget gets its own column.
    let budget_col = inf
        && rows
            .iter()
            .any(|r| r.contains_key("loss_set_by_budget_flops"));
    let mut head = if budget_col {
        vec!["budget FLOPs"]
    } else {
        vec![]
    };
    head.extend(["training FLOPs", "params", "tokens", "tokens/param", "loss"]);
    if epochs {
        head.push("epochs");
    }
    if ivs {
        head.extend(["params interval", "tokens interval", "loss interval"]);
    }
    if extra {
        head.extend(["optimal params", "optimal loss", "extra compute"]);
    }
    if inf {
        head.extend([
            "total FLOPs",
            "Chinchilla-optimal params",
            "its total FLOPs",
            "saving",
        ]);
    }
    let mut body: Vec<Vec<String>> = Vec::new();
    for r in rows {
        let f = |k: &str| num(r, k);
        let mut row = if budget_col {
            vec![f("loss_set_by_budget_flops")
                .map(|v| format!("{v:.3e}"))
                .unwrap_or_default()]
        } else {
            vec![]
        };
        row.extend([
            format!("{:.3e}", f("flops").unwrap_or(f64::NAN)),
            human(f("params").unwrap_or(f64::NAN)),
            human(f("tokens").unwrap_or(f64::NAN)),
            sig(f("tokens_per_param").unwrap_or(f64::NAN), 3),
            f("loss").map(|v| sig(v, 5)).unwrap_or_else(|| "n/a".into()),
        ]);
        if epochs {
            row.push(f("epochs").map(|v| sig(v, 3)).unwrap_or_default());
        }
        if ivs {
            let iv = r.get("intervals").and_then(|v| v.as_object());
            for (key, big) in [("params", true), ("tokens", true), ("loss", false)] {
                let cell = iv
                    .and_then(|o| o.get(key))
                    .and_then(|v| v.as_array())
                    .map(|a| {
                        let (lo, hi) = (
                            a[0].as_f64().unwrap_or(f64::NAN),
                            a[1].as_f64().unwrap_or(f64::NAN),
                        );
                        if big {
                            format!("[{}, {}]", human(lo), human(hi))
                        } else {
                            format!("[{}, {}]", sig(lo, 4), sig(hi, 4))
                        }
                    })
                    .unwrap_or_default();
                row.push(cell);
            }
        }
        if extra {
            let o = r.get("optimum").and_then(|v| v.as_object());
            row.push(
                o.and_then(|o| num(o, "params"))
                    .map(human)
                    .unwrap_or_default(),
            );
            row.push(
                o.and_then(|o| num(o, "loss"))
                    .map(|v| sig(v, 5))
                    .unwrap_or_default(),
            );
            row.push(
                f("extra_compute")
                    .map(|v| format!("{:+.1}%", 100.0 * v))
                    .unwrap_or_default(),
            );
        }
        if inf {
            let o = r.get("chinchilla_optimal").and_then(|v| v.as_object());
            row.push(
                f("total_flops")
                    .map(|v| format!("{v:.3e}"))
                    .unwrap_or_default(),
            );
            row.push(
                o.and_then(|o| num(o, "params"))
                    .map(human)
                    .unwrap_or_default(),
            );
            row.push(
                f("chinchilla_total_flops")
                    .map(|v| format!("{v:.3e}"))
                    .unwrap_or_default(),
            );
            row.push(
                f("saving")
                    .map(|v| format!("{:.1}%", 100.0 * v))
                    .unwrap_or_default(),
            );
        }
        body.push(row);
    }
    let widths: Vec<usize> = (0..head.len())
        .map(|i| {
            body.iter()
                .map(|r| r[i].len())
                .chain([head[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut s = String::new();
    let line = |cells: Vec<String>| -> String {
        if md {
            format!("| {} |\n", cells.join(" | "))
        } else {
            format!("  {}\n", cells.join("  "))
        }
    };
    let pad = |cells: &[String]| -> Vec<String> {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{:>w$}", c, w = widths[i]))
            .collect()
    };
    s.push_str(&line(pad(&head
        .iter()
        .map(|h| h.to_string())
        .collect::<Vec<_>>())));
    if md {
        s.push_str(&line(
            widths
                .iter()
                .map(|w| format!("{}:", "-".repeat(w.saturating_sub(1).max(2))))
                .collect(),
        ));
    }
    for r in &body {
        s.push_str(&line(pad(r)));
    }
    s
}

#[derive(Args)]
pub struct PresetsArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

/// `scaling presets`.
pub fn cmd_presets(a: PresetsArgs, out: &mut String) -> Result<()> {
    let all = presets::all();
    match a.format {
        Format::Json => {
            let v: Vec<serde_json::Value> = all
                .iter()
                .map(|p| {
                    let mut o = serde_json::to_value(p).unwrap_or_default();
                    if let Some(m) = o.as_object_mut() {
                        m.insert(
                            "law".into(),
                            p.law
                                .as_ref()
                                .map_or(serde_json::Value::Null, |l| l.to_json()),
                        );
                        m.insert(
                            "rule".into(),
                            serde_json::to_value(p.rule).unwrap_or_default(),
                        );
                    }
                    o
                })
                .collect();
            out.push_str(&serde_json::to_string_pretty(&v)?);
            out.push('\n');
        }
        Format::Text => {
            for p in &all {
                let _ = writeln!(
                    out,
                    "{}\n  {}\n  source: {}\n  note: {}",
                    p.name, p.description, p.source, p.notes
                );
                if let Some(l) = &p.law {
                    let params: Vec<String> = l
                        .form
                        .param_names()
                        .iter()
                        .zip(&l.params)
                        .map(|(n, v)| format!("{n} = {}", sig(*v, 8)))
                        .collect();
                    let _ = writeln!(out, "  law: {}; {}", l.form.formula(), params.join(", "));
                }
                let _ = writeln!(out);
            }
        }
    }
    Ok(())
}
