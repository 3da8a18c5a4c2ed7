//! Building [`Check`]s: the rung names, constructors, and the wording shared by every rung
//! (a read that failed, a fix that names `flowkeeper apply`).

use super::facts::ReadFailure;
use super::report::{Check, CheckResult};

pub const STATUS: &str = "status";
pub const DESTINATION: &str = "destination";
pub const PERMISSIONS: &str = "permissions";
pub const EVIDENCE: &str = "evidence";
pub const SHAPE: &str = "shape";
pub const FRESHNESS: &str = "freshness";

/// The rungs, in ladder order.
pub const RUNGS: [&str; 6] = [STATUS, DESTINATION, PERMISSIONS, EVIDENCE, SHAPE, FRESHNESS];

pub fn ok(name: &str, detail: impl Into<String>) -> Check {
    Check {
        name: name.to_string(),
        result: CheckResult::Ok,
        detail: detail.into(),
        fix: None,
    }
}

pub fn failed(name: &str, detail: impl Into<String>, fix: impl Into<String>) -> Check {
    Check {
        name: name.to_string(),
        result: CheckResult::Failed,
        detail: detail.into(),
        fix: Some(fix.into()),
    }
}

pub fn not_applicable(name: &str, detail: impl Into<String>) -> Check {
    Check {
        name: name.to_string(),
        result: CheckResult::NotApplicable,
        detail: detail.into(),
        fix: None,
    }
}

pub fn waiting(name: &str, detail: impl Into<String>) -> Check {
    Check {
        name: name.to_string(),
        result: CheckResult::Waiting,
        detail: detail.into(),
        fix: None,
    }
}

pub fn unverified(name: &str, detail: impl Into<String>, fix: impl Into<String>) -> Check {
    Check {
        name: name.to_string(),
        result: CheckResult::Unverified,
        detail: detail.into(),
        fix: Some(fix.into()),
    }
}

/// A read that failed: the rung is unverified with "cannot read" and the permission to grant.
pub fn unreadable(name: &str, what: &str, e: &ReadFailure) -> Check {
    let fix = if e.denied {
        format!(
            "grant `{}` on {what} to the identity flowkeeper runs as (policies/flowkeeper-verify.json has every read verify makes)",
            e.permission()
        )
    } else {
        format!(
            "run verify again; if `{}` keeps failing, check {what} and the endpoint",
            e.operation
        )
    };
    unverified(
        name,
        format!("cannot read {what}: {}: {}", e.operation, e.message),
        fix,
    )
}

/// One rung from its problems (detail, fix): failed when any problem is a finding; unverified
/// when every problem is something verify could not decide (their details, from
/// [`unreadable`] or an undecidable policy, start with "cannot ").
pub fn from_problems(name: &str, problems: Vec<(String, String)>) -> Check {
    let undecided = problems.iter().all(|(d, _)| d.starts_with("cannot "));
    let (details, fixes): (Vec<String>, Vec<String>) = problems.into_iter().unzip();
    let mut fixes_once: Vec<String> = Vec::new();
    for f in fixes {
        if !fixes_once.contains(&f) {
            fixes_once.push(f);
        }
    }
    let (detail, fix) = (details.join("; "), fixes_once.join("\n"));
    if undecided {
        unverified(name, detail, fix)
    } else {
        failed(name, detail, fix)
    }
}

/// `fix`, followed by the apply hint when the config manages the resource.
pub fn with_apply(fix: String, config_managed: bool, what: &str) -> String {
    if config_managed {
        format!("run `flowkeeper apply` (the config manages {what}), or by hand: {fix}")
    } else {
        fix
    }
}

/// Human duration: `45s`, `12m`, `3h 5m`, `2d 4h`.
pub fn human(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86_400 => match (s % 3600) / 60 {
            0 => format!("{}h", s / 3600),
            m => format!("{}h {m}m", s / 3600),
        },
        _ => match (s % 86_400) / 3600 {
            0 => format!("{}d", s / 86_400),
            h => format!("{}d {h}h", s / 86_400),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human(45), "45s");
        assert_eq!(human(12 * 60 + 5), "12m");
        assert_eq!(human(3 * 3600 + 5 * 60), "3h 5m");
        assert_eq!(human(7200), "2h");
        assert_eq!(human(2 * 86_400 + 4 * 3600), "2d 4h");
        assert_eq!(human(-3), "0s");
    }

    #[test]
    fn a_denied_read_names_the_permission() {
        let e = ReadFailure {
            operation: "s3:GetBucketEncryption".into(),
            message: "Access Denied".into(),
            denied: true,
        };
        let c = unreadable(PERMISSIONS, "bucket b", &e);
        assert_eq!(c.result, CheckResult::Unverified);
        assert!(c.detail.starts_with("cannot read bucket b"), "{}", c.detail);
        assert!(
            c.fix
                .as_deref()
                .unwrap()
                .contains("s3:GetEncryptionConfiguration")
        );
    }
}
