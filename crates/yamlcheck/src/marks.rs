//! Where every node of a YAML document sits, keyed by its path, so that every diagnostic can
//! name a line and column. Built by [`crate::load`] in the same pass that builds the value.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::fmt;

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
}

/// Lets the index be searched by a slice of a path (an ancestor) without building a new one.
impl Borrow<[Seg]> for Path {
    fn borrow(&self) -> &[Seg] {
        &self.0
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
    /// Records the positions of the node at `path`.
    pub(crate) fn insert(&mut self, path: Path, marks: NodeMarks) {
        self.nodes.insert(path, marks);
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
        (0..=path.0.len())
            .rev()
            .find_map(|n| self.nodes.get(&path.0[..n]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_keys_values_and_items() {
        let text = "version: 1\nregions: [us-east-1, eu-west-1]\nflow_logs:\n  - name: a\n    format: [srcaddr, dstaddr]\n";
        let m = crate::load(text, &crate::Limits::DEFAULT).unwrap().marks;
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
