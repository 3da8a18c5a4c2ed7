//! Owns the rule that one flow-log object is read once per run, however many inputs name it.
//!
//! The same file named twice is caught by its inode while walking (`plan_jobs`); this module
//! catches what an inode cannot: one S3 object listed under two overlapping prefixes
//! (`s3://b/AWSLogs/ s3://b/AWSLogs/111122223333/`), and a copy of a delivered object (a
//! local download next to its S3 prefix, a second sync of one bucket). AWS names every
//! delivered object uniquely (account, region, flow-log id, minute, hash), so two objects of
//! one such name hold the same records and reading both would count their traffic twice.
//! Files whose names are not AWS's are never matched by name: two `flows.log` may differ.

use std::collections::HashMap;

use super::{Job, Planned, Skipped};
use crate::model::layout::delivered_object_name;

/// Moves every job that repeats an earlier one (same S3 object, or same AWS object name) from
/// `planned.jobs` to `planned.skipped`, saying which job it repeats. Order is kept.
pub(super) fn skip_repeated_objects(planned: &mut Planned) {
    let mut first_by_object: HashMap<(String, String), String> = HashMap::new();
    let mut first_by_name: HashMap<String, String> = HashMap::new();
    let jobs = std::mem::take(&mut planned.jobs);
    for job in jobs {
        let (object, name) = match &job {
            Job::S3 { bucket, key, .. } => (
                Some((bucket.clone(), key.clone())),
                key.rsplit('/').next().unwrap_or(key).to_string(),
            ),
            Job::File(path) => (
                None,
                path.file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default()
                    .to_string(),
            ),
            _ => {
                planned.jobs.push(job);
                continue;
            }
        };
        let display = job.source_name().unwrap_or_default();
        let by_object = object.and_then(|o| insert_or_first(&mut first_by_object, o, &display));
        let repeated = match by_object {
            Some(first) => Some(format!(
                "the same S3 object as {first} (named by two inputs; it is read once)"
            )),
            None if delivered_object_name(&name) => {
                insert_or_first(&mut first_by_name, name, &display).map(|first| {
                    format!(
                        "a copy of {first}: AWS names each delivered flow-log object \
                         uniquely, so reading this one too would count its records twice"
                    )
                })
            }
            None => None,
        };
        match repeated {
            Some(reason) => planned.skipped.push(Skipped {
                name: display,
                reason,
            }),
            None => planned.jobs.push(job),
        }
    }
}

/// Records `display` as the first holder of `key`, or returns the one that was.
fn insert_or_first<K: std::hash::Hash + Eq>(
    map: &mut HashMap<K, String>,
    key: K,
    display: &str,
) -> Option<String> {
    match map.entry(key) {
        std::collections::hash_map::Entry::Occupied(e) => Some(e.get().clone()),
        std::collections::hash_map::Entry::Vacant(v) => {
            v.insert(display.to_string());
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAME: &str =
        "111122223333_vpcflowlogs_us-east-1_fl-0abc123_20261201T0105Z_abcd1234.log.gz";

    fn s3(bucket: &str, key: &str) -> Job {
        Job::S3 {
            bucket: bucket.into(),
            key: key.into(),
            size: 1,
        }
    }

    fn file(p: &str) -> Job {
        Job::File(p.into())
    }

    fn run(jobs: Vec<Job>) -> Planned {
        let mut planned = Planned {
            jobs,
            skipped: Vec::new(),
        };
        skip_repeated_objects(&mut planned);
        planned
    }

    fn kept(p: &Planned) -> Vec<String> {
        p.jobs
            .iter()
            .map(|j| j.source_name().unwrap_or_default())
            .collect()
    }

    #[test]
    fn an_object_under_two_overlapping_prefixes_is_read_once() {
        let key = format!("AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/12/01/{NAME}");
        let other = "AWSLogs/111122223333/notes.txt";
        let p = run(vec![
            s3("b", &key),
            s3("b", other),
            s3("b", &key),
            s3("b", other),
        ]);
        assert_eq!(
            kept(&p),
            [format!("s3://b/{key}"), format!("s3://b/{other}")]
        );
        assert_eq!(p.skipped.len(), 2);
        assert!(p.skipped[0].reason.contains(&format!("s3://b/{key}")));
        assert!(
            p.skipped[1]
                .reason
                .starts_with("the same S3 object as s3://b/AWSLogs")
        );
    }

    #[test]
    fn a_local_copy_of_a_delivered_object_is_skipped_with_the_first_named() {
        let key = format!("AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/12/01/{NAME}");
        let p = run(vec![
            s3("b", &key),
            file(&format!("downloads/{NAME}")),
            file(&format!("backup/2026/{NAME}")),
        ]);
        assert_eq!(kept(&p), [format!("s3://b/{key}")]);
        assert_eq!(p.skipped[0].name, format!("downloads/{NAME}"));
        assert!(
            p.skipped[0]
                .reason
                .starts_with(&format!("a copy of s3://b/{key}"))
        );
        assert!(
            p.skipped[1]
                .reason
                .starts_with(&format!("a copy of s3://b/{key}"))
        );
    }

    #[test]
    fn near_miss_same_names_that_are_not_aws_names_and_distinct_objects_are_all_read() {
        let other_hash = NAME.replace("abcd1234", "abcd1235");
        let p = run(vec![
            file("a/flows.log"),
            file("b/flows.log"),
            file(&format!("a/{NAME}")),
            file(&format!("a/{other_hash}")),
            // One key in two buckets: two objects (names are checked, and this name is not
            // AWS's), and stdin and broken sources are never matched.
            s3("b1", "x/flows.log.gz"),
            s3("b2", "x/flows.log.gz"),
            Job::Stdin,
            Job::Broken {
                name: "gone".into(),
                error: "e".into(),
            },
        ]);
        assert!(p.skipped.is_empty(), "{:?}", p.skipped);
        assert_eq!(kept(&p).len(), 8);
    }
}
