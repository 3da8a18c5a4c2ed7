//! How command output leaves the process: files through [`OutputFile`] (never one of the
//! command's inputs, written beside the target and renamed into place), and untrusted text made
//! safe for terminals with [`Safe`]. Renderers build strings; this module only delivers them.

mod file;
pub mod text;

pub use file::{OutputError, OutputFile, check_stdout, same_file};
pub use text::{Safe, safe};
