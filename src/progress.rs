//! Progress reporting: library layers call this small trait; only the CLI decides how it is
//! shown (stderr lines, nothing when quiet).

use std::io::Write;

pub trait Progress: Sync {
    /// A step being taken.
    fn step(&self, message: &str);
    /// Something that went wrong but did not stop the run.
    fn warn(&self, message: &str);
}

/// Writes progress lines to stderr; `quiet` keeps only warnings.
pub struct StderrProgress {
    pub quiet: bool,
}

impl Progress for StderrProgress {
    fn step(&self, message: &str) {
        if !self.quiet {
            let _ = writeln!(std::io::stderr(), "{message}");
        }
    }
    fn warn(&self, message: &str) {
        let _ = writeln!(std::io::stderr(), "warning: {message}");
    }
}

/// Discards everything (tests).
pub struct Silent;

impl Progress for Silent {
    fn step(&self, _: &str) {}
    fn warn(&self, _: &str) {}
}
