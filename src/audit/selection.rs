//! What a config's entries select in the inventories read, so that audit holds `select.ids`
//! to plan's rule (an id no account or region of the run has is an error) and says when an
//! entry selects nothing at all (a warning: nothing of it is in scope). Pure.

use std::collections::BTreeMap;

use super::report::AuditError;
use crate::model::{DesiredState, Inventory, Selector};

/// Per entry, whether it selects anything; per (entry, id) of `select.ids`, whether the id
/// exists. Merged over every account of the run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    pub entries: BTreeMap<String, bool>,
    pub ids: BTreeMap<(String, String), bool>,
}

impl Selection {
    /// What `desired`'s entries select in one account's inventory.
    pub fn of(desired: &DesiredState, inv: &Inventory) -> Selection {
        let mut out = Selection::default();
        let resources = || inv.regions.values().flat_map(|ri| ri.resources.iter());
        for e in &desired.flow_logs {
            let any = resources().any(|r| r.kind == e.resource && e.selects(&r.id, &r.tags));
            *out.entries.entry(e.name.clone()).or_insert(false) |= any;
            if let Selector::Ids(ids) = &e.select {
                for id in ids {
                    let found = resources().any(|r| &r.id == id);
                    *out.ids.entry((e.name.clone(), id.clone())).or_insert(false) |= found;
                }
            }
        }
        out
    }

    pub fn merge(&mut self, other: Selection) {
        for (k, v) in other.entries {
            *self.entries.entry(k).or_insert(false) |= v;
        }
        for (k, v) in other.ids {
            *self.ids.entry(k).or_insert(false) |= v;
        }
    }

    /// Ids no account or region of the run has: errors, worded as plan words them.
    pub fn errors(&self) -> Vec<AuditError> {
        self.ids
            .iter()
            .filter(|(_, found)| !**found)
            .map(|((entry, id), _)| AuditError {
                account: None,
                region: None,
                message: format!(
                    "flow_logs entry `{entry}`: {id} was not found in any account or region of this run"
                ),
                hint: Some("check the id, the `regions` list and the accounts".into()),
            })
            .collect()
    }

    /// Entries that select nothing (and are not already an error for a missing id).
    pub fn warnings(&self) -> Vec<String> {
        self.entries
            .iter()
            .filter(|(entry, any)| {
                !**any && !self.ids.iter().any(|((e, _), found)| e == *entry && !found)
            })
            .map(|(entry, _)| {
                format!(
                    "flow_logs entry `{entry}` selects nothing in the accounts and regions audited; nothing of it is in scope"
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{NetworkResource, RegionInventory, ResourceKind};

    fn desired(select: &str) -> DesiredState {
        let text = format!(
            "version: 1\nregions: [us-east-1]\ndestinations:\n  rt: {{ type: cloudwatch-logs, log_group: /g }}\nflow_logs:\n  - name: e\n    resource: vpc\n    select: {select}\n    destinations: [rt]\n"
        );
        crate::config::parse(std::path::Path::new("t.yaml"), &text)
            .unwrap_or_else(|d| panic!("{d}"))
    }

    fn inv(ids: &[&str]) -> Inventory {
        Inventory {
            account: crate::model::AccountId::parse("111122223333").unwrap(),
            regions: [(
                "us-east-1".to_string(),
                RegionInventory {
                    resources: ids
                        .iter()
                        .map(|i| NetworkResource::new(*i, ResourceKind::Vpc))
                        .collect(),
                    ..Default::default()
                },
            )]
            .into(),
            buckets: Default::default(),
            roles: Default::default(),
        }
    }

    #[test]
    fn regression_an_id_that_exists_nowhere_is_an_error_as_in_plan() {
        let d = desired("{ ids: [vpc-here, vpc-nowhere] }");
        let mut s = Selection::of(&d, &inv(&["vpc-here"]));
        s.merge(Selection::of(&d, &inv(&[])));
        let e = s.errors();
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].message
                .contains("vpc-nowhere was not found in any account or region of this run"),
            "{e:?}"
        );
        assert!(s.warnings().is_empty());
        // Found in a second account: no error.
        s.merge(Selection::of(&d, &inv(&["vpc-nowhere"])));
        assert!(s.errors().is_empty());
    }

    #[test]
    fn regression_an_entry_selecting_nothing_is_a_warning() {
        let d = desired("{ tags: { team: none } }");
        let s = Selection::of(&d, &inv(&["vpc-1"]));
        assert!(s.errors().is_empty());
        let w = s.warnings();
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("selects nothing"), "{w:?}");
        assert!(
            Selection::of(&desired("all"), &inv(&["vpc-1"]))
                .warnings()
                .is_empty()
        );
    }
}
