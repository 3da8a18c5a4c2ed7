//! Ctrl-C during `apply`: the first SIGINT asks the executor to start nothing new (changes in
//! flight finish, the rest is reported skipped, "interrupted"); a second one exits at once
//! with status 1. Installed only once the plans are being executed: before that nothing has
//! changed and Ctrl-C keeps its usual meaning.

use crate::apply::{ApplyReport, Cancel, INTERRUPTED, Status};

/// What the first interrupt prints (tests wait for it).
pub const FIRST_NOTICE: &str = "interrupted: no new change will start; waiting for the changes in flight (Ctrl-C again aborts at once)";
/// What the second interrupt prints before exiting.
pub const SECOND_NOTICE: &str =
    "aborted: changes in flight may be half done; run `flowkeeper plan` to see what is left";

/// Starts catching SIGINT for `cancel`. Registers synchronously (an interrupt right after this
/// returns is caught), then listens on the runtime; must be called inside it.
pub fn watch(cancel: Cancel) {
    match interrupts() {
        Ok(mut next) => {
            tokio::spawn(async move {
                if !next.recv().await {
                    return;
                }
                cancel.request();
                eprintln!("\n{FIRST_NOTICE}");
                if next.recv().await {
                    eprintln!("{SECOND_NOTICE}");
                    std::process::exit(crate::exit::ExitStatus::Failure.code());
                }
            });
        }
        Err(e) => eprintln!(
            "warning: Ctrl-C cannot be caught ({e}): it stops apply at once, mid-change\n   = hint: the next `flowkeeper apply` finishes what was left"
        ),
    }
}

#[cfg(unix)]
struct Interrupts(tokio::signal::unix::Signal);

#[cfg(unix)]
fn interrupts() -> std::io::Result<Interrupts> {
    use tokio::signal::unix::{SignalKind, signal};
    signal(SignalKind::interrupt()).map(Interrupts)
}

#[cfg(unix)]
impl Interrupts {
    /// Waits for the next SIGINT; false when no more can come.
    async fn recv(&mut self) -> bool {
        self.0.recv().await.is_some()
    }
}

#[cfg(not(unix))]
struct Interrupts;

#[cfg(not(unix))]
fn interrupts() -> std::io::Result<Interrupts> {
    Ok(Interrupts)
}

#[cfg(not(unix))]
impl Interrupts {
    async fn recv(&mut self) -> bool {
        tokio::signal::ctrl_c().await.is_ok()
    }
}

/// After an interrupted apply: what was done and what was not, for stderr.
pub fn summary(reports: &[(String, ApplyReport)]) -> String {
    let count = |pred: &dyn Fn(&Status) -> bool| -> usize {
        reports.iter().map(|(_, r)| r.count(pred)).sum()
    };
    let done = count(&|s| *s == Status::Done);
    let failed = count(&|s| matches!(s, Status::Failed { .. }));
    let not_started =
        count(&|s| matches!(s, Status::Skipped { reason } if reason.as_str() == INTERRUPTED));
    let other_skips = count(&|s| matches!(s, Status::Skipped { .. })) - not_started;
    format!(
        "apply interrupted: {done} change(s) done, {failed} failed, {other_skips} skipped for a failed dependency, {not_started} not started (skipped: {INTERRUPTED})\n   = hint: run `flowkeeper apply` again to finish; it plans from what now exists"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::Outcome;
    use crate::plan::{Action, ResourceType};

    fn outcome(status: Status) -> Outcome {
        Outcome {
            action: Action::Create,
            resource_type: ResourceType::FlowLog,
            region: Some("us-east-1".into()),
            id: "vpc-1".into(),
            resource: Some("vpc-1".into()),
            subject: "flow-log vpc-1".into(),
            status,
        }
    }

    #[test]
    fn the_summary_tells_done_failed_and_not_started_apart() {
        let skipped = |r: &str| Status::Skipped { reason: r.into() };
        let report = ApplyReport {
            outcomes: vec![
                outcome(Status::Done),
                outcome(Status::Failed {
                    error: "e".into(),
                    hint: None,
                }),
                outcome(skipped("depends on x, which did not complete")),
                outcome(skipped(INTERRUPTED)),
                outcome(skipped(INTERRUPTED)),
            ],
        };
        let s = summary(&[("111122223333".into(), report)]);
        assert!(
            s.starts_with("apply interrupted: 1 change(s) done, 1 failed, 1 skipped for a failed dependency, 2 not started (skipped: interrupted)"),
            "{s}"
        );
    }
}
