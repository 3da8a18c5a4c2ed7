//! How big and how deep a hand-written YAML file may be. Both limits are checked before or
//! while parsing, so a hostile or mistaken file fails fast with a message that names the limit,
//! instead of taking minutes and gigabytes.

/// Limits on one YAML source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest source accepted, in bytes (checked before parsing).
    pub max_bytes: usize,
    /// Deepest nesting of mappings and sequences accepted (checked while parsing).
    pub max_depth: usize,
}

impl Limits {
    /// Generous for any hand-written config or rule pack (the shipped ones are a few KiB and
    /// nest at most 6 levels deep).
    pub const DEFAULT: Limits = Limits {
        max_bytes: 4 * 1024 * 1024,
        max_depth: 64,
    };

    /// The most values a document may hold once aliases are expanded: as many as a file of
    /// `max_bytes` could spell out without aliases, so aliases never multiply the work beyond
    /// what the size limit already allows.
    pub fn max_nodes(&self) -> usize {
        self.max_bytes
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// Why [`read_to_string`] read nothing.
#[derive(Debug)]
pub enum ReadError {
    Io(std::io::Error),
    /// The file is larger than the limit (only the first `max_bytes + 1` bytes were read).
    TooBig,
}

/// Reads a whole text file, but never more than `limits.max_bytes + 1` bytes of it, so that a
/// huge file (or a device that never ends) fails at once instead of filling memory.
pub fn read_to_string(path: &std::path::Path, limits: &Limits) -> Result<String, ReadError> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(ReadError::Io)?;
    let mut text = String::new();
    file.take(limits.max_bytes as u64 + 1)
        .read_to_string(&mut text)
        .map_err(ReadError::Io)?;
    if text.len() > limits.max_bytes {
        return Err(ReadError::TooBig);
    }
    Ok(text)
}

/// `n` bytes for messages: `5.0 MiB`, `12 KiB`, `300 bytes`.
pub fn human_bytes(n: usize) -> String {
    const MIB: usize = 1024 * 1024;
    if n >= MIB {
        if n.is_multiple_of(MIB) {
            format!("{} MiB", n / MIB)
        } else {
            format!("{:.1} MiB", n as f64 / MIB as f64)
        }
    } else if n >= 1024 {
        format!("{} KiB", n / 1024)
    } else {
        format!("{n} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(human_bytes(4 * 1024 * 1024), "4 MiB");
        assert_eq!(human_bytes(5 * 1024 * 1024 + 200 * 1024), "5.2 MiB");
        assert_eq!(human_bytes(12 * 1024 + 5), "12 KiB");
        assert_eq!(human_bytes(300), "300 bytes");
    }
}
