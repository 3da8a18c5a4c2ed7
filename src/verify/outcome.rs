//! The report's roll-ups: the summary counts, the sort order, the exit status, and the
//! `--wait` poll schedule (2 s doubling to 30 s, or a fixed interval from
//! `FLOWKEEPER_VERIFY_POLL_MS` for tests). Pure.

use std::collections::BTreeSet;
use std::time::Duration;

use super::report::{
    CheckResult, DeliveryStatus, FlowLogVerification, VerifyError, VerifyReport, VerifySummary,
};
use crate::exit::ExitStatus;

/// Hidden: a fixed `--wait` poll interval in milliseconds (tests use a short one).
pub const POLL_ENV: &str = "FLOWKEEPER_VERIFY_POLL_MS";

pub fn summarize(flow_logs: &[FlowLogVerification]) -> VerifySummary {
    let mut s = VerifySummary {
        flow_logs: flow_logs.len(),
        ..Default::default()
    };
    for fl in flow_logs {
        match fl.status {
            DeliveryStatus::Delivering => s.delivering += 1,
            DeliveryStatus::Failing => s.failing += 1,
            DeliveryStatus::Waiting => s.waiting += 1,
            DeliveryStatus::Stale => s.stale += 1,
            DeliveryStatus::Unverified => {
                s.unverified += 1;
                if is_firehose(fl) {
                    s.firehose += 1;
                }
            }
        }
    }
    s
}

fn is_firehose(f: &FlowLogVerification) -> bool {
    f.destination_type == "kinesis-data-firehose"
}

/// Unverified because a read (or a context value) verify needs was not available: an error of
/// the run (the identity lacks a permission), unlike a Firehose flow log.
pub fn undecided(f: &FlowLogVerification) -> bool {
    f.status == DeliveryStatus::Unverified && !is_firehose(f)
}

/// One error per undecided rung of an unverified flow log: what could not be read, and the
/// fix (the permission to grant). They go into the report's `errors`.
pub fn read_errors(flow_logs: &[FlowLogVerification]) -> Vec<VerifyError> {
    flow_logs
        .iter()
        .filter(|f| undecided(f))
        .flat_map(|f| {
            f.checks
                .iter()
                .filter(|c| c.result == CheckResult::Unverified)
                .map(move |c| VerifyError {
                    account: Some(f.account.clone()),
                    region: Some(f.region.clone()),
                    message: format!("flow log {} {}: {}", f.flow_log_id, c.name, c.detail),
                    hint: c.fix.clone(),
                })
        })
        .collect()
}

/// Sorted by (account, region, flow log id, resource).
pub fn sort(flow_logs: &mut [FlowLogVerification]) {
    flow_logs.sort_by(|a, b| {
        (&a.account, &a.region, &a.flow_log_id, &a.resource_id).cmp(&(
            &b.account,
            &b.region,
            &b.flow_log_id,
            &b.resource_id,
        ))
    });
}

/// `account/region/flow-log-id`: how [`Idle`] names a flow log.
pub fn key(f: &FlowLogVerification) -> String {
    format!("{}/{}/{}", f.account, f.region, f.flow_log_id)
}

/// Flow logs on resources without network interfaces: `waiting` for ever, since nothing can
/// arrive, so they neither hold `--wait` open nor fail it.
pub type Idle = BTreeSet<String>;

/// Whether `--wait` may stop: every flow log delivers, except idle ones.
pub fn settled(r: &VerifyReport, idle: &Idle) -> bool {
    r.flow_logs.iter().all(|f| {
        f.status == DeliveryStatus::Delivering
            || f.status == DeliveryStatus::Unverified
            || (f.status == DeliveryStatus::Waiting && idle.contains(&key(f)))
    })
}

/// A flow log younger than this (seconds) may still be waiting for IAM to propagate after
/// `apply`: `--wait` does not give up on it early.
pub const SETTLE_AFTER: i64 = 15 * 60;

/// The rungs whose failure waiting cannot fix (a document or a resource must change).
const NOT_BY_WAITING: [&str; 3] = ["destination", "permissions", "shape"];

/// Whether `--wait` may stop early: some flow log is not delivering, and every one not
/// delivering (other than idle and unverified ones) fails on a rung waiting cannot fix and is
/// not `young` (created less than [`SETTLE_AFTER`] ago, or of unknown age).
pub fn hopeless(r: &VerifyReport, idle: &Idle, young: &Idle) -> bool {
    let pending: Vec<&FlowLogVerification> = r
        .flow_logs
        .iter()
        .filter(|f| match f.status {
            DeliveryStatus::Delivering | DeliveryStatus::Unverified => false,
            DeliveryStatus::Waiting => !idle.contains(&key(f)),
            DeliveryStatus::Failing | DeliveryStatus::Stale => true,
        })
        .collect();
    !pending.is_empty()
        && pending.iter().all(|f| {
            f.status == DeliveryStatus::Failing
                && !young.contains(&key(f))
                && f.checks.iter().any(|c| {
                    c.result == CheckResult::Failed && NOT_BY_WAITING.contains(&c.name.as_str())
                })
        })
}

/// 1 on an error of a target; 2 when a flow log fails or is stale (or, after `--wait`, one
/// still waits for its first delivery); else 1 when a flow log is unverified because a read
/// failed (its [`read_errors`]); else 0 (waiting and Firehose ones shown, not acted on).
pub fn exit_status(r: &VerifyReport, waited: bool, idle: &Idle) -> ExitStatus {
    let from_reads = read_errors(&r.flow_logs);
    if r.errors.iter().any(|e| !from_reads.contains(e)) {
        return ExitStatus::Failure;
    }
    let acted_on = |f: &FlowLogVerification| match f.status {
        DeliveryStatus::Failing | DeliveryStatus::Stale => true,
        DeliveryStatus::Waiting => waited && !idle.contains(&key(f)),
        DeliveryStatus::Delivering | DeliveryStatus::Unverified => false,
    };
    if r.flow_logs.iter().any(acted_on) {
        ExitStatus::ActionNeeded
    } else if r.flow_logs.iter().any(undecided) {
        ExitStatus::Failure
    } else {
        ExitStatus::Clean
    }
}

/// The `--wait` schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Backoff {
    next: Duration,
    fixed: bool,
}

impl Backoff {
    pub const FIRST: Duration = Duration::from_secs(2);
    pub const CAP: Duration = Duration::from_secs(30);

    /// From `FLOWKEEPER_VERIFY_POLL_MS` (a fixed interval) or the default schedule.
    pub fn from_env_value(value: Option<&str>) -> Backoff {
        match value.and_then(|v| v.trim().parse::<u64>().ok()) {
            Some(ms) => Backoff {
                next: Duration::from_millis(ms.max(1)),
                fixed: true,
            },
            None => Backoff {
                next: Self::FIRST,
                fixed: false,
            },
        }
    }

    /// The pause before the next poll, never past `remaining`.
    pub fn next(&mut self, remaining: Duration) -> Duration {
        let d = self.next.min(remaining);
        if !self.fixed {
            self.next = (self.next * 2).min(Self::CAP);
        }
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::report::{SCHEMA_VERSION, VerifyError};

    fn fl(status: DeliveryStatus) -> FlowLogVerification {
        FlowLogVerification {
            account: "111122223333".into(),
            region: "us-east-1".into(),
            flow_log_id: "fl-1".into(),
            resource_id: "vpc-1".into(),
            destination: "d".into(),
            destination_type: "s3".into(),
            status,
            checks: Vec::new(),
            newest_delivery: None,
            lag_seconds: None,
            entry: None,
        }
    }

    fn report(statuses: &[DeliveryStatus]) -> VerifyReport {
        let flow_logs: Vec<_> = statuses.iter().map(|s| fl(*s)).collect();
        VerifyReport {
            schema_version: SCHEMA_VERSION,
            generated_at: String::new(),
            summary: summarize(&flow_logs),
            flow_logs,
            errors: Vec::new(),
        }
    }

    #[test]
    fn an_unverified_read_is_an_error_of_the_run_unless_something_fails_and_firehose_is_not() {
        use DeliveryStatus::*;
        let none = Idle::new();
        let mut r = report(&[Delivering, Unverified]);
        r.flow_logs[1].checks.push(crate::verify::check::unverified(
            "permissions",
            "cannot read x",
            "grant y",
        ));
        r.errors = read_errors(&r.flow_logs);
        assert_eq!(r.errors.len(), 1);
        assert_eq!(exit_status(&r, false, &none), ExitStatus::Failure);
        r.flow_logs[0].status = Failing;
        assert_eq!(exit_status(&r, false, &none), ExitStatus::ActionNeeded);
        let mut r = report(&[Delivering, Unverified]);
        r.flow_logs[1].destination_type = "kinesis-data-firehose".into();
        assert_eq!(exit_status(&r, false, &none), ExitStatus::Clean);
        assert!(settled(&r, &none));
    }

    #[test]
    fn wait_stops_early_only_when_old_flow_logs_fail_on_rungs_waiting_cannot_fix() {
        use DeliveryStatus::*;
        let none = Idle::new();
        let mut r = report(&[Delivering, Failing]);
        r.flow_logs[1]
            .checks
            .push(crate::verify::check::failed("permissions", "d", "f"));
        assert!(hopeless(&r, &none, &none));
        let young: Idle = [key(&r.flow_logs[1])].into_iter().collect();
        assert!(!hopeless(&r, &none, &young), "a young one keeps waiting");
        r.flow_logs[1].checks[0].name = "evidence".into();
        assert!(
            !hopeless(&r, &none, &none),
            "nothing arrived yet: waiting may fix it"
        );
        assert!(!hopeless(&report(&[Delivering, Waiting]), &none, &none));
    }

    #[test]
    fn exit_codes_follow_the_statuses() {
        use DeliveryStatus::*;
        let none = Idle::new();
        assert_eq!(
            exit_status(&report(&[Delivering, Waiting]), false, &none),
            ExitStatus::Clean
        );
        assert_eq!(
            exit_status(&report(&[Delivering, Waiting]), true, &none),
            ExitStatus::ActionNeeded
        );
        assert_eq!(
            exit_status(&report(&[Delivering, Stale]), false, &none),
            ExitStatus::ActionNeeded
        );
        assert_eq!(
            exit_status(&report(&[Failing]), false, &none),
            ExitStatus::ActionNeeded
        );
        assert_eq!(exit_status(&report(&[]), false, &none), ExitStatus::Clean);
        let mut r = report(&[Delivering]);
        r.errors.push(VerifyError {
            account: None,
            region: None,
            message: "x".into(),
            hint: None,
        });
        assert_eq!(exit_status(&r, false, &none), ExitStatus::Failure);
    }

    #[test]
    fn an_idle_flow_log_neither_holds_wait_open_nor_fails_it() {
        use DeliveryStatus::*;
        let r = report(&[Delivering, Waiting]);
        assert!(!settled(&r, &Idle::new()));
        let idle: Idle = [key(&r.flow_logs[1])].into();
        assert!(settled(&r, &idle));
        assert_eq!(exit_status(&r, true, &idle), ExitStatus::Clean);
        assert!(!settled(&report(&[Failing]), &idle));
    }

    #[test]
    fn summary_counts_each_status() {
        use DeliveryStatus::*;
        let s = report(&[Delivering, Failing, Failing, Waiting, Stale]).summary;
        assert_eq!(
            (s.flow_logs, s.delivering, s.failing, s.waiting, s.stale),
            (5, 1, 2, 1, 1)
        );
    }

    #[test]
    fn backoff_doubles_to_the_cap_and_never_passes_the_deadline() {
        let mut b = Backoff::from_env_value(None);
        let far = Duration::from_secs(3600);
        let got: Vec<u64> = (0..6).map(|_| b.next(far).as_secs()).collect();
        assert_eq!(got, [2, 4, 8, 16, 30, 30]);
        assert_eq!(
            b.next(Duration::from_millis(500)),
            Duration::from_millis(500)
        );
        let mut fixed = Backoff::from_env_value(Some("50"));
        assert_eq!(fixed.next(far), Duration::from_millis(50));
        assert_eq!(fixed.next(far), Duration::from_millis(50));
        assert_eq!(
            Backoff::from_env_value(Some("junk")),
            Backoff::from_env_value(None)
        );
    }
}
