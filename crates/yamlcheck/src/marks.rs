//! Where every node of a YAML document sits, keyed by its path. serde_yaml parses values but
//! forgets positions; this index, built from yaml-rust2's marked events over the same text,
//! gives them back so that every diagnostic can name a line and column.

use std::collections::HashMap;
use std::fmt;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// One step of a path: a mapping key or a sequence index.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// A path from the document root, printed as `flow_logs[0].format`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Path(pub Vec<Seg>);

impl Path {
    pub fn key(&self, k: &str) -> Path {
        let mut p = self.clone();
        p.0.push(Seg::Key(k.to_string()));
        p
    }
    pub fn index(&self, i: usize) -> Path {
        let mut p = self.clone();
        p.0.push(Seg::Index(i));
        p
    }
    /// Whether `prefix` is a prefix of this path.
    pub fn starts_with(&self, prefix: &Path) -> bool {
        self.0.starts_with(&prefix.0)
    }
    fn parent(&self) -> Option<Path> {
        let mut p = self.clone();
        p.0.pop().map(|_| p)
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(document)");
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
    pub line: usize,
    pub col: usize,
}

/// Positions of one node: its key (for mapping values) and its value, with the length of a
/// scalar's text for underlining.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeMarks {
    pub key: Option<(Pos, usize)>,
    pub value: (Pos, usize),
}

/// Path → positions for every node in the document.
#[derive(Debug, Default)]
pub struct Marks {
    nodes: HashMap<Path, NodeMarks>,
}

impl Marks {
    /// Builds the index; a document yaml-rust2 cannot scan yields an empty index (the caller
    /// reports serde_yaml's syntax error instead).
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
    pub fn value(&self, path: &Path) -> Option<(Pos, usize)> {
        self.nearest(path).map(|m| m.value)
    }

    /// Position of the key of the mapping entry at `path` (falls back to its value).
    pub fn key(&self, path: &Path) -> Option<(Pos, usize)> {
        self.nearest(path).map(|m| m.key.unwrap_or(m.value))
    }

    fn nearest(&self, path: &Path) -> Option<&NodeMarks> {
        let mut p = Some(path.clone());
        while let Some(cur) = p {
            if let Some(m) = self.nodes.get(&cur) {
                return Some(m);
            }
            p = cur.parent();
        }
        None
    }
}

enum Frame {
    Map {
        path: Path,
        key: Option<(String, Pos, usize)>,
    },
    Seq {
        path: Path,
        next: usize,
    },
    /// A complex (non-scalar) mapping key: its content is not indexed.
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
        col: mark.col() + 1,
    }
}

impl Builder {
    /// Assigns a path to a node starting at `mark`; returns None for a mapping key.
    fn place(&mut self, scalar: Option<&str>, mark: Marker) -> Option<Path> {
        let here = (pos(mark), scalar.map_or(1, |s| s.chars().count().max(1)));
        match self.stack.last_mut() {
            None => {
                self.nodes.insert(
                    Path::default(),
                    NodeMarks {
                        key: None,
                        value: here,
                    },
                );
                Some(Path::default())
            }
            Some(Frame::Skip) => None,
            Some(Frame::Seq { path, next }) => {
                let p = path.index(*next);
                *next += 1;
                self.nodes.insert(
                    p.clone(),
                    NodeMarks {
                        key: None,
                        value: here,
                    },
                );
                Some(p)
            }
            Some(Frame::Map { path, key }) => match key.take() {
                None => {
                    // This node is a key.
                    *key = Some((scalar.unwrap_or("?").to_string(), here.0, here.1));
                    None
                }
                Some((k, kpos, klen)) => {
                    let p = path.key(&k);
                    self.nodes.insert(
                        p.clone(),
                        NodeMarks {
                            key: Some((kpos, klen)),
                            value: here,
                        },
                    );
                    Some(p)
                }
            },
        }
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
                let in_skip = matches!(self.stack.last(), Some(Frame::Skip));
                let frame = match self.place(None, mark) {
                    Some(path) if is_seq => Frame::Seq { path, next: 0 },
                    Some(path) => Frame::Map { path, key: None },
                    None => {
                        if !in_skip {
                            // A complex key: the value that follows gets the key text "?".
                            if let Some(Frame::Map { key, .. }) = self.stack.last_mut() {
                                *key = Some(("?".into(), pos(mark), 1));
                            }
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
        let text = "version: 1\nregions: [us-east-1, eu-west-1]\nflow_logs:\n  - name: a\n    format: [srcaddr, dstaddr]\n";
        let m = Marks::index(text);
        let root = Path::default();
        assert_eq!(
            m.key(&root.key("version")).unwrap().0,
            Pos { line: 1, col: 1 }
        );
        assert_eq!(
            m.value(&root.key("version")).unwrap().0,
            Pos { line: 1, col: 10 }
        );
        assert_eq!(
            m.value(&root.key("regions").index(1)).unwrap(),
            (Pos { line: 2, col: 22 }, 9)
        );
        let fmt = root.key("flow_logs").index(0).key("format");
        assert_eq!(m.key(&fmt).unwrap().0, Pos { line: 5, col: 5 });
        assert_eq!(m.value(&fmt.index(1)).unwrap().0, Pos { line: 5, col: 23 });
        // A path below a scalar falls back to the nearest ancestor.
        assert_eq!(
            m.value(&root.key("version").key("x")).unwrap().0,
            Pos { line: 1, col: 10 }
        );
    }

    #[test]
    fn paths_print_like_accessors() {
        let p = Path::default().key("flow_logs").index(2).key("tags");
        assert_eq!(p.to_string(), "flow_logs[2].tags");
    }
}
