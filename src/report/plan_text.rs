//! Human plan output, per account and grouped by region like `terraform plan`: `+` create,
//! `~` update, `-/+` replace, `-` delete, each with its reason and the attributes that change.

use std::fmt::Write;

use crate::plan::{Action, Plan, Summary};

fn value(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("(none)")
}

fn render_account(plan: &Plan, out: &mut String) {
    let incomplete = plan.problems.len() + plan.unread;
    if plan.changes.is_empty() && plan.regions.is_empty() && incomplete == 0 {
        let _ = writeln!(
            out,
            "Nothing planned in account {}: none of its regions is part of this run.",
            plan.account
        );
    } else if plan.changes.is_empty() && incomplete > 0 {
        let _ = writeln!(
            out,
            "No changes planned in account {}, but part of it could not be planned ({incomplete} problem{}; see the errors on stderr).",
            plan.account,
            if incomplete == 1 { "" } else { "s" }
        );
    } else if plan.changes.is_empty() {
        let _ = writeln!(
            out,
            "No changes. Flow logging in account {} matches the config.",
            plan.account
        );
    } else {
        let _ = writeln!(
            out,
            "flowkeeper will make these changes in account {}:",
            plan.account
        );
        let mut current: Option<Option<&str>> = None;
        for c in &plan.changes {
            if current != Some(c.region.as_deref()) {
                current = Some(c.region.as_deref());
                let _ = writeln!(
                    out,
                    "\n  # {}",
                    c.region.as_deref().unwrap_or("account-wide (IAM)")
                );
            }
            let _ = writeln!(out, "  {:>3} {}", c.action.symbol(), c.subject());
            let _ = writeln!(out, "        reason: {}", c.reason);
            for a in &c.attributes {
                match c.action {
                    Action::Create => {
                        let _ = writeln!(out, "        {}: {}", a.name, value(&a.after));
                    }
                    _ => {
                        let _ = writeln!(
                            out,
                            "        {}: {} → {}",
                            a.name,
                            value(&a.before),
                            value(&a.after)
                        );
                    }
                }
            }
        }
        out.push('\n');
    }
    if !plan.covered.is_empty() {
        let _ = writeln!(
            out,
            "Already covered by flow logs flowkeeper does not manage (left alone):"
        );
        for c in &plan.covered {
            let _ = writeln!(
                out,
                "  {} {} by {} (entry {} → {})",
                c.region, c.resource, c.flow_log_id, c.entry, c.destination
            );
        }
        out.push('\n');
    }
    if !plan.prunable.is_empty() {
        let _ = writeln!(
            out,
            "{} flow log(s) managed by flowkeeper are no longer in the config and are kept (--prune deletes them):",
            plan.prunable.len()
        );
        for p in &plan.prunable {
            let _ = writeln!(out, "  {} {} ({})", p.region, p.flow_log_id, p.resource);
        }
        out.push('\n');
    }
}

/// Counts over several plans.
pub fn total(plans: &[&Plan]) -> Summary {
    let mut t = Summary::default();
    for p in plans {
        let s = p.summary();
        t.create += s.create;
        t.update += s.update;
        t.replace += s.replace;
        t.delete += s.delete;
    }
    t
}

/// One account's plan.
pub fn render(plan: &Plan) -> String {
    render_all(&[plan])
}

/// Every account's plan, then the totals.
pub fn render_all(plans: &[&Plan]) -> String {
    let mut out = String::new();
    for (i, p) in plans.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        render_account(p, &mut out);
    }
    let s = total(plans);
    let scope = if plans.len() > 1 {
        format!(" ({} accounts)", plans.len())
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "Plan{scope}: {} to create, {} to update, {} to replace, {} to delete.",
        s.create, s.update, s.replace, s.delete
    );
    out
}
