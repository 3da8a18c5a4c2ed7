//! Field-selective decoding: [`Schema::plan`] turns a schema and the fields a caller needs
//! into a [`DecodePlan`], which decodes a line of bytes parsing only those fields.
//!
//! The plan walks the same space masks as the full decoder (`split`), parses each
//! needed column with the same per-field code (`decode::store`), and only counts the other
//! columns: columns after the last needed one are counted, never looked at. There is no
//! UTF-8 pass over the whole line: one check covers the span from the first to the last
//! needed value (if that fails, each needed value is checked on its own, so a bad byte in a
//! skipped column is still no error).
//!
//! [`DecodePlan::lines`] decodes a whole text of lines ([`PlanLines`]): the positions of
//! the text's spaces and newlines are listed a window at a time (`window::Window`), so a
//! line's value count is checked with two compares and each needed value is sliced from
//! two positions. Lines in ASCII blocks need no UTF-8 check at all; any other line, and
//! any line that fails, goes through [`DecodePlan::decode`], so each line's result (record
//! or error) is exactly what [`DecodePlan::decode`] gives it.
//!
//! What it still rejects: a line with the wrong number of columns, and a bad value (or a
//! non-UTF-8 one) in a column it reads. What it accepts that [`Schema::decode_into`] rejects:
//! bad values in columns it skips. Callers who want every column validated (`--strict`)
//! use the full decoder. `record.line` is left empty: the caller has the bytes.

use crate::error::{DecodeError, DecodeErrorKind};
use crate::field::Field;
use crate::record::FlowRecord;
use crate::schema::Schema;
use crate::split::{Spaces, block_masks, padded};
use crate::window::Window;

/// Needed values located per line before they are parsed (plans reading more use a slower
/// path).
const MAX_FOUND: usize = 32;

/// A schema reduced to the fields one caller needs: per column up to the last needed one,
/// the field to parse or `None` to skip. Built once per schema; decoding does not allocate.
#[derive(Clone, Debug)]
pub struct DecodePlan {
    schema: Schema,
    /// Column → field to parse, up to and including the last needed column.
    steps: Box<[Option<Field>]>,
    /// The needed columns and their fields, in column order (`steps` without the skips).
    needed: Box<[(usize, Field)]>,
}

impl Schema {
    /// A plan decoding only `fields` (those the schema has; the rest stay as they are in the
    /// record, `None` in a fresh one).
    pub fn plan(&self, fields: &[Field]) -> DecodePlan {
        let wanted = |f: &Option<Field>| f.filter(|f| fields.contains(f));
        let mut steps: Vec<Option<Field>> = self.slots.iter().map(wanted).collect();
        while steps.last().is_some_and(Option::is_none) {
            steps.pop();
        }
        let needed = steps
            .iter()
            .enumerate()
            .filter_map(|(i, step)| step.map(|field| (i, field)))
            .collect();
        DecodePlan {
            schema: self.clone(),
            steps: steps.into_boxed_slice(),
            needed,
        }
    }
}

impl DecodePlan {
    /// The schema this plan reads.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The fields this plan parses, in column order.
    pub fn fields(&self) -> impl Iterator<Item = Field> + '_ {
        self.steps.iter().flatten().copied()
    }

    /// Decodes the needed fields of one line (a trailing `\n` or `\r\n` is ignored) into
    /// `record`, overwriting exactly those fields; `record.line` is set to `""`. After an
    /// error the record's contents are unspecified.
    pub fn decode<'a>(
        &self,
        line: &'a [u8],
        record: &mut FlowRecord<'a>,
    ) -> Result<(), DecodeError> {
        let line = trim_line_ending(line);
        record.line = "";
        let columns = self.schema.slots.len();
        let mut spaces = Spaces::new(line);
        let mut start = 0;
        // Where each needed value is; parsed after the walk, once one UTF-8 check has covered
        // the span from the first to the last of them.
        let mut found = [(0usize, 0usize, 0usize, Field::Version); MAX_FOUND];
        let mut n = 0;
        for (i, &step) in self.steps.iter().enumerate() {
            let end = match spaces.next() {
                Some(space) if i + 1 < columns => space,
                None if i + 1 == columns => line.len(),
                _ => return Err(self.count_error(line)),
            };
            if let Some(field) = step {
                if n == MAX_FOUND {
                    return self.decode_each(line, record);
                }
                found[n] = (start, end, i, field);
                n += 1;
            }
            start = end + 1;
        }
        // The columns after the last needed one: only their number matters.
        let mut seen = self.steps.len();
        if seen < columns {
            // `start` is past the last needed value's space; count the values from there.
            let mut rest = 1;
            while spaces.next().is_some() {
                rest += 1;
            }
            if self.steps.is_empty() && line.is_empty() {
                rest = 0;
            }
            seen += rest;
            if seen != columns {
                return Err(self.count_error(line));
            }
        }
        let found = &found[..n];
        let (Some(first), Some(last)) = (found.first(), found.last()) else {
            return Ok(());
        };
        let Ok(text) = std::str::from_utf8(&line[first.0..last.1]) else {
            return self.decode_each(line, record);
        };
        let base = first.0;
        let mut addrs = crate::decode::AddrText::default();
        for &(start, end, i, field) in found {
            let value = &text[start - base..end - base];
            if let Err(kind) = crate::decode::store(record, field, value, &mut addrs) {
                return Err(self.value_error(line, i, value.as_bytes(), kind));
            }
        }
        Ok(())
    }

    /// [`DecodePlan::decode`] checking each needed value on its own: for lines with bytes
    /// that are not UTF-8 (which may be in a column it skips) and plans of very many fields.
    #[cold]
    fn decode_each<'a>(
        &self,
        line: &'a [u8],
        record: &mut FlowRecord<'a>,
    ) -> Result<(), DecodeError> {
        let columns = self.schema.slots.len();
        let mut spaces = Spaces::new(line);
        let mut start = 0;
        let mut addrs = crate::decode::AddrText::default();
        for (i, &step) in self.steps.iter().enumerate() {
            let end = match spaces.next() {
                Some(space) if i + 1 < columns => space,
                None if i + 1 == columns => line.len(),
                _ => return Err(self.count_error(line)),
            };
            if let Some(field) = step {
                let value = &line[start..end];
                let stored = match std::str::from_utf8(value) {
                    Ok(v) => crate::decode::store(record, field, v, &mut addrs),
                    Err(_) => Err(DecodeErrorKind::NotText),
                };
                if let Err(kind) = stored {
                    return Err(self.value_error(line, i, value, kind));
                }
            }
            start = end + 1;
        }
        Ok(())
    }

    #[cold]
    fn count_error(&self, line: &[u8]) -> DecodeError {
        self.schema.count_error(&String::from_utf8_lossy(line))
    }

    #[cold]
    fn value_error(
        &self,
        line: &[u8],
        index: usize,
        value: &[u8],
        kind: DecodeErrorKind,
    ) -> DecodeError {
        self.schema.value_error(
            &String::from_utf8_lossy(line),
            index,
            &String::from_utf8_lossy(value),
            kind,
        )
    }
}

impl DecodePlan {
    /// The lines of a whole `text` (split at `\n` as `slice::split` does: a text ending
    /// with `\n` has a last, empty line), to decode one after the other with
    /// [`PlanLines::next`]. Each line's result is exactly [`DecodePlan::decode`]'s, but the
    /// spaces and newlines of the text are found a window at a time (`window::Window`),
    /// which also tells which lines are ASCII: their values need no UTF-8 check. Other
    /// lines, lines with the wrong number of values or a bad value, and lines longer than a
    /// window go through [`DecodePlan::decode`]. Allocates once per text (the window's
    /// lists), never per line.
    pub fn lines<'p, 't>(&'p self, text: &'t [u8]) -> PlanLines<'p, 't> {
        let last = self.schema.slots.len().saturating_sub(1);
        PlanLines {
            plan: self,
            text,
            window: Window::new(text),
            filled: false,
            space: 0,
            newline: 0,
            high: 0,
            needed: self
                .needed
                .iter()
                .map(|&(i, field)| Needed {
                    column: i,
                    first: i == 0,
                    last: i == last,
                    field,
                })
                .collect(),
            start: 0,
            done: false,
        }
    }
}

/// A needed column, as [`PlanLines`] reads it.
#[derive(Clone, Copy, Debug)]
struct Needed {
    column: usize,
    /// Whether it is the line's first value (it starts the line, not after a space).
    first: bool,
    /// Whether it is the line's last value (it ends the line, not at a space).
    last: bool,
    field: Field,
}

/// The lines of a text being decoded with a plan: see [`DecodePlan::lines`].
pub struct PlanLines<'p, 't> {
    plan: &'p DecodePlan,
    text: &'t [u8],
    /// The separators of the text from the current line on (if `filled`).
    window: Window<'t>,
    filled: bool,
    /// The first of the window's spaces and newlines not before the current line, and
    /// where to look for its bytes that are not ASCII.
    space: usize,
    newline: usize,
    high: usize,
    needed: Box<[Needed]>,
    /// Where the next line starts.
    start: usize,
    done: bool,
}

impl<'t> PlanLines<'_, 't> {
    /// Decodes the next line into `record` (as [`DecodePlan::decode`] does): the line (without
    /// its `\n`) and the result, or `None` after the last line.
    #[inline]
    pub fn next(
        &mut self,
        record: &mut FlowRecord<'t>,
    ) -> Option<(&'t [u8], Result<(), DecodeError>)> {
        if self.done {
            return None;
        }
        let start = self.start;
        let (end, result) = match self.line_end() {
            Some(end) => match self.decode_line(end, record) {
                Ok(()) => (end, Ok(())),
                // A bad line or one not ASCII: the per-line decoder decides, as it would have.
                Err(()) => (end, self.plan.decode(&self.text[start..end], record)),
            },
            None => {
                // Longer than a window: on its own (its end found past the window).
                let end = self.long_line_end();
                self.filled = false;
                (end, self.plan.decode(&self.text[start..end], record))
            }
        };
        if end == self.text.len() {
            self.done = true;
        } else {
            self.start = end + 1;
        }
        Some((&self.text[start..end], result))
    }

    /// The end of the line at `self.start` (its newline, or the end of the text), filling a
    /// new window from it if the current one does not hold it whole; `None` if it is longer
    /// than a window.
    #[inline]
    fn line_end(&mut self) -> Option<usize> {
        if !self.filled {
            self.refill();
        }
        loop {
            let window = &self.window;
            if let Some(&at) = window.newlines().get(self.newline) {
                self.newline += 1;
                return Some(window.base + at as usize);
            }
            if window.end == self.text.len() {
                return Some(self.text.len());
            }
            if window.base == self.start {
                return None;
            }
            self.refill();
        }
    }

    #[inline(never)]
    fn refill(&mut self) {
        self.window.fill(self.start);
        self.filled = true;
        self.space = 0;
        self.newline = 0;
        self.high = 0;
    }

    /// The end of a line no window holds: its newline, or the end of the text.
    #[cold]
    fn long_line_end(&self) -> usize {
        let from = self.window.end;
        let mut at = from;
        while at < self.text.len() {
            let rest = &self.text[at..];
            let newlines = match rest.first_chunk::<64>() {
                Some(block) => block_masks(block).newlines,
                None => block_masks(&padded(rest)).newlines,
            };
            if newlines != 0 {
                return (at + newlines.trailing_zeros() as usize).min(self.text.len());
            }
            at += 64;
        }
        self.text.len()
    }

    /// Decodes the line from `self.start` to `end` (its newline or the text's end) if it is
    /// ASCII, has the schema's number of values and good values in the needed columns;
    /// else `Err` (the per-line decoder then decides). Moves past the line's spaces either
    /// way.
    #[inline]
    fn decode_line(&mut self, end: usize, record: &mut FlowRecord<'t>) -> Result<(), ()> {
        let window = &self.window;
        let start = self.start;
        let spaces = window.spaces();
        let first = self.space;
        let gaps = self.plan.schema.slots.len() - 1;
        // The line has `gaps` spaces: the last of them before its end, the next one after.
        let rel_end = (end - window.base) as u32;
        let fits = match spaces.get(first..first + gaps) {
            Some(own) => {
                own.last().is_none_or(|&s| s < rel_end)
                    && spaces.get(first + gaps).is_none_or(|&s| s > rel_end)
            }
            None => false,
        };
        if !fits {
            self.space = first + spaces[first..].partition_point(|&s| s < rel_end);
            return Err(());
        }
        self.space = first + gaps;
        let line_end = without_cr(self.text, start, end);
        // None at all (an empty line is not one empty value).
        if line_end == start {
            return Err(());
        }
        let Some(line) = window.ascii(start, line_end, &mut self.high) else {
            return Err(());
        };
        let own = &spaces[first..first + gaps];
        // Value `c` runs from after space `c - 1` (or the line's start) to space `c` (or the
        // line's end), in offsets from the line's start.
        let rel_start = (start - window.base) as u32;
        let len = (line_end - start) as u32;
        record.line = "";
        let mut addrs = crate::decode::AddrText::default();
        for need in &self.needed {
            let from = if need.first {
                0
            } else {
                own[need.column - 1] + 1 - rel_start
            };
            let to = if need.last {
                len
            } else {
                own[need.column] - rel_start
            };
            let Some(value) = line.get(from as usize, to as usize) else {
                return Err(());
            };
            let rest = self.text.get(start + from as usize..).unwrap_or_default();
            if crate::decode::store_wide(record, need.field, value, rest, &mut addrs).is_err() {
                return Err(());
            }
        }
        Ok(())
    }
}

/// `end`, or `end - 1` if the text from `start` to `end` ends with `\r` (of a `\r\n`).
#[inline]
fn without_cr(bytes: &[u8], start: usize, end: usize) -> usize {
    if end > start && bytes[end - 1] == b'\r' {
        end - 1
    } else {
        end
    }
}

fn trim_line_ending(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    const V2_LINE: &str = "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK";

    #[test]
    fn reads_only_the_needed_fields_and_counts_the_rest() {
        let plan = Schema::default_v2().plan(&[Field::Srcaddr, Field::Dstport]);
        assert_eq!(
            plan.fields().collect::<Vec<_>>(),
            [Field::Srcaddr, Field::Dstport]
        );
        let mut r = FlowRecord::default();
        plan.decode(V2_LINE.as_bytes(), &mut r).unwrap();
        assert_eq!(r.srcaddr, Some("172.31.16.139".parse().unwrap()));
        assert_eq!(r.dstport, Some(22));
        assert_eq!((r.srcport, r.action, r.account_id), (None, None, None));
        // A bad value in a skipped column is not looked at; one in a read column is.
        let skipped_bad = V2_LINE.replacen("ACCEPT", "DROP", 1);
        assert!(plan.decode(skipped_bad.as_bytes(), &mut r).is_ok());
        let read_bad = V2_LINE.replacen(" 22 ", " 70000 ", 1);
        let e = plan.decode(read_bad.as_bytes(), &mut r).unwrap_err();
        assert_eq!((e.column(), e.value()), (7, "70000"));
        // The column count is checked after the last needed column too.
        for line in [format!("{V2_LINE} extra"), V2_LINE.replacen(" OK", "", 1)] {
            let e = plan
                .decode(line.as_bytes(), &mut FlowRecord::default())
                .unwrap_err();
            assert!(e.kind().is_field_count(), "{line}: {e}");
            assert_eq!(e, Schema::default_v2().decode(&line).unwrap_err());
        }
    }

    #[test]
    fn non_utf8_is_an_error_only_in_a_read_column() {
        let plan = Schema::default_v2().plan(&[Field::InterfaceId]);
        let mut line = V2_LINE.as_bytes().to_vec();
        line[20] = 0xff; // inside interface-id
        let mut r = FlowRecord::default();
        let e = plan.decode(&line, &mut r).unwrap_err();
        assert_eq!((e.kind(), e.column()), (DecodeErrorKind::NotText, 3));
        let mut line = V2_LINE.as_bytes().to_vec();
        line[5] = 0xff; // inside account-id, skipped
        let mut r = FlowRecord::default();
        plan.decode(&line, &mut r).unwrap();
        assert_eq!(r.interface_id, Some("eni-1235b8ca123456789"));
    }

    #[test]
    fn an_empty_plan_still_counts_columns() {
        let plan = Schema::from_header("a b c").unwrap().plan(&[]);
        let mut r = FlowRecord::default();
        assert!(plan.decode(b"1 2 3\r\n", &mut r).is_ok());
        for bad in [&b""[..], b"1 2", b"1 2 3 4"] {
            assert!(plan.decode(bad, &mut r).is_err(), "{bad:?}");
        }
    }
}
