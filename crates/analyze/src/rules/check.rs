//! Reading a rule pack: `yamlcheck`'s [`yamlcheck::Checker`] for the typed accessors shared
//! with the config (mappings, lists, strings, booleans, known keys), with a [`LayerSink`] that
//! turns each problem into a [`RuleError`] positioned through a [`Locator`] (which maps a path
//! in the possibly merged pack back to the layer and line/column it came from), plus the reads
//! only packs have (bounded numbers, durations, byte counts, CIDR lists).

use std::ops::{Deref, DerefMut};

use serde_yaml::Value;

use super::RuleError;
use crate::addr::{Cidr, CidrSet};
use crate::time::parse_duration;
use yamlcheck::{Marks, Path, Pos, Sink};

/// Positions for a pack built from one or more layers: each merged subtree remembers the
/// layer and the path it had there.
#[derive(Debug, Default)]
pub struct Locator {
    /// (layer name, its marks).
    pub layers: Vec<(Option<String>, Marks)>,
    /// (path in the merged pack, layer index, path in that layer); the longest matching
    /// prefix wins.
    pub origins: Vec<(Path, usize, Path)>,
}

impl Locator {
    /// The layer name, position and path in that layer of `path` (its key when `key`): a
    /// detector that is `detectors[1]` of the merged pack may be `detectors[0]` of the file
    /// that set the bad value, and the message names the file.
    pub fn locate(&self, path: &Path, key: bool) -> (Option<String>, Option<Pos>, Option<Path>) {
        let best = self
            .origins
            .iter()
            .filter(|(prefix, _, _)| path.starts_with(prefix))
            .max_by_key(|(prefix, _, _)| prefix.0.len());
        let Some((prefix, layer, there)) = best else {
            return (None, None, None);
        };
        let Some((name, marks)) = self.layers.get(*layer) else {
            return (None, None, None);
        };
        let mut p = there.clone();
        p.0.extend_from_slice(&path.0[prefix.0.len()..]);
        let pos = if key { marks.key(&p) } else { marks.value(&p) }.map(|(pos, _)| pos);
        (name.clone(), pos, Some(p))
    }
}

/// Problems as [`RuleError`]s, positioned through a [`Locator`]; a hint is appended to the
/// message (a rule error is one line).
pub struct LayerSink<'l> {
    locator: &'l Locator,
    /// Every problem found so far.
    pub errors: Vec<RuleError>,
    /// The rule (detector id, zone or service name) being read, for messages.
    pub rule: Option<String>,
}

impl Sink for LayerSink<'_> {
    fn problem(&mut self, path: &Path, at_key: bool, message: String, hint: Option<String>) {
        let (source, pos, there) = self.locator.locate(path, at_key);
        self.errors.push(RuleError {
            source,
            rule: self.rule.clone(),
            path: there.as_ref().unwrap_or(path).to_string(),
            line: pos.map(|p| p.line),
            column: pos.map(|p| p.col),
            message: match hint {
                Some(h) => format!("{message}; {h}"),
                None => message,
            },
        });
    }
}

/// Collects errors while reading a pack: the shared accessors through `Deref`, and the
/// pack-only reads below.
pub struct Checker<'l>(yamlcheck::Checker<LayerSink<'l>>);

impl<'l> Deref for Checker<'l> {
    type Target = yamlcheck::Checker<LayerSink<'l>>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl DerefMut for Checker<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

pub use yamlcheck::type_name;

/// ` (did you mean `x`?)` when one of `choices` is close to `word` (the config's suggestion),
/// else nothing.
pub fn suggestion<'c>(word: &str, choices: impl IntoIterator<Item = &'c str>) -> String {
    yamlcheck::did_you_mean(word, choices)
        .map(|h| format!(" ({h})"))
        .unwrap_or_default()
}

impl<'l> Checker<'l> {
    /// A checker reporting positions through `locator`.
    pub fn new(locator: &'l Locator) -> Checker<'l> {
        Checker(yamlcheck::Checker::new(LayerSink {
            locator,
            errors: Vec::new(),
            rule: None,
        }))
    }

    /// The errors found.
    pub fn into_errors(self) -> Vec<RuleError> {
        self.0.sink.errors
    }

    /// A problem with the value at `path`.
    pub fn at_value(&mut self, path: &Path, message: impl Into<String>) {
        self.0.at_value(path, message, None);
    }

    /// A problem with the key of the entry at `path`.
    pub fn at_key(&mut self, path: &Path, message: impl Into<String>) {
        self.0.at_key(path, message, None);
    }

    /// A whole number in `min..=max`.
    pub fn number(
        &mut self,
        v: &Value,
        path: &Path,
        what: &str,
        min: u64,
        max: u64,
    ) -> Option<u64> {
        match v.as_u64() {
            Some(n) if n < min && min == 1 => {
                self.at_value(
                    path,
                    format!("{what} must be at least 1 (0 would match everything)"),
                );
                None
            }
            Some(n) if n < min || n > max => {
                self.at_value(
                    path,
                    format!("{what} must be between {min} and {max}, found {n}"),
                );
                None
            }
            Some(n) => Some(n),
            None => {
                self.at_value(
                    path,
                    format!("{what} must be a whole number, found {}", describe(v)),
                );
                None
            }
        }
    }

    /// A duration: seconds, or `30s`, `5m`, `1h`, `1d`; at least `min` seconds.
    pub fn duration(&mut self, v: &Value, path: &Path, what: &str, min: u64) -> Option<u64> {
        let secs = match v {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => parse_duration(s),
            _ => None,
        };
        match secs {
            Some(s) if s < min => {
                self.at_value(path, format!("{what} must be at least {min} seconds"));
                None
            }
            Some(s) if s > 7 * 86_400 => {
                self.at_value(path, format!("{what} must be at most 7d"));
                None
            }
            Some(s) => Some(s),
            None => {
                self.at_value(
                    path,
                    format!(
                        "{what} must be a duration such as 300, 30s, 5m, 1h or 1d, found {}",
                        describe(v)
                    ),
                );
                None
            }
        }
    }

    /// A byte count: a whole number, or one with a unit (`500MB`, `1GiB`, `2TB`).
    pub fn bytes(&mut self, v: &Value, path: &Path, what: &str) -> Option<u64> {
        let n = match v {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => parse_bytes(s),
            _ => None,
        };
        match n {
            Some(0) => {
                self.at_value(
                    path,
                    format!("{what} must be at least 1 (0 would match everything)"),
                );
                None
            }
            Some(n) => Some(n),
            None => {
                self.at_value(
                    path,
                    format!(
                        "{what} must be a byte count such as 1073741824, 500MB or 1GiB, found {}",
                        describe(v)
                    ),
                );
                None
            }
        }
    }

    /// A list of CIDR blocks.
    pub fn cidrs(&mut self, v: &Value, path: &Path, what: &str) -> Option<CidrSet> {
        let items = self.sequence(v, path, what)?;
        let mut blocks = Vec::new();
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            let p = path.index(i);
            let Some(text) = self.string(item, &p, "a CIDR block") else {
                ok = false;
                continue;
            };
            match Cidr::parse(text) {
                Ok(c) => blocks.push(c),
                Err(e) => {
                    self.at_value(&p, format!("bad CIDR `{text}`: {e}"));
                    ok = false;
                }
            }
        }
        ok.then(|| CidrSet::new(blocks))
    }

    /// A list of non-empty strings.
    pub fn strings(&mut self, v: &Value, path: &Path, what: &str) -> Option<Vec<String>> {
        let items = self.sequence(v, path, what)?;
        let mut out = Vec::new();
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            match self.string(item, &path.index(i), what) {
                Some(s) => out.push(s.to_owned()),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    /// One of `choices`.
    pub fn choice<'c>(
        &mut self,
        v: &Value,
        path: &Path,
        what: &str,
        choices: &[&'c str],
    ) -> Option<&'c str> {
        let text = self.string(v, path, what)?;
        if let Some(c) = choices.iter().find(|c| **c == text) {
            return Some(c);
        }
        let hint = suggestion(text, choices.iter().copied());
        self.at_value(
            path,
            format!(
                "unknown {what} `{text}`{hint}; expected one of: {}",
                choices.join(", ")
            ),
        );
        None
    }
}

/// A value for messages: its text when a scalar, else its type.
fn describe(v: &Value) -> String {
    match v {
        Value::String(s) => format!("`{s}`"),
        Value::Number(n) => format!("`{n}`"),
        Value::Bool(b) => format!("`{b}`"),
        other => type_name(other).to_owned(),
    }
}

/// `1234`, `500KB`, `500MB`, `1GB`, `2TB` (powers of 1000) or `KiB`/`MiB`/`GiB`/`TiB`
/// (powers of 1024); case-insensitive units, optional space.
pub fn parse_bytes(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let n: u64 = digits.parse().ok()?;
    let scale: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1000,
        "mb" => 1000_u64.pow(2),
        "gb" => 1000_u64.pow(3),
        "tb" => 1000_u64.pow(4),
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        "tib" => 1 << 40,
        _ => return None,
    };
    n.checked_mul(scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_sizes_and_suggestions() {
        assert_eq!(parse_bytes("1GiB"), Some(1 << 30));
        assert_eq!(parse_bytes("500 MB"), Some(500_000_000));
        assert_eq!(parse_bytes("42"), Some(42));
        assert_eq!(parse_bytes("1 GiBs"), None);
        assert_eq!(
            suggestion("port_scna", ["port_scan", "host_sweep"]),
            " (did you mean `port_scan`?)"
        );
        assert_eq!(suggestion("zzz", ["port_scan"]), "");
    }
}
