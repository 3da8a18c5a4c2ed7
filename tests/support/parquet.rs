//! Flow-log objects in Apache Parquet, as AWS delivers them with `FileFormat=parquet`: the
//! version-5 default fields as columns named with `_` (`account_id`, `log_status`), typed as
//! AWS documents them for Athena (`version`, ports, `tcp_flags`, `traffic_path` int32;
//! `protocol`, `packets`, `bytes`, `start`, `end` int64; the rest strings), every column
//! optional (a NODATA row's addresses are null), pages compressed with GZIP.
//!
//! The rows are given as the text lines of the same records (`-` for null), so a test can
//! analyze one set of records both ways and compare.

use std::sync::Arc;

use parquet::basic::{Compression, GzipLevel};
use parquet::column::writer::ColumnWriter;
use parquet::data_type::ByteArray;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;

/// The text header of the same fields, in the same order.
pub const V5_FIELDS: &str = "version account-id interface-id srcaddr dstaddr srcport dstport \
     protocol packets bytes start end action log-status vpc-id subnet-id instance-id tcp-flags \
     type pkt-srcaddr pkt-dstaddr region az-id sublocation-type sublocation-id \
     pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path";

const INT32: &[&str] = &["version", "srcport", "dstport", "tcp_flags", "traffic_path"];
const INT64: &[&str] = &["protocol", "packets", "bytes", "start", "end"];

fn columns() -> Vec<String> {
    V5_FIELDS
        .split_whitespace()
        .map(|f| f.replace('-', "_"))
        .collect()
}

/// The Parquet object of `lines` (each the 29 values of [`V5_FIELDS`], `-` for null).
pub fn v5_object(lines: &[String]) -> Vec<u8> {
    let names = columns();
    let message = names
        .iter()
        .map(|n| {
            if INT32.contains(&n.as_str()) {
                format!("optional int32 {n};")
            } else if INT64.contains(&n.as_str()) {
                format!("optional int64 {n};")
            } else {
                format!("optional binary {n} (STRING);")
            }
        })
        .collect::<Vec<_>>()
        .join(" ");
    let schema =
        Arc::new(parse_message_type(&format!("message flow_log {{ {message} }}")).unwrap());
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::GZIP(GzipLevel::default()))
            .build(),
    );
    let rows: Vec<Vec<&str>> = lines
        .iter()
        .map(|l| {
            let v: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(v.len(), names.len(), "{l}");
            v
        })
        .collect();
    let mut writer = SerializedFileWriter::new(Vec::new(), schema, props).unwrap();
    let mut group = writer.next_row_group().unwrap();
    let mut c = 0;
    while let Some(mut column) = group.next_column().unwrap() {
        let values: Vec<&str> = rows.iter().map(|r| r[c]).collect();
        let defs: Vec<i16> = values.iter().map(|v| i16::from(*v != "-")).collect();
        let present = values.iter().filter(|v| **v != "-");
        match column.untyped() {
            ColumnWriter::Int32ColumnWriter(w) => {
                let v: Vec<i32> = present.map(|v| v.parse().unwrap()).collect();
                w.write_batch(&v, Some(&defs), None).unwrap();
            }
            ColumnWriter::Int64ColumnWriter(w) => {
                let v: Vec<i64> = present.map(|v| v.parse().unwrap()).collect();
                w.write_batch(&v, Some(&defs), None).unwrap();
            }
            ColumnWriter::ByteArrayColumnWriter(w) => {
                let v: Vec<ByteArray> = present.map(|v| ByteArray::from(*v)).collect();
                w.write_batch(&v, Some(&defs), None).unwrap();
            }
            _ => unreachable!("only int32, int64 and strings"),
        }
        column.close().unwrap();
        c += 1;
    }
    group.close().unwrap();
    writer.into_inner().unwrap()
}
