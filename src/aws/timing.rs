//! How long the SDK waits: connect and per-attempt timeouts, the whole-operation budget and the
//! first retry backoff. The values for real use are fixed here; fault-injection tests shorten
//! two of them through hidden environment variables, read in this one place:
//!
//! - `FLOWKEEPER_ATTEMPT_TIMEOUT_MS`: one attempt's timeout (default 60 000), so that a test of
//!   a stalled call does not wait a minute per attempt;
//! - `FLOWKEEPER_RETRY_BACKOFF_MS`: the first retry's backoff before jitter and doubling
//!   (default 1 000, the SDK's), so that a test of faults that outlast the retries does not
//!   wait half a minute for them.
//!
//! They change timing only, never which calls are made or retried. A value that is not a
//! positive whole number of milliseconds is ignored with a warning.

use std::time::Duration;

pub const ATTEMPT_TIMEOUT_VAR: &str = "FLOWKEEPER_ATTEMPT_TIMEOUT_MS";
pub const RETRY_BACKOFF_VAR: &str = "FLOWKEEPER_RETRY_BACKOFF_MS";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    pub connect: Duration,
    pub attempt: Duration,
    pub operation: Duration,
    pub initial_backoff: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            connect: Duration::from_secs(10),
            attempt: Duration::from_secs(60),
            operation: Duration::from_secs(300),
            initial_backoff: Duration::from_secs(1),
        }
    }
}

impl Timing {
    /// The defaults with the environment's overrides; warns on stderr about unusable values.
    pub fn from_env() -> Timing {
        let (timing, warnings) = Timing::from_vars(|k| std::env::var(k).ok());
        for w in warnings {
            eprintln!("warning: {w}");
        }
        timing
    }

    /// The defaults with overrides from `get`, and a message for each value that was ignored.
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> (Timing, Vec<String>) {
        let mut t = Timing::default();
        let mut warnings = Vec::new();
        let mut read = |name: &str, slot: &mut Duration| {
            let Some(raw) = get(name) else { return };
            match raw.trim().parse::<u64>() {
                Ok(ms) if ms > 0 => *slot = Duration::from_millis(ms),
                _ => warnings.push(format!(
                    "{name}=`{raw}` is not a positive number of milliseconds; ignored"
                )),
            }
        };
        read(ATTEMPT_TIMEOUT_VAR, &mut t.attempt);
        read(RETRY_BACKOFF_VAR, &mut t.initial_backoff);
        (t, warnings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let owned: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| owned.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    }

    #[test]
    fn without_overrides_the_defaults_hold() {
        assert_eq!(Timing::from_vars(vars(&[])), (Timing::default(), vec![]));
        assert_eq!(Timing::default().attempt, Duration::from_secs(60));
    }

    #[test]
    fn overrides_shorten_the_attempt_timeout_and_the_backoff_only() {
        let (t, w) = Timing::from_vars(vars(&[
            (ATTEMPT_TIMEOUT_VAR, "750"),
            (RETRY_BACKOFF_VAR, " 2 "),
        ]));
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(t.attempt, Duration::from_millis(750));
        assert_eq!(t.initial_backoff, Duration::from_millis(2));
        assert_eq!(t.connect, Timing::default().connect);
        assert_eq!(t.operation, Timing::default().operation);
    }

    #[test]
    fn unusable_values_are_ignored_with_a_message_naming_the_variable() {
        let (t, w) = Timing::from_vars(vars(&[
            (ATTEMPT_TIMEOUT_VAR, "0"),
            (RETRY_BACKOFF_VAR, "1s"),
        ]));
        assert_eq!(t, Timing::default());
        assert_eq!(w.len(), 2);
        assert!(w[0].contains("FLOWKEEPER_ATTEMPT_TIMEOUT_MS=`0`"), "{w:?}");
        assert!(w[1].contains("FLOWKEEPER_RETRY_BACKOFF_MS=`1s`"), "{w:?}");
    }
}
