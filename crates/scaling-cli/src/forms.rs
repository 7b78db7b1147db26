//! `scaling forms`: several law forms fitted to the same runs and compared side by side
//! (objective, residual RMS, parameters, AIC, BIC). Parsing and rendering only; the
//! comparison is `scaling::validate::compare_forms`.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use super::{load_request, quantity, read_table, row_filter, usage, DataArgs, Format};

#[derive(Args)]
#[command(allow_negative_numbers = true)]
pub(crate) struct FormsArgs {
    /// Run table: CSV with a header row, or JSON (an array of objects).
    file: PathBuf,
    /// A form to compare (repeat): chinchilla, power, kaplan, kaplan-steps, data-constrained,
    /// overtraining, multiplicative, broken-power, or a formula such as 'E + A*N^-alpha'.
    #[arg(long, required = true, value_name = "NAME|FORMULA")]
    law: Vec<String>,
    /// Also score each form by held-out error: fit it to the runs with at most this value
    /// (on `--on`) and predict the others.
    #[arg(long, value_parser = quantity, value_name = "VALUE")]
    cutoff: Option<f64>,
    /// The quantity of `--cutoff`: flops, params, or a numeric column.
    #[arg(
        long,
        default_value = "flops",
        value_name = "flops|params|COLUMN",
        requires = "cutoff"
    )]
    on: String,
    #[command(flatten)]
    data: DataArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    #[command(flatten)]
    settings: crate::FitSettings,
}

pub(crate) fn cmd_forms(a: FormsArgs, out: &mut String) -> Result<()> {
    let req = scaling::validate::FormsRequest {
        laws: a.law.clone(),
        settings: a.settings.names(""),
        holdout: a.cutoff.map(|value| scaling::validate::Holdout {
            axis: match a.on.as_str() {
                "flops" | "C" => scaling::validate::Axis::Flops,
                "params" | "N" => scaling::validate::Axis::Params,
                other => scaling::validate::Axis::Column(other.to_string()),
            },
            value,
        }),
    };
    let table = read_table(&a.file, &a.data)?;
    row_filter(&a.data)?;
    let c = scaling::validate::compare_forms(&table, &req, &load_request(&a.data)).map_err(
        |e| match e {
            scaling::Error::InvalidSetting(m) => usage(m),
            e => anyhow::Error::new(e),
        },
    )?;
    match a.format {
        Format::Json => out.push_str(&(serde_json::to_string_pretty(&c)? + "\n")),
        Format::Text => out.push_str(&scaling::report::forms::forms_text(&c)),
    }
    Ok(())
}
