//! Cooperative cancellation of an apply (what Ctrl-C asks for). Once requested, the executor
//! starts no new change or batch; calls already sent to AWS finish, and so does the deletion
//! half of a replace whose new flow log exists (logging never stops either way). Every change
//! that never started is reported skipped with the reason [`INTERRUPTED`]. This module only
//! holds the flag: catching the signal is the CLI's business.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::Status;

/// The reason given for changes that did not start because the apply was interrupted.
pub const INTERRUPTED: &str = "interrupted";

/// A shared "stop starting new work" flag; clones share it.
#[derive(Clone, Debug, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Asks every executor holding a clone to start nothing new.
    pub fn request(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_requested(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// The status of a change that never started: interrupted, or (should the executor have
/// missed it) not executed.
pub fn not_started(cancel: &Cancel) -> Status {
    Status::Skipped {
        reason: if cancel.is_requested() {
            INTERRUPTED.into()
        } else {
            "not executed".into()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_seen_by_every_clone() {
        let a = Cancel::new();
        let b = a.clone();
        assert!(!b.is_requested());
        assert_eq!(
            not_started(&b),
            Status::Skipped {
                reason: "not executed".into()
            }
        );
        a.request();
        assert!(b.is_requested());
        assert_eq!(
            not_started(&b),
            Status::Skipped {
                reason: INTERRUPTED.into()
            }
        );
    }
}
