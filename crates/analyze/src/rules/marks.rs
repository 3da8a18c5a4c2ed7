//! Where each node of a rule-pack YAML text sits. serde_yaml gives values without positions;
//! this index, built from yaml-rust2's marked events over the same text, maps every node's
//! path (`detectors[2].min_ports`) to its line and column so semantic errors can point there.

use std::collections::HashMap;
use std::fmt;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// One step of a path: a mapping key or a sequence index.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Seg {
    /// A mapping key.
    Key(String),
    /// A sequence index.
    Index(usize),
}

/// A path from the document root, printed like `detectors[0].window`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Path(pub Vec<Seg>);

impl Path {
    /// This path extended by a key.
    pub fn key(&self, k: &str) -> Path {
        let mut p = self.clone();
        p.0.push(Seg::Key(k.to_owned()));
        p
    }

    /// This path extended by an index.
    pub fn index(&self, i: usize) -> Path {
        let mut p = self.clone();
        p.0.push(Seg::Index(i));
        p
    }

    /// Whether `prefix` is a prefix of this path.
    pub fn starts_with(&self, prefix: &Path) -> bool {
        self.0.starts_with(&prefix.0)
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(pack)");
        }
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if i == 0 => write!(f, "{k}")?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// A 1-based line and column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pos {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1.
    pub column: usize,
}

#[derive(Clone, Copy, Debug)]
struct NodeMarks {
    key: Option<Pos>,
    value: Pos,
}

/// Path → position of every node in one document.
#[derive(Debug, Default)]
pub struct Marks {
    nodes: HashMap<Path, NodeMarks>,
}

impl Marks {
    /// Builds the index; a text yaml-rust2 cannot parse gives an empty index (serde_yaml's
    /// syntax error is reported instead).
    pub fn index(text: &str) -> Marks {
        let mut builder = Builder::default();
        let mut parser = Parser::new_from_str(text);
        if parser.load(&mut builder, false).is_err() {
            return Marks::default();
        }
        Marks {
            nodes: builder.nodes,
        }
    }

    /// Position of the value at `path`, or of its nearest ancestor that has one.
    pub fn value(&self, path: &Path) -> Option<Pos> {
        self.nearest(path).map(|m| m.value)
    }

    /// Position of the key of the entry at `path` (falls back to its value).
    pub fn key(&self, path: &Path) -> Option<Pos> {
        self.nearest(path).map(|m| m.key.unwrap_or(m.value))
    }

    fn nearest(&self, path: &Path) -> Option<&NodeMarks> {
        let mut p = path.clone();
        loop {
            if let Some(m) = self.nodes.get(&p) {
                return Some(m);
            }
            p.0.pop()?;
        }
    }
}

enum Frame {
    Map {
        path: Path,
        key: Option<(String, Pos)>,
    },
    Seq {
        path: Path,
        next: usize,
    },
    /// A complex (non-scalar) mapping key: not indexed.
    Skip,
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    nodes: HashMap<Path, NodeMarks>,
}

fn pos(mark: Marker) -> Pos {
    // yaml-rust2 reports 1-based lines and 0-based columns.
    Pos {
        line: mark.line(),
        column: mark.col() + 1,
    }
}

impl Builder {
    /// Places a node starting at `mark`; returns its path, or `None` for a mapping key.
    fn place(&mut self, scalar: Option<&str>, mark: Marker) -> Option<Path> {
        let here = pos(mark);
        let (path, key) = match self.stack.last_mut() {
            None => (Path::default(), None),
            Some(Frame::Skip) => return None,
            Some(Frame::Seq { path, next }) => {
                let p = path.index(*next);
                *next += 1;
                (p, None)
            }
            Some(Frame::Map { path, key }) => match key.take() {
                None => {
                    *key = Some((scalar.unwrap_or("?").to_owned(), here));
                    return None;
                }
                Some((k, kpos)) => (path.key(&k), Some(kpos)),
            },
        };
        self.nodes
            .insert(path.clone(), NodeMarks { key, value: here });
        Some(path)
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        match ev {
            Event::Scalar(ref s, ..) => {
                self.place(Some(s), mark);
            }
            Event::Alias(_) => {
                self.place(None, mark);
            }
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                let is_seq = matches!(ev, Event::SequenceStart(..));
                let frame = match self.place(None, mark) {
                    Some(path) if is_seq => Frame::Seq { path, next: 0 },
                    Some(path) => Frame::Map { path, key: None },
                    None => {
                        if let Some(Frame::Map { key, .. }) = self.stack.last_mut() {
                            *key = Some(("?".into(), pos(mark)));
                        }
                        Frame::Skip
                    }
                };
                self.stack.push(frame);
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_keys_values_and_items() {
        let text = "version: 1\ndetectors:\n  - id: a\n    window: 5m\n  - id: b\n    allow_sources: [10.0.0.0/8, bogus]\n";
        let m = Marks::index(text);
        let root = Path::default();
        assert_eq!(
            m.key(&root.key("version")),
            Some(Pos { line: 1, column: 1 })
        );
        assert_eq!(
            m.value(&root.key("version")),
            Some(Pos {
                line: 1,
                column: 10
            })
        );
        let d1 = root.key("detectors").index(1);
        assert_eq!(m.key(&d1.key("id")), Some(Pos { line: 5, column: 5 }));
        let allow = d1.key("allow_sources").index(1);
        assert_eq!(
            m.value(&allow),
            Some(Pos {
                line: 6,
                column: 33
            })
        );
        assert_eq!(allow.to_string(), "detectors[1].allow_sources[1]");
        // Unknown paths fall back to the nearest ancestor.
        assert_eq!(m.value(&d1.key("nope")), m.value(&d1));
    }
}
