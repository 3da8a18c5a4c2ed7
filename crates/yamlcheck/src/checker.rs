//! Typed access to a `serde_yaml::Value` that records a positioned problem for every mismatch
//! instead of stopping at the first, so one run reports every problem. Where the problems go is
//! the [`Sink`]'s business: [`FileSink`] positions them with one file's [`Marks`] as
//! [`Diagnostic`]s (the config); other sinks can position them differently (rule packs merged
//! from several layers).

use serde_yaml::{Mapping, Value};

use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::marks::{Marks, Path};

/// Where a [`Checker`]'s problems go.
pub trait Sink {
    /// A problem with the value at `path`, or with its key when `at_key` (unknown or misplaced
    /// keys), with an optional hint on what to do.
    fn problem(&mut self, path: &Path, at_key: bool, message: String, hint: Option<String>);
}

/// Problems positioned by one file's marks.
pub struct FileSink<'m> {
    marks: &'m Marks,
    pub problems: Vec<Diagnostic>,
}

impl Sink for FileSink<'_> {
    fn problem(&mut self, path: &Path, at_key: bool, message: String, hint: Option<String>) {
        let m = if at_key {
            self.marks.key(path)
        } else {
            self.marks.value(path)
        };
        self.problems.push(Diagnostic {
            path: path.clone(),
            pos: m.map(|(p, _)| p),
            len: m.map_or(1, |(_, l)| l),
            message,
            hint,
        });
    }
}

/// The checker for one file.
pub type FileChecker<'m> = Checker<FileSink<'m>>;

impl<'m> FileChecker<'m> {
    pub fn for_file(marks: &'m Marks) -> Self {
        Checker::new(FileSink {
            marks,
            problems: Vec::new(),
        })
    }
}

pub struct Checker<S> {
    pub sink: S,
}

/// How YAML calls a value's type, for messages.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing (null)",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

impl<S: Sink> Checker<S> {
    pub fn new(sink: S) -> Self {
        Checker { sink }
    }

    /// A problem with the value at `path`.
    pub fn at_value(&mut self, path: &Path, message: impl Into<String>, hint: Option<String>) {
        self.sink.problem(path, false, message.into(), hint);
    }

    /// A problem with the key of the entry at `path` (unknown or misplaced keys).
    pub fn at_key(&mut self, path: &Path, message: impl Into<String>, hint: Option<String>) {
        self.sink.problem(path, true, message.into(), hint);
    }

    pub fn mapping<'v>(&mut self, v: &'v Value, path: &Path, what: &str) -> Option<&'v Mapping> {
        match v {
            Value::Mapping(m) => Some(m),
            other => {
                self.at_value(
                    path,
                    format!("{what} must be a mapping, found {}", type_name(other)),
                    None,
                );
                None
            }
        }
    }

    pub fn sequence<'v>(&mut self, v: &'v Value, path: &Path, what: &str) -> Option<&'v [Value]> {
        match v {
            Value::Sequence(s) => Some(s),
            other => {
                self.at_value(
                    path,
                    format!("{what} must be a list, found {}", type_name(other)),
                    None,
                );
                None
            }
        }
    }

    pub fn string<'v>(&mut self, v: &'v Value, path: &Path, what: &str) -> Option<&'v str> {
        match v {
            Value::String(s) if !s.trim().is_empty() => Some(s),
            Value::String(_) => {
                self.at_value(path, format!("{what} must not be empty"), None);
                None
            }
            other => {
                self.at_value(
                    path,
                    format!("{what} must be a string, found {}", type_name(other)),
                    None,
                );
                None
            }
        }
    }

    /// A scalar turned into text: tag values such as `cost-center: 1234` are fine as numbers.
    pub fn scalar_text(&mut self, v: &Value, path: &Path, what: &str) -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            other => {
                self.at_value(
                    path,
                    format!("{what} must be a string, found {}", type_name(other)),
                    None,
                );
                None
            }
        }
    }

    pub fn boolean(&mut self, v: &Value, path: &Path, what: &str) -> Option<bool> {
        match v {
            Value::Bool(b) => Some(*b),
            other => {
                self.at_value(
                    path,
                    format!("{what} must be true or false, found {}", type_name(other)),
                    None,
                );
                None
            }
        }
    }

    pub fn unsigned(&mut self, v: &Value, path: &Path, what: &str) -> Option<u64> {
        match v.as_u64() {
            Some(n) => Some(n),
            None => {
                self.at_value(
                    path,
                    format!("{what} must be a whole number, found {}", type_name(v)),
                    None,
                );
                None
            }
        }
    }

    /// Checks a mapping's keys: each must be a string, known, and the required ones present.
    /// Returns the entries whose keys are known, in document order.
    pub fn entries<'v>(
        &mut self,
        m: &'v Mapping,
        path: &Path,
        allowed: &[&str],
        required: &[&str],
        what: &str,
    ) -> Vec<(&'v str, &'v Value)> {
        let mut out = Vec::new();
        for (k, v) in m {
            let Some(key) = k.as_str() else {
                self.at_value(
                    path,
                    format!("keys of {what} must be strings, found {}", type_name(k)),
                    None,
                );
                continue;
            };
            if allowed.contains(&key) {
                out.push((key, v));
            } else {
                let hint = did_you_mean(key, allowed.iter().copied())
                    .map(|h| format!("{h} ({what} takes: {})", allowed.join(", ")))
                    .or_else(|| Some(format!("{what} takes: {}", allowed.join(", "))));
                self.at_key(
                    &path.key(key),
                    format!("unknown key `{key}` in {what}"),
                    hint,
                );
            }
        }
        for r in required {
            if !m.contains_key(*r) {
                // Point at the entry's own key (`archive:`), where the missing key belongs.
                self.at_key(
                    path,
                    format!("{what} is missing the required key `{r}`"),
                    None,
                );
            }
        }
        out
    }

    /// A value that must be one of `choices`.
    pub fn choice<'c>(
        &mut self,
        v: &Value,
        path: &Path,
        what: &str,
        choices: &[&'c str],
    ) -> Option<&'c str> {
        let text = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            other => {
                self.at_value(
                    path,
                    format!(
                        "{what} must be one of {}, found {}",
                        choices.join(", "),
                        type_name(other)
                    ),
                    None,
                );
                return None;
            }
        };
        if let Some(c) = choices.iter().find(|c| **c == text) {
            return Some(c);
        }
        let hint = choices
            .iter()
            .find(|c| c.eq_ignore_ascii_case(&text))
            .map(|c| format!("did you mean `{c}`? (values are case-sensitive)"))
            .or_else(|| did_you_mean(&text, choices.iter().copied()));
        self.at_value(
            path,
            format!(
                "{what} must be one of {}, found `{text}`",
                choices.join(", ")
            ),
            hint,
        );
        None
    }
}
