//! Rung 3 for CloudWatch Logs destinations: the delivery role is trusted by
//! vpc-flow-logs.amazonaws.com with conditions that admit this account and flow log, its
//! policies (inline and attached) allow writing to the group, and a KMS-encrypted group's key
//! admits `logs.<region>.amazonaws.com`. Evaluated by `policy_eval` on the documents.

use super::check::{self, PERMISSIONS};
use super::facts::{CwlFacts, Subject};
use super::fixes;
use super::report::Check;
use crate::model::delivery::RoleDocuments;
use crate::policy_eval::{self, Principal, Request};

pub const FLOW_LOGS_SERVICE: &str = "vpc-flow-logs.amazonaws.com";

/// What the role must be allowed, on which resource.
fn needed(s: &Subject, group: &str, stream: &str) -> Vec<(&'static str, String)> {
    let g = fixes::log_group_arn(&s.partition, &s.region, &s.account, group);
    vec![
        ("logs:CreateLogStream", format!("{g}:log-stream:{stream}")),
        ("logs:PutLogEvents", format!("{g}:log-stream:{stream}")),
        ("logs:DescribeLogStreams", format!("{g}:*")),
        (
            "logs:DescribeLogGroups",
            format!(
                "arn:{}:logs:{}:{}:log-group:*",
                s.partition, s.region, s.account
            ),
        ),
    ]
}

/// A problem: what is wrong, the fix, and whether `apply` can make that fix (it rewrites
/// flowkeeper's own statements only).
type Problem = (String, String, bool);

fn trust_problem(s: &Subject, role: &RoleDocuments) -> Option<Problem> {
    let fix = || {
        format!(
            "add to the trust policy of role {}:\n{}",
            role.name,
            fixes::trust_statement(&s.partition, &s.account)
        )
    };
    let Some(trust) = &role.trust_policy else {
        return Some((
            format!("role {} has no trust policy", role.name),
            fix(),
            true,
        ));
    };
    let req = Request::by_service(FLOW_LOGS_SERVICE, "sts:AssumeRole", role.arn.clone())
        .with("aws:SourceAccount", s.account.clone())
        .with(
            "aws:SourceArn",
            format!(
                "arn:{}:ec2:{}:{}:vpc-flow-log/{}",
                s.partition, s.region, s.account, s.flow_log.id
            ),
        );
    let d = policy_eval::evaluate(trust, &req);
    if d.is_allowed() {
        return None;
    }
    let why = super::explain::refusal(&d, "it");
    let (fix, by_apply) = match super::explain::foreign_deny(&d) {
        Some(st) => (
            format!(
                "remove statement {st} from the trust policy of role {}, or narrow it so that it does not match {FLOW_LOGS_SERVICE} (`flowkeeper apply` never edits statements it did not write)",
                role.name
            ),
            false,
        ),
        None => (fix(), true),
    };
    Some((
        format!(
            "the trust policy of role {} does not let {FLOW_LOGS_SERVICE} assume it for account {}: {why}",
            role.name, s.account
        ),
        fix,
        by_apply,
    ))
}

fn permission_problem(s: &Subject, f: &CwlFacts, role: &RoleDocuments) -> Option<Problem> {
    let docs: Vec<&serde_json::Value> = role
        .inline
        .iter()
        .chain(&role.attached)
        .map(|(_, d)| d)
        .collect();
    let stream = s
        .interfaces
        .as_ref()
        .and_then(|i| i.first())
        .map(|e| crate::model::layout::cloudwatch_stream_name(e))
        .unwrap_or_else(|| "eni-00000000".into());
    let names: Vec<&str> = role
        .inline
        .iter()
        .chain(&role.attached)
        .map(|(n, _)| n.as_str())
        .collect();
    let mut denied_by = Vec::new();
    let mut outside_boundary = Vec::new();
    let missing: Vec<String> = needed(s, &f.log_group, &stream)
        .into_iter()
        .filter(|(action, resource)| {
            let req = Request::new(Principal::Arn(role.arn.clone()), *action, resource.clone());
            let d = policy_eval::evaluate_all(&docs, &req);
            if let Some(st) = super::explain::foreign_deny(&d) {
                let policy = names.get(st.policy).copied().unwrap_or("?");
                denied_by.push(format!("statement {st} of policy {policy}"));
            }
            // Effective permissions = identity ∩ boundary; a Deny in the boundary wins too.
            let bounded = match &role.boundary {
                None => true,
                Some((arn, b)) => {
                    let bd = policy_eval::evaluate(b, &req);
                    if let Some(st) = super::explain::foreign_deny(&bd) {
                        denied_by.push(format!("statement {st} of permissions boundary {arn}"));
                    } else if !bd.is_allowed() && d.is_allowed() {
                        outside_boundary.push(format!("{action} on {resource}"));
                    }
                    bd.is_allowed()
                }
            };
            !(d.is_allowed() && bounded)
        })
        .map(|(a, r)| format!("{a} on {r}"))
        .collect();
    if missing.is_empty() {
        return None;
    }
    denied_by.dedup();
    if !denied_by.is_empty() {
        return Some((
            format!(
                "role {} may not {}: {} denies it",
                role.name,
                missing.join(", "),
                denied_by.join(", ")
            ),
            format!(
                "remove {} or narrow it so that it does not deny writing to {} (`flowkeeper apply` never edits statements it did not write)",
                denied_by.join(", "),
                f.log_group
            ),
            false,
        ));
    }
    if let (Some((arn, _)), true) = (&role.boundary, missing.len() == outside_boundary.len()) {
        return Some((
            format!(
                "role {} may not {}: its permissions boundary {arn} does not allow it (the role's own policies do)",
                role.name,
                missing.join(", ")
            ),
            format!(
                "allow {} in the permissions boundary {arn} of role {}, or remove the boundary (`flowkeeper apply` does not edit permissions boundaries)",
                missing.join(", "),
                role.name
            ),
            false,
        ));
    }
    Some((
        format!(
            "role {} may not {} (its {} inline and {} attached policies were read)",
            role.name,
            missing.join(", "),
            role.inline.len(),
            role.attached.len()
        ),
        format!(
            "add to role {} an inline policy with:\n{}",
            role.name,
            fixes::role_permissions(&s.partition, &s.region, &s.account, &f.log_group)
        ),
        true,
    ))
}

fn key_problem(s: &Subject, f: &CwlFacts) -> Option<(String, String)> {
    let kms_key = f.group.as_ref().ok()?.as_ref()?.kms_key.as_ref()?;
    let key = match f.key.as_ref()? {
        Err(e) => {
            let c = check::unreadable(PERMISSIONS, &format!("KMS key {kms_key}"), e);
            return Some((c.detail, c.fix.unwrap_or_default()));
        }
        Ok(k) => k,
    };
    let group = format!("log group {}", f.log_group);
    if let Some(p) = super::key_state::problem(key, Some(&s.region), &group) {
        return Some(p);
    }
    let service = format!("logs.{}.amazonaws.com", s.region);
    let group_arn = fixes::log_group_arn(&s.partition, &s.region, &s.account, &f.log_group);
    let refused: Vec<&str> = ["kms:Encrypt", "kms:GenerateDataKey", "kms:Decrypt"]
        .into_iter()
        .filter(|a| {
            let req = Request::by_service(&service, *a, key.arn.clone())
                .with("kms:EncryptionContext:aws:logs:arn", group_arn.clone());
            !policy_eval::evaluate(&key.policy, &req).is_allowed()
        })
        .collect();
    if refused.is_empty() {
        return None;
    }
    Some((
        format!(
            "the key policy of {} does not admit {service} ({}) for log group {}",
            key.arn,
            refused.join(", "),
            f.log_group
        ),
        format!(
            "add to the key policy of {} (principal {service}):\n{}",
            key.arn,
            fixes::logs_key_statement(&s.partition, &s.region, &s.account, &f.log_group)
        ),
    ))
}

pub fn check(s: &Subject, f: &CwlFacts) -> Check {
    let role_name = f.role_arn.rsplit('/').next().unwrap_or(&f.role_arn);
    let mut problems = Vec::new();
    match &f.role {
        None => {}
        Some(Err(e)) => {
            let c = check::unreadable(PERMISSIONS, &format!("role {role_name}"), e);
            problems.push((c.detail, c.fix.unwrap_or_default()));
        }
        Some(Ok(None)) => problems.push((
            format!("delivery role {} does not exist", f.role_arn),
            check::with_apply(
                format!(
                    "create role {role_name} with the trust statement\n{}\nand the permissions\n{}",
                    fixes::trust_statement(&s.partition, &s.account),
                    fixes::role_permissions(&s.partition, &s.region, &s.account, &f.log_group)
                ),
                s.config_managed,
                "the delivery role",
            ),
        )),
        Some(Ok(Some(role))) => {
            let managed = |(d, fix, by_apply): Problem| {
                let fix = if by_apply {
                    check::with_apply(fix, s.config_managed, "the delivery role")
                } else {
                    fix
                };
                (d, fix)
            };
            problems.extend(trust_problem(s, role).map(managed));
            problems.extend(permission_problem(s, f, role).map(managed));
        }
    }
    problems.extend(key_problem(s, f));
    if problems.is_empty() {
        let kms = match f
            .group
            .as_ref()
            .ok()
            .and_then(|g| g.as_ref()?.kms_key.clone())
        {
            Some(k) => format!("; KMS key {k} admits logs.{}.amazonaws.com", s.region),
            None => String::new(),
        };
        return check::ok(
            PERMISSIONS,
            format!(
                "role {role_name} is trusted by {FLOW_LOGS_SERVICE} for account {} and may write to {}{kms}",
                s.account, f.log_group
            ),
        );
    }
    check::from_problems(PERMISSIONS, problems)
}
