//! Checked access to YAML documents for hand-written files (flowkeeper.yaml, detection rule
//! packs): [`load`] parses once (yaml-rust2's marked events into a `serde_yaml::Value` and every
//! node's position), within [`Limits`] on size and depth, and a [`Checker`] records a
//! positioned problem for every mismatch so that one run reports every problem: for one file as
//! [`Diagnostic`]s rendered with the offending line underlined and a hint, in the style of rustc
//! and cargo; through another [`Sink`] however its caller positions them.

pub mod checker;
pub mod diagnostic;
pub mod limits;
pub mod load;
pub mod marks;
mod scalar;

pub use checker::{Checker, FileChecker, FileSink, Sink, type_name};
pub use diagnostic::{Diagnostic, Diagnostics, did_you_mean, nearest, similarity};
pub use limits::{Limits, ReadError, human_bytes, read_to_string};
pub use load::{Document, load, strip_bom};
pub use marks::{Marks, NodeMarks, Path, Pos, Seg};

/// Parses `text` within the default [`Limits`] and runs `check` over it with a [`Checker`];
/// `file` only names the source in messages. Returns the checker's value when neither loading
/// (duplicate keys) nor the checker recorded a problem.
pub fn check<T>(
    file: &std::path::Path,
    text: &str,
    check: impl FnOnce(&serde_yaml::Value, &mut FileChecker) -> Option<T>,
) -> Result<T, Diagnostics> {
    let text = strip_bom(text);
    let doc = load(text, &Limits::DEFAULT).map_err(|d| Diagnostics::new(file, text, vec![d]))?;
    let mut checker = FileChecker::for_file(&doc.marks);
    let out = check(&doc.value, &mut checker);
    let mut problems = doc.problems;
    problems.append(&mut checker.sink.problems);
    match out {
        Some(v) if problems.is_empty() => Ok(v),
        _ => Err(Diagnostics::new(file, text, problems)),
    }
}
