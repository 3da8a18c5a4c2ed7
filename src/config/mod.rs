//! Loading `flowkeeper.yaml`: YAML syntax (serde_yaml), positions (yaml-rust2), and the schema
//! walk that reports every problem at once with file, line, column and a hint.

pub mod schema;
mod shared;
pub mod starter;

use std::path::Path as FsPath;

pub use yamlcheck::{Diagnostic, Diagnostics};

use crate::model::DesiredState;

/// Reads and validates the config file.
pub fn load(file: &FsPath) -> Result<DesiredState, Diagnostics> {
    load_with_text(file).map(|(desired, _)| desired)
}

/// Reads and validates the config file; also returns the text it was read from (a saved plan
/// keeps it).
pub fn load_with_text(file: &FsPath) -> Result<(DesiredState, String), Diagnostics> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        let hint = (e.kind() == std::io::ErrorKind::NotFound).then(|| {
            "run `flowkeeper init` to write a starter file, or pass -c/--config PATH".to_string()
        });
        Diagnostics::whole_file(file, format!("cannot read the config: {e}"), hint)
    })?;
    let desired = parse(file, &text)?;
    Ok((desired, text))
}

/// Validates config text; `file` is only used in messages.
pub fn parse(file: &FsPath, text: &str) -> Result<DesiredState, Diagnostics> {
    if serde_yaml::from_str::<serde_yaml::Value>(text).is_ok_and(|v| v.is_null()) {
        return Err(Diagnostics::whole_file(
            file,
            "the config is empty".into(),
            Some("run `flowkeeper init` to write a commented starter file".into()),
        ));
    }
    yamlcheck::check(file, text, schema::desired_state)
}
