//! Loading `flowkeeper.yaml`: YAML syntax (serde_yaml), positions (yaml-rust2), and the schema
//! walk that reports every problem at once with file, line, column and a hint.

pub mod checker;
pub mod diagnostic;
pub mod marks;
pub mod schema;
pub mod starter;

use std::path::Path as FsPath;

pub use diagnostic::{Diagnostic, Diagnostics};

use crate::model::DesiredState;
use checker::Checker;
use marks::{Marks, Path, Pos};

/// Reads and validates the config file.
pub fn load(file: &FsPath) -> Result<DesiredState, Diagnostics> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        let hint = (e.kind() == std::io::ErrorKind::NotFound).then(|| {
            "run `flowkeeper init` to write a starter file, or pass -c/--config PATH".to_string()
        });
        Diagnostics::whole_file(file, format!("cannot read the config: {e}"), hint)
    })?;
    parse(file, &text)
}

/// Validates config text; `file` is only used in messages.
pub fn parse(file: &FsPath, text: &str) -> Result<DesiredState, Diagnostics> {
    let value: serde_yaml::Value = match serde_yaml::from_str(text) {
        Ok(v) => v,
        Err(e) => return Err(Diagnostics::new(file, text, vec![syntax_problem(&e)])),
    };
    if value.is_null() {
        return Err(Diagnostics::whole_file(
            file,
            "the config is empty".into(),
            Some("run `flowkeeper init` to write a commented starter file".into()),
        ));
    }
    let marks = Marks::index(text);
    let mut checker = Checker::new(&marks);
    let state = schema::desired_state(&value, &mut checker);
    match state {
        Some(s) if checker.problems.is_empty() => Ok(s),
        _ => Err(Diagnostics::new(file, text, checker.problems)),
    }
}

fn syntax_problem(e: &serde_yaml::Error) -> Diagnostic {
    let pos = e.location().map(|l| Pos {
        line: l.line(),
        col: l.column(),
    });
    // serde_yaml appends " at line L column C" to its message; the position is shown anyway.
    let msg = e.to_string();
    let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
    Diagnostic {
        path: Path::default(),
        pos,
        len: 1,
        message: format!("YAML syntax: {msg}"),
        hint: Some(
            "check indentation and that every `key: value` pair has a space after the colon".into(),
        ),
    }
}
