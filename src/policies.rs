//! The IAM and bucket policy documents in `policies/`, rendered with per-target values, and the
//! pure helpers to compare and merge policy statements. Documents live as files, not code.

use serde_json::{Map, Value};

pub const S3_BUCKET_POLICY: &str = include_str!("../policies/s3-bucket-policy.json");
pub const S3_BUCKET_POLICY_ORG: &str = include_str!("../policies/s3-bucket-policy-org.json");
pub const DELIVERY_TRUST_POLICY: &str = include_str!("../policies/cloudwatch-delivery-trust.json");
pub const DELIVERY_PERMISSIONS: &str =
    include_str!("../policies/cloudwatch-delivery-permissions.json");
/// Key-policy statements verify proposes for an SSE-KMS bucket and a KMS-encrypted log group.
pub const KMS_KEY_S3_DELIVERY: &str = include_str!("../policies/kms-key-s3-delivery.json");
pub const KMS_KEY_LOGS_DELIVERY: &str = include_str!("../policies/kms-key-logs-delivery.json");
pub const OPERATOR_POLICY: &str = include_str!("../policies/flowkeeper-operator.json");

/// Prefix of every statement id flowkeeper owns; statements without it are never touched.
pub const SID_PREFIX: &str = "Flowkeeper";

/// A value for a `{{Name}}` placeholder.
pub enum Param {
    Text(String),
    /// Replaces a string that is exactly `{{Name}}` with a JSON array.
    List(Vec<String>),
}

/// Renders a policy template: `{{Name}}` inside strings is replaced by the parameter's text; a
/// string that is exactly `{{Name}}` with a list parameter becomes an array.
///
/// Panics when the template is not JSON or names an unknown parameter: templates ship with the
/// binary and are covered by tests.
pub fn render(template: &str, params: &[(&str, Param)]) -> Value {
    let doc: Value = serde_json::from_str(template).expect("policy templates are valid JSON");
    substitute(doc, params)
}

fn substitute(v: Value, params: &[(&str, Param)]) -> Value {
    match v {
        Value::String(s) => {
            for (name, p) in params {
                if let Param::List(items) = p
                    && s == format!("{{{{{name}}}}}")
                {
                    return Value::Array(items.iter().cloned().map(Value::String).collect());
                }
            }
            let mut out = s;
            for (name, p) in params {
                if let Param::Text(t) = p {
                    out = out.replace(&format!("{{{{{name}}}}}"), t);
                }
            }
            assert!(
                !out.contains("{{"),
                "unrendered placeholder in policy template: {out}"
            );
            Value::String(out)
        }
        Value::Array(a) => Value::Array(a.into_iter().map(|x| substitute(x, params)).collect()),
        Value::Object(o) => Value::Object(
            o.into_iter()
                .map(|(k, x)| (k, substitute(x, params)))
                .collect(),
        ),
        other => other,
    }
}

/// A policy in canonical form for comparison: arrays of strings sorted and deduplicated, a
/// one-element array the same as its element, statements ordered by Sid.
pub fn normalize(v: &Value) -> Value {
    match v {
        Value::Array(a) => {
            let mut items: Vec<Value> = a.iter().map(normalize).collect();
            if items.iter().all(Value::is_string) {
                items.sort_by(|x, y| x.as_str().cmp(&y.as_str()));
                items.dedup();
            }
            if items.len() == 1 {
                items.pop().expect("one item")
            } else {
                Value::Array(items)
            }
        }
        Value::Object(o) => {
            let mut out = Map::new();
            let mut keys: Vec<&String> = o.keys().collect();
            keys.sort();
            for k in keys {
                let mut val = normalize(&o[k]);
                if k == "Statement"
                    && let Value::Array(st) = &mut val
                {
                    st.sort_by_key(|s| {
                        s.get("Sid")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string()
                    });
                }
                out.insert(k.clone(), val);
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

/// True when two policy documents say the same thing.
pub fn equivalent(a: &Value, b: &Value) -> bool {
    normalize(a) == normalize(b)
}

fn statements(doc: &Value) -> Vec<Value> {
    match doc.get("Statement") {
        Some(Value::Array(a)) => a.clone(),
        Some(single @ Value::Object(_)) => vec![single.clone()],
        _ => Vec::new(),
    }
}

fn sid(statement: &Value) -> Option<&str> {
    statement.get("Sid").and_then(Value::as_str)
}

/// Merges `ours` into `current` by statement id: a statement of ours replaces the one with the
/// same Sid or is appended; every other statement is kept as it is, in its place.
pub fn merge(current: Option<&Value>, ours: &Value) -> Value {
    let mut merged = current.map(statements).unwrap_or_default();
    for st in statements(ours) {
        let id = sid(&st).map(str::to_string);
        match merged
            .iter_mut()
            .find(|m| id.is_some() && sid(m) == id.as_deref())
        {
            Some(slot) => *slot = st,
            None => merged.push(st),
        }
    }
    let mut doc = match current {
        Some(Value::Object(o)) => o.clone(),
        _ => Map::new(),
    };
    doc.insert("Version".into(), Value::String("2012-10-17".into()));
    doc.insert("Statement".into(), Value::Array(merged));
    Value::Object(doc)
}

/// Sids of `ours` that are missing from `current` or differ there.
pub fn changed_statements(current: Option<&Value>, ours: &Value) -> Vec<String> {
    let existing = current.map(statements).unwrap_or_default();
    statements(ours)
        .iter()
        .filter(|st| {
            !existing
                .iter()
                .any(|e| sid(e) == sid(st) && normalize(e) == normalize(st))
        })
        .filter_map(|st| sid(st).map(str::to_string))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn bucket_policy() -> Value {
        render(
            S3_BUCKET_POLICY,
            &[
                ("Partition", Param::Text("aws".into())),
                ("Bucket", Param::Text("b".into())),
                (
                    "LogObjectArns",
                    Param::List(vec!["arn:aws:s3:::b/AWSLogs/111122223333/*".into()]),
                ),
                ("SourceAccounts", Param::List(vec!["111122223333".into()])),
                (
                    "SourceArns",
                    Param::List(vec!["arn:aws:logs:*:111122223333:*".into()]),
                ),
            ],
        )
    }

    #[test]
    fn every_template_renders_and_carries_its_guards() {
        let p = bucket_policy();
        let text = p.to_string();
        assert!(text.contains("aws:SourceAccount") && text.contains("aws:SourceArn"));
        assert!(text.contains("aws:SecureTransport"));
        assert!(!text.contains("{{"));
        let trust = render(
            DELIVERY_TRUST_POLICY,
            &[
                ("AccountId", Param::Text("111122223333".into())),
                ("Partition", Param::Text("aws".into())),
            ],
        );
        assert_eq!(
            trust["Statement"][0]["Condition"]["StringEquals"]["aws:SourceAccount"],
            "111122223333"
        );
        let perms = render(
            DELIVERY_PERMISSIONS,
            &[
                (
                    "LogGroupArns",
                    Param::List(vec![
                        "arn:aws:logs:us-east-1:111122223333:log-group:g:*".into(),
                    ]),
                ),
                (
                    "LogGroupRegionArns",
                    Param::List(vec![
                        "arn:aws:logs:us-east-1:111122223333:log-group:*".into(),
                    ]),
                ),
            ],
        );
        assert!(perms["Statement"][0]["Resource"].is_array());
        let op: Value = serde_json::from_str(OPERATOR_POLICY).unwrap();
        assert!(op.to_string().contains("aws:SecureTransport"));
    }

    #[test]
    fn merge_keeps_foreign_statements_and_replaces_ours() {
        let foreign = json!({"Sid": "AllowAuditors", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"});
        let stale = json!({"Sid": "FlowkeeperLogDeliveryWrite", "Effect": "Allow", "Action": "s3:PutObject", "Resource": "old"});
        let current = json!({"Version": "2012-10-17", "Id": "keep-me", "Statement": [foreign.clone(), stale]});
        let ours = bucket_policy();
        let merged = merge(Some(&current), &ours);
        let st = merged["Statement"].as_array().unwrap();
        assert_eq!(st.len(), 4);
        assert_eq!(st[0], foreign);
        assert_eq!(merged["Id"], "keep-me");
        assert_eq!(changed_statements(Some(&current), &ours).len(), 3);
        assert!(changed_statements(Some(&merged), &ours).is_empty());
        assert!(equivalent(&merge(Some(&merged), &ours), &merged));
    }

    #[test]
    fn normalization_ignores_order_and_singleton_arrays() {
        let a = json!({"Statement": [{"Sid": "B", "Action": ["s3:B", "s3:A"]}, {"Sid": "A", "Action": ["x"]}]});
        let b = json!({"Statement": [{"Sid": "A", "Action": "x"}, {"Action": ["s3:A", "s3:B"], "Sid": "B"}]});
        assert!(equivalent(&a, &b));
        assert!(!equivalent(&a, &json!({"Statement": []})));
    }
}
