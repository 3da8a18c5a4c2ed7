//! IAM-style policy evaluation on policy documents (`serde_json::Value`): does this bucket,
//! key, trust or identity policy admit principal P doing action A on resource R, given the
//! request context C? `verify` asks it of the real documents; the planner's statement
//! comparison (`crate::policies::normalize`) is its sibling: both read the same shapes (a
//! single value or a list, one statement or a list), neither does string searches.
//!
//! The logic is AWS's documented one, for the subset these documents use: an explicit `Deny`
//! wins; otherwise an `Allow` admits; otherwise the request is implicitly denied. A statement
//! applies when its principal (`Principal`/`NotPrincipal`; a statement with neither, as in
//! identity policies, applies to every principal), action (`Action`/`NotAction`, case
//! insensitive, `*`/`?` wildcards), resource (`Resource`/`NotResource`, case-sensitive
//! wildcards; a statement with neither, as in trust policies, applies to the policy's own
//! resource) and every condition (see [`condition`]) match.
//!
//! What cannot be evaluated (an unknown condition operator, a malformed element, a policy
//! variable the context lacks) is never silently true: such a statement is taken as *not*
//! applying when it allows and as applying when it denies, so a verdict of "allowed" is always
//! provable; each such case is reported in [`Decision::warnings`].
//!
//! Pure: no I/O, no AWS SDK types, no async. Documents arrive already decoded (IAM's
//! URL-encoded policy text is the `aws` layer's to decode).

mod condition;
mod matching;
mod statement;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod verify_cases;

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

/// The request context: condition key (any case: keys are compared case-insensitively) → its
/// values (one for single-valued keys). A key with no values counts as absent.
pub type Context = BTreeMap<String, Vec<String>>;

/// Who makes the request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    /// An AWS service principal, e.g. `delivery.logs.amazonaws.com`.
    Service(String),
    /// Some principal of this account (12 digits): matches `{"AWS": "<account>"}` and
    /// `{"AWS": "arn:<partition>:iam::<account>:root"}`.
    Account(String),
    /// One IAM role or user, by ARN: matches that ARN, or its account as above.
    Arn(String),
}

/// One request to evaluate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub principal: Principal,
    /// `service:Action`, e.g. `s3:PutObject` (compared case-insensitively).
    pub action: String,
    /// The ARN acted on (for a trust policy: the role's ARN).
    pub resource: String,
    pub context: Context,
}

impl Request {
    pub fn new(
        principal: Principal,
        action: impl Into<String>,
        resource: impl Into<String>,
    ) -> Self {
        Request {
            principal,
            action: action.into(),
            resource: resource.into(),
            context: Context::new(),
        }
    }

    /// A request made by an AWS service principal, with the context AWS sets on every such
    /// request: `aws:PrincipalIsAWSService` = `true` and `aws:PrincipalServiceName` = the
    /// service (so data-perimeter Denies on non-service principals do not match it).
    pub fn by_service(
        service: &str,
        action: impl Into<String>,
        resource: impl Into<String>,
    ) -> Self {
        Request::new(Principal::Service(service.into()), action, resource)
            .with("aws:PrincipalIsAWSService", "true")
            .with("aws:PrincipalServiceName", service)
    }

    /// Adds one value for a context key (a second call adds a second value).
    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.context
            .entry(key.into())
            .or_default()
            .push(value.into());
        self
    }
}

/// The outcome of an evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// An `Allow` statement applies and no `Deny` does.
    Allowed,
    /// A `Deny` statement applies (or may apply: see [`Decision::warnings`]).
    ExplicitDeny,
    /// No statement allows the request.
    ImplicitDeny,
}

/// A statement, by its place and `Sid`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatementRef {
    /// Index of the policy in the list given to [`evaluate_all`] (0 for [`evaluate`]).
    pub policy: usize,
    /// Index of the statement in its policy's `Statement` list, from 0.
    pub index: usize,
    pub sid: Option<String>,
}

impl fmt::Display for StatementRef {
    /// `` `Sid` `` when the statement has one, else `#N` (counting from 1).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.sid {
            Some(sid) => write!(f, "`{sid}`"),
            None => write!(f, "#{}", self.index + 1),
        }
    }
}

/// Why one `Allow` statement did not admit the request: the first element that did not match,
/// in the order principal, action, resource, condition. `verify` uses it to say what to fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Miss {
    pub statement: StatementRef,
    pub reason: String,
}

/// The answer: the effect, the statement that decided it (the first applying `Deny`, else the
/// first applying `Allow`; `None` for an implicit deny), every `Allow` statement that did not
/// apply with its reason, and everything that could not be evaluated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub effect: Effect,
    pub statement: Option<StatementRef>,
    pub misses: Vec<Miss>,
    pub warnings: Vec<String>,
}

impl Decision {
    pub fn is_allowed(&self) -> bool {
        self.effect == Effect::Allowed
    }
}

/// Evaluates one policy document.
pub fn evaluate(policy: &Value, request: &Request) -> Decision {
    evaluate_all(&[policy], request)
}

/// Evaluates several policies that all apply to the request (a role's inline policies, or a
/// resource policy with identity policies of the same account): a `Deny` in any wins, then an
/// `Allow` in any.
pub fn evaluate_all(policies: &[&Value], request: &Request) -> Decision {
    let ctx = condition::Lookup::new(&request.context);
    let mut deny = None;
    let mut allow = None;
    let mut misses = Vec::new();
    let mut warnings = Vec::new();
    for (p, doc) in policies.iter().enumerate() {
        let statements = match statement::statements(doc) {
            Ok(s) => s,
            Err(e) => {
                warnings.push(format!("policy {}: {e}; it allows nothing", p + 1));
                continue;
            }
        };
        for (index, st) in statements.into_iter().enumerate() {
            let at = StatementRef {
                policy: p,
                index,
                sid: st.get("Sid").and_then(Value::as_str).map(str::to_string),
            };
            let verdict = statement::evaluate(st, request, &ctx);
            let outcome = resolve(&at, verdict, &mut misses, &mut warnings);
            match outcome {
                Some(statement::Kind::Deny) if deny.is_none() => deny = Some(at),
                Some(statement::Kind::Allow) if allow.is_none() => allow = Some(at),
                _ => {}
            }
        }
    }
    let (effect, statement) = match (deny, allow) {
        (Some(d), _) => (Effect::ExplicitDeny, Some(d)),
        (None, Some(a)) => (Effect::Allowed, Some(a)),
        (None, None) => (Effect::ImplicitDeny, None),
    };
    Decision {
        effect,
        statement,
        misses,
        warnings,
    }
}

/// Turns one statement's verdict into its effect on the request (`None`: it does not apply),
/// recording a miss or a warning on the way. Unknowns count against the request.
fn resolve(
    at: &StatementRef,
    verdict: statement::Verdict,
    misses: &mut Vec<Miss>,
    warnings: &mut Vec<String>,
) -> Option<statement::Kind> {
    use statement::{Kind, Verdict};
    match verdict {
        Verdict::Applies(kind) => Some(kind),
        Verdict::NotApplies(Kind::Allow, reason) => {
            misses.push(Miss {
                statement: at.clone(),
                reason,
            });
            None
        }
        Verdict::NotApplies(Kind::Deny, _) => None,
        Verdict::Unknown(Kind::Allow, why) => {
            warnings.push(format!(
                "statement {at}: {why}; taken as not allowing the request"
            ));
            misses.push(Miss {
                statement: at.clone(),
                reason: format!("cannot be evaluated: {why}"),
            });
            None
        }
        Verdict::Unknown(Kind::Deny, why) => {
            warnings.push(format!(
                "statement {at}: {why}; taken as denying the request"
            ));
            Some(Kind::Deny)
        }
    }
}
