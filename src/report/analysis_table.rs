//! Analysis as text for a terminal: one line per incident (most severe first) in columns that
//! fit 120 characters, counts and bytes in human units; with `--evidence`, each incident's
//! summary and evidence pointers (full source names) indented under it. Then a footer: totals,
//! top talkers, the Limits the run hit (what may be missing), and the sources with problems.
//! Every line is at most [`WIDTH`] characters (long names and texts wrap or are cut with `…`),
//! and every text that came from the input is shown with its control characters escaped.

use std::fmt::Write;

use flowkeeper_analyze::text::count;
use flowkeeper_analyze::units::{human_bytes, human_count, human_duration};

use super::analysis_view::{self, IncidentRow, Results, minute, talker_bytes};
use crate::output::safe;

/// The widest line printed.
pub const WIDTH: usize = 120;

/// (header, width) of each column; with two spaces between, they add up to [`WIDTH`].
const COLUMNS: [(&str, usize); 8] = [
    ("SEV", 8),
    ("DETECTOR", 19),
    ("SUBJECT", 16),
    ("TARGETS", 24),
    ("SEEN (UTC)", 17),
    ("WINDOWS", 7),
    ("FLOWS", 5),
    ("BYTES", 10),
];

/// Columns aligned to the right (numbers).
const RIGHT: [bool; 8] = [false, false, false, false, false, true, true, true];

/// Columns cut in the middle when too long: SUBJECT, whose end (an address's last groups, an
/// interface id's last digits) is what tells two subjects apart.
const MIDDLE: [bool; 8] = [false, false, true, false, false, false, false, false];

/// `text` cut to `width` characters, the last one `…` when it was cut.
fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// `text` cut to `width` characters by dropping its middle (shown as `…`), keeping its start
/// and the longer part of its end: `2600:1f18:aaaa:bb01::20` in 16 is `2600:1f…bb01::20`.
fn fit_middle(text: &str, width: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= width || width < 3 {
        return fit(text, width);
    }
    let head = (width - 1) / 2;
    let tail = width - 1 - head;
    let mut out: String = chars[..head].iter().collect();
    out.push('…');
    out.extend(&chars[chars.len() - tail..]);
    out
}

fn pad(text: &str, width: usize, right: bool, middle: bool) -> String {
    let text = if middle {
        fit_middle(text, width)
    } else {
        fit(text, width)
    };
    let fill = " ".repeat(width - text.chars().count());
    if right { fill + &text } else { text + &fill }
}

/// One line of cells, trailing spaces trimmed.
fn line(cells: &[String]) -> String {
    let parts: Vec<String> = cells
        .iter()
        .zip(COLUMNS.iter().zip(RIGHT.iter().zip(MIDDLE)))
        .map(|(c, ((_, w), (right, middle)))| pad(c, *w, *right, middle))
        .collect();
    parts.join("  ").trim_end().to_string()
}

/// `text` wrapped at `width` characters (at spaces where it can, else anywhere), every line
/// after the first indented by `indent` spaces; the first keeps `text`'s own indentation.
pub fn wrap(text: &str, width: usize, indent: usize) -> Vec<String> {
    let indent = indent.min(width / 2);
    let body = text.trim_start_matches(' ');
    let lead = text.len() - body.len();
    let mut lines = Vec::new();
    let mut cur = " ".repeat(lead.min(width / 2));
    let mut start = cur.len();
    for word in body.split(' ').filter(|w| !w.is_empty()) {
        let mut w: Vec<char> = word.chars().collect();
        loop {
            let used = cur.chars().count();
            let sep = usize::from(used > start);
            if used + sep + w.len() <= width {
                if sep == 1 {
                    cur.push(' ');
                }
                cur.extend(w.iter());
                break;
            }
            if used == start {
                // A word longer than a whole line: cut it.
                let take = width - used;
                cur.extend(w.drain(..take));
            }
            lines.push(std::mem::replace(&mut cur, " ".repeat(indent)));
            start = indent;
            if w.is_empty() {
                break;
            }
        }
    }
    if cur.chars().count() > start || lines.is_empty() {
        lines.push(cur);
    }
    lines
}

/// An incident's targets in `width`: too long, it loses its per-window notes first
/// (`~811 targets/5m, port 445` → `~811 targets, port 445`: the port is what a cut lost).
fn fit_targets(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut skipping = false;
    for c in text.chars() {
        match c {
            '/' => skipping = true,
            ',' | ' ' => {
                skipping = false;
                out.push(c);
            }
            _ if !skipping => out.push(c),
            _ => {}
        }
    }
    out
}

fn incident_cells(r: &IncidentRow) -> Vec<String> {
    vec![
        r.severity.to_string(),
        r.detector.clone(),
        match &r.via {
            // Cut at the end: the subject comes first (a middle cut would lose it).
            Some(via) => fit(&format!("{} via {via}", r.subject), COLUMNS[2].1),
            None => r.subject.clone(),
        },
        fit_targets(&r.targets, COLUMNS[3].1),
        r.seen.clone(),
        format!("{}×{}", r.windows, r.window_len),
        r.flows_h.clone(),
        r.bytes_h.clone(),
    ]
}

/// The incidents' lines (with `--evidence`, what is under each). With none, "No findings."
/// says whether sources could not be read (`errors` of them) or limits were reached: a run
/// that missed records is no all-clear.
fn incidents(
    out: &mut String,
    rows: &[IncidentRow],
    with_evidence: bool,
    limited: bool,
    errors: usize,
    (malformed, lines): (u64, u64),
) {
    if rows.is_empty() {
        let _ = match (errors, limited) {
            // Lines that were not records were not analyzed: 90 of 99 of them headlined "No
            // findings." (probe of session 14).
            (0, false) if malformed > 0 => writeln!(
                out,
                "No findings, but {} of {} {} not records (malformed below): results may be \
                 incomplete.",
                human_count(malformed),
                count(lines, "line", "lines"),
                if malformed == 1 { "was" } else { "were" }
            ),
            (0, false) => writeln!(out, "No findings."),
            (0, true) => writeln!(
                out,
                "No findings, but limits were reached (LIMITS below): results may be incomplete."
            ),
            (n, _) => writeln!(
                out,
                "No findings, but {} (source error below): results are incomplete.",
                if n == 1 {
                    "1 source could not be read".to_owned()
                } else {
                    format!("{n} sources could not be read")
                }
            ),
        };
        return;
    }
    let header: Vec<String> = COLUMNS.iter().map(|(h, _)| h.to_string()).collect();
    let _ = writeln!(out, "{}", line(&header));
    for r in rows {
        let _ = writeln!(out, "{}", line(&incident_cells(r)));
        if with_evidence {
            for l in wrap(&format!("    {}", r.summary), WIDTH, 6) {
                let _ = writeln!(out, "{l}");
            }
            if !r.decided_by.is_empty() {
                let _ = writeln!(out, "    decided by {}", fit(&r.decided_by, WIDTH - 16));
            }
            for e in &r.evidence {
                for l in wrap(&format!("      {e}"), WIDTH, 8) {
                    let _ = writeln!(out, "{l}");
                }
            }
        }
    }
}

fn push_wrapped(out: &mut String, text: &str, indent: usize) {
    for l in wrap(text, WIDTH, indent) {
        let _ = writeln!(out, "{l}");
    }
}

/// The whole text report. `with_evidence`: print each incident's summary and evidence.
pub fn render(r: &Results, with_evidence: bool) -> String {
    let (analysis, run) = (r.analysis, r.run);
    let mut out = String::new();
    let mut rows = analysis_view::rows(r.incidents, run);
    for row in &mut rows {
        row.detector = safe(&row.detector);
        row.subject = safe(&row.subject);
        row.targets = safe(&row.targets);
        row.summary = safe(&row.summary);
        row.evidence = row.evidence.iter().map(|e| safe(e)).collect();
    }
    let errors = r.run.source_errors().count();
    let lines = r.run.records + r.run.malformed;
    incidents(
        &mut out,
        &rows,
        with_evidence,
        !r.limits.is_empty(),
        errors,
        (r.run.malformed, lines),
    );

    let totals = &analysis.reports.totals;
    let span = match (totals.first_seen, totals.last_seen) {
        (Some(a), Some(b)) => format!(
            "{} to {} UTC ({})",
            minute(a),
            minute(b),
            human_duration(b.saturating_sub(a))
        ),
        // Every record with a time was another view of a counted flow (a relay's outer leg,
        // a flow's other end): the records had times, the counted traffic none.
        _ if totals.relayed + totals.duplicates > 0 => "no counted records with a time".into(),
        _ => "no timed records".into(),
    };
    let _ = writeln!(out);
    push_wrapped(
        &mut out,
        &format!(
            "{} from {}, {} malformed, {} outside the time range; {span}",
            count(run.records, "record", "records"),
            count(run.sources.len() as u64, "source", "sources"),
            human_count(run.malformed),
            human_count(run.outside_range)
        ),
        2,
    );
    let mut views = Vec::new();
    if totals.duplicates > 0 {
        views.push(format!(
            "{} other ends of flows counted once",
            human_count(totals.duplicates)
        ));
    }
    if totals.relayed > 0 {
        views.push(format!(
            "{} relayed (NAT outer legs, counted at their inner legs)",
            human_count(totals.relayed)
        ));
    }
    push_wrapped(
        &mut out,
        &format!(
            "accepted: {} flows, {}; rejected: {} flows, {}; NODATA {}, SKIPDATA {}{}",
            human_count(totals.accepted.flows),
            human_bytes(totals.accepted.bytes),
            human_count(totals.rejected.flows),
            human_bytes(totals.rejected.bytes),
            human_count(totals.nodata),
            human_count(totals.skipdata),
            if views.is_empty() {
                String::new()
            } else {
                format!("; not counted again: {}", views.join(", "))
            }
        ),
        2,
    );
    let by_sev: Vec<String> = analysis_view::by_severity(r.incidents)
        .into_iter()
        .filter(|s| s.count > 0)
        .map(|s| format!("{} {}", s.count, s.severity))
        .collect();
    let _ = writeln!(
        out,
        "{}{}",
        count(r.incidents.len() as u64, "finding", "findings"),
        if by_sev.is_empty() {
            String::new()
        } else {
            format!(" ({})", by_sev.join(", "))
        }
    );
    talkers(&mut out, r);
    if r.limits.is_empty() && errors == 0 {
        let _ = writeln!(out, "limits: none reached; nothing was dropped");
    } else if r.limits.is_empty() {
        let _ = writeln!(
            out,
            "limits: none reached; but what the source errors below name was not read"
        );
    } else {
        let _ = writeln!(
            out,
            "LIMITS reached ({}): results may be incomplete",
            r.limits.len()
        );
        for l in r.limits {
            push_wrapped(
                &mut out,
                &format!("  {}", safe(&analysis_view::limit_line(l))),
                4,
            );
        }
    }
    problems(&mut out, r);
    out
}

fn talkers(out: &mut String, r: &Results) {
    let rep = &r.analysis.reports;
    let n = rep
        .top_sources
        .len()
        .max(rep.top_destinations.len())
        .min(10);
    if n == 0 {
        return;
    }
    let _ = writeln!(
        out,
        "\n{:<40}  {:>10}  {:<40}  {:>10}",
        "TOP SOURCES", "BYTES", "TOP DESTINATIONS", "BYTES"
    );
    for i in 0..n {
        let s = rep.top_sources.get(i);
        let d = rep.top_destinations.get(i);
        let text = format!(
            "{:<40}  {:>10}  {:<40}  {:>10}",
            s.map_or(String::new(), |x| x.addr.to_string()),
            s.map_or(String::new(), talker_bytes),
            d.map_or(String::new(), |x| x.addr.to_string()),
            d.map_or(String::new(), talker_bytes),
        );
        let _ = writeln!(out, "{}", text.trim_end());
    }
    let _ = writeln!(out);
}

fn problems(out: &mut String, r: &Results) {
    let run = r.run;
    let with_problems: Vec<_> = run
        .sources
        .iter()
        .filter(|s| s.malformed > 0 || s.error.is_some() || !s.warnings.is_empty())
        .collect();
    for s in with_problems.iter().take(20) {
        if let Some(e) = &s.error {
            push_wrapped(
                out,
                &format!("source error: {}: {}", safe(&s.name), safe(e)),
                4,
            );
        }
        for ex in &s.examples {
            push_wrapped(out, &format!("malformed: {}", safe(ex)), 4);
        }
        for w in &s.warnings {
            push_wrapped(out, &format!("warning: {}: {}", safe(&s.name), safe(w)), 4);
        }
    }
    if with_problems.len() > 20 {
        let _ = writeln!(
            out,
            "... and {} more with problems (--format json lists them all)",
            count((with_problems.len() - 20) as u64, "source", "sources")
        );
    }
    for s in &run.skipped {
        push_wrapped(
            out,
            &format!("skipped: {}: {}", safe(&s.name), safe(&s.reason)),
            4,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_too_long_lose_their_window_notes_before_their_port() {
        let w = COLUMNS[3].1;
        assert_eq!(
            fit_targets("~811 targets/5m, port 445", w),
            "~811 targets, port 445"
        );
        assert_eq!(
            fit_targets("~1.4k targets/10m, port 445", w),
            "~1.4k targets, port 445"
        );
        // What fits stays as it is (the note says the count is one window's).
        assert_eq!(
            fit_targets("13 targets/5m, port 22", w),
            "13 targets/5m, port 22"
        );
        assert_eq!(
            fit_targets("22 ← 1.2k sources/1h", w),
            "22 ← 1.2k sources/1h"
        );
    }

    #[test]
    fn columns_add_up_to_the_width() {
        let sum: usize = COLUMNS.iter().map(|(_, w)| w).sum::<usize>() + 2 * (COLUMNS.len() - 1);
        assert_eq!(sum, WIDTH);
    }

    #[test]
    fn long_cells_are_cut_with_an_ellipsis() {
        assert_eq!(fit("2001:db8:ffff:ffff:ffff:ffff:ffff:9", 10), "2001:db8:…");
        assert_eq!(fit("short", 10), "short");
    }

    /// Two IPv6 hosts of one /64 (the probe's `v6two`: ::20 and ::21) once both printed as
    /// `2600:1f18:aaaa:bb…`: the SUBJECT column keeps an address's end.
    #[test]
    fn two_long_ipv6_subjects_stay_apart_in_the_table() {
        let cells = |subject: &str| {
            let mut c = vec![String::new(); COLUMNS.len()];
            c[2] = subject.to_string();
            c[3] = "x".to_string();
            line(&c)
        };
        let (a, b) = (
            cells("2600:1f18:aaaa:bb01::20"),
            cells("2600:1f18:aaaa:bb01::21"),
        );
        assert_ne!(a, b);
        assert!(a.contains("2600:1f…bb01::20"), "{a:?}");
        assert!(b.contains("…bb01::21"), "{b:?}");
        assert_eq!(a.chars().count(), b.chars().count());
    }

    #[test]
    fn cutting_in_the_middle_keeps_the_start_and_the_end() {
        assert_eq!(fit_middle("10.0.0.1", 18), "10.0.0.1");
        assert_eq!(
            fit_middle("eni-420b20344f0290c71", 18),
            "eni-420b…4f0290c71"
        );
        assert_eq!(fit_middle("abcdef", 2), "a…");
    }

    #[test]
    fn wrapping_keeps_every_line_within_the_width() {
        let text = format!(
            "source error: {}: a b c {}",
            "x".repeat(300),
            "word ".repeat(60)
        );
        let lines = wrap(&text, 40, 4);
        assert!(lines.len() > 5, "{lines:?}");
        for l in &lines {
            assert!(l.chars().count() <= 40, "{l:?}");
        }
        assert!(lines[1].starts_with("    "), "{lines:?}");
        let joined: String = lines.iter().map(|l| l.trim()).collect::<Vec<_>>().join("");
        assert!(joined.contains(&"x".repeat(30)));
        assert_eq!(wrap("", 40, 4), vec![String::new()]);
        assert_eq!(wrap("a b", 40, 4), vec!["a b".to_string()]);
    }
}

#[cfg(test)]
mod render_tests {
    use super::*;
    use crate::analyze::timeline::Timeline;
    use crate::report::analysis_view::fixtures;

    #[test]
    fn one_line_per_incident_within_the_width_and_evidence_under_it() {
        let incidents = fixtures::every_kind();
        let analysis = fixtures::analysis();
        let mut run = fixtures::run(&format!("s3://logs/{}/x.log.gz", "k".repeat(150)));
        run.sources[0].error = Some("e\x1b[2J".repeat(40));
        let timeline = Timeline::default();
        let results = Results {
            incidents: &incidents,
            analysis: &analysis,
            run: &run,
            limits: &[],
            timeline: &timeline,
        };
        let plain = render(&results, false);
        for line in plain.lines() {
            assert!(line.chars().count() <= WIDTH, "{line}");
        }
        assert_eq!(
            plain.lines().filter(|l| l.contains("3×5m")).count(),
            incidents.len()
        );
        assert!(
            plain.contains("3.0 GiB") && plain.contains("1.2k"),
            "{plain}"
        );
        assert!(!plain.contains('\x1b'), "control characters escaped");
        let with = render(&results, true);
        for line in with.lines() {
            assert!(line.chars().count() <= WIDTH, "{line}");
        }
        assert_eq!(
            with.matches("x.log.gz:52").count(),
            incidents.len(),
            "{with}"
        );
        assert!(with.contains("    decided by tcp-flags"), "{with}");
        assert!(!plain.contains("x.log.gz:52"), "evidence only on request");
    }

    /// Probe regression (session 13): a run whose only object was truncated printed "No
    /// findings." first and "limits: none reached; nothing was dropped".
    #[test]
    fn no_findings_with_a_source_error_is_no_all_clear() {
        let analysis = fixtures::analysis();
        let mut run = fixtures::run("s3://logs/x.log.gz");
        let timeline = Timeline::default();
        let text = |run: &crate::analyze::RunSummary| {
            render(
                &Results {
                    incidents: &[],
                    analysis: &analysis,
                    run,
                    limits: &[],
                    timeline: &timeline,
                },
                false,
            )
        };
        let clean = text(&run);
        assert!(clean.starts_with("No findings.\n"), "{clean}");
        assert!(clean.contains("nothing was dropped"), "{clean}");
        // Probe regression (session 14): 90 of 99 lines malformed headlined "No findings.".
        let mut unread = run.clone();
        (unread.records, unread.malformed) = (9, 90);
        let unread = text(&unread);
        assert!(
            unread.starts_with(
                "No findings, but 90 of 99 lines were not records (malformed below): results \
                 may be incomplete.\n"
            ),
            "{unread}"
        );
        run.sources[0].error = Some("truncated gzip stream".into());
        let broken = text(&run);
        assert!(
            broken.starts_with(
                "No findings, but 1 source could not be read (source error below): results \
                 are incomplete.\n"
            ),
            "{broken}"
        );
        assert!(!broken.contains("nothing was dropped"), "{broken}");
        assert!(
            broken.contains("source error: s3://logs/x.log.gz"),
            "{broken}"
        );
    }

    /// Probe regression (session 14): ten outer legs of a declared NAT read "10 records ...;
    /// no timed records" and "accepted: 0 flows", with nothing about where they went.
    #[test]
    fn records_counted_as_other_views_are_said_so() {
        let mut analysis = fixtures::analysis();
        let totals = &mut analysis.reports.totals;
        (totals.first_seen, totals.last_seen) = (None, None);
        (totals.relayed, totals.duplicates) = (10, 3);
        let run = fixtures::run("nat.log");
        let timeline = Timeline::default();
        let text = render(
            &Results {
                incidents: &[],
                analysis: &analysis,
                run: &run,
                limits: &[],
                timeline: &timeline,
            },
            false,
        );
        assert!(text.contains("; no counted records with a time"), "{text}");
        // Wrapped at the width, continuation lines indented by two.
        let joined = text.replace("\n  ", " ");
        assert!(
            joined.contains(
                "not counted again: 3 other ends of flows counted once, 10 relayed (NAT outer \
                 legs, counted at their inner legs)"
            ),
            "{text}"
        );
    }
}
