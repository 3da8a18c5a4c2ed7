//! A small evaluator of CloudFormation templates for tests: parameters (defaults and
//! overrides), conditions, and the intrinsics the shipped templates use (`Ref`, `Fn::Sub`,
//! `Fn::GetAtt`, `Fn::If`, `Fn::Equals`, `Fn::Not`, `Fn::Or`, `Fn::And`, `Condition`,
//! `AWS::NoValue`), in short (`!Sub`) or long form. It resolves a template the way
//! CloudFormation would for one account and region, so that tests compare the documents it
//! deploys with the ones flowkeeper renders. Resources resolve by `Ref` to their name property
//! and by `GetAtt X.Arn` to an ARN built from it.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

pub struct Stack {
    pub account: String,
    pub region: String,
    pub partition: String,
    pub params: BTreeMap<String, String>,
    template: Value,
    conditions: BTreeMap<String, bool>,
}

/// serde_yaml's `!Tag value` → `{"Fn::Tag": value}` (`!Ref` → `{"Ref": value}`, and
/// `!GetAtt A.B` → `{"Fn::GetAtt": ["A", "B"]}`).
fn from_yaml(v: serde_yaml::Value) -> Value {
    use serde_yaml::Value as Y;
    match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => serde_json::to_value(n).unwrap(),
        Y::String(s) => Value::String(s),
        Y::Sequence(s) => Value::Array(s.into_iter().map(from_yaml).collect()),
        Y::Mapping(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| {
                    let k = match k {
                        Y::String(s) => s,
                        other => serde_yaml::to_string(&other).unwrap().trim().to_string(),
                    };
                    (k, from_yaml(v))
                })
                .collect(),
        ),
        Y::Tagged(t) => {
            let tag = t.tag.to_string();
            let tag = tag.trim_start_matches('!');
            let value = from_yaml(t.value);
            let key = if tag == "Ref" || tag == "Condition" {
                tag.to_string()
            } else {
                format!("Fn::{tag}")
            };
            let value = match (tag, value) {
                ("GetAtt", Value::String(s)) => {
                    let (a, b) = s.split_once('.').unwrap();
                    Value::Array(vec![a.into(), b.into()])
                }
                (_, v) => v,
            };
            Value::Object([(key, value)].into_iter().collect())
        }
    }
}

pub fn parse(text: &str) -> Value {
    from_yaml(serde_yaml::from_str(text).expect("template is YAML"))
}

fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => panic!("not a scalar: {other}"),
    }
}

impl Stack {
    pub fn new(
        template_text: &str,
        account: &str,
        region: &str,
        overrides: &[(&str, &str)],
    ) -> Stack {
        let template = parse(template_text);
        let mut params = BTreeMap::new();
        if let Some(ps) = template["Parameters"].as_object() {
            for (name, p) in ps {
                if let Some(d) = p.get("Default") {
                    params.insert(name.clone(), as_text(d));
                }
            }
        }
        for (k, v) in overrides {
            assert!(
                template["Parameters"].get(*k).is_some(),
                "the template has no parameter {k}"
            );
            params.insert(k.to_string(), v.to_string());
        }
        let mut s = Stack {
            account: account.into(),
            region: region.into(),
            partition: "aws".into(),
            params,
            template,
            conditions: BTreeMap::new(),
        };
        let conds = s.template["Conditions"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        // Conditions may refer to each other: evaluate until all are known.
        while s.conditions.len() < conds.len() {
            let before = s.conditions.len();
            for (name, c) in &conds {
                if !s.conditions.contains_key(name)
                    && let Some(v) = s.try_condition(c)
                {
                    s.conditions.insert(name.clone(), v);
                }
            }
            assert!(s.conditions.len() > before, "cyclic conditions");
        }
        s
    }

    fn try_condition(&self, c: &Value) -> Option<bool> {
        let o = c.as_object()?;
        let (k, v) = o.iter().next()?;
        Some(match k.as_str() {
            "Condition" => *self.conditions.get(v.as_str()?)?,
            "Fn::Equals" => {
                let a = self.eval(&v[0])?;
                let b = self.eval(&v[1])?;
                as_text(&a) == as_text(&b)
            }
            "Fn::Not" => !self.try_condition(&v[0])?,
            "Fn::Or" => {
                let mut any = false;
                for x in v.as_array()? {
                    any |= self.try_condition(x)?;
                }
                any
            }
            "Fn::And" => {
                let mut all = true;
                for x in v.as_array()? {
                    all &= self.try_condition(x)?;
                }
                all
            }
            other => panic!("unknown condition function {other}"),
        })
    }

    /// The resource's name, as `Ref` gives it (bucket, log group, role name).
    fn ref_resource(&self, id: &str) -> Option<String> {
        let r = &self.template["Resources"][id];
        let props = &r["Properties"];
        let name_key = match r["Type"].as_str()? {
            "AWS::S3::Bucket" => "BucketName",
            "AWS::Logs::LogGroup" => "LogGroupName",
            "AWS::IAM::Role" => "RoleName",
            other => panic!("Ref to a {other} is not modelled"),
        };
        Some(as_text(&self.eval(&props[name_key])?))
    }

    fn get_att(&self, id: &str, att: &str) -> Option<String> {
        assert_eq!(att, "Arn", "only Arn is modelled");
        let name = self.ref_resource(id)?;
        let p = &self.partition;
        Some(match self.template["Resources"][id]["Type"].as_str()? {
            "AWS::S3::Bucket" => format!("arn:{p}:s3:::{name}"),
            "AWS::IAM::Role" => format!("arn:{p}:iam::{}:role/{name}", self.account),
            "AWS::Logs::LogGroup" => format!(
                "arn:{p}:logs:{}:{}:log-group:{name}:*",
                self.region, self.account
            ),
            other => panic!("GetAtt of a {other} is not modelled"),
        })
    }

    fn variable(&self, name: &str, locals: &Map<String, Value>) -> Option<String> {
        if let Some(v) = locals.get(name) {
            return Some(as_text(&self.eval(v)?));
        }
        Some(match name {
            "AWS::AccountId" => self.account.clone(),
            "AWS::Region" => self.region.clone(),
            "AWS::Partition" => self.partition.clone(),
            _ if self.params.contains_key(name) => self.params[name].clone(),
            _ => match name.split_once('.') {
                Some((id, att)) => self.get_att(id, att)?,
                None => self.ref_resource(name)?,
            },
        })
    }

    fn sub(&self, text: &str, locals: &Map<String, Value>) -> Option<String> {
        let mut out = String::new();
        let mut rest = text;
        while let Some(i) = rest.find("${") {
            out.push_str(&rest[..i]);
            let after = &rest[i + 2..];
            if let Some(literal) = after.strip_prefix('!') {
                out.push_str("${");
                rest = literal;
                continue;
            }
            let end = after.find('}').expect("unclosed ${ in Fn::Sub");
            out.push_str(&self.variable(&after[..end], locals)?);
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Some(out)
    }

    /// The value CloudFormation would deploy; None stands for `AWS::NoValue`.
    pub fn eval(&self, v: &Value) -> Option<Value> {
        match v {
            Value::Array(a) => Some(Value::Array(
                a.iter().filter_map(|x| self.eval(x)).collect(),
            )),
            Value::Object(o) if o.len() == 1 => {
                let (k, arg) = o.iter().next().unwrap();
                match k.as_str() {
                    "Ref" => {
                        let name = arg.as_str().unwrap();
                        if name == "AWS::NoValue" {
                            return None;
                        }
                        // A Number parameter arrives as a number where a property wants one.
                        if self.template["Parameters"][name]["Type"] == "Number" {
                            let n: i64 = self.params[name].parse().expect("a Number parameter");
                            return Some(Value::from(n));
                        }
                        Some(Value::String(self.variable(name, &Map::new())?))
                    }
                    "Fn::Sub" => Some(Value::String(match arg {
                        Value::String(s) => self.sub(s, &Map::new())?,
                        Value::Array(a) => {
                            self.sub(a[0].as_str().unwrap(), a[1].as_object().unwrap())?
                        }
                        other => panic!("bad Fn::Sub {other}"),
                    })),
                    "Fn::GetAtt" => Some(Value::String(
                        self.get_att(arg[0].as_str().unwrap(), arg[1].as_str().unwrap())?,
                    )),
                    "Fn::If" => {
                        let c = self.conditions[arg[0].as_str().unwrap()];
                        self.eval(&arg[if c { 1 } else { 2 }])
                    }
                    k if k.starts_with("Fn::") => panic!("{k} is not modelled"),
                    _ => Some(self.eval_map(o)),
                }
            }
            Value::Object(o) => Some(self.eval_map(o)),
            other => Some(other.clone()),
        }
    }

    fn eval_map(&self, o: &Map<String, Value>) -> Value {
        Value::Object(
            o.iter()
                .filter_map(|(k, v)| self.eval(v).map(|v| (k.clone(), v)))
                .collect(),
        )
    }

    /// A resource's properties, resolved.
    pub fn properties(&self, logical_id: &str) -> Value {
        let r = &self.template["Resources"][logical_id];
        assert!(r.is_object(), "no resource {logical_id}");
        self.eval(&r["Properties"]).unwrap()
    }
}
