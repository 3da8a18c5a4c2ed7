//! Progress reporting: library layers call this small trait; only the CLI decides how it is
//! shown. On a terminal: one overall bar with the targets in flight and step lines above it;
//! otherwise plain lines; with `-q`, warnings only. Everything goes to stderr.

use std::io::{IsTerminal, Write};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub trait Progress: Sync {
    /// A step being taken.
    fn step(&self, message: &str);
    /// Something that went wrong but did not stop the run.
    fn warn(&self, message: &str);
    /// A unit of work (an account/region target) starts; `label` names it.
    fn target_started(&self, _label: &str) {}
    /// A unit of work ends.
    fn target_finished(&self, _label: &str) {}
}

/// The progress display the CLI uses.
pub struct StderrProgress {
    quiet: bool,
    bar: Option<ProgressBar>,
}

impl StderrProgress {
    pub fn new(quiet: bool) -> Self {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{bar:30} {pos}/{len} targets  {wide_msg}")
                    .expect("static template"),
            );
            bar
        });
        StderrProgress { quiet, bar }
    }

    /// Removes the bar before final output.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

impl Progress for StderrProgress {
    fn step(&self, message: &str) {
        match &self.bar {
            Some(b) => b.println(message),
            None if !self.quiet => {
                let _ = writeln!(std::io::stderr(), "{message}");
            }
            None => {}
        }
    }
    fn warn(&self, message: &str) {
        match &self.bar {
            Some(b) => b.println(format!("warning: {message}")),
            None => {
                let _ = writeln!(std::io::stderr(), "warning: {message}");
            }
        }
    }
    fn target_started(&self, label: &str) {
        if let Some(b) = &self.bar {
            b.inc_length(1);
            b.set_message(label.to_string());
        }
    }
    fn target_finished(&self, _label: &str) {
        if let Some(b) = &self.bar {
            b.inc(1);
        }
    }
}
