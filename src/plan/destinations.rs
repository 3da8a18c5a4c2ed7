//! Plans the destination resources: S3 buckets (settings and merged policy), CloudWatch Logs
//! groups and the IAM delivery role.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::model::{
    BucketLookup, BucketState, Encryption, Inventory, LifecycleRule, MANAGED_BY_KEY,
    MANAGED_BY_VALUE, PublicAccessBlock, layout, partition_of,
};
use crate::policies::{self, Param};

use super::resolve::{Part, Resolved, WantedBucket, WantedLogGroup, WantedRole};
use super::types::*;

/// Name of the inline policy flowkeeper writes on its delivery role.
pub const INLINE_POLICY_NAME: &str = "flowkeeper-delivery";

/// What the flow-log planner needs to know about destination parts.
#[derive(Default)]
pub struct PartStatus {
    /// Parts with a problem: flow logs that need them are not planned.
    pub unavailable: BTreeSet<Part>,
    /// Parts that change in this plan, with the change key to depend on.
    pub changing: BTreeMap<Part, String>,
}

fn managed_tags() -> BTreeMap<String, String> {
    [(MANAGED_BY_KEY.to_string(), MANAGED_BY_VALUE.to_string())].into()
}

pub fn plan_destinations(r: &Resolved, inv: &Inventory, plan: &mut Plan) -> PartStatus {
    let mut status = PartStatus {
        unavailable: r.blocked.clone(),
        ..Default::default()
    };
    for b in r.buckets.values() {
        // A bucket that could not be read is reported as a discovery failure; plan nothing on it.
        let Some(lookup) = inv.buckets.get(&b.name) else {
            status.unavailable.insert(Part::Bucket(b.name.clone()));
            continue;
        };
        match bucket_change(b, lookup) {
            Ok(Some(c)) => {
                status
                    .changing
                    .insert(Part::Bucket(b.name.clone()), c.key());
                plan.changes.push(c);
            }
            Ok(None) => {}
            Err(p) => {
                status.unavailable.insert(Part::Bucket(b.name.clone()));
                plan.problems.push(p);
            }
        }
    }
    for g in r.log_groups.values() {
        if !inv.regions.contains_key(&g.region) {
            status
                .unavailable
                .insert(Part::LogGroup(g.region.clone(), g.name.clone()));
            continue;
        }
        if let Some(c) = log_group_change(g, inv) {
            status
                .changing
                .insert(Part::LogGroup(g.region.clone(), g.name.clone()), c.key());
            plan.changes.push(c);
        }
    }
    for role in r.roles.values() {
        let Some(state) = inv.roles.get(&role.name) else {
            status.unavailable.insert(Part::Role(role.name.clone()));
            continue;
        };
        if let Some(c) = role_change(role, state.as_ref(), inv) {
            status
                .changing
                .insert(Part::Role(role.name.clone()), c.key());
            plan.changes.push(c);
        }
    }
    status
}

/// S3's limit on the size of a bucket policy.
pub const BUCKET_POLICY_LIMIT: usize = 20 * 1024;

/// The statements flowkeeper owns in a destination bucket's policy: every source account by
/// `aws:SourceAccount` and its own `AWSLogs/<account>/` folder (and, where flow logs deliver
/// with Hive-compatible partitions, `AWSLogs/aws-account-id=<account>/`, the folder AWS writes
/// those to), or, for an organization, one `aws:SourceOrgID` condition on `AWSLogs/`.
pub fn bucket_policy_statements(b: &WantedBucket) -> Value {
    let partition = partition_of(&b.region);
    let bucket_arn = format!("arn:{partition}:s3:::{}", b.name);
    if let Some(org) = &b.org_id {
        let object_arns = b
            .prefixes
            .iter()
            .map(|p| format!("{bucket_arn}/{}*", layout::aws_logs_root(p.as_deref())))
            .collect();
        return policies::render(
            policies::S3_BUCKET_POLICY_ORG,
            &[
                ("Partition", Param::Text(partition.into())),
                ("Bucket", Param::Text(b.name.clone())),
                ("LogObjectArns", Param::List(object_arns)),
                ("OrgId", Param::Text(org.clone())),
            ],
        );
    }
    let mut object_arns = Vec::new();
    for p in &b.prefixes {
        for a in &b.sources {
            let folder = layout::account_folder(false, p.as_deref(), a.as_str());
            object_arns.push(format!("{bucket_arn}/{folder}*"));
            if b.hive_prefixes.contains(p) {
                let folder = layout::account_folder(true, p.as_deref(), a.as_str());
                object_arns.push(format!("{bucket_arn}/{folder}*"));
            }
        }
    }
    policies::render(
        policies::S3_BUCKET_POLICY,
        &[
            ("Partition", Param::Text(partition.into())),
            ("Bucket", Param::Text(b.name.clone())),
            ("LogObjectArns", Param::List(object_arns)),
            (
                "SourceAccounts",
                Param::List(b.sources.iter().map(|a| a.to_string()).collect()),
            ),
            (
                "SourceArns",
                Param::List(
                    b.sources
                        .iter()
                        .map(|a| format!("arn:{partition}:logs:*:{a}:*"))
                        .collect(),
                ),
            ),
        ],
    )
}

fn encryption_text(e: &Encryption) -> String {
    match e {
        Encryption::SseS3 => "sse-s3 (AES256)".into(),
        Encryption::Kms { kms_key } => format!("aws:kms {kms_key}"),
    }
}

fn rule_text(r: &LifecycleRule) -> String {
    let mut parts = vec![format!("prefix {}", r.prefix)];
    if let (Some(d), Some(c)) = (r.transition_days, &r.storage_class) {
        parts.push(format!("to {c} after {d}d"));
    }
    if let Some(e) = r.expire_days {
        parts.push(format!("expire after {e}d"));
    }
    parts.join(", ")
}

fn bucket_change(b: &WantedBucket, lookup: &BucketLookup) -> Result<Option<Change>, Problem> {
    let subject = format!("bucket {}", b.name);
    let ours = bucket_policy_statements(b);
    let current_policy = match lookup {
        BucketLookup::Exists(state) => state.policy.as_ref(),
        _ => None,
    };
    let size = policies::merge(current_policy, &ours).to_string().len();
    if size > BUCKET_POLICY_LIMIT {
        return Err(Problem {
            region: Some(b.region.clone()),
            subject,
            message: format!(
                "the bucket policy would be {size} bytes with {} source accounts, over S3's limit of {BUCKET_POLICY_LIMIT}",
                b.sources.len()
            ),
            hint: Some("take the accounts from `organization:` so one aws:SourceOrgID condition replaces the per-account list".into()),
        });
    }
    let mut attrs = Vec::new();
    let mut steps = Vec::new();
    let (action, reason) = match lookup {
        BucketLookup::Foreign => {
            return Err(Problem {
                region: Some(b.region.clone()),
                subject,
                message: format!(
                    "the bucket is owned by another account, not {}: flowkeeper never edits it, and no flow log is pointed at it",
                    b.owner
                ),
                hint: Some("bucket names are global: choose another name (placeholders such as {account_id} help), or, for a central archive, set `account: <owner id>` on the destination".into()),
            });
        }
        BucketLookup::Denied => {
            return Err(Problem {
                region: Some(b.region.clone()),
                subject,
                message: "s3:HeadBucket was denied: the bucket belongs to another account, or the credentials lack s3:ListBucket on it".into(),
                hint: Some("grant s3:ListBucket (policies/flowkeeper-operator.json); if the name belongs to someone else, choose another".into()),
            });
        }
        BucketLookup::Missing if !b.create => {
            return Err(Problem {
                region: Some(b.region.clone()),
                subject,
                message: "the bucket does not exist and its destination says `create: false`"
                    .into(),
                hint: Some(
                    "create the bucket, or set `create: true` so flowkeeper creates it".into(),
                ),
            });
        }
        BucketLookup::Missing => {
            steps.push(BucketStep::Tags {
                tags: managed_tags(),
            });
            steps.push(BucketStep::PublicAccessBlock);
            steps.push(BucketStep::OwnershipEnforced);
            steps.push(BucketStep::Encryption {
                encryption: b.encryption.clone(),
            });
            attrs.push(AttributeDiff::new("region", None, Some(b.region.clone())));
            attrs.push(AttributeDiff::new(
                "public_access_block",
                None,
                Some("all on".into()),
            ));
            attrs.push(AttributeDiff::new(
                "object_ownership",
                None,
                Some("BucketOwnerEnforced".into()),
            ));
            attrs.push(AttributeDiff::new(
                "encryption",
                None,
                Some(encryption_text(&b.encryption)),
            ));
            if !b.lifecycle_rules.is_empty() {
                for r in &b.lifecycle_rules {
                    attrs.push(AttributeDiff::new(
                        &format!("lifecycle[{}]", r.id),
                        None,
                        Some(rule_text(r)),
                    ));
                }
                steps.push(BucketStep::Lifecycle {
                    rules: b.lifecycle_rules.clone(),
                    remove: Vec::new(),
                });
            }
            let sids = policies::changed_statements(None, &ours);
            attrs.push(AttributeDiff::new(
                "policy",
                None,
                Some(format!("statements {}", sids.join(", "))),
            ));
            steps.push(BucketStep::Policy {
                document: policies::merge(None, &ours),
            });
            (
                Action::Create,
                "destination bucket does not exist".to_string(),
            )
        }
        BucketLookup::Exists(state) => {
            if b.create {
                managed_settings_diff(b, state, &mut steps, &mut attrs);
            }
            let sids = policies::changed_statements(state.policy.as_ref(), &ours);
            if !sids.is_empty() {
                attrs.push(AttributeDiff::new(
                    "policy",
                    Some(if state.policy.is_some() {
                        "without current flowkeeper statements".into()
                    } else {
                        "none".into()
                    }),
                    Some(format!(
                        "statements {} merged in; other statements kept",
                        sids.join(", ")
                    )),
                ));
                steps.push(BucketStep::Policy {
                    document: policies::merge(state.policy.as_ref(), &ours),
                });
            }
            if steps.is_empty() {
                return Ok(None);
            }
            let names: Vec<&str> = attrs.iter().map(|a| a.name.as_str()).collect();
            (
                Action::Update,
                format!("bucket settings differ: {}", names.join(", ")),
            )
        }
    };
    Ok(Some(Change {
        action,
        resource_type: ResourceType::S3Bucket,
        region: Some(b.region.clone()),
        id: b.name.clone(),
        resource: None,
        target: None,
        reason,
        attributes: attrs,
        depends_on: Vec::new(),
        operation: Operation::Bucket {
            create: action == Action::Create,
            owner: b.owner.clone(),
            steps,
        },
    }))
}

fn managed_settings_diff(
    b: &WantedBucket,
    s: &BucketState,
    steps: &mut Vec<BucketStep>,
    attrs: &mut Vec<AttributeDiff>,
) {
    if s.public_access_block.as_ref() != Some(&PublicAccessBlock::ALL_ON) {
        attrs.push(AttributeDiff::new(
            "public_access_block",
            Some("not fully on".into()),
            Some("all on".into()),
        ));
        steps.push(BucketStep::PublicAccessBlock);
    }
    if s.object_ownership.as_deref() != Some("BucketOwnerEnforced") {
        attrs.push(AttributeDiff::new(
            "object_ownership",
            s.object_ownership.clone(),
            Some("BucketOwnerEnforced".into()),
        ));
        steps.push(BucketStep::OwnershipEnforced);
    }
    if s.encryption.as_ref() != Some(&b.encryption) {
        attrs.push(AttributeDiff::new(
            "encryption",
            s.encryption.as_ref().map(encryption_text),
            Some(encryption_text(&b.encryption)),
        ));
        steps.push(BucketStep::Encryption {
            encryption: b.encryption.clone(),
        });
    }
    let mut upsert = Vec::new();
    for want in &b.lifecycle_rules {
        let have = s.lifecycle_rules.iter().find(|r| r.id == want.id);
        if have != Some(want) {
            attrs.push(AttributeDiff::new(
                &format!("lifecycle[{}]", want.id),
                have.map(rule_text),
                Some(rule_text(want)),
            ));
            upsert.push(want.clone());
        }
    }
    let remove: Vec<String> = s
        .lifecycle_rules
        .iter()
        .filter(|r| {
            r.id.starts_with("flowkeeper-") && !b.lifecycle_rules.iter().any(|w| w.id == r.id)
        })
        .map(|r| r.id.clone())
        .collect();
    for id in &remove {
        attrs.push(AttributeDiff::new(
            &format!("lifecycle[{id}]"),
            Some("present".into()),
            None,
        ));
    }
    if !upsert.is_empty() || !remove.is_empty() {
        steps.push(BucketStep::Lifecycle {
            rules: upsert,
            remove,
        });
    }
}

fn log_group_change(g: &WantedLogGroup, inv: &Inventory) -> Option<Change> {
    let state = inv
        .regions
        .get(&g.region)
        .and_then(|r| r.log_groups.get(&g.name));
    let mut attrs = Vec::new();
    let (action, reason, retention, kms) = match state {
        None => {
            attrs.push(AttributeDiff::new(
                "retention_days",
                None,
                Some(
                    g.retention_days
                        .map_or("never expire".into(), |d| d.to_string()),
                ),
            ));
            if let Some(k) = &g.kms_key {
                attrs.push(AttributeDiff::new("kms_key", None, Some(k.clone())));
            }
            (
                Action::Create,
                "log group does not exist".to_string(),
                g.retention_days,
                g.kms_key.clone(),
            )
        }
        Some(s) => {
            let retention = g.retention_days.filter(|d| s.retention_days != Some(*d));
            let kms = g.kms_key.clone().filter(|k| s.kms_key.as_ref() != Some(k));
            if let Some(d) = retention {
                attrs.push(AttributeDiff::new(
                    "retention_days",
                    Some(
                        s.retention_days
                            .map_or("never expire".into(), |d| d.to_string()),
                    ),
                    Some(d.to_string()),
                ));
            }
            if let Some(k) = &kms {
                attrs.push(AttributeDiff::new(
                    "kms_key",
                    s.kms_key.clone(),
                    Some(k.clone()),
                ));
            }
            if attrs.is_empty() {
                return None;
            }
            (
                Action::Update,
                "log group settings differ".to_string(),
                retention,
                kms,
            )
        }
    };
    Some(Change {
        action,
        resource_type: ResourceType::LogGroup,
        region: Some(g.region.clone()),
        id: g.name.clone(),
        resource: None,
        target: None,
        reason,
        attributes: attrs,
        depends_on: Vec::new(),
        operation: Operation::LogGroup {
            create: action == Action::Create,
            retention_days: retention,
            kms_key: kms,
            tags: if action == Action::Create {
                managed_tags()
            } else {
                BTreeMap::new()
            },
        },
    })
}

/// The trust and inline policies a delivery role needs.
pub fn role_policies(role: &WantedRole, inv: &Inventory) -> (Value, Value) {
    let acct = inv.account.as_str();
    let partition = role
        .log_groups
        .iter()
        .next()
        .map_or("aws", |(r, _)| partition_of(r));
    let trust = policies::render(
        policies::DELIVERY_TRUST_POLICY,
        &[
            ("AccountId", Param::Text(acct.into())),
            ("Partition", Param::Text(partition.into())),
        ],
    );
    let mut group_arns = Vec::new();
    let mut region_arns = BTreeSet::new();
    for (region, group) in &role.log_groups {
        let p = partition_of(region);
        group_arns.push(format!("arn:{p}:logs:{region}:{acct}:log-group:{group}"));
        group_arns.push(format!("arn:{p}:logs:{region}:{acct}:log-group:{group}:*"));
        region_arns.insert(format!("arn:{p}:logs:{region}:{acct}:log-group:*"));
    }
    let inline = policies::render(
        policies::DELIVERY_PERMISSIONS,
        &[
            ("LogGroupArns", Param::List(group_arns)),
            (
                "LogGroupRegionArns",
                Param::List(region_arns.into_iter().collect()),
            ),
        ],
    );
    (trust, inline)
}

fn role_change(
    role: &WantedRole,
    state: Option<&crate::model::RoleState>,
    inv: &Inventory,
) -> Option<Change> {
    let (trust, inline) = role_policies(role, inv);
    let mut attrs = Vec::new();
    let (action, reason, trust_doc, inline_doc) = match state {
        None => {
            attrs.push(AttributeDiff::new(
                "trust_policy",
                None,
                Some("vpc-flow-logs.amazonaws.com, this account only".into()),
            ));
            attrs.push(AttributeDiff::new(
                &format!("inline_policy[{INLINE_POLICY_NAME}]"),
                None,
                Some(format!("deliver to {} log group(s)", role.log_groups.len())),
            ));
            (
                Action::Create,
                "delivery role does not exist".to_string(),
                Some(policies::merge(None, &trust)),
                Some(inline),
            )
        }
        Some(s) => {
            let sids = policies::changed_statements(s.trust_policy.as_ref(), &trust);
            let trust_doc = (!sids.is_empty()).then(|| {
                attrs.push(AttributeDiff::new(
                    "trust_policy",
                    Some("other".into()),
                    Some(format!("statements {} merged in", sids.join(", "))),
                ));
                policies::merge(s.trust_policy.as_ref(), &trust)
            });
            let inline_ok = s
                .inline_policy
                .as_ref()
                .is_some_and(|p| policies::equivalent(p, &inline));
            let inline_doc = (!inline_ok).then(|| {
                attrs.push(AttributeDiff::new(
                    &format!("inline_policy[{INLINE_POLICY_NAME}]"),
                    Some(if s.inline_policy.is_some() {
                        "different".into()
                    } else {
                        "missing".into()
                    }),
                    Some(format!("deliver to {} log group(s)", role.log_groups.len())),
                ));
                inline
            });
            if trust_doc.is_none() && inline_doc.is_none() {
                return None;
            }
            (
                Action::Update,
                "delivery role policies differ".to_string(),
                trust_doc,
                inline_doc,
            )
        }
    };
    Some(Change {
        action,
        resource_type: ResourceType::IamRole,
        region: None,
        id: role.name.clone(),
        resource: None,
        target: None,
        reason,
        attributes: attrs,
        depends_on: Vec::new(),
        operation: Operation::Role {
            create: action == Action::Create,
            trust_policy: trust_doc,
            inline_policy: inline_doc.map(|d| (INLINE_POLICY_NAME.to_string(), d)),
            tags: if action == Action::Create {
                managed_tags()
            } else {
                BTreeMap::new()
            },
        },
    })
}
