//! Owns which flow log each source's records came from, for the engine's dedupe: an interface
//! logged by two flow logs (a VPC's and a subnet's, an organisation's and a team's) would
//! otherwise count every flow twice. An object in AWS's name form names its flow log
//! (account, region, flow-log id), wherever it is read from; a CloudWatch stream belongs to its
//! log group. Any other source is unknown (0), and the engine never drops a record because of
//! an unknown log. With fewer than two flow logs among the jobs, every record is 0 and the
//! engine does no per-record work for this.

use std::collections::HashMap;

use super::{Job, Registry};
use crate::model::layout::delivered_flow_log;

/// Not looked up yet.
const UNSET: u32 = u32::MAX;

/// The flow log a source name belongs to: `cwl://{group}//{stream}` → the group; a path or
/// `s3://bucket/key` whose last segment is an AWS object name → its flow log.
pub(super) fn flow_log_of(source_name: &str) -> Option<String> {
    if let Some(rest) = source_name.strip_prefix("cwl://") {
        let group = rest.split("//").next().unwrap_or(rest);
        return Some(format!("cwl:{group}"));
    }
    let name = source_name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(source_name);
    delivered_flow_log(name)
}

/// The flow log of each job, when there is one.
fn job_flow_log(job: &Job) -> Option<String> {
    match job {
        Job::CloudWatch { group, .. } => Some(format!("cwl:{group}")),
        other => flow_log_of(&other.source_name()?),
    }
}

/// Numbers flow logs 1, 2, … in the order their sources are met, per source index.
pub(super) struct FlowLogs {
    enabled: bool,
    ids: HashMap<String, u32>,
    by_source: Vec<u32>,
}

impl FlowLogs {
    /// Enabled when the jobs name at least two flow logs.
    pub(super) fn for_jobs(jobs: &[Job]) -> FlowLogs {
        let mut first: Option<String> = None;
        let enabled = jobs
            .iter()
            .filter_map(job_flow_log)
            .any(|log| match &first {
                None => {
                    first = Some(log);
                    false
                }
                Some(f) => *f != log,
            });
        FlowLogs {
            enabled,
            ids: HashMap::new(),
            by_source: Vec::new(),
        }
    }

    /// The number of `source`'s flow log (0: unknown, or fewer than two in the run).
    #[inline]
    pub(super) fn of(&mut self, source: u32, registry: &Registry) -> u32 {
        if !self.enabled {
            return 0;
        }
        let i = source as usize;
        if let Some(&log) = self.by_source.get(i)
            && log != UNSET
        {
            return log;
        }
        let log = match flow_log_of(&registry.name(source)) {
            Some(name) => {
                let next = self.ids.len() as u32 + 1;
                *self.ids.entry(name).or_insert(next)
            }
            None => 0,
        };
        if self.by_source.len() <= i {
            self.by_source.resize(i + 1, UNSET);
        }
        self.by_source[i] = log;
        log
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    const A: &str = "123456789012_vpcflowlogs_eu-west-1_fl-0aaa_20261201T1005Z_abc1.log.gz";
    const B: &str = "123456789012_vpcflowlogs_eu-west-1_fl-0bbb_20261201T1005Z_abc2.log.gz";

    #[test]
    fn names_tell_the_flow_log() {
        assert_eq!(
            flow_log_of(&format!("s3://b/AWSLogs/x/{A}")).as_deref(),
            Some("123456789012/eu-west-1/fl-0aaa")
        );
        assert_eq!(
            flow_log_of(&format!("/tmp/logs/{B}")).as_deref(),
            Some("123456789012/eu-west-1/fl-0bbb")
        );
        assert_eq!(
            flow_log_of("cwl://vpc-logs//eni-1-all").as_deref(),
            Some("cwl:vpc-logs")
        );
        assert_eq!(flow_log_of("/tmp/flows.log"), None);
        assert_eq!(flow_log_of("stdin"), None);
    }

    #[test]
    fn two_flow_logs_are_numbered_and_one_is_not_looked_at() {
        let registry = Registry::default();
        for name in [
            format!("/d/{A}"),
            format!("/e/{A}"),
            format!("/d/{B}"),
            "/x.log".into(),
        ] {
            registry.add(name);
        }
        let jobs = |names: &[&str]| -> Vec<Job> {
            names.iter().map(|n| Job::File(PathBuf::from(n))).collect()
        };
        let mut one = FlowLogs::for_jobs(&jobs(&[&format!("/d/{A}"), "/x.log"]));
        assert_eq!((one.of(0, &registry), one.of(3, &registry)), (0, 0));
        let mut two = FlowLogs::for_jobs(&jobs(&[&format!("/d/{A}"), &format!("/d/{B}")]));
        let got: Vec<u32> = (0..4).map(|s| two.of(s, &registry)).collect();
        assert_eq!(got, [1, 1, 2, 0]);
        assert_eq!(two.of(2, &registry), 2, "cached");
    }
}
