//! Local inputs → what to read: a file named on the command line, or every regular file under
//! a directory, walked in name order (names starting with `.` are left out). Symlinks are
//! followed; a bad entry (a dangling symlink, a symlink loop, a directory that cannot be read,
//! a missing path) is a value naming its own path, so the rest of the walk goes on. Entries that
//! are not regular files (FIFOs, sockets, devices) would block or never end: a walk skips them
//! and says so, and one named on the command line is refused.

use std::collections::HashMap;
use std::fs::Metadata;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// One thing a walk found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// A regular file to read.
    File(PathBuf),
    /// A path that cannot be read, and why.
    Broken { path: PathBuf, error: String },
    /// A path left out on purpose, and why.
    Skipped { path: PathBuf, reason: String },
}

/// Walks one input path named on the command line.
pub fn walk(root: &Path) -> Vec<Entry> {
    let mut walk = Walk::default();
    match std::fs::metadata(root) {
        Err(e) => walk.out.push(broken(root, &e)),
        Ok(m) if m.is_dir() => walk.dir(root, &mut vec![(id(&m), root.to_path_buf())]),
        Ok(m) if m.is_file() => walk.file(root, &m),
        Ok(m) => walk.out.push(Entry::Broken {
            path: root.to_path_buf(),
            error: format!(
                "{}: reading it could block or never end; pipe its data into `-` (stdin) instead",
                special_kind(&m)
            ),
        }),
    }
    walk.out
}

/// (device, inode): one file or directory whatever the path to it.
type FileId = (u64, u64);

fn id(m: &Metadata) -> FileId {
    (m.dev(), m.ino())
}

#[derive(Default)]
struct Walk {
    out: Vec<Entry>,
    /// Files already listed, so a file reached through two paths is read once.
    seen: HashMap<FileId, PathBuf>,
}

impl Walk {
    /// `ancestors`: the directories on the way here, to stop at a symlink that leads back.
    fn dir(&mut self, dir: &Path, ancestors: &mut Vec<(FileId, PathBuf)>) {
        let entries = match std::fs::read_dir(dir) {
            Ok(it) => it,
            Err(e) => {
                self.out.push(Entry::Broken {
                    path: dir.to_path_buf(),
                    error: format!("cannot read the directory: {e}"),
                });
                return;
            }
        };
        let mut names = Vec::new();
        for entry in entries {
            match entry {
                Ok(e) => names.push(e.file_name()),
                Err(e) => self.out.push(Entry::Broken {
                    path: dir.to_path_buf(),
                    error: format!("cannot list the directory: {e}"),
                }),
            }
        }
        names.retain(|n| !n.as_encoded_bytes().starts_with(b"."));
        names.sort();
        for name in names {
            let path = dir.join(name);
            match std::fs::metadata(&path) {
                Err(e) => self.out.push(broken(&path, &e)),
                Ok(m) if m.is_dir() => {
                    if let Some((_, first)) = ancestors.iter().find(|(i, _)| *i == id(&m)) {
                        self.out.push(Entry::Broken {
                            error: format!(
                                "symlink loop: leads back to {}, which is being walked",
                                first.display()
                            ),
                            path,
                        });
                        continue;
                    }
                    ancestors.push((id(&m), path.clone()));
                    self.dir(&path, ancestors);
                    ancestors.pop();
                }
                Ok(m) if m.is_file() => self.file(&path, &m),
                Ok(m) => self.out.push(Entry::Skipped {
                    reason: format!("{}, not a regular file", special_kind(&m)),
                    path,
                }),
            }
        }
    }

    fn file(&mut self, path: &Path, m: &Metadata) {
        match self.seen.get(&id(m)) {
            Some(first) => self.out.push(Entry::Skipped {
                path: path.to_path_buf(),
                reason: format!("the same file as {}, which is read", first.display()),
            }),
            None => {
                self.seen.insert(id(m), path.to_path_buf());
                self.out.push(Entry::File(path.to_path_buf()));
            }
        }
    }
}

/// The entry for a path whose metadata cannot be read (symlinks followed).
fn broken(path: &Path, e: &std::io::Error) -> Entry {
    let error = if e.raw_os_error() == Some(libc::ELOOP) {
        "symlink loop (too many levels of symbolic links)".to_string()
    } else if let Ok(target) = std::fs::read_link(path) {
        format!("broken symlink: its target {} {e}", target.display())
    } else {
        format!("cannot read: {e}")
    };
    Entry::Broken {
        path: path.to_path_buf(),
        error,
    }
}

fn special_kind(m: &Metadata) -> &'static str {
    let t = m.file_type();
    if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else {
        "not a regular file"
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::symlink;

    use super::*;

    fn names(root: &Path, entries: &[Entry]) -> Vec<String> {
        let rel = |p: &Path| p.strip_prefix(root).unwrap_or(p).display().to_string();
        entries
            .iter()
            .map(|e| match e {
                Entry::File(p) => format!("file {}", rel(p)),
                Entry::Broken { path, .. } => format!("broken {}", rel(path)),
                Entry::Skipped { path, .. } => format!("skipped {}", rel(path)),
            })
            .collect()
    }

    #[test]
    fn walks_in_name_order_and_reports_each_bad_entry_on_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("b/c")).unwrap();
        for f in ["a.log", "b/c/z.log", "b/y.log", ".hidden.log", "b/.tmp"] {
            std::fs::write(d.join(f), "x").unwrap();
        }
        symlink("missing", d.join("b/dangling")).unwrap();
        symlink("loop2", d.join("loop1")).unwrap();
        symlink("loop1", d.join("loop2")).unwrap();
        symlink("..", d.join("b/c/up")).unwrap();
        symlink("a.log", d.join("same.log")).unwrap();
        let entries = walk(d);
        assert_eq!(
            names(d, &entries),
            [
                "file a.log",
                "broken b/c/up",
                "file b/c/z.log",
                "broken b/dangling",
                "file b/y.log",
                "broken loop1",
                "broken loop2",
                "skipped same.log",
            ]
        );
        let why: Vec<&str> = entries
            .iter()
            .filter_map(|e| match e {
                Entry::Broken { error, .. } => Some(error.as_str()),
                _ => None,
            })
            .collect();
        assert!(why[0].starts_with("symlink loop: leads back to"), "{why:?}");
        assert!(
            why[1].starts_with("broken symlink: its target missing"),
            "{why:?}"
        );
        assert!(why[2].starts_with("symlink loop (too many"), "{why:?}");
    }

    #[test]
    fn special_files_are_skipped_in_walks_and_refused_when_named() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        let walked = walk(dir.path());
        assert!(
            matches!(&walked[..], [Entry::Skipped { reason, .. }] if reason.starts_with("a FIFO")),
            "{walked:?}"
        );
        let named = walk(&fifo);
        assert!(
            matches!(&named[..], [Entry::Broken { error, .. }] if error.contains("`-`")),
            "{named:?}"
        );
        let missing = walk(&dir.path().join("nope"));
        assert!(
            matches!(&missing[..], [Entry::Broken { error, .. }] if error.starts_with("cannot read")),
            "{missing:?}"
        );
    }
}
