//! Text that is safe to show on a terminal, in a table or on an error line: [`Safe`] escapes
//! control characters (C0, DEL, C1, so no escape sequence from a file name, S3 key, log line
//! or AWS message reaches the terminal) and the Unicode bidirectional controls that reorder
//! what is shown; [`SafeLines`] keeps line breaks, for multi-line diagnostics. Everything else, including non-ASCII text, is shown as it is.

use std::fmt::{self, Write};

/// Displays a string with control characters escaped (`\n`, `\t`, `\r`, `\x1b`, `\u{202e}`).
pub struct Safe<'a>(pub &'a str);

/// Like [`Safe`], but line breaks are kept: for diagnostics rendered over several lines.
pub struct SafeLines<'a>(pub &'a str);

impl fmt::Display for Safe<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_escaped(f, self.0, false)
    }
}

impl fmt::Display for SafeLines<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_escaped(f, self.0, true)
    }
}

fn write_escaped(f: &mut fmt::Formatter<'_>, text: &str, keep_lines: bool) -> fmt::Result {
    let escape = |c: char| needs_escape(c) && !(keep_lines && c == '\n');
    let mut rest = text;
    while let Some((i, c)) = rest.char_indices().find(|&(_, c)| escape(c)) {
        f.write_str(&rest[..i])?;
        match c {
            '\n' => f.write_str("\\n")?,
            '\t' => f.write_str("\\t")?,
            '\r' => f.write_str("\\r")?,
            c if (c as u32) < 0x100 => write!(f, "\\x{:02x}", c as u32)?,
            c => write!(f, "\\u{{{:x}}}", c as u32)?,
        }
        rest = &rest[i + c.len_utf8()..];
    }
    f.write_str(rest)
}

/// The escaped text as a `String`.
pub fn safe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let _ = write!(out, "{}", Safe(text));
    out
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_the_rest_kept() {
        assert_eq!(safe("plain/ключ-ü.log"), "plain/ключ-ü.log");
        assert_eq!(
            safe("a\x1b[31mred\x07\n\t\r"),
            "a\\x1b[31mred\\x07\\n\\t\\r"
        );
        assert_eq!(safe("\u{9b}2J\x7f"), "\\x9b2J\\x7f");
        assert_eq!(safe("evil\u{202e}gol.exe"), "evil\\u{202e}gol.exe");
        assert_eq!(safe(""), "");
        assert_eq!(SafeLines("a\x1b\n  | b\r").to_string(), "a\\x1b\n  | b\\r");
    }
}
