//! Typed, allocation-free decoding of AWS VPC and Transit Gateway flow log records.
//!
//! This crate owns the flow log record model and its text decoder; it does no I/O and knows
//! nothing of the AWS SDK. Build a [`Schema`] once per log (from an S3 header line, a
//! declared `LogFormat`, or the version 2 default), then decode each line into a
//! [`FlowRecord`] that borrows its text from the line:
//!
//! ```
//! use flowlog::{Action, Schema};
//!
//! let schema = Schema::from_header("version srcaddr dstport action").unwrap();
//! let record = schema.decode("2 2001:db8::1 22 REJECT").unwrap();
//! assert_eq!(record.dstport, Some(22));
//! assert_eq!(record.action, Some(Action::Reject));
//! assert!(schema.decode("2 10.0.0.1 22").is_err()); // too few fields
//! ```
//!
//! Modules: [`field`] (the public field catalogue), [`schema`], [`record`], `decode`
//! (line decoding), `split` (finding separators), `parse` (single values), `s3_text`
//! ([`S3TextFile`]), `select` ([`DecodePlan`], decoding only the fields a caller needs, line by line or a whole text at once with [`PlanLines`]), `types` (typed enumerations, flags, timestamps) and `error`.

// The only `unsafe`: SSE2 intrinsics in `split` (tested against a portable version) and, in
// `window`, text its masks showed to be ASCII (tested against `str::from_utf8`).
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod decode;
mod error;
pub mod field;
mod parse;
pub mod record;
mod s3_text;
pub mod schema;
mod select;
mod split;
#[cfg(test)]
mod testutil;
mod types;
mod window;

pub use error::{DecodeError, DecodeErrorKind, SchemaError};
pub use field::{Field, FieldInfo, FieldType, Scope};
pub use record::{FlowRecord, Value};
pub use s3_text::S3TextFile;
pub use schema::{FieldName, Schema};
pub use select::{DecodePlan, PlanLines};
pub use split::next_line_start;
pub use types::{Action, FlowDirection, LogStatus, TcpFlags, Timestamp, TrafficPath, TrafficType};
