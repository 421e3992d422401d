//! `bisslog schema`: the JSON Schema of the metadata format.

use std::io::Write;

use anyhow::Context as _;

use crate::{Outcome, SchemaArgs};

pub(crate) fn run(
    args: &SchemaArgs,
    out: &mut dyn Write,
    _err: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let mut text = serde_json::to_string_pretty(&bisslog_schema::json_schema())?;
    text.push('\n');
    match &args.out {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => out.write_all(text.as_bytes())?,
    }
    Ok(Outcome::Clean)
}
