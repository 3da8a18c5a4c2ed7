//! Checked access to YAML documents for hand-written files (flowkeeper.yaml, detection rule
//! packs): serde_yaml parses, yaml-rust2 gives every node's position, and a [`Checker`] records a
//! positioned problem for every mismatch so that one run reports every problem: for one file as
//! [`Diagnostic`]s rendered with the offending line underlined and a hint, in the style of rustc
//! and cargo; through another [`Sink`] however its caller positions them.

pub mod checker;
pub mod diagnostic;
pub mod marks;

pub use checker::{Checker, FileChecker, FileSink, Sink, type_name};
pub use diagnostic::{Diagnostic, Diagnostics, did_you_mean};
pub use marks::{Marks, NodeMarks, Path, Pos, Seg};

/// Parses `text` and runs `check` over it with a [`Checker`]; `file` only names the source in
/// messages. Returns the checker's value when it recorded no problem.
pub fn check<T>(
    file: &std::path::Path,
    text: &str,
    check: impl FnOnce(&serde_yaml::Value, &mut FileChecker) -> Option<T>,
) -> Result<T, Diagnostics> {
    let value: serde_yaml::Value = match serde_yaml::from_str(text) {
        Ok(v) => v,
        Err(e) => return Err(Diagnostics::new(file, text, vec![syntax_problem(&e)])),
    };
    let marks = Marks::index(text);
    let mut checker = FileChecker::for_file(&marks);
    let out = check(&value, &mut checker);
    let problems = checker.sink.problems;
    match out {
        Some(v) if problems.is_empty() => Ok(v),
        _ => Err(Diagnostics::new(file, text, problems)),
    }
}

/// A serde_yaml syntax error as a positioned diagnostic.
pub fn syntax_problem(e: &serde_yaml::Error) -> Diagnostic {
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
