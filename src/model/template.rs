//! Names that may contain `{account_id}` and `{region}`, expanded per target.

use serde::Serialize;

/// Placeholders a name may use.
pub const PLACEHOLDERS: [&str; 2] = ["account_id", "region"];

/// A name with optional `{account_id}` / `{region}` placeholders, checked at load time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct NameTemplate(String);

impl NameTemplate {
    /// Checks that every `{...}` is a known placeholder and braces are balanced.
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut rest = s;
        while let Some(open) = rest.find(['{', '}']) {
            if rest.as_bytes()[open] == b'}' {
                return Err(format!("unmatched `}}` in `{s}`"));
            }
            let after = &rest[open + 1..];
            let close = after
                .find('}')
                .ok_or_else(|| format!("unclosed `{{` in `{s}`"))?;
            let name = &after[..close];
            if !PLACEHOLDERS.contains(&name) {
                return Err(format!(
                    "unknown placeholder `{{{name}}}` in `{s}` (known: {{account_id}}, {{region}})"
                ));
            }
            rest = &after[close + 1..];
        }
        Ok(NameTemplate(s.to_string()))
    }

    pub fn render(&self, account_id: &str, region: &str) -> String {
        self.0
            .replace("{account_id}", account_id)
            .replace("{region}", region)
    }

    pub fn uses_region(&self) -> bool {
        self.0.contains("{region}")
    }

    pub fn raw(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_placeholders() {
        let t = NameTemplate::parse("logs-{account_id}-{region}").unwrap();
        assert_eq!(
            t.render("111122223333", "eu-west-1"),
            "logs-111122223333-eu-west-1"
        );
        assert!(t.uses_region());
    }

    #[test]
    fn rejects_unknown_and_unbalanced() {
        assert!(
            NameTemplate::parse("a-{acount_id}")
                .unwrap_err()
                .contains("unknown placeholder")
        );
        assert!(
            NameTemplate::parse("a-{region")
                .unwrap_err()
                .contains("unclosed")
        );
        assert!(
            NameTemplate::parse("a-}")
                .unwrap_err()
                .contains("unmatched")
        );
    }
}
