//! [`OutputFile`]: the one way a command writes a file. It refuses a path that is one of the
//! command's inputs (the same path, a symlink or hard link to it, the same inode), writes a
//! temporary file beside the target, and renames it over the target only on
//! [`OutputFile::commit`]; dropped without a commit, the temporary file is removed, so a failed
//! run never leaves half a file and never touches what was there before.

use std::fmt;
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

/// Why an output file could not be opened or committed.
#[derive(Debug)]
pub enum OutputError {
    /// The output is (or resolves to) one of the inputs.
    IsInput { output: PathBuf, input: PathBuf },
    /// Standard output is (appended to) one of the inputs: `analyze LOG >> LOG`.
    StdoutIsInput { input: PathBuf },
    /// The output path names a directory.
    IsDirectory(PathBuf),
    /// The output path ends in `..`, `/` or nothing: it names no file.
    NoFileName(PathBuf),
    /// Creating, writing or renaming failed.
    Io {
        path: PathBuf,
        action: &'static str,
        error: io::Error,
    },
}

impl OutputError {
    /// What to do about it.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            OutputError::IsInput { .. } | OutputError::StdoutIsInput { .. } => {
                Some("write the output somewhere that is not read as input (another path)")
            }
            OutputError::IsDirectory(_) | OutputError::NoFileName(_) => {
                Some("give a file name, for example report.html")
            }
            OutputError::Io { .. } => None,
        }
    }

    /// Whether the reader went away (`| head`): not an error for data on stdout.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, OutputError::Io { error, .. } if error.kind() == io::ErrorKind::BrokenPipe)
    }
}

impl fmt::Display for OutputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::output::text::Safe;
        match self {
            OutputError::IsInput { output, input } if output == input => write!(
                f,
                "refusing to write {}: it is also an input",
                Safe(&output.display().to_string())
            ),
            OutputError::IsInput { output, input } => write!(
                f,
                "refusing to write {}: it is the same file as the input {}",
                Safe(&output.display().to_string()),
                Safe(&input.display().to_string())
            ),
            OutputError::StdoutIsInput { input } => write!(
                f,
                "refusing to write to stdout: it is the input {} (redirected into it?)",
                Safe(&input.display().to_string())
            ),
            OutputError::IsDirectory(p) => write!(
                f,
                "cannot write {}: it is a directory",
                Safe(&p.display().to_string())
            ),
            OutputError::NoFileName(p) => write!(
                f,
                "cannot write {}: it names no file",
                Safe(&p.display().to_string())
            ),
            OutputError::Io {
                path,
                action,
                error,
            } => write!(
                f,
                "cannot {action} {}: {error}",
                Safe(&path.display().to_string())
            ),
        }
    }
}

impl std::error::Error for OutputError {}

/// A file being written: a temporary file beside `path` until [`OutputFile::commit`]; or, for
/// a device or FIFO (`-o /dev/null`, `--out /dev/stdout`), that file itself, written in place
/// (renaming over a device would replace it, and there is nothing to keep whole).
pub struct OutputFile {
    path: PathBuf,
    inner: Inner,
}

enum Inner {
    Temp(BufWriter<NamedTempFile>),
    Direct(BufWriter<std::fs::File>),
}

/// The mode the temporary file is created with: what any new file gets (0666 less the
/// umask, applied by the OS at creation), never tempfile's private 0600. An existing target's
/// own mode is then set exactly (see [`OutputFile::create`]).
fn new_file_permissions(_path: &Path) -> std::fs::Permissions {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::Permissions::from_mode(0o666)
    }
    #[cfg(not(unix))]
    {
        std::fs::metadata(".")
            .map(|m| m.permissions())
            .unwrap_or_else(|_| {
                tempfile::tempfile()
                    .unwrap()
                    .metadata()
                    .unwrap()
                    .permissions()
            })
    }
}

impl OutputFile {
    /// Opens a temporary file beside `path`, after checking that `path` is none of `inputs`
    /// (every path the command reads: files, and the directories or files named on its
    /// command line). Nothing at `path` changes until [`OutputFile::commit`].
    pub fn create<'a>(
        path: &Path,
        inputs: impl IntoIterator<Item = &'a Path>,
    ) -> Result<OutputFile, OutputError> {
        let target = check_target(path)?;
        if let Some(input) = inputs.into_iter().find(|i| same_file(path, i)) {
            return Err(OutputError::IsInput {
                output: path.to_path_buf(),
                input: input.to_path_buf(),
            });
        }
        if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(|error| OutputError::Io {
                    path: path.to_path_buf(),
                    action: "open",
                    error,
                })?;
            return Ok(OutputFile {
                path: path.to_path_buf(),
                inner: Inner::Direct(BufWriter::new(file)),
            });
        }
        // A symlink is written through: the file it leads to is replaced, the link stays.
        let path = target.as_path();
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        if !dir.is_dir() {
            return Err(OutputError::Io {
                path: path.to_path_buf(),
                action: "write",
                error: io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("the directory {} does not exist", dir.display()),
                ),
            });
        }
        let temp = tempfile::Builder::new()
            .prefix(".flowkeeper-")
            .suffix(".tmp")
            .permissions(new_file_permissions(path))
            .tempfile_in(dir)
            .map_err(|error| OutputError::Io {
                path: path.to_path_buf(),
                action: "write",
                // The temporary file's own name says nothing useful to the reader.
                error: io::Error::new(error.kind(), error.kind().to_string()),
            })?;
        // Creation applied the umask; an existing target's mode is kept exactly.
        if let Ok(m) = std::fs::metadata(path) {
            temp.as_file()
                .set_permissions(m.permissions())
                .map_err(|error| OutputError::Io {
                    path: path.to_path_buf(),
                    action: "write",
                    error,
                })?;
        }
        Ok(OutputFile {
            path: path.to_path_buf(),
            inner: Inner::Temp(BufWriter::new(temp)),
        })
    }

    /// The path the file will have once committed.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flushes the temporary file, syncs it and renames it over the target.
    pub fn commit(self) -> Result<(), OutputError> {
        let path = self.path;
        let io_err = |action, error| OutputError::Io {
            path: path.clone(),
            action,
            error,
        };
        let temp = match self.inner {
            Inner::Direct(mut file) => return file.flush().map_err(|e| io_err("write", e)),
            Inner::Temp(temp) => temp
                .into_inner()
                .map_err(|e| io_err("write", e.into_error()))?,
        };
        temp.as_file().sync_all().map_err(|e| io_err("write", e))?;
        temp.persist(&path)
            .map_err(|e| io_err("rename the temporary file to", e.error))?;
        Ok(())
    }
}

impl Write for OutputFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.inner {
            Inner::Temp(t) => t.write(buf),
            Inner::Direct(f) => f.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.inner {
            Inner::Temp(t) => t.flush(),
            Inner::Direct(f) => f.flush(),
        }
    }
}

/// Refuses to print data to standard output when it is a regular file that is also one of
/// `inputs` (`analyze LOG >> LOG` would append the report to the log being read).
pub fn check_stdout<'a>(inputs: impl IntoIterator<Item = &'a Path>) -> Result<(), OutputError> {
    use std::os::fd::AsFd;
    let Ok(fd) = io::stdout().as_fd().try_clone_to_owned() else {
        return Ok(()); // no stdout at all: writing will fail and say so
    };
    let Ok(out) = std::fs::File::from(fd).metadata() else {
        return Ok(());
    };
    if !out.is_file() {
        return Ok(());
    }
    let same =
        |i: &Path| std::fs::metadata(i).is_ok_and(|m| (m.dev(), m.ino()) == (out.dev(), out.ino()));
    match inputs.into_iter().find(|i| same(i)) {
        Some(input) => Err(OutputError::StdoutIsInput {
            input: input.to_path_buf(),
        }),
        None => Ok(()),
    }
}

/// Refuses targets that can never be a file, and returns the file to replace: `path` itself,
/// or where a symlink at `path` leads.
fn check_target(path: &Path) -> Result<PathBuf, OutputError> {
    if path.file_name().is_none() || path.as_os_str().to_string_lossy().ends_with('/') {
        return Err(OutputError::NoFileName(path.to_path_buf()));
    }
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => return Err(OutputError::IsDirectory(path.to_path_buf())),
        _ => {}
    }
    let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    Ok(if is_link {
        resolved(path).unwrap_or_else(|| path.to_path_buf())
    } else {
        path.to_path_buf()
    })
}

/// Whether writing `output` would overwrite `input`: the same inode (symlinks followed, hard
/// links included), or the same path once the directories leading to them are resolved (an
/// input that does not exist yet, or an output that is a dangling symlink to an input).
pub fn same_file(output: &Path, input: &Path) -> bool {
    if let (Ok(o), Ok(i)) = (std::fs::metadata(output), std::fs::metadata(input))
        && (o.dev(), o.ino()) == (i.dev(), i.ino())
    {
        return true;
    }
    match (resolved(output), resolved(input)) {
        (Some(o), Some(i)) => o == i,
        _ => output == input,
    }
}

/// The path with its directory canonicalized and a final symlink followed (even a dangling
/// one), so that two spellings of one place compare equal.
fn resolved(path: &Path) -> Option<PathBuf> {
    let mut path = path.to_path_buf();
    for _ in 0..40 {
        if let Ok(p) = path.canonicalize() {
            return Some(p);
        }
        match std::fs::read_link(&path) {
            Ok(target) => {
                path = match path.parent() {
                    Some(dir) if target.is_relative() => dir.join(target),
                    _ => target,
                };
            }
            Err(_) => {
                let name = path.file_name()?;
                let dir = match path.parent() {
                    Some(p) if !p.as_os_str().is_empty() => p,
                    _ => Path::new("."),
                };
                return Some(dir.canonicalize().ok()?.join(name));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(paths: &[&Path]) -> Vec<PathBuf> {
        paths.iter().map(|p| p.to_path_buf()).collect()
    }

    fn create(path: &Path, ins: &[PathBuf]) -> Result<OutputFile, OutputError> {
        OutputFile::create(path, ins.iter().map(PathBuf::as_path))
    }

    fn leftovers(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn commit_replaces_the_target_and_nothing_changes_before() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("report.txt");
        std::fs::write(&target, "old").unwrap();
        let mut out = create(&target, &[]).unwrap();
        out.write_all(b"new").unwrap();
        out.flush().unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "old");
        out.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
        assert_eq!(leftovers(dir.path()), ["report.txt"]);
    }

    #[test]
    fn dropped_without_commit_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("report.txt");
        let mut out = create(&target, &[]).unwrap();
        out.write_all(&[b'x'; 100_000]).unwrap();
        drop(out);
        assert!(leftovers(dir.path()).is_empty());
    }

    #[test]
    fn an_input_is_refused_by_path_symlink_hard_link_and_other_spelling() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let log = d.join("flows.log");
        std::fs::write(&log, "data").unwrap();
        std::fs::create_dir(d.join("sub")).unwrap();
        std::os::unix::fs::symlink(&log, d.join("link.log")).unwrap();
        std::fs::hard_link(&log, d.join("hard.log")).unwrap();
        let ins = inputs(&[&log]);
        for target in [
            log.clone(),
            d.join("link.log"),
            d.join("hard.log"),
            d.join("sub/../flows.log"),
        ] {
            let e = create(&target, &ins).err().unwrap();
            assert!(matches!(e, OutputError::IsInput { .. }), "{target:?}: {e}");
            assert!(e.to_string().starts_with("refusing to write"), "{e}");
            assert!(e.hint().is_some());
        }
        assert_eq!(std::fs::read_to_string(&log).unwrap(), "data");
        // An input that does not exist (yet) is still refused by path.
        let missing = d.join("missing.log");
        let e = create(&missing, &inputs(&[&missing])).err().unwrap();
        assert!(matches!(e, OutputError::IsInput { .. }), "{e}");
        // A dangling symlink to an input.
        std::os::unix::fs::symlink(&missing, d.join("dangling")).unwrap();
        let e = create(&d.join("dangling"), &inputs(&[&missing])).err();
        assert!(matches!(e, Some(OutputError::IsInput { .. })), "{e:?}");
        // Other paths are fine.
        assert!(create(&d.join("report.html"), &ins).is_ok());
    }

    #[test]
    fn a_directory_or_no_file_name_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let e = create(dir.path(), &[]).err().unwrap();
        assert!(matches!(e, OutputError::IsDirectory(_)), "{e}");
        let e = create(Path::new("x/.."), &[]).err().unwrap();
        assert!(matches!(e, OutputError::NoFileName(_)), "{e}");
        let e = create(&dir.path().join("no/such/dir/r.txt"), &[])
            .err()
            .unwrap();
        assert!(e.to_string().contains("/no/such/dir does not exist"), "{e}");
    }

    #[test]
    fn a_symlink_is_written_through_and_stays_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.json");
        std::fs::write(&real, "old").unwrap();
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let mut out = create(&link, &[]).unwrap();
        out.write_all(b"new").unwrap();
        out.commit().unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "new");
    }

    #[test]
    fn devices_are_written_in_place_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("null");
        std::os::unix::fs::symlink("/dev/null", &link).unwrap();
        for target in [Path::new("/dev/null"), link.as_path()] {
            let mut out = create(target, &[]).unwrap();
            out.write_all(b"discarded").unwrap();
            out.commit().unwrap();
        }
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        use std::os::unix::fs::FileTypeExt;
        assert!(
            std::fs::metadata("/dev/null")
                .unwrap()
                .file_type()
                .is_char_device()
        );
        assert_eq!(leftovers(dir.path()), ["null"], "no temporary file");
    }

    #[cfg(unix)]
    #[test]
    fn regression_an_overwritten_file_keeps_its_mode_and_a_new_one_is_not_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("report.txt");
        std::fs::write(&target, "old").unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o664)).unwrap();
        let mut out = create(&target, &[]).unwrap();
        out.write_all(b"new").unwrap();
        out.commit().unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&target), 0o664);
        // A new file: 0666 less the umask (read it back from a file std creates).
        let probe = dir.path().join("probe");
        std::fs::write(&probe, "").unwrap();
        let fresh = dir.path().join("fresh.txt");
        let out = create(&fresh, &[]).unwrap();
        out.commit().unwrap();
        assert_eq!(mode(&fresh), mode(&probe));
        assert_ne!(mode(&fresh), 0o600);
    }
}
