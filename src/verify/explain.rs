//! Why a policy decision does not admit a request, in one sentence: the denying statement, or
//! the allowing statements that came closest (those whose principal and action matched, so
//! that the reason is the resource or a condition) with their reasons.

use serde_json::Value;

use crate::policy_eval::{Decision, Effect, Miss, StatementRef};

/// A statement flowkeeper writes (`apply` rewrites it); any other is left alone by `apply`.
pub fn is_ours(st: &StatementRef) -> bool {
    st.sid
        .as_deref()
        .is_some_and(|s| s.starts_with(crate::policies::SID_PREFIX))
}

/// The foreign statement that explicitly denies, if that is what decided.
pub fn foreign_deny(d: &Decision) -> Option<&StatementRef> {
    match (&d.effect, &d.statement) {
        (Effect::ExplicitDeny, Some(st)) if !is_ours(st) => Some(st),
        _ => None,
    }
}

/// `policy` without the statement `st` (to ask whether removing it is enough).
pub fn without(policy: &Value, st: &StatementRef) -> Value {
    let mut p = policy.clone();
    match p.get_mut("Statement") {
        Some(Value::Array(a)) if st.index < a.len() => {
            a.remove(st.index);
        }
        Some(Value::Object(_)) if st.index == 0 => {
            p["Statement"] = Value::Array(Vec::new());
        }
        _ => {}
    }
    p
}

/// A miss on the principal or action says only that the statement is about something else.
fn off_topic(m: &Miss) -> bool {
    let r = m.reason.to_ascii_lowercase();
    [
        "its action",
        "its notaction",
        "its principal",
        "its notprincipal",
    ]
    .iter()
    .any(|p| r.starts_with(p))
}

pub fn refusal(d: &Decision, what: &str) -> String {
    let mut out = match (&d.effect, &d.statement) {
        (Effect::ExplicitDeny, Some(st)) => format!("statement {st} denies {what}"),
        _ => {
            let close: Vec<&Miss> = d.misses.iter().filter(|m| !off_topic(m)).collect();
            let shown: Vec<&Miss> = if close.is_empty() {
                d.misses.iter().collect()
            } else {
                close
            };
            let why: Vec<String> = shown
                .iter()
                .take(3)
                .map(|m| format!("{}: {}", m.statement, m.reason))
                .collect();
            if why.is_empty() {
                format!("no statement allows {what}")
            } else {
                format!("no statement allows {what} ({})", why.join("; "))
            }
        }
    };
    if !d.warnings.is_empty() {
        out.push_str(&format!(" [{}]", d.warnings.join("; ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy_eval::{self, Principal, Request};
    use serde_json::json;

    #[test]
    fn the_closest_statement_is_named_and_unrelated_ones_are_left_out() {
        let policy = json!({"Statement": [
            {"Sid": "Acl", "Effect": "Allow", "Principal": {"Service": "s"}, "Action": "s3:GetBucketAcl", "Resource": "arn:aws:s3:::b"},
            {"Sid": "Write", "Effect": "Allow", "Principal": {"Service": "s"}, "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/x"}
        ]});
        let req = Request::new(
            Principal::Service("s".into()),
            "s3:PutObject",
            "arn:aws:s3:::b/y",
        );
        let text = refusal(&policy_eval::evaluate(&policy, &req), "PutObject");
        assert!(text.contains("`Write`"), "{text}");
        assert!(!text.contains("`Acl`"), "{text}");
    }

    #[test]
    fn a_statement_is_removed_by_its_place() {
        let policy = json!({"Statement": [{"Sid": "A"}, {"Sid": "B"}]});
        let st = StatementRef {
            policy: 0,
            index: 1,
            sid: Some("B".into()),
        };
        assert_eq!(without(&policy, &st), json!({"Statement": [{"Sid": "A"}]}));
        assert!(!is_ours(&st));
        assert!(is_ours(&StatementRef {
            policy: 0,
            index: 0,
            sid: Some("FlowkeeperX".into())
        }));
    }

    #[test]
    fn a_deny_is_named() {
        let policy = json!({"Statement": [
            {"Sid": "No", "Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}
        ]});
        let req = Request::new(
            Principal::Service("s".into()),
            "s3:PutObject",
            "arn:aws:s3:::b/y",
        );
        assert_eq!(
            refusal(&policy_eval::evaluate(&policy, &req), "it"),
            "statement `No` denies it"
        );
    }
}
