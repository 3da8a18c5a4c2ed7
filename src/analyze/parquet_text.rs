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
//! and read column by column through the `parquet` crate's typed column readers, 4,096 rows
//! at a time (its row reader, which builds a named value per cell, took 4.6 times as long:
//! ~6.0 against ~1.3 µs a row of v5, release build).

use std::io::{self, Read, Write};

use bytes::Bytes;
use flowlog::Schema;
use parquet::basic::{LogicalType, TimeUnit};
use parquet::column::reader::ColumnReader;
use parquet::data_type::ByteArray;
use parquet::file::reader::{FileReader, SerializedFileReader};

/// The magic bytes a Parquet file starts (and ends) with.
pub const MAGIC: &[u8; 4] = b"PAR1";

/// The largest Parquet object read: AWS's are a few MB (its text objects are at most ~75 MB
/// inflated and Parquet is smaller than their gzip); a larger one is refused, not buffered.
pub const MAX_OBJECT_BYTES: usize = 512 << 20;

/// Rows rendered per refill of the text.
const ROWS_PER_FILL: usize = 4096;

pub fn is_parquet(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

/// A Parquet object as flow-log text, read a batch of rows at a time: every column's next
/// values are decoded (one typed reader per column of the current row group) and the rows
/// written from them.
pub struct ParquetText {
    file: SerializedFileReader<Bytes>,
    /// The next row group to open.
    group: usize,
    columns: Vec<Column>,
    /// Rows of the current row group not yet rendered.
    left: usize,
    /// Rows rendered so far.
    row: u64,
    cells: Vec<Cells>,
    defs: Vec<i16>,
    text: Vec<u8>,
    at: usize,
}

struct Column {
    reader: ColumnReader,
    /// Divides an integer timestamp into seconds (1 when the column is no timestamp).
    per_second: i64,
    /// Below it, a value is null (0: the column is required).
    max_def: i16,
}

/// One column's values of a batch, as text: the bytes and where each row's value ends.
#[derive(Default)]
struct Cells {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

/// Opens a Parquet object held in memory: its schema (the columns as field names) and a
/// reader of its rows as lines. Err says why it is not a flow log that can be read
/// (damaged, or no column is a flow-log field).
pub fn open(bytes: Bytes) -> Result<(Schema, ParquetText), String> {
    let file = SerializedFileReader::new(bytes)
        .map_err(|e| format!("a Parquet object that cannot be read: {e}"))?;
    let names: Vec<String> = file
        .metadata()
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .map(|c| c.name().replace('_', "-"))
        .collect();
    let header = names.join(" ");
    // The columns are a header line's field names: the same rule as a text header's.
    let schema = super::reader::header_schema(&header).ok_or_else(|| {
        format!(
            "a Parquet object whose columns are not flow-log fields ({}): not a flow log",
            shorten(&header)
        )
    })?;
    let text = ParquetText {
        file,
        group: 0,
        columns: Vec::new(),
        left: 0,
        row: 0,
        cells: names.iter().map(|_| Cells::default()).collect(),
        defs: Vec::new(),
        text: Vec::new(),
        at: 0,
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
    /// Opens the next row group that has rows; false when none is left.
    fn next_group(&mut self) -> io::Result<bool> {
        while self.left == 0 {
            if self.group == self.file.num_row_groups() {
                return Ok(false);
            }
            let group = self
                .file
                .get_row_group(self.group)
                .map_err(io::Error::other)?;
            self.group += 1;
            let schema = self.file.metadata().file_metadata().schema_descr();
            self.columns = (0..group.num_columns())
                .map(|i| {
                    let c = schema.column(i);
                    let per_second = match c.logical_type_ref() {
                        Some(LogicalType::Timestamp(t)) => match t.unit {
                            TimeUnit::MILLIS => 1_000,
                            TimeUnit::MICROS => 1_000_000,
                            TimeUnit::NANOS => 1_000_000_000,
                        },
                        _ => 1,
                    };
                    Ok(Column {
                        reader: group.get_column_reader(i).map_err(io::Error::other)?,
                        per_second,
                        max_def: c.max_def_level(),
                    })
                })
                .collect::<io::Result<_>>()?;
            self.left = usize::try_from(group.metadata().num_rows()).unwrap_or(0);
        }
        Ok(true)
    }

    /// Renders the next rows into `text`; false at the end.
    fn fill(&mut self) -> io::Result<bool> {
        self.text.clear();
        self.at = 0;
        if !self.next_group()? {
            return Ok(false);
        }
        let n = self.left.min(ROWS_PER_FILL);
        for (column, cells) in self.columns.iter_mut().zip(&mut self.cells) {
            cells.bytes.clear();
            cells.ends.clear();
            read_cells(column, n, &mut self.defs, cells).map_err(|e| {
                io::Error::other(format!(
                    "Parquet rows {}-{} cannot be read: {e} (the rows before them were read)",
                    self.row + 1,
                    self.row + n as u64
                ))
            })?;
        }
        for r in 0..n {
            for (j, cells) in self.cells.iter().enumerate() {
                if j > 0 {
                    self.text.push(b' ');
                }
                let start = if r == 0 { 0 } else { cells.ends[r - 1] };
                self.text
                    .extend_from_slice(&cells.bytes[start..cells.ends[r]]);
            }
            self.text.push(b'\n');
        }
        self.left -= n;
        self.row += n as u64;
        Ok(true)
    }
}

/// Reads `n` rows of one column, each value as the text format writes it (numbers in
/// decimal, timestamps in seconds, text as stored, null or empty as `-`) into `cells`.
fn read_cells(
    column: &mut Column,
    n: usize,
    defs: &mut Vec<i16>,
    cells: &mut Cells,
) -> Result<(), String> {
    macro_rules! typed {
        ($reader:expr, $values:expr, $push:expr) => {{
            let mut values = $values;
            defs.clear();
            let mut records = 0;
            while records < n {
                let (got, _, _) = $reader
                    .read_records(n - records, Some(defs), None, &mut values)
                    .map_err(|e| e.to_string())?;
                if got == 0 {
                    return Err(format!("the column chunk ends after {records} of {n} rows"));
                }
                records += got;
            }
            let mut next = values.iter();
            for i in 0..n {
                let present = column.max_def == 0 || defs.get(i) == Some(&column.max_def);
                match if present { next.next() } else { None } {
                    Some(v) => $push(&mut cells.bytes, v),
                    None => cells.bytes.push(b'-'),
                }
                cells.ends.push(cells.bytes.len());
            }
        }};
    }
    let per_second = column.per_second;
    let number = |b: &mut Vec<u8>, v: i64| {
        let _ = write!(b, "{}", v.div_euclid(per_second));
    };
    match &mut column.reader {
        ColumnReader::Int32ColumnReader(r) => {
            typed!(r, Vec::<i32>::new(), |b: &mut Vec<u8>, v: &i32| number(
                b,
                i64::from(*v)
            ))
        }
        ColumnReader::Int64ColumnReader(r) => {
            typed!(r, Vec::<i64>::new(), |b: &mut Vec<u8>, v: &i64| number(
                b, *v
            ))
        }
        ColumnReader::ByteArrayColumnReader(r) => {
            typed!(
                r,
                Vec::<ByteArray>::new(),
                |b: &mut Vec<u8>, v: &ByteArray| {
                    match v.data() {
                        [] => b.push(b'-'),
                        data => b.extend_from_slice(data),
                    }
                }
            )
        }
        ColumnReader::BoolColumnReader(r) => {
            typed!(r, Vec::<bool>::new(), |b: &mut Vec<u8>, v: &bool| {
                let _ = write!(b, "{v}");
            })
        }
        ColumnReader::FloatColumnReader(r) => {
            typed!(r, Vec::<f32>::new(), |b: &mut Vec<u8>, v: &f32| {
                let _ = write!(b, "{v}");
            })
        }
        ColumnReader::DoubleColumnReader(r) => {
            typed!(r, Vec::<f64>::new(), |b: &mut Vec<u8>, v: &f64| {
                let _ = write!(b, "{v}");
            })
        }
        _ => {
            return Err(
                "a column of a Parquet type no flow-log field has (INT96 or fixed-length bytes)"
                    .into(),
            );
        }
    }
    Ok(())
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
