//! [`S3TextFile`]: the text of a (decompressed) S3 flow log object, a header line naming the
//! fields followed by one record per line, split into its schema and record lines.

use crate::error::{DecodeError, SchemaError};
use crate::record::FlowRecord;
use crate::schema::Schema;

/// The text of an S3 flow log file (already decompressed): a header line naming the fields,
/// then one record per line. The last line may or may not end in a newline; `\r\n` endings
/// are accepted. Blank lines are not skipped: they decode as malformed.
#[derive(Clone, Debug)]
pub struct S3TextFile<'a> {
    schema: Schema,
    body: &'a str,
}

impl<'a> S3TextFile<'a> {
    /// Reads the header line; fails if it is not a list of field names.
    pub fn parse(text: &'a str) -> Result<S3TextFile<'a>, SchemaError> {
        let (header, body) = text.split_once('\n').unwrap_or((text, ""));
        Ok(S3TextFile {
            schema: Schema::from_header(header)?,
            body,
        })
    }

    /// The schema from the header line.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The record lines with their 1-based line numbers in the file (the header is line 1).
    pub fn lines(&self) -> impl Iterator<Item = (usize, &'a str)> + use<'a> {
        self.body.lines().enumerate().map(|(i, line)| (i + 2, line))
    }

    /// Every record line decoded, with its 1-based line number in the file.
    pub fn records(
        &self,
    ) -> impl Iterator<Item = (usize, Result<FlowRecord<'a>, DecodeError>)> + '_ {
        self.lines()
            .map(|(number, line)| (number, self.schema.decode(line)))
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::*;
    use crate::DecodeErrorKind;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn s3_text_file() {
        let text = "version srcaddr future\n2 10.0.0.1 x\r\n2 bogus y\n2 10.0.0.2 z";
        let f = S3TextFile::parse(text).unwrap();
        assert_eq!(f.schema().len(), 3);
        let got: Vec<_> = f
            .records()
            .map(|(n, r)| (n, r.map(|r| r.srcaddr)))
            .collect();
        assert_eq!(got[0], (2, Ok(Some(ip("10.0.0.1")))));
        assert_eq!(got[1].0, 3);
        assert_eq!(
            got[1].1.as_ref().unwrap_err().kind(),
            DecodeErrorKind::InvalidIp
        );
        assert_eq!(got[2], (4, Ok(Some(ip("10.0.0.2")))));
        assert_eq!(S3TextFile::parse("version\n").unwrap().records().count(), 0);
        assert!(S3TextFile::parse("2 123 eni-1\n").is_err());
    }
}
