//! Config problems with their position, rendered with the offending line underlined and a hint,
//! in the style of rustc and cargo.

use std::fmt;
use std::path::{Path as FsPath, PathBuf};

use crate::marks::{Path, Pos};

/// One problem in the config file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub path: Path,
    pub pos: Option<Pos>,
    /// How many characters to underline from `pos`.
    pub len: usize,
    pub message: String,
    pub hint: Option<String>,
}

/// Every problem found in one file, with the text needed to show each in context.
#[derive(Debug)]
pub struct Diagnostics {
    pub file: PathBuf,
    pub source: String,
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn new(file: &FsPath, source: &str, mut items: Vec<Diagnostic>) -> Self {
        items.sort_by_key(|d| d.pos.map(|p| (p.line, p.col)).unwrap_or((usize::MAX, 0)));
        Diagnostics {
            file: file.to_path_buf(),
            source: source.to_string(),
            items,
        }
    }

    /// A single problem that is about the file as a whole (unreadable, empty).
    pub fn whole_file(file: &FsPath, message: String, hint: Option<String>) -> Self {
        Diagnostics {
            file: file.to_path_buf(),
            source: String::new(),
            items: vec![Diagnostic {
                path: Path::default(),
                pos: None,
                len: 0,
                message,
                hint,
            }],
        }
    }
}

/// Characters of a source line shown before and after the reported column.
const SNIPPET_BEFORE: usize = 60;
const SNIPPET_AFTER: usize = 100;

/// Control characters (a config is untrusted text that goes to a terminal) as `\xNN` /
/// `\u{..}`; tabs stay.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '\t' => out.push(ch),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// The part of `line` around column `col` (1-based, in characters), escaped, and where the
/// caret goes in it: a line of 100 KB shows a window, not the whole line.
fn snippet(line: &str, col: usize) -> (String, usize) {
    let chars: Vec<char> = line.chars().collect();
    let at = col.saturating_sub(1).min(chars.len());
    let start = at.saturating_sub(SNIPPET_BEFORE);
    let end = (at + SNIPPET_AFTER).min(chars.len());
    let lead = if start > 0 { "…" } else { "" };
    let before = escape(&chars[start..at].iter().collect::<String>());
    let rest = escape(&chars[at..end].iter().collect::<String>());
    let tail = if end < chars.len() { "…" } else { "" };
    let caret_at = lead.chars().count() + before.chars().count();
    (format!("{lead}{before}{rest}{tail}"), caret_at)
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<&str> = self.source.lines().collect();
        for d in &self.items {
            writeln!(f, "error: {}", escape(&d.message))?;
            match d.pos {
                Some(p) => {
                    writeln!(
                        f,
                        "  --> {}:{}:{}",
                        escape(&self.file.display().to_string()),
                        p.line,
                        p.col
                    )?;
                    if let Some(text) = lines.get(p.line.wrapping_sub(1)) {
                        let gutter = p.line.to_string().len();
                        let (shown, caret_at) = snippet(text, p.col);
                        writeln!(f, "{:gutter$} |", "")?;
                        writeln!(f, "{} | {}", p.line, shown)?;
                        let caret_len = d.len.clamp(1, SNIPPET_AFTER);
                        writeln!(
                            f,
                            "{:gutter$} | {}{}",
                            "",
                            " ".repeat(caret_at),
                            "^".repeat(caret_len)
                        )?;
                    }
                }
                None => writeln!(f, "  --> {}", escape(&self.file.display().to_string()))?,
            }
            if !d.path.0.is_empty() {
                writeln!(f, "   = at: {}", d.path)?;
            }
            if let Some(h) = &d.hint {
                writeln!(f, "   = hint: {}", escape(h))?;
            }
            writeln!(f)?;
        }
        let n = self.items.len();
        write!(
            f,
            "{} problem{} in {}",
            n,
            if n == 1 { "" } else { "s" },
            self.file.display()
        )
    }
}

/// "did you mean `x`?" for the closest candidate, when one is close enough.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| format!("did you mean `{c}`?"))
}

/// How alike two words are, from 0 (nothing in common) to 1 (equal): the measure behind
/// [`did_you_mean`] and [`nearest`].
pub fn similarity(a: &str, b: &str) -> f64 {
    strsim::jaro_winkler(a, b)
}

/// Up to `n` of `candidates` closest to `word`, closest first (for hints that list near matches
/// when no single one is close enough for "did you mean").
pub fn nearest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    n: usize,
) -> Vec<&'a str> {
    let mut scored: Vec<(f64, &str)> = candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    scored.into_iter().take(n).map(|(_, c)| c).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_position_line_caret_and_hint() {
        let d = Diagnostic {
            path: Path::default()
                .key("destinations")
                .key("a")
                .key("bucket_name"),
            pos: Some(Pos { line: 2, col: 5 }),
            len: 11,
            message: "unknown key `bucket_name`".into(),
            hint: Some("did you mean `bucket`?".into()),
        };
        let text = Diagnostics::new(FsPath::new("f.yaml"), "x:\n    bucket_name: b\n", vec![d])
            .to_string();
        assert!(text.contains("--> f.yaml:2:5"), "{text}");
        assert!(text.contains("2 |     bucket_name: b"), "{text}");
        assert!(text.contains("  |     ^^^^^^^^^^^\n"), "{text}");
        assert!(text.contains("= hint: did you mean `bucket`?"), "{text}");
        assert!(text.ends_with("1 problem in f.yaml"), "{text}");
    }

    #[test]
    fn suggests_only_close_words() {
        assert_eq!(
            did_you_mean("bucket_name", ["bucket", "prefix"]).as_deref(),
            Some("did you mean `bucket`?")
        );
        assert_eq!(did_you_mean("zzz", ["bucket", "prefix"]), None);
        assert_eq!(
            nearest("bucke", ["prefix", "bucket", "buckets"], 2),
            ["bucket", "buckets"]
        );
    }
}

#[cfg(test)]
mod snippet_tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_long_lines_windowed() {
        assert_eq!(escape("a\u{1b}[31mb\u{0}\tc"), "a\\x1b[31mb\\x00\tc");
        let long = format!("{}X{}", "a".repeat(1000), "b".repeat(1000));
        let (shown, caret) = snippet(&long, 1001);
        assert!(shown.len() < 200, "{}", shown.len());
        assert_eq!(shown.chars().nth(caret), Some('X'));
        let (shown, caret) = snippet("k: \u{1b}x", 5);
        assert_eq!(shown, "k: \\x1bx");
        assert_eq!(shown.chars().nth(caret), Some('x'));
    }
}
