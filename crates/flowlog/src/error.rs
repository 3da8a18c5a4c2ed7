//! Error values: [`DecodeError`] for a record line that does not match its schema (which
//! column, which field, why, and the offending text) and [`SchemaError`] for a header line or
//! log format that cannot describe records.
//!
//! Decode errors are plain values: building one never allocates (the offending text is kept
//! in a small inline buffer), so callers can count malformed lines cheaply and only render
//! the ones they report.

use std::fmt;

use crate::field::Field;
use crate::schema::FieldName;

/// Why a line failed to decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeErrorKind {
    /// The line has fewer space-separated values than the schema has fields.
    TooFewFields {
        /// Fields in the schema.
        expected: usize,
        /// Values in the line.
        found: usize,
    },
    /// The line has more space-separated values than the schema has fields.
    TooManyFields {
        /// Fields in the schema.
        expected: usize,
        /// Values in the line.
        found: usize,
    },
    /// An empty value (two spaces in a row, or a leading or trailing space). AWS writes
    /// absent values as `-`.
    EmptyValue,
    /// Not a decimal unsigned integer.
    InvalidNumber,
    /// A decimal integer too large for the field.
    NumberOutOfRange {
        /// Largest value the field takes.
        max: u64,
    },
    /// A timestamp with more than 13 digits.
    InvalidTimestamp,
    /// Not an IPv4 or IPv6 address.
    InvalidIp,
    /// Not one of the values the field takes.
    InvalidValue {
        /// What the field takes, e.g. `"ACCEPT or REJECT"`.
        expected: &'static str,
    },
    /// A value that is not UTF-8 text (reported by [`DecodePlan`](crate::DecodePlan), which
    /// checks only the values it reads).
    NotText,
}

impl DecodeErrorKind {
    /// Whether the line had the wrong number of values (as opposed to a bad value).
    pub fn is_field_count(self) -> bool {
        matches!(
            self,
            DecodeErrorKind::TooFewFields { .. } | DecodeErrorKind::TooManyFields { .. }
        )
    }
}

/// Longest prefix of the offending text kept in a [`DecodeError`].
const SNIPPET_MAX: usize = 40;

/// The offending text, truncated, stored inline.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Snippet {
    bytes: [u8; SNIPPET_MAX],
    len: u8,
    truncated: bool,
}

impl Snippet {
    fn new(text: &str) -> Snippet {
        let mut len = text.len().min(SNIPPET_MAX);
        while !text.is_char_boundary(len) {
            len -= 1;
        }
        let mut bytes = [0; SNIPPET_MAX];
        bytes[..len].copy_from_slice(&text.as_bytes()[..len]);
        Snippet {
            bytes,
            len: len as u8,
            truncated: len < text.len(),
        }
    }

    fn as_str(&self) -> &str {
        // Always a prefix of a `&str` cut at a char boundary.
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or_default()
    }
}

impl fmt::Debug for Snippet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())?;
        if self.truncated {
            f.write_str("…")?;
        }
        Ok(())
    }
}

/// A record line that does not decode against its schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    kind: DecodeErrorKind,
    column: usize,
    field: Option<FieldName>,
    value: Snippet,
}

impl DecodeError {
    pub(crate) fn new(
        kind: DecodeErrorKind,
        column: usize,
        field: Option<FieldName>,
        value: &str,
    ) -> DecodeError {
        DecodeError {
            kind,
            column,
            field,
            value: Snippet::new(value),
        }
    }

    /// Why the line failed.
    pub fn kind(&self) -> DecodeErrorKind {
        self.kind
    }

    /// 1-based column of the offending value. For [`TooFewFields`](DecodeErrorKind::TooFewFields)
    /// the first missing column; for [`TooManyFields`](DecodeErrorKind::TooManyFields) the
    /// first surplus one.
    pub fn column(&self) -> usize {
        self.column
    }

    /// Name of the field at [`column`](Self::column) (`None` for a surplus value).
    pub fn field_name(&self) -> Option<&str> {
        self.field.as_ref().map(FieldName::as_str)
    }

    /// The known field at [`column`](Self::column), if it is one.
    pub fn field(&self) -> Option<Field> {
        self.field.as_ref().and_then(FieldName::field)
    }

    /// The offending text (at most 40 bytes of it; empty for a missing value).
    pub fn value(&self) -> &str {
        self.value.as_str()
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use DecodeErrorKind as K;
        let field = self.field_name().unwrap_or("?");
        let value = &self.value;
        match self.kind {
            K::TooFewFields { expected, found } => write!(
                f,
                "expected {expected} fields, found {found} (column {} `{field}` is missing)",
                self.column
            ),
            K::TooManyFields { expected, found } => write!(
                f,
                "expected {expected} fields, found {found} (surplus value {value:?} in column {})",
                self.column
            ),
            K::EmptyValue => write!(
                f,
                "column {} `{field}`: empty value (values are separated by one space; absent is `-`)",
                self.column
            ),
            K::InvalidNumber => write!(
                f,
                "column {} `{field}`: {value:?} is not a decimal number",
                self.column
            ),
            K::NumberOutOfRange { max } => write!(
                f,
                "column {} `{field}`: {value:?} is out of range (max {max})",
                self.column
            ),
            K::InvalidTimestamp => write!(
                f,
                "column {} `{field}`: {value:?} is not {}",
                self.column,
                crate::Timestamp::EXPECTED
            ),
            K::NotText => write!(f, "column {} `{field}`: not UTF-8 text", self.column),
            K::InvalidIp => write!(
                f,
                "column {} `{field}`: {value:?} is not an IPv4 or IPv6 address",
                self.column
            ),
            K::InvalidValue { expected } => write!(
                f,
                "column {} `{field}`: {value:?} is not {expected}",
                self.column
            ),
        }
    }
}

impl std::error::Error for DecodeError {}

/// A header line or log format that cannot be used as a [`Schema`](crate::Schema).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SchemaError {
    /// No field names at all.
    Empty,
    /// A name that is not a field name (`[a-z][a-z0-9_-]*`); usually a record line passed
    /// where a header was expected.
    InvalidName {
        /// 1-based column.
        column: usize,
        /// The offending name.
        name: String,
    },
    /// The same field twice.
    Duplicate {
        /// The field name.
        name: String,
        /// 1-based column of its first occurrence.
        first: usize,
        /// 1-based column of the repeat.
        second: usize,
    },
    /// A log format string that is not a space-separated list of `${field-name}`.
    LogFormat {
        /// Byte offset of the problem in the format string.
        offset: usize,
        /// What is wrong.
        reason: &'static str,
    },
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SchemaError::Empty => f.write_str("no field names"),
            SchemaError::InvalidName { column, name } => {
                write!(f, "column {column}: {name:?} is not a field name")
            }
            SchemaError::Duplicate {
                name,
                first,
                second,
            } => write!(
                f,
                "field `{name}` appears twice (columns {first} and {second})"
            ),
            SchemaError::LogFormat { offset, reason } => {
                write!(f, "log format, byte {offset}: {reason}")
            }
        }
    }
}

impl std::error::Error for SchemaError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippet_truncates_at_char_boundary() {
        let long = "é".repeat(30); // 60 bytes
        let e = DecodeError::new(DecodeErrorKind::InvalidIp, 4, None, &long);
        assert_eq!(e.value(), "é".repeat(20));
        assert!(format!("{e:?}").contains('…'));
        let short = DecodeError::new(DecodeErrorKind::InvalidIp, 4, None, "1.2.3");
        assert_eq!(short.value(), "1.2.3");
    }
}
