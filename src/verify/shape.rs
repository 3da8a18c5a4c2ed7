//! Rung 5, shape: the newest object's header line (gunzipped from its first bytes) names the
//! flow log's `LogFormat` fields in order; a Parquet object is recognised by its `PAR1` magic
//! and not parsed; a CloudWatch event has as many fields as the format.

use std::io::Read;

use super::check::{self, SHAPE};
use super::facts::{Read as Fact, Subject};
use super::report::Check;
use crate::model::delivery::EventMeta;
use crate::model::{FileFormat, LogFormat};

/// The most header bytes inflated from an object's start.
const MAX_HEADER: usize = 16 * 1024;

/// What an object's first bytes are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ObjectStart {
    Parquet,
    /// A gzip text object and its first line.
    Text(String),
    Unreadable(String),
}

/// Tells Parquet from gzip and inflates the first line (a truncated stream is fine as long as
/// the line ends within it).
pub fn classify(bytes: &[u8]) -> ObjectStart {
    if bytes.starts_with(b"PAR1") {
        return ObjectStart::Parquet;
    }
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return ObjectStart::Unreadable("neither gzip nor Parquet".into());
    }
    let mut out = Vec::new();
    let mut dec = flate2::read::MultiGzDecoder::new(bytes);
    let mut buf = [0u8; 4096];
    while out.len() < MAX_HEADER && !out.contains(&b'\n') {
        match dec.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if out.is_empty() => return ObjectStart::Unreadable(format!("gzip: {e}")),
            Err(_) => break,
        }
    }
    match out.iter().position(|b| *b == b'\n') {
        Some(end) => ObjectStart::Text(String::from_utf8_lossy(&out[..end]).trim_end().to_string()),
        None if out.len() < MAX_HEADER && !out.is_empty() => {
            ObjectStart::Text(String::from_utf8_lossy(&out).trim_end().to_string())
        }
        None => ObjectStart::Unreadable("no header line in the object's first bytes".into()),
    }
}

fn format_text(f: &LogFormat) -> String {
    f.fields().join(" ")
}

pub fn s3(s: &Subject, parquet_expected: bool, start: Option<Fact<&Vec<u8>>>, key: &str) -> Check {
    let start = match start {
        None => return check::not_applicable(SHAPE, "no object of this flow log to read"),
        Some(Err(e)) => return check::unreadable(SHAPE, &format!("object {key}"), &e),
        Some(Ok(b)) => b,
    };
    let format = &s.flow_log.settings.log_format;
    let replace = "flow logs cannot be changed: compare with the object's writer, or replace the flow log (`flowkeeper apply` does when its config entry says otherwise)";
    match (classify(start), parquet_expected) {
        (ObjectStart::Parquet, true) => check::ok(
            SHAPE,
            format!("{key} is Parquet (PAR1), as the flow log's file format says; not parsed"),
        ),
        (ObjectStart::Parquet, false) => check::failed(
            SHAPE,
            format!(
                "{key} is Parquet, but the flow log's file format is {}",
                FileFormat::PlainText.api_name()
            ),
            replace,
        ),
        (ObjectStart::Text(_), true) => check::failed(
            SHAPE,
            format!("{key} is gzip text, but the flow log's file format is parquet"),
            replace,
        ),
        (ObjectStart::Text(header), false) => {
            let got: Vec<&str> = header.split_whitespace().collect();
            let want: Vec<&str> = format.fields().iter().map(String::as_str).collect();
            if got == want {
                check::ok(
                    SHAPE,
                    format!(
                        "the header of {key} matches the LogFormat ({} fields)",
                        want.len()
                    ),
                )
            } else {
                check::failed(
                    SHAPE,
                    format!(
                        "the header of {key} is `{}`, but the flow log's LogFormat is `{}`",
                        crate::output::safe(&header),
                        format_text(format)
                    ),
                    replace,
                )
            }
        }
        (ObjectStart::Unreadable(why), _) => check::failed(
            SHAPE,
            format!("{key}: {why}"),
            "check what writes to this prefix: AWS writes gzip text or Parquet objects",
        ),
    }
}

pub fn cwl(s: &Subject, events: Option<Fact<&Vec<EventMeta>>>, stream: &str) -> Check {
    let events = match events {
        None => return check::not_applicable(SHAPE, "no event of this flow log to read"),
        Some(Err(e)) => return check::unreadable(SHAPE, &format!("stream {stream}"), &e),
        Some(Ok(e)) => e,
    };
    let Some(event) = events.iter().max_by_key(|e| e.timestamp) else {
        return check::not_applicable(SHAPE, format!("stream {stream} returned no events"));
    };
    let format = &s.flow_log.settings.log_format;
    let got = event.message.split_whitespace().count();
    let want = format.fields().len();
    if got == want {
        check::ok(
            SHAPE,
            format!("the newest event of {stream} has the LogFormat's {want} fields"),
        )
    } else {
        check::failed(
            SHAPE,
            format!(
                "the newest event of {stream} has {got} fields, but the flow log's LogFormat has {want}: `{}`",
                format_text(format)
            ),
            "check what writes to this stream: a flow log writes one record per event in its LogFormat",
        )
    }
}
