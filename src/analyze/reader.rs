//! Turns one stored object (a file or an S3 object, gzip or plain, told apart by magic bytes)
//! into chunks of whole lines with the schema to decode them: the header line of an S3 text
//! file, else the declared format. A truncated gzip stream is reported for that object; the
//! lines before the damage are still analyzed.

use std::io::{BufRead, BufReader, Read};
use std::sync::Arc;

use flate2::read::MultiGzDecoder;
use flowlog::Schema;

/// Lines handed to the decoder at once.
pub const CHUNK_BYTES: usize = 1 << 20;

/// A run of whole lines from one source.
pub struct Chunk {
    pub source: u32,
    pub schema: Arc<Schema>,
    /// Line number (1-based) of the first line in `text`.
    pub first_line: u64,
    pub text: String,
}

/// What a reader sends to the decoder.
pub enum Message {
    Chunk(Chunk),
    /// The source could not be read (fully); `lines` were delivered before the error.
    Failed {
        source: u32,
        error: String,
    },
}

/// Whether a line is an S3 flow-log header (every token a field name).
pub fn header_schema(line: &str) -> Option<Schema> {
    let first = line.split_ascii_whitespace().next()?;
    if first.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        return None;
    }
    Schema::from_header(line)
        .ok()
        .filter(|s| s.unknown_columns().next().is_none())
}

/// Reads `input` (maybe gzip) and calls `send` with chunks of complete lines.
pub fn read_lines(
    source: u32,
    input: impl Read,
    fallback: &Arc<Schema>,
    send: &mut dyn FnMut(Message) -> bool,
) {
    let mut magic = [0u8; 2];
    let mut input = BufReader::with_capacity(256 * 1024, input);
    let peeked = input.fill_buf().map(|b| b.len().min(2)).unwrap_or(0);
    if peeked == 2 {
        magic.copy_from_slice(&input.fill_buf().expect("filled above")[..2]);
    }
    if magic == [0x1f, 0x8b] {
        split(
            source,
            BufReader::with_capacity(256 * 1024, MultiGzDecoder::new(input)),
            fallback,
            send,
        );
    } else {
        split(source, input, fallback, send);
    }
}

fn split(
    source: u32,
    mut input: impl BufRead,
    fallback: &Arc<Schema>,
    send: &mut dyn FnMut(Message) -> bool,
) {
    let mut schema = fallback.clone();
    let mut line_no: u64 = 0;
    let mut first_line = 1;
    let mut text = String::with_capacity(CHUNK_BYTES + 4096);
    loop {
        let before = text.len();
        match input.read_line(&mut text) {
            Ok(0) => break,
            Ok(_) => {
                line_no += 1;
                if line_no == 1
                    && let Some(h) = header_schema(&text[before..])
                {
                    schema = Arc::new(h);
                    text.truncate(before);
                    first_line = 2;
                    continue;
                }
                if text.len() >= CHUNK_BYTES {
                    let full =
                        std::mem::replace(&mut text, String::with_capacity(CHUNK_BYTES + 4096));
                    if !send(Message::Chunk(Chunk {
                        source,
                        schema: schema.clone(),
                        first_line,
                        text: full,
                    })) {
                        return;
                    }
                    first_line = line_no + 1;
                }
            }
            Err(e) => {
                // Keep the complete lines read so far; drop a partial last line.
                if let Some(end) = text.rfind('\n') {
                    text.truncate(end + 1);
                } else {
                    text.clear();
                }
                if !text.is_empty() {
                    send(Message::Chunk(Chunk {
                        source,
                        schema: schema.clone(),
                        first_line,
                        text,
                    }));
                }
                let what = if e.kind() == std::io::ErrorKind::UnexpectedEof {
                    "truncated gzip stream"
                } else {
                    "unreadable"
                };
                send(Message::Failed {
                    source,
                    error: format!("{what} after line {line_no}: {e}"),
                });
                return;
            }
        }
    }
    if !text.is_empty() {
        send(Message::Chunk(Chunk {
            source,
            schema,
            first_line,
            text,
        }));
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::Compression;
    use flate2::write::GzEncoder;

    use super::*;

    fn collect(data: &[u8]) -> (Vec<(u64, String, usize)>, Vec<String>) {
        let mut chunks = Vec::new();
        let mut errors = Vec::new();
        read_lines(0, data, &Arc::new(Schema::default_v2()), &mut |m| {
            match m {
                Message::Chunk(c) => chunks.push((c.first_line, c.text, c.schema.len())),
                Message::Failed { error, .. } => errors.push(error),
            }
            true
        });
        (chunks, errors)
    }

    fn gzip(text: &str) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::fast());
        e.write_all(text.as_bytes()).unwrap();
        e.finish().unwrap()
    }

    const FILE: &str = "version srcaddr dstaddr\n2 10.0.0.1 10.0.0.2\n2 10.0.0.3 10.0.0.4\n";

    #[test]
    fn plain_and_gzip_read_the_same_with_the_header_as_schema() {
        let (plain, e1) = collect(FILE.as_bytes());
        let (gz, e2) = collect(&gzip(FILE));
        assert!(e1.is_empty() && e2.is_empty());
        assert_eq!(plain, gz);
        assert_eq!(
            plain,
            vec![(
                2,
                "2 10.0.0.1 10.0.0.2\n2 10.0.0.3 10.0.0.4\n".to_string(),
                3
            )]
        );
    }

    #[test]
    fn headerless_text_uses_the_fallback_schema() {
        let (chunks, _) = collect(b"2 1 eni-1 - - - - - - - 1 2 - NODATA\n");
        assert_eq!(chunks[0].0, 1);
        assert_eq!(chunks[0].2, 14);
    }

    #[test]
    fn a_truncated_gzip_keeps_complete_lines_and_reports_the_damage() {
        let body = format!(
            "version srcaddr dstaddr\n{}",
            "2 10.0.0.1 10.0.0.2\n".repeat(5000)
        );
        let gz = gzip(&body);
        let (chunks, errors) = collect(&gz[..gz.len() / 2]);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].contains("truncated gzip stream"), "{errors:?}");
        let lines: usize = chunks.iter().map(|c| c.1.lines().count()).sum();
        assert!(lines > 0 && lines < 5000, "{lines}");
        assert!(chunks.iter().all(|c| c.1.ends_with('\n')));
    }
}
