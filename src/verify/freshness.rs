//! Rung 6, freshness and lag: the newest delivery's age against the threshold (`--max-age`,
//! default 15 min for S3 and 10 min for CloudWatch Logs); the lag is reported, not judged.

use jiff::Timestamp;

use super::check::{self, FRESHNESS};
use super::evidence::Found;
use super::report::Check;

pub fn check(found: &Found, now: Timestamp, max_age: i64, waiting: bool) -> Check {
    let Some(n) = &found.newest else {
        return if waiting {
            check::waiting(FRESHNESS, "no delivery yet")
        } else {
            check::not_applicable(FRESHNESS, "no delivery to date")
        };
    };
    let age = now.as_second() - n.at.as_second();
    let lag = n
        .lag
        .map(|l| format!("; lag {}", check::human(l)))
        .unwrap_or_default();
    if age <= max_age {
        check::ok(
            FRESHNESS,
            format!(
                "newest delivery {} ago at {} (threshold {}){lag}",
                check::human(age),
                n.at,
                check::human(max_age)
            ),
        )
    } else {
        check::failed(
            FRESHNESS,
            format!(
                "newest delivery {} ago at {}, older than the {} threshold{lag}",
                check::human(age),
                n.at,
                check::human(max_age)
            ),
            "deliveries stopped: check DeliverLogsErrorMessage and what changed on the destination since then; a network without traffic writes nothing (raise --max-age for quiet ones)",
        )
    }
}
