//! Loading `flowkeeper.yaml`: read within a size limit, parse once within a depth limit
//! (`yamlcheck`), and walk the schema, reporting every problem at once with file, line, column
//! and a hint.

pub mod schema;
mod shared;
pub mod starter;

use std::path::Path as FsPath;

pub use yamlcheck::{Diagnostic, Diagnostics};
use yamlcheck::{Limits, ReadError};

use crate::model::DesiredState;

/// Reads and validates the config file.
pub fn load(file: &FsPath) -> Result<DesiredState, Diagnostics> {
    load_with_text(file).map(|(desired, _)| desired)
}

/// Reads and validates the config file; also returns the text it was read from (a saved plan
/// keeps it).
pub fn load_with_text(file: &FsPath) -> Result<(DesiredState, String), Diagnostics> {
    let text = yamlcheck::read_to_string(file, &Limits::DEFAULT).map_err(|e| match e {
        ReadError::TooBig => Diagnostics::whole_file(
            file,
            format!(
                "the config is larger than {0}; flowkeeper reads configs of at most {0}",
                yamlcheck::human_bytes(Limits::DEFAULT.max_bytes)
            ),
            Some("is it the right file? a config is hand-written and a few KiB".into()),
        ),
        ReadError::Io(e) => {
            let hint = (e.kind() == std::io::ErrorKind::NotFound).then(|| {
                "run `flowkeeper init` to write a starter file, or pass -c/--config PATH"
                    .to_string()
            });
            Diagnostics::whole_file(file, format!("cannot read the config: {e}"), hint)
        }
    })?;
    let desired = parse(file, &text)?;
    Ok((desired, text))
}

/// Validates config text; `file` is only used in messages.
pub fn parse(file: &FsPath, text: &str) -> Result<DesiredState, Diagnostics> {
    yamlcheck::check(file, text, schema::desired_state)
}
