//! The one exit-code scheme every command uses (see the README's "Exit codes").

/// What a command's outcome means for the process exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: success, nothing to act on.
    Clean,
    /// 1: an error (bad input, no credentials, a failed change or target).
    Failure,
    /// 2: the command worked and found something to act on (for example pending changes).
    ActionNeeded,
}

impl ExitStatus {
    pub fn code(self) -> i32 {
        match self {
            ExitStatus::Clean => 0,
            ExitStatus::Failure => 1,
            ExitStatus::ActionNeeded => 2,
        }
    }
}
