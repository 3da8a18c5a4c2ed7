//! [`Schema`]: the field order of a flow log and the precomputed column → field table the
//! decoder walks.
//!
//! A schema comes from an S3 header line (any order, any subset, unknown names kept), from a
//! flow log's declared `LogFormat` (`${version} ${srcaddr} ...`), or is the version 2
//! default. Building one allocates; decoding with it does not.

use std::fmt;
use std::sync::Arc;

use crate::error::SchemaError;
use crate::field::{DEFAULT_V2_FIELDS, FIELD_COUNT, Field, TRANSIT_GATEWAY_ORDER, lookup};

/// The name of a schema column: a known [`Field`] or a name this crate does not know, whose
/// values are passed through as raw text.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum FieldName {
    /// A field in the catalogue.
    Known(Field),
    /// Any other name (for example a field AWS added after this crate was written).
    Unknown(Arc<str>),
}

impl FieldName {
    /// Classifies a name.
    pub fn new(name: &str) -> FieldName {
        match lookup(name) {
            Some(info) => FieldName::Known(info.field),
            None => FieldName::Unknown(Arc::from(name)),
        }
    }

    /// The name as written.
    pub fn as_str(&self) -> &str {
        match self {
            FieldName::Known(field) => field.name(),
            FieldName::Unknown(name) => name,
        }
    }

    /// The known field, if it is one.
    pub fn field(&self) -> Option<Field> {
        match self {
            FieldName::Known(field) => Some(*field),
            FieldName::Unknown(_) => None,
        }
    }
}

impl fmt::Display for FieldName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The ordered fields of a flow log, with the lookup tables decoding needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schema {
    columns: Box<[FieldName]>,
    /// Hot-loop table: the known field of each column, `None` for an unknown name.
    pub(crate) slots: Box<[Option<Field>]>,
    /// Column index of each known field.
    positions: [Option<u32>; FIELD_COUNT],
}

impl Schema {
    /// The version 2 default format: `version account-id interface-id srcaddr dstaddr
    /// srcport dstport protocol packets bytes start end action log-status`.
    pub fn default_v2() -> Schema {
        Self::build(DEFAULT_V2_FIELDS.iter().map(|f| FieldName::Known(*f)))
            .unwrap_or_else(|_| unreachable!("the default format is valid"))
    }

    /// Every Transit Gateway flow log field, in the order AWS documents them (the format a
    /// Transit Gateway flow log gets when none is given).
    pub fn transit_gateway_default() -> Schema {
        Self::build(TRANSIT_GATEWAY_ORDER.iter().map(|f| FieldName::Known(*f)))
            .unwrap_or_else(|_| unreachable!("the transit gateway format is valid"))
    }

    /// A schema of known fields in the given order.
    pub fn from_fields(fields: &[Field]) -> Result<Schema, SchemaError> {
        Self::build(fields.iter().map(|f| FieldName::Known(*f)))
    }

    /// From the header line of an S3 text flow log file: field names separated by spaces,
    /// in any order, any subset; names this crate does not know become raw-text columns.
    /// A trailing `\r`/`\n` and a leading byte-order mark are ignored.
    pub fn from_header(line: &str) -> Result<Schema, SchemaError> {
        let line = line.strip_prefix('\u{feff}').unwrap_or(line);
        Self::from_names(line.split_ascii_whitespace())
    }

    /// From field names in column order.
    pub fn from_names<'n>(names: impl IntoIterator<Item = &'n str>) -> Result<Schema, SchemaError> {
        let mut columns = Vec::new();
        for (i, name) in names.into_iter().enumerate() {
            if !is_field_name(name) {
                return Err(SchemaError::InvalidName {
                    column: i + 1,
                    name: name.to_owned(),
                });
            }
            columns.push(FieldName::new(name));
        }
        Self::build(columns)
    }

    /// From a flow log's `LogFormat` as AWS returns it: `${field-name}` tokens separated by
    /// whitespace. Unknown names are kept as raw-text columns.
    pub fn from_log_format(format: &str) -> Result<Schema, SchemaError> {
        let bytes = format.as_bytes();
        let mut names = Vec::new();
        let mut i = 0;
        loop {
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            if i == bytes.len() {
                break;
            }
            if !format[i..].starts_with("${") {
                return Err(SchemaError::LogFormat {
                    offset: i,
                    reason: "expected `${field-name}`",
                });
            }
            let Some(len) = format[i + 2..].find('}') else {
                return Err(SchemaError::LogFormat {
                    offset: i,
                    reason: "`${` is not closed by `}`",
                });
            };
            names.push(&format[i + 2..i + 2 + len]);
            i += 2 + len + 1;
            if i < bytes.len() && !bytes[i].is_ascii_whitespace() {
                return Err(SchemaError::LogFormat {
                    offset: i,
                    reason: "`${field-name}` tokens must be separated by spaces",
                });
            }
        }
        Self::from_names(names)
    }

    fn build(columns: impl IntoIterator<Item = FieldName>) -> Result<Schema, SchemaError> {
        let columns: Box<[FieldName]> = columns.into_iter().collect();
        if columns.is_empty() {
            return Err(SchemaError::Empty);
        }
        let mut positions = [None; FIELD_COUNT];
        for (i, column) in columns.iter().enumerate() {
            let first = match column {
                FieldName::Known(field) => positions[*field as usize].replace(i as u32),
                FieldName::Unknown(name) => columns[..i]
                    .iter()
                    .position(|c| c.as_str() == &**name)
                    .map(|p| p as u32),
            };
            if let Some(first) = first {
                return Err(SchemaError::Duplicate {
                    name: column.as_str().to_owned(),
                    first: first as usize + 1,
                    second: i + 1,
                });
            }
        }
        let slots = columns.iter().map(FieldName::field).collect();
        Ok(Schema {
            columns,
            slots,
            positions,
        })
    }

    /// Number of columns.
    pub fn len(&self) -> usize {
        self.columns.len()
    }

    /// Always `false`: a schema has at least one column.
    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }

    /// The columns in order.
    pub fn columns(&self) -> &[FieldName] {
        &self.columns
    }

    /// 0-based column of a known field.
    pub fn column_of(&self, field: Field) -> Option<usize> {
        self.positions[field as usize].map(|p| p as usize)
    }

    /// Whether the schema has this field.
    pub fn contains(&self, field: Field) -> bool {
        self.positions[field as usize].is_some()
    }

    /// 0-based column and name of every column whose name is not a known field.
    pub fn unknown_columns(&self) -> impl Iterator<Item = (usize, &str)> {
        self.columns
            .iter()
            .enumerate()
            .filter(|(_, c)| c.field().is_none())
            .map(|(i, c)| (i, c.as_str()))
    }

    /// Whether this is the version 2 default format.
    pub fn is_default_v2(&self) -> bool {
        self.slots.iter().copied().eq(DEFAULT_V2_FIELDS.map(Some))
    }

    /// The flow log version AWS writes for this format: the highest version among its known
    /// fields (2 at least).
    pub fn implied_version(&self) -> u8 {
        self.slots
            .iter()
            .flatten()
            .map(|f| f.info().version)
            .fold(2, u8::max)
    }

    /// As an S3 header line (`version account-id ...`).
    pub fn header(&self) -> String {
        self.to_string()
    }

    /// As a `LogFormat` string (`${version} ${account-id} ...`).
    pub fn log_format(&self) -> String {
        let mut out = String::new();
        for (i, c) in self.columns.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            out.push_str("${");
            out.push_str(c.as_str());
            out.push('}');
        }
        out
    }
}

impl Default for Schema {
    /// The version 2 default format.
    fn default() -> Schema {
        Schema::default_v2()
    }
}

impl fmt::Display for Schema {
    /// The S3 header line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, c) in self.columns.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(c.as_str())?;
        }
        Ok(())
    }
}

/// `[a-z][a-z0-9_-]*`: what AWS field names look like. Rejecting anything else catches a
/// record line passed where a header was expected.
fn is_field_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_lowercase())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    const V2: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status";

    #[test]
    fn default_header_and_log_format_agree() {
        let d = Schema::default();
        assert!(d.is_default_v2());
        assert_eq!(d.header(), V2);
        assert_eq!(Schema::from_header(V2).unwrap(), d);
        assert_eq!(Schema::from_log_format(&d.log_format()).unwrap(), d);
        assert_eq!(d.implied_version(), 2);
        assert_eq!(d.column_of(Field::Srcaddr), Some(3));
        assert!(!d.contains(Field::VpcId));
    }

    #[test]
    fn header_in_any_order_with_unknown_names() {
        let s = Schema::from_header("srcaddr future-field version\r\n").unwrap();
        assert_eq!(s.len(), 3);
        assert_eq!(s.column_of(Field::Version), Some(2));
        assert_eq!(
            s.unknown_columns().collect::<Vec<_>>(),
            [(1, "future-field")]
        );
        assert!(!s.is_default_v2());
    }

    #[test]
    fn log_format_parsing() {
        let s = Schema::from_log_format("${version}  ${vpc-id}\t${reject-reason} ").unwrap();
        assert_eq!(s.header(), "version vpc-id reject-reason");
        assert_eq!(s.implied_version(), 8);
        assert!(matches!(
            Schema::from_log_format("${version} srcaddr"),
            Err(SchemaError::LogFormat { offset: 11, .. })
        ));
        assert!(matches!(
            Schema::from_log_format("${version"),
            Err(SchemaError::LogFormat { offset: 0, .. })
        ));
        assert!(matches!(
            Schema::from_log_format("${version}${srcaddr}"),
            Err(SchemaError::LogFormat { offset: 10, .. })
        ));
        assert!(matches!(
            Schema::from_log_format("${}"),
            Err(SchemaError::InvalidName { column: 1, .. })
        ));
    }

    #[test]
    fn rejects_empty_duplicate_and_record_lines() {
        assert_eq!(Schema::from_header("  \n"), Err(SchemaError::Empty));
        assert_eq!(
            Schema::from_header("srcaddr dstaddr srcaddr"),
            Err(SchemaError::Duplicate {
                name: "srcaddr".into(),
                first: 1,
                second: 3
            })
        );
        assert!(matches!(
            Schema::from_header("x-new y x-new"),
            Err(SchemaError::Duplicate {
                first: 1,
                second: 3,
                ..
            })
        ));
        assert!(matches!(
            Schema::from_header("2 123456789010 eni-1 10.0.0.1"),
            Err(SchemaError::InvalidName { column: 1, .. })
        ));
    }

    #[test]
    fn transit_gateway_default_is_version_6() {
        let s = Schema::transit_gateway_default();
        assert_eq!(s.len(), 36);
        assert_eq!(s.implied_version(), 6);
        assert!(!s.contains(Field::Action));
    }
}
