//! Parsing a hand-written YAML source once: yaml-rust2's marked events are built into a
//! `serde_yaml::Value` (resolved like serde_yaml resolves plain scalars) and, in the same pass,
//! the [`Marks`] of every node. One pass over the events, each node's path stored once, the
//! [`Limits`] checked before (size) and during (depth, alias expansion) parsing: the work is
//! linear in the input. Duplicate keys do not stop loading: each is a positioned problem and
//! the first value is kept, so the schema check still reports everything else.

use std::collections::HashMap;

use serde_yaml::value::{Tag, TaggedValue};
use serde_yaml::{Mapping, Value};
use yaml_rust2::parser::{Event, Parser, Tag as YamlTag};
use yaml_rust2::scanner::{Marker, ScanError, TScalarStyle};

use crate::diagnostic::Diagnostic;
use crate::limits::{Limits, human_bytes};
use crate::marks::{Marks, NodeMarks, Path, Pos};
use crate::scalar::resolve_plain;

/// A loaded document.
#[derive(Debug)]
pub struct Document {
    pub value: Value,
    pub marks: Marks,
    /// Problems that did not stop loading (duplicate keys), in document order.
    pub problems: Vec<Diagnostic>,
    /// Units of work done: events read, path segments stored and values copied for anchors and
    /// aliases. Linear in the input for every shape of document; tests hold it to that.
    pub work: usize,
}

/// The text without a leading UTF-8 byte order mark (editors on Windows write one; YAML allows
/// it, and it must not become part of the first key).
pub fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// Parses `text` (a leading byte order mark is skipped). A problem that stops loading (size,
/// syntax, depth, alias expansion, a second document) is the error.
pub fn load(text: &str, limits: &Limits) -> Result<Document, Diagnostic> {
    let text = strip_bom(text);
    if text.len() > limits.max_bytes {
        return Err(fatal(
            None,
            format!(
                "the file is {}; flowkeeper reads YAML files of at most {}",
                human_bytes(text.len()),
                human_bytes(limits.max_bytes)
            ),
            "is it the right file? configs and rule packs are hand-written and a few KiB",
        ));
    }
    let mut b = Builder::new(*limits);
    let mut parser = Parser::new_from_str(text);
    let mut documents = 0;
    loop {
        let (event, mark) = parser.next_token().map_err(|e| scan_error(&e, limits))?;
        b.work += 1;
        match event {
            Event::StreamEnd => break,
            Event::DocumentStart => {
                documents += 1;
                if documents > 1 {
                    return Err(fatal(
                        Some(pos(mark)),
                        "the file holds more than one YAML document".into(),
                        "remove the `---` line and what follows it, or merge the documents",
                    ));
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                let len = text.chars().count().max(1);
                let slot = b.start(pos(mark), len)?;
                let key_text = matches!(slot, Slot::Key(..)).then(|| text.clone());
                b.finish(slot, scalar(text, style, tag), anchor, 1, key_text);
            }
            Event::Alias(anchor) => {
                let slot = b.start(pos(mark), 1)?;
                let (value, nodes) = b.alias(anchor, pos(mark))?;
                b.finish(slot, value, 0, nodes, None);
            }
            Event::SequenceStart(anchor, tag) => b.open(pos(mark), anchor, tag, true)?,
            Event::MappingStart(anchor, tag) => b.open(pos(mark), anchor, tag, false)?,
            Event::SequenceEnd | Event::MappingEnd => b.close(),
            Event::Nothing | Event::StreamStart | Event::DocumentEnd => {}
        }
    }
    Ok(Document {
        value: b.root.unwrap_or(Value::Null),
        marks: b.marks,
        problems: b.problems,
        work: b.work,
    })
}

/// yaml-rust2's scanner reads ahead of the events, and stops on its own at 256 levels of `[`
/// and `{`: that is the depth limit too, reported where the scanner stopped.
fn scan_error(e: &ScanError, limits: &Limits) -> Diagnostic {
    let at = Some(pos(*e.marker()));
    if e.info() == "recursion limit exceeded" {
        return too_deep(at, limits);
    }
    fatal(
        at,
        format!("YAML syntax: {}", e.info()),
        "check indentation and that every `key: value` pair has a space after the colon",
    )
}

fn too_deep(at: Option<Pos>, limits: &Limits) -> Diagnostic {
    fatal(
        at,
        format!(
            "the YAML is nested more than {} levels deep",
            limits.max_depth
        ),
        "configs and rule packs nest a few levels: look for an unclosed `[` or `{`, or runaway indentation",
    )
}

fn fatal(pos: Option<Pos>, message: String, hint: &str) -> Diagnostic {
    Diagnostic {
        path: Path::default(),
        pos,
        len: 1,
        message,
        hint: Some(hint.into()),
    }
}

fn pos(mark: Marker) -> Pos {
    // yaml-rust2 reports 1-based lines and 0-based columns.
    Pos {
        line: mark.line(),
        col: mark.col() + 1,
    }
}

/// A scalar event as a value: plain scalars resolved (null, booleans, numbers), quoted and
/// block scalars strings, YAML core tags honoured, other tags kept as tagged values.
fn scalar(text: String, style: TScalarStyle, tag: Option<YamlTag>) -> Value {
    let plain = || match style {
        TScalarStyle::Plain => resolve_plain(&text),
        _ => Value::String(text.clone()),
    };
    match tag {
        None => plain(),
        Some(t) if t.handle == "tag:yaml.org,2002:" => match t.suffix.as_str() {
            "str" => Value::String(text),
            "null" | "bool" | "int" | "float" => resolve_plain(&text),
            _ => plain(),
        },
        Some(t) => Value::Tagged(Box::new(TaggedValue {
            tag: Tag::new(format!("{}{}", t.handle, t.suffix)),
            value: plain(),
        })),
    }
}

/// Where a node that starts goes.
enum Slot {
    /// Its positions are indexed under this path.
    Indexed(Path),
    /// The key of a mapping entry, at this position and length.
    Key(Pos, usize),
    /// Inside a complex key, or the value of a duplicate key: not indexed.
    Unindexed,
}

struct PendingKey {
    value: Value,
    /// The key's text in paths (`?` for a key that is not a scalar).
    text: String,
    pos: (Pos, usize),
    duplicate: bool,
}

enum Body {
    Seq(Vec<Value>),
    Map {
        map: Mapping,
        key: Option<PendingKey>,
    },
}

struct Frame {
    slot: Slot,
    /// Its own path (children's paths extend it) when indexed.
    path: Option<Path>,
    anchor: usize,
    tag: Option<YamlTag>,
    body: Body,
    /// Values in this collection so far, itself included.
    nodes: usize,
}

struct Builder {
    limits: Limits,
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Value, usize)>,
    marks: Marks,
    problems: Vec<Diagnostic>,
    root: Option<Value>,
    /// Values made so far, alias copies included.
    nodes: usize,
    work: usize,
}

impl Builder {
    fn new(limits: Limits) -> Builder {
        Builder {
            limits,
            stack: Vec::new(),
            anchors: HashMap::new(),
            marks: Marks::default(),
            problems: Vec::new(),
            root: None,
            nodes: 0,
            work: 0,
        }
    }

    /// Decides where a node starting at `at` goes and records its positions.
    fn start(&mut self, at: Pos, len: usize) -> Result<Slot, Diagnostic> {
        self.count(1, at)?;
        let here = (at, len);
        let (path, key) = match self.stack.last() {
            None => (Path::default(), None),
            Some(Frame { path: None, .. }) => return Ok(Slot::Unindexed),
            Some(Frame {
                path: Some(p),
                body: Body::Seq(items),
                ..
            }) => (p.index(items.len()), None),
            Some(Frame {
                body: Body::Map { key: None, .. },
                ..
            }) => return Ok(Slot::Key(at, len)),
            Some(Frame {
                path: Some(p),
                body: Body::Map { key: Some(k), .. },
                ..
            }) => {
                if k.duplicate {
                    return Ok(Slot::Unindexed);
                }
                (p.key(&k.text), Some(k.pos))
            }
        };
        self.work += path.0.len();
        self.marks
            .insert(path.clone(), NodeMarks { key, value: here });
        Ok(Slot::Indexed(path))
    }

    /// Counts `n` new values against the expansion budget.
    fn count(&mut self, n: usize, at: Pos) -> Result<(), Diagnostic> {
        self.nodes += n;
        if self.nodes > self.limits.max_nodes() {
            return Err(fatal(
                Some(at),
                format!(
                    "aliases expand the document to more than {} values",
                    self.limits.max_nodes()
                ),
                "use fewer `*alias` references to large anchored values",
            ));
        }
        Ok(())
    }

    fn alias(&mut self, anchor: usize, at: Pos) -> Result<(Value, usize), Diagnostic> {
        let Some((value, nodes)) = self.anchors.get(&anchor) else {
            return Err(fatal(
                Some(at),
                "YAML syntax: an alias refers to an unknown anchor".into(),
                "define `&name` before using `*name`",
            ));
        };
        let (value, nodes) = (value.clone(), *nodes);
        // `start` counted the alias itself once.
        self.count(nodes.saturating_sub(1), at)?;
        self.work += nodes;
        Ok((value, nodes))
    }

    fn open(
        &mut self,
        at: Pos,
        anchor: usize,
        tag: Option<YamlTag>,
        seq: bool,
    ) -> Result<(), Diagnostic> {
        if self.stack.len() >= self.limits.max_depth {
            return Err(too_deep(Some(at), &self.limits));
        }
        let slot = self.start(at, 1)?;
        let path = match &slot {
            Slot::Indexed(p) => Some(p.clone()),
            _ => None,
        };
        self.stack.push(Frame {
            slot,
            path,
            anchor,
            tag,
            body: if seq {
                Body::Seq(Vec::new())
            } else {
                Body::Map {
                    map: Mapping::new(),
                    key: None,
                }
            },
            nodes: 1,
        });
        Ok(())
    }

    fn close(&mut self) {
        let Some(frame) = self.stack.pop() else {
            return;
        };
        let value = match frame.body {
            Body::Seq(items) => Value::Sequence(items),
            Body::Map { map, .. } => Value::Mapping(map),
        };
        let value = match frame.tag {
            Some(t) if t.handle != "tag:yaml.org,2002:" => Value::Tagged(Box::new(TaggedValue {
                tag: Tag::new(format!("{}{}", t.handle, t.suffix)),
                value,
            })),
            _ => value,
        };
        self.finish(frame.slot, value, frame.anchor, frame.nodes, None);
    }

    /// Attaches a complete node to its parent; `text` is a scalar's text (for keys).
    fn finish(
        &mut self,
        slot: Slot,
        value: Value,
        anchor: usize,
        nodes: usize,
        text: Option<String>,
    ) {
        if anchor != 0 {
            self.work += nodes;
            self.anchors.insert(anchor, (value.clone(), nodes));
        }
        let Some(parent) = self.stack.last_mut() else {
            self.root = Some(value);
            return;
        };
        parent.nodes += nodes;
        match &mut parent.body {
            Body::Seq(items) => items.push(value),
            Body::Map { map, key } => match key.take() {
                Some(k) => {
                    if !k.duplicate {
                        map.insert(k.value, value);
                    }
                }
                None => {
                    let Slot::Key(at, len) = slot else {
                        // A key inside a complex key: not indexed, duplicates merely dropped.
                        let duplicate = map.contains_key(&value);
                        *key = Some(PendingKey {
                            value,
                            text: "?".into(),
                            pos: (Pos { line: 0, col: 0 }, 1),
                            duplicate,
                        });
                        return;
                    };
                    let text = text.unwrap_or_else(|| "?".into());
                    let duplicate = map.contains_key(&value);
                    if duplicate && let Some(p) = &parent.path {
                        let first = self.marks.key(&p.key(&text)).map(|(p, _)| p.line);
                        self.problems
                            .push(duplicate_key(p, &text, (at, len), first));
                    }
                    *key = Some(PendingKey {
                        value,
                        text,
                        pos: (at, len),
                        duplicate,
                    });
                }
            },
        }
    }
}

fn duplicate_key(map: &Path, key: &str, at: (Pos, usize), first: Option<usize>) -> Diagnostic {
    let place = if map.0.is_empty() {
        "the document".to_string()
    } else {
        format!("`{map}`")
    };
    let first = first.map_or_else(String::new, |l| {
        format!("`{key}` is first given at line {l}; ")
    });
    Diagnostic {
        path: map.key(key),
        pos: Some(at.0),
        len: at.1,
        message: format!("duplicate key `{key}` in {place}"),
        hint: Some(format!(
            "{first}a key may appear once in a mapping: remove or rename one (the first is used)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Document {
        load(text, &Limits::DEFAULT).unwrap_or_else(|d| panic!("{text:?}: {}", d.message))
    }

    fn err(text: &str) -> Diagnostic {
        load(text, &Limits::DEFAULT).expect_err(text)
    }

    #[test]
    fn values_are_the_ones_serde_yaml_builds() {
        // The run-time variable (cargo sets it): a test binary built by another checkout sharing
        // the target directory would otherwise look in that checkout.
        let root = std::path::PathBuf::from(
            std::env::var_os("CARGO_MANIFEST_DIR")
                .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
        )
        .join("../..");
        let mut texts = vec![
            "a: 1\nb: [x, 'y', \"z\", ~, true, 0.5, -3, 007, 0x1f]\nc: { d: e, 1: f }\n"
                .to_string(),
            "- &anchor { k: v }\n- *anchor\n- !custom tagged\n- !!str 123\n- |\n  block\n  text\n"
                .into(),
            "? [complex, key]\n: value\nempty:\nquoted: ''\n".into(),
            "---\nk: v\n...\n".into(),
            String::new(),
        ];
        for file in [
            "examples/flowkeeper.yaml",
            "examples/multi-account.yaml",
            "policies/detections/default.yaml",
        ] {
            texts.push(std::fs::read_to_string(root.join(file)).expect(file));
        }
        for text in &texts {
            let theirs: Value = serde_yaml::from_str(text).unwrap();
            assert_eq!(ok(text).value, theirs, "{text}");
        }
    }

    #[test]
    fn a_byte_order_mark_is_not_part_of_the_first_key() {
        let doc = ok("\u{feff}version: 1\n");
        assert_eq!(doc.value.get("version"), Some(&Value::from(1)));
        let key = doc.marks.key(&Path::default().key("version")).unwrap();
        assert_eq!(key.0, Pos { line: 1, col: 1 });
    }

    #[test]
    fn duplicate_keys_are_problems_at_the_duplicate_and_the_first_value_is_kept() {
        let doc = ok("a: 1\nm:\n  k: x\n  other: y\n  k: z\nb: [{ k: 1, k: 2 }]\n");
        assert_eq!(doc.value["m"]["k"], Value::from("x"));
        assert_eq!(doc.value["b"][0]["k"], Value::from(1));
        let found: Vec<(String, Pos)> = doc
            .problems
            .iter()
            .map(|d| (d.message.clone(), d.pos.unwrap()))
            .collect();
        assert_eq!(
            found,
            [
                (
                    "duplicate key `k` in `m`".to_string(),
                    Pos { line: 5, col: 3 }
                ),
                (
                    "duplicate key `k` in `b[0]`".to_string(),
                    Pos { line: 6, col: 13 }
                ),
            ]
        );
        assert!(
            doc.problems[0]
                .hint
                .as_deref()
                .unwrap()
                .contains("first given at line 3"),
            "{:?}",
            doc.problems[0].hint
        );
        // The duplicate's value is not indexed over the first one's.
        let v = doc.marks.value(&Path::default().key("m").key("k")).unwrap();
        assert_eq!(v.0, Pos { line: 3, col: 6 });
    }

    #[test]
    fn limits_fail_fast_and_say_where() {
        let too_big = "#".repeat(Limits::DEFAULT.max_bytes + 1);
        let d = err(&too_big);
        assert_eq!(d.pos, None);
        assert!(d.message.contains("at most 4 MiB"), "{}", d.message);

        let d = err(&"[".repeat(100));
        assert_eq!(d.pos, Some(Pos { line: 1, col: 65 }));
        assert!(d.message.contains("more than 64 levels"), "{}", d.message);
        // Past 255 levels of `[`, yaml-rust2's scanner (which reads ahead) stops first.
        let d = err(&"[".repeat(100_000));
        assert_eq!(d.pos, Some(Pos { line: 1, col: 256 }));
        assert!(d.message.contains("more than 64 levels"), "{}", d.message);
        let inside = format!("a:\n  b: {}", "{c: ".repeat(100));
        assert_eq!(
            err(&inside).pos,
            Some(Pos {
                line: 2,
                col: 6 + 4 * 62
            })
        );

        let d = err("a: 1\n---\nb: 2\n");
        assert_eq!(d.pos, Some(Pos { line: 2, col: 1 }));
        assert!(d.message.contains("more than one YAML document"));

        let d = err("a: [x\n");
        assert!(d.message.starts_with("YAML syntax: "), "{}", d.message);
        assert!(d.pos.is_some());
    }

    #[test]
    fn aliases_cannot_expand_beyond_what_the_size_limit_allows() {
        // Ten levels of ten aliases each: 10^10 values if expanded.
        let mut text = String::from("l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let p = i - 1;
            text.push_str(&format!(
                "l{i}: &l{i} [*l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}]\n"
            ));
        }
        let d = err(&text);
        assert!(
            d.message.contains("aliases expand the document"),
            "{}",
            d.message
        );
        assert!(d.pos.is_some());
    }

    /// Work done for `shape(n)` and `shape(2n)`: doubling the input at most doubles the work
    /// (plus a little for the constant part). Counted, not timed.
    fn assert_linear(shape: impl Fn(usize) -> String) {
        let (small, large) = (shape(2_000), shape(4_000));
        let (w1, w2) = (ok(&small).work, ok(&large).work);
        let ratio = w2 as f64 / w1 as f64;
        assert!(
            (1.8..=2.2).contains(&ratio),
            "work {w1} -> {w2} (x{ratio:.2}) for {} -> {} bytes",
            small.len(),
            large.len()
        );
    }

    #[test]
    fn work_grows_linearly_with_the_input() {
        // Many entries (a generated config).
        assert_linear(|n| {
            let mut s = String::from("flow_logs:\n");
            for i in 0..n {
                s.push_str(&format!(
                    "  - name: e{i}\n    select: {{ ids: [vpc-{i:08x}] }}\n    tags: {{ a: b }}\n"
                ));
            }
            s
        });
        // One long flow list.
        assert_linear(|n| format!("[{}]", vec!["x"; n].join(", ")));
        // Nesting as deep as allowed, repeated.
        assert_linear(|n| {
            let one = format!("{}{}", "[".repeat(63), "]".repeat(63));
            format!("[{}]", vec![one; n / 10].join(", "))
        });
        // Aliases of a large anchored value.
        assert_linear(|n| {
            let mut s = format!("base: &b [{}]\nuses:\n", vec!["x"; 50].join(", "));
            for _ in 0..n / 10 {
                s.push_str("  - *b\n");
            }
            s
        });
    }
}
