//! Rung 4, evidence: deliveries that carry this flow log's id, newer than its creation (and
//! `--since`), under the layout its destination options imply: S3 objects named for it, or
//! CloudWatch streams of the interfaces it covers with events after creation. Nothing yet is
//! `waiting` while the flow log is younger than the first delivery window or covers no
//! interface; after that it is a failure.

use std::collections::BTreeSet;

use jiff::Timestamp;

use super::check::{self, EVIDENCE};
use super::facts::{CwlFacts, Listing, Read, S3Facts, Subject};
use super::report::Check;
use crate::model::layout::{self, Layout};

/// The newest delivery found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// The object key or stream name.
    pub name: String,
    /// When it arrived: S3 Last-Modified, or the stream's last ingestion time.
    pub at: Timestamp,
    /// Arrival minus the time the records are for (object name, event time), in seconds.
    pub lag: Option<i64>,
}

/// What the bounded reads held for this flow log.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Found {
    pub count: usize,
    pub newest: Option<Delivery>,
    /// Deliveries of this flow log older than the cut-off (creation, `--since`).
    pub older: usize,
    /// Objects under the prefixes that are not this flow log's (another layout, another id).
    pub foreign: usize,
}

/// Deliveries before this are not evidence: the flow log's creation (to the minute, as object
/// names carry it) or `now - since`, whichever is later.
pub fn cutoff(s: &Subject, now: Timestamp, since: Option<i64>) -> Option<Timestamp> {
    let created = s
        .created()
        .and_then(|c| Timestamp::from_second(c.as_second() - c.as_second().rem_euclid(60)).ok());
    let since = since.and_then(|d| Timestamp::from_second(now.as_second() - d).ok());
    match (created, since) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// This flow log's objects in a listing.
pub fn s3_found(s: &Subject, f: &S3Facts, listing: &Listing, cutoff: Option<Timestamp>) -> Found {
    let want = Layout::of(&f.options);
    let mut found = Found::default();
    for o in &listing.objects {
        let Some(info) = layout::parse_object_key(&o.key).filter(|i| {
            i.flow_log_id == s.flow_log.id
                && i.account == s.account
                && i.region == s.region
                && i.layout == want
                && i.prefix.as_deref() == f.prefix.as_deref()
        }) else {
            found.foreign += 1;
            continue;
        };
        if cutoff.is_some_and(|c| info.time < c) {
            found.older += 1;
            continue;
        }
        found.count += 1;
        let at = o.last_modified.unwrap_or(info.time);
        let newer = found
            .newest
            .as_ref()
            .is_none_or(|n| (at, o.key.as_str()) > (n.at, n.name.as_str()));
        if newer {
            found.newest = Some(Delivery {
                name: o.key.clone(),
                at,
                lag: o
                    .last_modified
                    .map(|m| m.as_second() - info.time.as_second()),
            });
        }
    }
    found
}

/// The streams of the covered interfaces with events after the cut-off.
pub fn cwl_found(s: &Subject, f: &CwlFacts, cutoff: Option<Timestamp>) -> Found {
    let mut found = Found::default();
    let Some(Ok(streams)) = &f.streams else {
        return found;
    };
    let covered: Option<BTreeSet<&str>> = s
        .interfaces
        .as_ref()
        .map(|i| i.iter().map(String::as_str).collect());
    for st in streams {
        let Some(eni) = layout::stream_interface(&st.name) else {
            found.foreign += 1;
            continue;
        };
        if covered.as_ref().is_some_and(|c| !c.contains(eni)) {
            found.foreign += 1;
            continue;
        }
        // Ingestion, not event time: the first records' event time (the capture window's
        // start) may precede the flow log's creation minute.
        let Some(last) = st.last_ingestion.or(st.last_event) else {
            continue; // a stream with no events yet
        };
        if cutoff.is_some_and(|c| last < c) {
            found.older += 1;
            continue;
        }
        found.count += 1;
        let at = st.last_ingestion.unwrap_or(last);
        if found.newest.as_ref().is_none_or(|n| at > n.at) {
            found.newest = Some(Delivery {
                name: st.name.clone(),
                at,
                lag: None,
            });
        }
    }
    // The lag comes from the newest stream's newest event.
    if let (Some(n), Some(Ok(events))) = (found.newest.as_mut(), &f.events) {
        n.lag = events
            .iter()
            .filter(|e| e.stream == n.name)
            .filter_map(|e| Some((e.timestamp?, e.ingestion?)))
            .max()
            .map(|(t, i)| (i.as_second() - t.as_second()).max(0));
    }
    found
}

/// Why there is nothing to expect yet, if so.
pub fn waiting_reason(s: &Subject, now: Timestamp, first_window: i64) -> Option<String> {
    if let Some(i) = &s.interfaces
        && i.is_empty()
    {
        return Some(format!(
            "no network interfaces under {}: nothing to log yet",
            s.flow_log.resource_id
        ));
    }
    let age = now.as_second() - s.created()?.as_second();
    (age < first_window).then(|| {
        format!(
            "created {} ago: the first delivery is due within {} of creation",
            check::human(age),
            check::human(first_window)
        )
    })
}

fn describe(found: &Found, what: &str) -> String {
    let mut d = format!("{} {what}", found.count);
    if let Some(n) = &found.newest {
        d.push_str(&format!("; newest {}", n.name));
    }
    if found.older > 0 {
        d.push_str(&format!(" ({} older ones ignored)", found.older));
    }
    d
}

/// The evidence rung from what was found (or why nothing could be looked at).
/// Whether the flow log is older than the bounded S3 listing (today's and yesterday's UTC day
/// folders): "nothing since its creation" would then claim more than was read.
pub fn older_than_listing(s: &Subject, now: Timestamp) -> bool {
    let Some(created) = s.created() else {
        return false;
    };
    let today = jiff::tz::Offset::UTC.to_datetime(now).date();
    let Ok(yesterday) = today.yesterday() else {
        return false;
    };
    match jiff::tz::Offset::UTC.to_timestamp(yesterday.to_datetime(jiff::civil::Time::midnight())) {
        Ok(start) => created < start,
        Err(_) => false,
    }
}

/// The evidence detail of an S3 flow log older than the listing: what was read, not "since
/// its creation".
pub fn within_listing(detail: &str, s: &Subject, where_: &str) -> String {
    match &s.flow_log.created {
        Some(c) => detail.replace(
            &format!("under {where_} since its creation at {c}"),
            &format!("in today's or yesterday's folders ({where_})"),
        ),
        None => detail.to_string(),
    }
}

pub fn check(
    s: &Subject,
    found: Read<&Found>,
    where_: &str,
    waiting: Option<String>,
    kind: &str,
) -> Check {
    let found = match found {
        Err(e) => return check::unreadable(EVIDENCE, where_, &e),
        Ok(f) => f,
    };
    if found.count > 0 {
        return check::ok(
            EVIDENCE,
            describe(
                found,
                &format!("{kind} of {} under {where_}", s.flow_log.id),
            ),
        );
    }
    if let Some(why) = waiting {
        return check::waiting(EVIDENCE, why);
    }
    let since = s
        .flow_log
        .created
        .as_deref()
        .map(|c| format!(" since its creation at {c}"))
        .unwrap_or_default();
    let mut detail = format!("no {kind} of {} under {where_}{since}", s.flow_log.id);
    if found.older > 0 {
        detail.push_str(&format!(" ({} older ones)", found.older));
    }
    if found.foreign > 0 {
        detail.push_str(&format!(
            "; {} other entries there belong to other flow logs or layouts",
            found.foreign
        ));
    }
    check::failed(
        EVIDENCE,
        detail,
        "nothing arrives: fix the rungs above that failed (AWS retries delivery); if they are all ok, check that the covered interfaces carry traffic (an idle interface writes no records)",
    )
}
