//! Matching a statement's `Principal`/`NotPrincipal`, `Action`/`NotAction` and
//! `Resource`/`NotResource` against a request, and the wildcard patterns (`*`, `?`, policy
//! variables such as `${aws:SourceAccount}`) that conditions share.

use std::fmt;

use serde_json::{Map, Value};

use super::Principal;
use super::condition::Lookup;

/// A three-valued answer: matches, does not (why, for a human), cannot be told (why).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Tri {
    Yes,
    No(String),
    Unknown(String),
}

/// A string or a list of strings (the two shapes IAM allows for most elements).
pub(super) fn strings(v: &Value) -> Result<Vec<&str>, String> {
    match v {
        Value::String(s) => Ok(vec![s.as_str()]),
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().ok_or_else(|| format!("`{i}` is not a string")))
            .collect(),
        other => Err(format!(
            "`{other}` is neither a string nor a list of strings"
        )),
    }
}

/// `a`, `b` as `` `a`, `b` `` for messages.
pub(super) fn listed(items: &[&str]) -> String {
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Principal::Service(s) => write!(f, "service `{s}`"),
            Principal::Account(a) => write!(f, "account `{a}`"),
            Principal::Arn(a) => write!(f, "`{a}`"),
        }
    }
}

pub(super) fn principal(st: &Map<String, Value>, p: &Principal) -> Tri {
    match (st.get("Principal"), st.get("NotPrincipal")) {
        (None, None) => Tri::Yes,
        (Some(_), Some(_)) => Tri::Unknown("it has both `Principal` and `NotPrincipal`".into()),
        (Some(v), None) => match named(v, p) {
            Ok(true) => Tri::Yes,
            Ok(false) => Tri::No(format!("its Principal does not name {p}")),
            Err(e) => Tri::Unknown(format!("its Principal cannot be read: {e}")),
        },
        (None, Some(v)) => match named(v, p) {
            Ok(true) => Tri::No(format!("its NotPrincipal excludes {p}")),
            Ok(false) => Tri::Yes,
            Err(e) => Tri::Unknown(format!("its NotPrincipal cannot be read: {e}")),
        },
    }
}

/// Whether a `Principal` value names `p`.
fn named(v: &Value, p: &Principal) -> Result<bool, String> {
    let map = match v {
        Value::String(s) if s == "*" => return Ok(true),
        Value::Object(m) => m,
        other => return Err(format!("`{other}` is neither \"*\" nor an object")),
    };
    let mut unknown = None;
    for (kind, values) in map {
        let values = strings(values)?;
        let hit = match kind.as_str() {
            "AWS" => values.iter().any(|x| aws_names(x, p)),
            "Service" => matches!(p, Principal::Service(s) if values.contains(&s.as_str())),
            "Federated" | "CanonicalUser" => false,
            other => {
                unknown = Some(format!("unknown principal type `{other}`"));
                false
            }
        };
        if hit {
            return Ok(true);
        }
    }
    unknown.map_or(Ok(false), Err)
}

/// Whether an `{"AWS": x}` entry names `p`: `*`, the account id, the account's root ARN, or
/// (for an ARN principal) the ARN itself.
fn aws_names(x: &str, p: &Principal) -> bool {
    if x == "*" {
        return true;
    }
    let account_named = |account: &str| x == account || is_root_of(x, account);
    match p {
        Principal::Service(_) => false,
        Principal::Account(a) => account_named(a),
        Principal::Arn(arn) => x == arn || arn.split(':').nth(4).is_some_and(account_named),
    }
}

/// `arn:<partition>:iam::<account>:root`.
fn is_root_of(x: &str, account: &str) -> bool {
    let parts: Vec<&str> = x.splitn(6, ':').collect();
    matches!(parts.as_slice(), ["arn", _, "iam", "", a, "root"] if *a == account)
}

pub(super) fn action(st: &Map<String, Value>, action: &str) -> Tri {
    let (v, negated) = match (st.get("Action"), st.get("NotAction")) {
        (Some(v), None) => (v, false),
        (None, Some(v)) => (v, true),
        (None, None) => return Tri::Unknown("it has neither `Action` nor `NotAction`".into()),
        (Some(_), Some(_)) => return Tri::Unknown("it has both `Action` and `NotAction`".into()),
    };
    let patterns = match strings(v) {
        Ok(p) => p,
        Err(e) => return Tri::Unknown(format!("its Action cannot be read: {e}")),
    };
    let hit = patterns
        .iter()
        .any(|p| glob(&literal_tokens(p), action, true));
    match (hit, negated) {
        (true, false) | (false, true) => Tri::Yes,
        (false, false) => Tri::No(format!(
            "its Action ({}) does not include `{action}`",
            listed(&patterns)
        )),
        (true, true) => Tri::No(format!("its NotAction excludes `{action}`")),
    }
}

pub(super) fn resource(st: &Map<String, Value>, resource: &str, ctx: &Lookup) -> Tri {
    let (v, negated, name) = match (st.get("Resource"), st.get("NotResource")) {
        (Some(v), None) => (v, false, "Resource"),
        (None, Some(v)) => (v, true, "NotResource"),
        // A resource policy without Resource (a trust policy) is about its own resource.
        (None, None) => return Tri::Yes,
        (Some(_), Some(_)) => {
            return Tri::Unknown("it has both `Resource` and `NotResource`".into());
        }
    };
    let patterns = match strings(v) {
        Ok(p) => p,
        Err(e) => return Tri::Unknown(format!("its {name} cannot be read: {e}")),
    };
    let mut failed = None;
    let mut hit = false;
    for p in &patterns {
        match expand(p, ctx, true) {
            Ok(tokens) => hit |= glob(&tokens, resource, false),
            Err(e) => failed = Some(e),
        }
    }
    match (hit, negated, failed) {
        (true, false, _) => Tri::Yes,
        (true, true, _) => Tri::No(format!("its NotResource excludes `{resource}`")),
        (false, _, Some(e)) => Tri::Unknown(format!("its {name} cannot be evaluated: {e}")),
        (false, false, None) => Tri::No(format!(
            "its Resource ({}) does not cover `{resource}`",
            listed(&patterns)
        )),
        (false, true, None) => Tri::Yes,
    }
}

/// One element of a wildcard pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Tok {
    Lit(char),
    /// `*`: any run of characters, including none.
    Any,
    /// `?`: exactly one character.
    One,
}

/// A pattern without policy variables (as `Action` is).
pub(super) fn literal_tokens(pattern: &str) -> Vec<Tok> {
    pattern
        .chars()
        .map(|c| match c {
            '*' => Tok::Any,
            '?' => Tok::One,
            c => Tok::Lit(c),
        })
        .collect()
}

/// A pattern with its policy variables replaced from the request context: `${key}` (a
/// single-valued key, or `${key, 'default'}`), and `${*}`, `${?}`, `${$}` for those characters
/// literally. With `wildcards` false, `*` and `?` are literal too (the `...Equals` operators).
pub(super) fn expand(pattern: &str, ctx: &Lookup, wildcards: bool) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let mut rest = pattern;
    while let Some(start) = rest.find("${") {
        push_plain(&mut out, &rest[..start], wildcards);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| format!("`{pattern}` has an unclosed `${{`"))?;
        let value = variable(&after[..end], ctx)?;
        out.extend(value.chars().map(Tok::Lit));
        rest = &after[end + 1..];
    }
    push_plain(&mut out, rest, wildcards);
    Ok(out)
}

fn push_plain(out: &mut Vec<Tok>, text: &str, wildcards: bool) {
    if wildcards {
        out.extend(literal_tokens(text));
    } else {
        out.extend(text.chars().map(Tok::Lit));
    }
}

/// The value of one `${...}` body.
fn variable(body: &str, ctx: &Lookup) -> Result<String, String> {
    let (key, default) = match body.split_once(',') {
        Some((k, d)) => {
            let d = d.trim();
            let d = d
                .strip_prefix('\'')
                .and_then(|d| d.strip_suffix('\''))
                .ok_or_else(|| format!("`${{{body}}}` has a default that is not quoted"))?;
            (k.trim(), Some(d))
        }
        None => (body.trim(), None),
    };
    if let "*" | "?" | "$" = key {
        return Ok(key.to_string());
    }
    match (ctx.get(key), default) {
        (Some([one]), _) => Ok(one.clone()),
        (Some(_), _) => Err(format!("policy variable `${{{key}}}` has several values")),
        (None, Some(d)) => Ok(d.to_string()),
        (None, None) => Err(format!(
            "policy variable `${{{key}}}` has no value in the request"
        )),
    }
}

/// Whether `text` matches the whole pattern; `ignore_case` compares ASCII letters without case.
pub(super) fn glob(pattern: &[Tok], text: &str, ignore_case: bool) -> bool {
    let t: Vec<char> = text.chars().collect();
    let eq = |a: char, b: char| {
        if ignore_case {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match pattern.get(pi) {
            Some(Tok::Any) => {
                star = Some((pi, ti));
                pi += 1;
                continue;
            }
            Some(Tok::One) => {
                pi += 1;
                ti += 1;
                continue;
            }
            Some(Tok::Lit(c)) if eq(*c, t[ti]) => {
                pi += 1;
                ti += 1;
                continue;
            }
            _ => {}
        }
        match star {
            Some((sp, st)) => {
                pi = sp + 1;
                ti = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    pattern[pi.min(pattern.len())..]
        .iter()
        .all(|t| *t == Tok::Any)
}

/// `ArnLike`/`ArnEquals`: each of the six `:`-separated parts of the ARN is matched on its own
/// (a `*` does not run across a `:` except in the last part, the resource). A pattern without
/// any `:` (such as `*`) is matched against the whole value; one with two to five parts
/// matches nothing, as its parts cannot be paired with the ARN's.
pub(super) fn arn_like(pattern: &[Tok], value: &str) -> bool {
    let groups = split_tokens(pattern);
    match groups.len() {
        1 => return glob(pattern, value, false),
        6 => {}
        _ => return false,
    }
    let parts: Vec<&str> = value.splitn(6, ':').collect();
    parts.len() == 6
        && groups
            .iter()
            .zip(parts)
            .all(|(g, part)| glob(g, part, false))
}

/// The pattern split at literal `:` into at most six groups (the sixth keeps its `:`).
fn split_tokens(pattern: &[Tok]) -> Vec<Vec<Tok>> {
    let mut groups = vec![Vec::new()];
    for t in pattern {
        match t {
            Tok::Lit(':') if groups.len() < 6 => groups.push(Vec::new()),
            t => {
                if let Some(g) = groups.last_mut() {
                    g.push(*t);
                }
            }
        }
    }
    groups
}
