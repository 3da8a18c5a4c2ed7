//! One statement against one request: its effect, and whether its principal, action, resource
//! and condition all match.

use serde_json::Value;

use super::Request;
use super::condition::{self, Lookup};
use super::matching::{self, Tri};

/// What a statement does when it applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Allow,
    Deny,
}

/// One statement's verdict on a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    Applies(Kind),
    /// It does not apply: the first element that did not match, said for a human.
    NotApplies(Kind, String),
    /// Whether it applies cannot be told: why.
    Unknown(Kind, String),
}

/// The statements of a policy document: `Statement` as a list or as one statement.
pub(super) fn statements(doc: &Value) -> Result<Vec<&Value>, String> {
    match doc.get("Statement") {
        Some(Value::Array(list)) => Ok(list.iter().collect()),
        Some(one @ Value::Object(_)) => Ok(vec![one]),
        Some(_) => Err("`Statement` is neither a statement nor a list of them".into()),
        None if doc.is_object() => Err("the document has no `Statement`".into()),
        None => Err("the document is not a JSON object".into()),
    }
}

pub(super) fn evaluate(statement: &Value, request: &Request, ctx: &Lookup) -> Verdict {
    let Some(st) = statement.as_object() else {
        return Verdict::Unknown(Kind::Deny, "the statement is not a JSON object".into());
    };
    let kind = match st.get("Effect").and_then(Value::as_str) {
        Some("Allow") => Kind::Allow,
        Some("Deny") => Kind::Deny,
        other => {
            let shown = other.map_or("missing".to_string(), |e| format!("`{e}`"));
            return Verdict::Unknown(
                Kind::Deny,
                format!("its Effect ({shown}) is neither `Allow` nor `Deny`"),
            );
        }
    };
    let checks = [
        matching::principal(st, &request.principal),
        matching::action(st, &request.action),
        matching::resource(st, &request.resource, ctx),
        condition::evaluate(st.get("Condition"), ctx),
    ];
    let mut unknown = None;
    for check in checks {
        match check {
            Tri::No(reason) => return Verdict::NotApplies(kind, reason),
            Tri::Unknown(why) if unknown.is_none() => unknown = Some(why),
            _ => {}
        }
    }
    match unknown {
        Some(why) => Verdict::Unknown(kind, why),
        None => Verdict::Applies(kind),
    }
}
