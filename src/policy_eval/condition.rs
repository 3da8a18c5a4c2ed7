//! The `Condition` element: every operator AWS documents for strings, numbers, dates, booleans,
//! binary values, IP addresses and ARNs, their `...IfExists` forms, `Null`, and the
//! `ForAnyValue:` / `ForAllValues:` set operators.
//!
//! Rules (IAM User Guide, "Condition operators" and "Set operators for multivalued context
//! keys"): operators ANDed; keys under one operator ANDed; a key's values ORed; condition keys
//! compared without case, values with case (but for `...IgnoreCase`). A key the request lacks
//! makes the condition false, except for the negated operators (`StringNotEquals`,
//! `StringNotLike`, `NumericNotEquals`, `DateNotEquals`, `NotIpAddress`, `ArnNotEquals`,
//! `ArnNotLike`), which are then true; `...IfExists` is true when the key is absent;
//! `ForAllValues:` is true and `ForAnyValue:` false for an absent key; `Null` tests absence.
//! A negated operator on a multivalued key without a set operator holds when no value matches.
//! An operator this module does not know, or a policy value it cannot read (a number that is
//! not one), is [`Tri::Unknown`]: never silently true or false.

use std::collections::BTreeMap;
use std::net::IpAddr;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::Offset;
use serde_json::Value;

use super::Context;
use super::matching::{Tok, Tri, arn_like, expand, glob};

/// The request context with keys folded to lowercase, for case-insensitive lookups.
/// Two spellings of one key (`aws:sourceaccount`, `aws:SourceAccount`) pool their values.
pub(super) struct Lookup {
    values: BTreeMap<String, Vec<String>>,
}

impl Lookup {
    pub(super) fn new(ctx: &Context) -> Self {
        let mut values: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (k, vs) in ctx {
            values
                .entry(k.to_lowercase())
                .or_default()
                .extend(vs.iter().cloned());
        }
        values.retain(|_, v| !v.is_empty());
        Lookup { values }
    }

    /// The values of a key (any case); `None` when the request has none.
    pub(super) fn get(&self, key: &str) -> Option<&[String]> {
        self.values.get(&key.to_lowercase()).map(Vec::as_slice)
    }
}

/// Which values a set operator quantifies over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SetOp {
    Plain,
    AnyValue,
    AllValues,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

/// The positive form of an operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Base {
    StringEquals,
    StringEqualsIgnoreCase,
    StringLike,
    Numeric(Cmp),
    Date(Cmp),
    Bool,
    Binary,
    Ip,
    Arn,
    Null,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Op {
    set: SetOp,
    base: Base,
    negated: bool,
    if_exists: bool,
}

/// Reads an operator name (any case), `None` when it is not one AWS documents.
fn parse_op(name: &str) -> Option<Op> {
    let lower = name.to_ascii_lowercase();
    let (set, rest) = if let Some(r) = lower.strip_prefix("foranyvalue:") {
        (SetOp::AnyValue, r)
    } else if let Some(r) = lower.strip_prefix("forallvalues:") {
        (SetOp::AllValues, r)
    } else {
        (SetOp::Plain, lower.as_str())
    };
    let (rest, if_exists) = match rest.strip_suffix("ifexists") {
        Some(r) => (r, true),
        None => (rest, false),
    };
    let (base, negated) = match rest {
        "stringequals" => (Base::StringEquals, false),
        "stringnotequals" => (Base::StringEquals, true),
        "stringequalsignorecase" => (Base::StringEqualsIgnoreCase, false),
        "stringnotequalsignorecase" => (Base::StringEqualsIgnoreCase, true),
        "stringlike" => (Base::StringLike, false),
        "stringnotlike" => (Base::StringLike, true),
        "numericequals" => (Base::Numeric(Cmp::Eq), false),
        "numericnotequals" => (Base::Numeric(Cmp::Eq), true),
        "numericlessthan" => (Base::Numeric(Cmp::Lt), false),
        "numericlessthanequals" => (Base::Numeric(Cmp::Le), false),
        "numericgreaterthan" => (Base::Numeric(Cmp::Gt), false),
        "numericgreaterthanequals" => (Base::Numeric(Cmp::Ge), false),
        "dateequals" => (Base::Date(Cmp::Eq), false),
        "datenotequals" => (Base::Date(Cmp::Eq), true),
        "datelessthan" => (Base::Date(Cmp::Lt), false),
        "datelessthanequals" => (Base::Date(Cmp::Le), false),
        "dategreaterthan" => (Base::Date(Cmp::Gt), false),
        "dategreaterthanequals" => (Base::Date(Cmp::Ge), false),
        "bool" => (Base::Bool, false),
        "binaryequals" => (Base::Binary, false),
        "ipaddress" => (Base::Ip, false),
        "notipaddress" => (Base::Ip, true),
        "arnequals" | "arnlike" => (Base::Arn, false),
        "arnnotequals" | "arnnotlike" => (Base::Arn, true),
        "null" if !if_exists && set == SetOp::Plain => (Base::Null, false),
        _ => return None,
    };
    Some(Op {
        set,
        base,
        negated,
        if_exists,
    })
}

/// A statement's `Condition` (absent: no condition, true).
pub(super) fn evaluate(condition: Option<&Value>, ctx: &Lookup) -> Tri {
    let Some(condition) = condition else {
        return Tri::Yes;
    };
    let Some(ops) = condition.as_object() else {
        return Tri::Unknown("its Condition is not an object".into());
    };
    let mut unknown = None;
    for (name, keys) in ops {
        let Some(op) = parse_op(name) else {
            unknown.get_or_insert_with(|| format!("unknown condition operator `{name}`"));
            continue;
        };
        let Some(keys) = keys.as_object() else {
            unknown.get_or_insert_with(|| format!("condition `{name}` is not an object"));
            continue;
        };
        for (key, want) in keys {
            match check(op, name, key, want, ctx) {
                Tri::No(why) => return Tri::No(why),
                Tri::Unknown(why) => {
                    unknown.get_or_insert(why);
                }
                Tri::Yes => {}
            }
        }
    }
    unknown.map_or(Tri::Yes, Tri::Unknown)
}

/// One `operator: {key: values}` entry.
fn check(op: Op, name: &str, key: &str, want: &Value, ctx: &Lookup) -> Tri {
    let want = match policy_values(want) {
        Ok(w) => w,
        Err(e) => return Tri::Unknown(format!("condition `{name}` `{key}`: {e}")),
    };
    let have = ctx.get(key);
    let shown = || match have {
        Some(h) => format!("the request's `{key}` is {h:?}"),
        None => format!("the request has no `{key}`"),
    };
    let result = match (op.base, have) {
        (Base::Null, _) => null_check(&want, have.is_some()),
        (_, None) => Ok(absent(op)),
        (_, Some(have)) => present(op, have, &want, ctx),
    };
    match result {
        Ok(true) => Tri::Yes,
        Ok(false) => Tri::No(format!(
            "its condition `{name}` {{`{key}`: {want:?}}} is not met: {}",
            shown()
        )),
        Err(e) => Tri::Unknown(format!("condition `{name}` `{key}`: {e}")),
    }
}

/// The policy side's values: strings, numbers and booleans, one or a list.
fn policy_values(v: &Value) -> Result<Vec<String>, String> {
    let one = |v: &Value| match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(format!("`{other}` is not a condition value")),
    };
    match v {
        Value::Array(items) => items.iter().map(one).collect(),
        other => one(other).map(|s| vec![s]),
    }
}

/// `Null`: `true` holds when the key is absent, `false` when present.
fn null_check(want: &[String], present: bool) -> Result<bool, String> {
    any(want.iter().map(|w| match w.to_ascii_lowercase().as_str() {
        "true" => Ok(!present),
        "false" => Ok(present),
        _ => Err(format!("`Null` takes `true` or `false`, not `{w}`")),
    }))
}

/// The value of a condition on a key the request does not have.
fn absent(op: Op) -> bool {
    if op.if_exists {
        return true;
    }
    match op.set {
        SetOp::AllValues => true,
        SetOp::AnyValue => false,
        SetOp::Plain => op.negated,
    }
}

fn present(op: Op, have: &[String], want: &[String], ctx: &Lookup) -> Result<bool, String> {
    // Whether one request value matches any policy value (the operator's positive form).
    let hit = |c: &String| any(want.iter().map(|w| matches(op.base, c, w, ctx)));
    let neg = |r: Result<bool, String>| r.map(|b| !b);
    match (op.set, op.negated) {
        (SetOp::Plain | SetOp::AnyValue, false) => any(have.iter().map(hit)),
        (SetOp::Plain, true) => neg(any(have.iter().map(hit))),
        (SetOp::AnyValue, true) => any(have.iter().map(|c| neg(hit(c)))),
        (SetOp::AllValues, false) => all(have.iter().map(hit)),
        (SetOp::AllValues, true) => all(have.iter().map(|c| neg(hit(c)))),
    }
}

/// True when one is true; else unknown when one is; else false.
fn any(items: impl Iterator<Item = Result<bool, String>>) -> Result<bool, String> {
    let mut err = None;
    for i in items {
        match i {
            Ok(true) => return Ok(true),
            Ok(false) => {}
            Err(e) => err = Some(e),
        }
    }
    err.map_or(Ok(false), Err)
}

/// False when one is false; else unknown when one is; else true.
fn all(items: impl Iterator<Item = Result<bool, String>>) -> Result<bool, String> {
    let mut err = None;
    for i in items {
        match i {
            Ok(false) => return Ok(false),
            Ok(true) => {}
            Err(e) => err = Some(e),
        }
    }
    err.map_or(Ok(true), Err)
}

/// One request value against one policy value, by the operator's positive form. `Err` when
/// the policy value cannot be read; a request value that cannot be read does not match.
fn matches(base: Base, have: &str, want: &str, ctx: &Lookup) -> Result<bool, String> {
    let text = |wildcards: bool| -> Result<Vec<Tok>, String> { expand(want, ctx, wildcards) };
    let literal = |toks: Vec<Tok>| -> String {
        toks.into_iter()
            .map(|t| match t {
                Tok::Lit(c) => c,
                Tok::Any => '*',
                Tok::One => '?',
            })
            .collect()
    };
    match base {
        Base::StringEquals => Ok(literal(text(false)?) == have),
        Base::StringEqualsIgnoreCase => {
            Ok(literal(text(false)?).to_lowercase() == have.to_lowercase())
        }
        Base::StringLike => Ok(glob(&text(true)?, have, false)),
        Base::Arn => Ok(arn_like(&text(true)?, have)),
        Base::Numeric(cmp) => {
            let w: f64 = want
                .trim()
                .parse()
                .map_err(|_| format!("`{want}` is not a number"))?;
            Ok(have.trim().parse::<f64>().is_ok_and(|h| compare(cmp, h, w)))
        }
        Base::Date(cmp) => {
            let w = date(want).ok_or_else(|| format!("`{want}` is not a date"))?;
            Ok(date(have).is_some_and(|h| compare(cmp, h, w)))
        }
        Base::Bool => match want.to_ascii_lowercase().as_str() {
            "true" | "false" => Ok(have.eq_ignore_ascii_case(want)),
            _ => Err(format!("`Bool` takes `true` or `false`, not `{want}`")),
        },
        Base::Binary => Ok(have == want),
        Base::Ip => {
            let net = Cidr::parse(want).ok_or_else(|| format!("`{want}` is not an IP range"))?;
            Ok(have
                .trim()
                .parse::<IpAddr>()
                .is_ok_and(|ip| net.contains(ip)))
        }
        Base::Null => Err("`Null` is not a comparison".into()),
    }
}

fn compare<T: PartialOrd>(cmp: Cmp, have: T, want: T) -> bool {
    match cmp {
        Cmp::Eq => have == want,
        Cmp::Lt => have < want,
        Cmp::Le => have <= want,
        Cmp::Gt => have > want,
        Cmp::Ge => have >= want,
    }
}

/// An RFC 3339 time (`2026-11-01T10:00:00Z`), a date (midnight UTC) or Unix seconds.
fn date(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    if let Ok(secs) = s.parse::<i64>() {
        return Timestamp::from_second(secs).ok();
    }
    if let Ok(t) = s.parse::<Timestamp>() {
        return Some(t);
    }
    let d: Date = s.parse().ok()?;
    Offset::UTC.to_timestamp(d.at(0, 0, 0, 0)).ok()
}

/// An address range: `10.0.0.0/8`, `2001:db8::/32`, or one address.
struct Cidr {
    net: IpAddr,
    bits: u32,
}

impl Cidr {
    fn parse(s: &str) -> Option<Cidr> {
        let (addr, bits) = match s.trim().split_once('/') {
            Some((a, b)) => (a.parse::<IpAddr>().ok()?, Some(b.parse::<u32>().ok()?)),
            None => (s.trim().parse::<IpAddr>().ok()?, None),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let bits = bits.unwrap_or(max);
        (bits <= max).then_some(Cidr { net: addr, bits })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        let (a, b, width) = match (self.net, ip) {
            (IpAddr::V4(n), IpAddr::V4(i)) => {
                (u128::from(n.to_bits()), u128::from(i.to_bits()), 32)
            }
            (IpAddr::V6(n), IpAddr::V6(i)) => (n.to_bits(), i.to_bits(), 128),
            _ => return false,
        };
        let shift = width - self.bits;
        shift >= 128 || (a >> shift) == (b >> shift)
    }
}
