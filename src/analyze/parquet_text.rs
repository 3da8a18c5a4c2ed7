//! Flow logs delivered as Apache Parquet (`file-format: parquet`; objects
//! `….log.parquet`, told apart by their `PAR1` magic): each row becomes the text line the
//! decoder reads, so a Parquet object is decoded, checked and reported exactly as a text one.
//!
//! Owns only the translation. The columns are AWS's field names with `_` for `-`
//! (`log_status`, `pkt_srcaddr`), in the object's own order; their schema is handed to the
//! reader as the object's declared format, so line *n* of a Parquet object is its row *n*
//! (there is no header line). A null is `-`, as in text. Values are written as they are
//! stored; one with a space in it makes that line malformed, like any bad text line.
//!
//! The object is held whole (a Parquet footer is at its end) up to [`MAX_OBJECT_BYTES`],
//! and read row group by row group through the `parquet` crate's row reader.

use std::io::{self, Read};

use bytes::Bytes;
use flowlog::Schema;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::{Field, reader::RowIter};

/// The magic bytes a Parquet file starts (and ends) with.
pub const MAGIC: &[u8; 4] = b"PAR1";

/// The largest Parquet object read: AWS's are a few MB (its text objects are at most ~75 MB
/// inflated and Parquet is smaller than their gzip); a larger one is refused, not buffered.
pub const MAX_OBJECT_BYTES: usize = 512 << 20;

/// Lines rendered per refill of the text.
const ROWS_PER_FILL: usize = 4096;

pub fn is_parquet(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

/// A Parquet object as flow-log text: its schema (the columns as field names) and a reader
/// of its rows as lines.
pub struct ParquetText {
    rows: RowIter<'static>,
    text: Vec<u8>,
    at: usize,
    row: u64,
}

/// Opens a Parquet object held in memory. Err says why it is not a flow log that can be
/// read (damaged, or no column is a flow-log field).
pub fn open(bytes: Bytes) -> Result<(Schema, ParquetText), String> {
    let reader = SerializedFileReader::new(bytes)
        .map_err(|e| format!("a Parquet object that cannot be read: {e}"))?;
    let names: Vec<String> = reader
        .metadata()
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .map(|c| c.name().replace('_', "-"))
        .collect();
    let header = names.join(" ");
    let schema = Schema::from_header(&header)
        .ok()
        .filter(|s| s.len() > s.unknown_columns().count())
        .ok_or_else(|| {
            format!(
                "a Parquet object whose columns are not flow-log fields ({}): not a flow log",
                shorten(&header)
            )
        })?;
    let rows = RowIter::from_file_into(Box::new(reader));
    let text = ParquetText {
        rows,
        text: Vec::new(),
        at: 0,
        row: 0,
    };
    Ok((schema, text))
}

/// Reads a Parquet object from a stream that started with [`MAGIC`] (`magic` is what was
/// already read of it), whole, up to [`MAX_OBJECT_BYTES`].
pub fn read_whole(magic: Vec<u8>, input: impl Read) -> Result<Bytes, String> {
    read_at_most(magic, input, MAX_OBJECT_BYTES)
}

fn read_at_most(magic: Vec<u8>, input: impl Read, max: usize) -> Result<Bytes, String> {
    let mut bytes = magic;
    let limit = (max + 1).saturating_sub(bytes.len()) as u64;
    input
        .take(limit)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("unreadable: {e}"))?;
    if bytes.len() > max {
        return Err(format!(
            "a Parquet object over {} bytes: not read (AWS writes much smaller ones)",
            max
        ));
    }
    Ok(Bytes::from(bytes))
}

impl ParquetText {
    /// Renders the next rows into `text`; false at the end.
    fn fill(&mut self) -> io::Result<bool> {
        self.text.clear();
        self.at = 0;
        for _ in 0..ROWS_PER_FILL {
            let Some(row) = self.rows.next() else {
                break;
            };
            self.row += 1;
            let row = row.map_err(|e| {
                io::Error::other(format!(
                    "Parquet row {} cannot be read: {e} (the rows before it were read)",
                    self.row
                ))
            })?;
            for (i, (_, field)) in row.get_column_iter().enumerate() {
                if i > 0 {
                    self.text.push(b' ');
                }
                push_value(&mut self.text, field);
            }
            self.text.push(b'\n');
        }
        Ok(!self.text.is_empty())
    }
}

impl Read for ParquetText {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.at == self.text.len() && !self.fill()? {
            return Ok(0);
        }
        let n = out.len().min(self.text.len() - self.at);
        out[..n].copy_from_slice(&self.text[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// One value as the text format writes it: numbers in decimal, text as stored, null as `-`.
fn push_value(out: &mut Vec<u8>, field: &Field) {
    use std::io::Write;
    let _ = match field {
        Field::Null => write!(out, "-"),
        Field::Str(s) if s.is_empty() => write!(out, "-"),
        Field::Str(s) => write!(out, "{s}"),
        Field::Bytes(b) if b.data().is_empty() => write!(out, "-"),
        Field::Bytes(b) => out.write_all(b.data()),
        Field::Bool(b) => write!(out, "{b}"),
        Field::Byte(n) => write!(out, "{n}"),
        Field::Short(n) => write!(out, "{n}"),
        Field::Int(n) => write!(out, "{n}"),
        Field::Long(n) => write!(out, "{n}"),
        Field::UByte(n) => write!(out, "{n}"),
        Field::UShort(n) => write!(out, "{n}"),
        Field::UInt(n) => write!(out, "{n}"),
        Field::ULong(n) => write!(out, "{n}"),
        // Seconds, as the text format's `start` and `end` are.
        Field::TimestampMillis(ms) => write!(out, "{}", ms.div_euclid(1000)),
        Field::TimestampMicros(us) => write!(out, "{}", us.div_euclid(1_000_000)),
        // No flow-log field has these types: written as shown, the decoder judges them.
        other => write!(out, "{}", other.to_string().replace(' ', "_")),
    };
}

fn shorten(text: &str) -> String {
    const MAX: usize = 120;
    match text.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_non_parquet_object_is_refused_with_why() {
        let err = open(Bytes::from_static(b"PAR1 not really")).err().unwrap();
        assert!(
            err.starts_with("a Parquet object that cannot be read"),
            "{err}"
        );
    }

    #[test]
    fn an_object_over_the_limit_is_refused_not_buffered() {
        let input = io::repeat(0).take(100);
        let err = read_at_most(MAGIC.to_vec(), input, 64).err().unwrap();
        assert!(err.contains("over 64 bytes"), "{err}");
        let small = read_at_most(MAGIC.to_vec(), &b"rest"[..], 8).unwrap();
        assert_eq!(&small[..], b"PAR1rest");
    }
}
