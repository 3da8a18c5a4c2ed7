//! EC2: VPCs, subnets, network interfaces and flow logs, converted to `model` types.

use std::collections::BTreeMap;

use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{
    DestinationFileFormat, DestinationOptionsRequest, Filter, FlowLog, FlowLogsResourceType,
    LogDestinationType, ResourceType as Ec2ResourceType, Tag, TagSpecification,
    TrafficType as Ec2TrafficType,
};

use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_smithy_async::future::pagination_stream::PaginationStream;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response as HttpResponse;

use super::error::{AwsError, classify};
use crate::model::{
    AggregationInterval, ExistingFlowLog, FileFormat, FlowLogDestination, FlowLogHealth,
    FlowLogSettings, LogFormat, NetworkResource, ResourceKind, S3Options, TrafficType, Unreadable,
};

/// A Ec2 client. The SDK type stays inside `aws`: other modules hold this and call the
/// functions of this module.
#[derive(Clone, Debug)]
pub struct Ec2(pub(super) Client);

impl Ec2 {
    /// Wraps an SDK client (the session's, or a transport mock's in tests).
    pub fn from_client(client: Client) -> Self {
        Ec2(client)
    }
}

/// EC2 describe filters take at most this many values.
pub const FILTER_VALUE_LIMIT: usize = 200;
/// CreateFlowLogs takes at most this many resource ids.
pub const CREATE_BATCH_LIMIT: usize = 1000;
/// Page size for describe calls.
const PAGE_SIZE: i32 = 1000;

fn tag_map(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_string(),
                t.value().unwrap_or_default().to_string(),
            ))
        })
        .collect()
}

/// Hands every page of a paginated call to `each`; the first failed page is the error.
async fn drain<O, E>(
    mut pages: PaginationStream<Result<O, SdkError<E, HttpResponse>>>,
    operation: &'static str,
    mut each: impl FnMut(O),
) -> Result<(), AwsError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    while let Some(page) = pages.next().await {
        each(page.map_err(|e| classify(operation, e))?);
    }
    Ok(())
}

/// Lists resources of `kind`, all of them or only `ids` (batched to the filter limit).
pub async fn describe_resources(
    ec2: &Ec2,
    kind: ResourceKind,
    ids: Option<&[String]>,
) -> Result<Vec<NetworkResource>, AwsError> {
    let ec2 = &ec2.0;
    let batches: Vec<Option<Vec<String>>> = match ids {
        None => vec![None],
        Some(ids) => ids
            .chunks(FILTER_VALUE_LIMIT)
            .map(|c| Some(c.to_vec()))
            .collect(),
    };
    let mut out = Vec::new();
    let id_filter = |name: &str, ids: &[String]| {
        Filter::builder()
            .name(name)
            .set_values(Some(ids.to_vec()))
            .build()
    };
    let resource = |id: Option<&str>, tags: &[Tag]| NetworkResource {
        tags: tag_map(tags),
        ..NetworkResource::new(id.unwrap_or_default(), kind)
    };
    for batch in batches {
        match kind {
            ResourceKind::Vpc => {
                let req = match &batch {
                    Some(ids) => ec2.describe_vpcs().filters(id_filter("vpc-id", ids)),
                    None => ec2.describe_vpcs().max_results(PAGE_SIZE),
                };
                drain(req.into_paginator().send(), "ec2:DescribeVpcs", |page| {
                    out.extend(page.vpcs().iter().map(|v| NetworkResource {
                        owner_id: v.owner_id().map(str::to_string),
                        ..resource(v.vpc_id(), v.tags())
                    }))
                })
                .await?;
            }
            ResourceKind::Subnet => {
                let req = match &batch {
                    Some(ids) => ec2.describe_subnets().filters(id_filter("subnet-id", ids)),
                    None => ec2.describe_subnets().max_results(PAGE_SIZE),
                };
                drain(req.into_paginator().send(), "ec2:DescribeSubnets", |page| {
                    out.extend(page.subnets().iter().map(|s| NetworkResource {
                        vpc_id: s.vpc_id().map(str::to_string),
                        owner_id: s.owner_id().map(str::to_string),
                        ..resource(s.subnet_id(), s.tags())
                    }))
                })
                .await?;
            }
            ResourceKind::NetworkInterface => {
                let req = match &batch {
                    Some(ids) => ec2
                        .describe_network_interfaces()
                        .filters(id_filter("network-interface-id", ids)),
                    None => ec2.describe_network_interfaces().max_results(PAGE_SIZE),
                };
                drain(
                    req.into_paginator().send(),
                    "ec2:DescribeNetworkInterfaces",
                    |page| {
                        out.extend(page.network_interfaces().iter().map(|n| NetworkResource {
                            vpc_id: n.vpc_id().map(str::to_string),
                            subnet_id: n.subnet_id().map(str::to_string),
                            owner_id: n.owner_id().map(str::to_string),
                            requester_managed: n.requester_managed().unwrap_or(false),
                            interface_type: n.interface_type().map(|t| t.as_str().to_string()),
                            ..resource(n.network_interface_id(), n.tag_set())
                        }))
                    },
                )
                .await?;
            }
        }
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out.dedup_by(|a, b| a.id == b.id);
    Ok(out)
}

/// Regions enabled for the account (opted-in or not requiring opt-in), sorted.
pub async fn enabled_regions(ec2: &Ec2) -> Result<Vec<String>, AwsError> {
    let ec2 = &ec2.0;
    let out = ec2
        .describe_regions()
        .send()
        .await
        .map_err(|e| classify("ec2:DescribeRegions", e))?;
    let mut regions: Vec<String> = out
        .regions()
        .iter()
        .filter(|r| r.opt_in_status().is_none_or(|s| s != "not-opted-in"))
        .filter_map(|r| r.region_name().map(str::to_string))
        .collect();
    regions.sort();
    Ok(regions)
}

/// Every flow log in the region.
pub async fn describe_flow_logs(ec2: &Ec2) -> Result<Vec<ExistingFlowLog>, AwsError> {
    let mut out = Vec::new();
    flow_log_pages(ec2, None, &mut out).await?;
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

/// The flow logs on these resources (batched to the filter limit), sorted by id.
pub async fn describe_flow_logs_of(
    ec2: &Ec2,
    resource_ids: &[String],
) -> Result<Vec<ExistingFlowLog>, AwsError> {
    let mut out = Vec::new();
    for batch in resource_ids.chunks(FILTER_VALUE_LIMIT) {
        let filter = Filter::builder()
            .name("resource-id")
            .set_values(Some(batch.to_vec()))
            .build();
        flow_log_pages(ec2, Some(filter), &mut out).await?;
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out.dedup_by(|a, b| a.id == b.id);
    Ok(out)
}

/// Every page of one DescribeFlowLogs, all flow logs or those matching `filter`, into `out`.
async fn flow_log_pages(
    ec2: &Ec2,
    filter: Option<Filter>,
    out: &mut Vec<ExistingFlowLog>,
) -> Result<(), AwsError> {
    let pages = ec2
        .0
        .describe_flow_logs()
        .max_results(PAGE_SIZE)
        .set_filter(filter.map(|f| vec![f]))
        .into_paginator()
        .send();
    drain(pages, "ec2:DescribeFlowLogs", |page| {
        out.extend(page.flow_logs().iter().filter_map(existing_flow_log))
    })
    .await
}

/// Converts a described flow log. Every destination type is kept (S3, CloudWatch Logs,
/// Kinesis Data Firehose); a type this build does not know is read by its ARN as Firehose would
/// be, never dropped, so that no flow log disappears from an audit.
fn existing_flow_log(fl: &FlowLog) -> Option<ExistingFlowLog> {
    let destination = match fl.log_destination_type() {
        Some(LogDestinationType::S3) => {
            let o = fl.destination_options();
            FlowLogDestination::S3 {
                arn: FlowLogDestination::normalize_s3_arn(fl.log_destination().unwrap_or_default()),
                options: S3Options {
                    file_format: o
                        .and_then(|o| o.file_format())
                        .and_then(|f| FileFormat::parse(f.as_str()))
                        .unwrap_or_default(),
                    hive_compatible_partitions: o
                        .and_then(|o| o.hive_compatible_partitions())
                        .unwrap_or(false),
                    per_hour_partition: o.and_then(|o| o.per_hour_partition()).unwrap_or(false),
                },
            }
        }
        Some(LogDestinationType::CloudWatchLogs) | None => FlowLogDestination::CloudwatchLogs {
            log_group: fl
                .log_group_name()
                .map(str::to_string)
                .or_else(|| {
                    fl.log_destination()
                        .and_then(|arn| arn.split(":log-group:").nth(1))
                        .map(|g| g.trim_end_matches(":*").to_string())
                })
                .unwrap_or_default(),
            role_arn: fl
                .deliver_logs_permission_arn()
                .unwrap_or_default()
                .to_string(),
            // Kept until discovery knows the account and region (`localize`).
            elsewhere: fl
                .log_destination()
                .filter(|d| !d.is_empty())
                .map(|d| d.trim_end_matches(":*").to_string()),
        },
        Some(LogDestinationType::KinesisDataFirehose) => FlowLogDestination::KinesisDataFirehose {
            arn: fl.log_destination().unwrap_or_default().to_string(),
        },
        Some(other) => FlowLogDestination::Other {
            type_name: other.as_str().to_string(),
            arn: fl.log_destination().unwrap_or_default().to_string(),
        },
    };
    let traffic = fl.traffic_type().map(|t| t.as_str());
    let traffic_type = traffic.and_then(TrafficType::parse);
    let log_format = fl.log_format().map(|f| (f, LogFormat::parse_aws(f)));
    let unreadable = Unreadable {
        traffic_type: traffic_type
            .is_none()
            .then(|| traffic.unwrap_or("(not reported)").to_string()),
        log_format: match log_format {
            Some((raw, None)) => Some(raw.to_string()),
            _ => None,
        },
    };
    Some(ExistingFlowLog {
        id: fl.flow_log_id()?.to_string(),
        resource_id: fl.resource_id().unwrap_or_default().to_string(),
        settings: FlowLogSettings {
            // Placeholders where `unreadable` holds the raw value.
            traffic_type: traffic_type.unwrap_or(TrafficType::All),
            destination,
            log_format: log_format
                .and_then(|(_, f)| f)
                .unwrap_or_else(LogFormat::default_v2),
            // AWS accepts only 60 and 600; absent means its default, 600.
            max_aggregation_interval: fl
                .max_aggregation_interval()
                .and_then(|i| u32::try_from(i).ok())
                .and_then(AggregationInterval::from_seconds)
                .unwrap_or_default(),
            unreadable,
        },
        tags: tag_map(fl.tags()),
        created: fl.creation_time().map(|t| t.to_string()),
        health: FlowLogHealth {
            status: fl.flow_log_status().map(str::to_string),
            deliver_status: fl.deliver_logs_status().map(str::to_string),
            deliver_error: fl.deliver_logs_error_message().map(str::to_string),
        },
    })
}

/// Result of one CreateFlowLogs call: per-resource failures (resource id, code, message).
pub struct CreateOutcome {
    pub flow_log_ids: Vec<String>,
    pub unsuccessful: Vec<(String, Option<String>, String)>,
}

/// Creates flow logs with identical settings and tags on up to [`CREATE_BATCH_LIMIT`] resources.
pub async fn create_flow_logs(
    ec2: &Ec2,
    kind: ResourceKind,
    resource_ids: &[String],
    settings: &FlowLogSettings,
    tags: &BTreeMap<String, String>,
) -> Result<CreateOutcome, AwsError> {
    let ec2 = &ec2.0;
    assert!(
        resource_ids.len() <= CREATE_BATCH_LIMIT,
        "caller batches resource ids"
    );
    let tag_spec = TagSpecification::builder()
        .resource_type(Ec2ResourceType::VpcFlowLog)
        .set_tags(Some(
            tags.iter()
                .map(|(k, v)| Tag::builder().key(k).value(v).build())
                .collect(),
        ))
        .build();
    let mut req = ec2
        .create_flow_logs()
        .resource_type(FlowLogsResourceType::from(kind.api_name()))
        .set_resource_ids(Some(resource_ids.to_vec()))
        .traffic_type(Ec2TrafficType::from(settings.traffic_type.api_name()))
        .log_format(settings.log_format.to_aws())
        .max_aggregation_interval(settings.max_aggregation_interval.seconds() as i32)
        .tag_specifications(tag_spec);
    req = match &settings.destination {
        FlowLogDestination::S3 { arn, options } => req
            .log_destination_type(LogDestinationType::S3)
            .log_destination(arn)
            .destination_options(
                DestinationOptionsRequest::builder()
                    .file_format(DestinationFileFormat::from(options.file_format.api_name()))
                    .hive_compatible_partitions(options.hive_compatible_partitions)
                    .per_hour_partition(options.per_hour_partition)
                    .build(),
            ),
        FlowLogDestination::CloudwatchLogs {
            log_group,
            role_arn,
            ..
        } => req
            .log_destination_type(LogDestinationType::CloudWatchLogs)
            .log_group_name(log_group)
            .deliver_logs_permission_arn(role_arn),
        FlowLogDestination::KinesisDataFirehose { arn } => req
            .log_destination_type(LogDestinationType::KinesisDataFirehose)
            .log_destination(arn),
        FlowLogDestination::Other { type_name, arn } => req
            .log_destination_type(LogDestinationType::from(type_name.as_str()))
            .log_destination(arn),
    };
    let out = req
        .send()
        .await
        .map_err(|e| classify("ec2:CreateFlowLogs", e))?;
    Ok(CreateOutcome {
        flow_log_ids: out.flow_log_ids().to_vec(),
        unsuccessful: out
            .unsuccessful()
            .iter()
            .map(|u| {
                let err = u.error();
                (
                    u.resource_id().unwrap_or_default().to_string(),
                    err.and_then(|e| e.code()).map(str::to_string),
                    err.and_then(|e| e.message())
                        .unwrap_or_default()
                        .to_string(),
                )
            })
            .collect(),
    })
}

/// Deletes flow logs; returns per-id failures (id, code, message). Ids already gone are not failures.
pub async fn delete_flow_logs(
    ec2: &Ec2,
    ids: &[String],
) -> Result<Vec<(String, Option<String>, String)>, AwsError> {
    let ec2 = &ec2.0;
    let out = ec2
        .delete_flow_logs()
        .set_flow_log_ids(Some(ids.to_vec()))
        .send()
        .await
        .map_err(|e| classify("ec2:DeleteFlowLogs", e))?;
    Ok(out
        .unsuccessful()
        .iter()
        .filter_map(|u| {
            let code = u.error().and_then(|e| e.code()).map(str::to_string);
            if code.as_deref().is_some_and(|c| c.ends_with(".NotFound")) {
                return None;
            }
            Some((
                u.resource_id().unwrap_or_default().to_string(),
                code,
                u.error()
                    .and_then(|e| e.message())
                    .unwrap_or_default()
                    .to_string(),
            ))
        })
        .collect())
}

pub async fn tag_resources(
    ec2: &Ec2,
    ids: &[String],
    tags: &BTreeMap<String, String>,
) -> Result<(), AwsError> {
    let ec2 = &ec2.0;
    ec2.create_tags()
        .set_resources(Some(ids.to_vec()))
        .set_tags(Some(
            tags.iter()
                .map(|(k, v)| Tag::builder().key(k).value(v).build())
                .collect(),
        ))
        .send()
        .await
        .map_err(|e| classify("ec2:CreateTags", e))?;
    Ok(())
}

/// Where a flow log delivers and its `LogFormat` string.
pub struct FlowLogTarget {
    pub destination: FlowLogDestination,
    pub log_format: String,
    /// The VPC, subnet or interface (or transit gateway) the flow log records.
    pub resource_id: String,
}

/// Looks up one flow log by id.
pub async fn describe_flow_log(ec2: &Ec2, id: &str) -> Result<FlowLogTarget, AwsError> {
    let ec2 = &ec2.0;
    let out = ec2
        .describe_flow_logs()
        .flow_log_ids(id)
        .send()
        .await
        .map_err(|e| classify("ec2:DescribeFlowLogs", e))?;
    let fl = out.flow_logs().first().ok_or_else(|| AwsError {
        operation: "ec2:DescribeFlowLogs",
        kind: super::ErrorKind::NotFound,
        code: None,
        message: format!("no flow log {id}"),
    })?;
    let existing = existing_flow_log(fl).ok_or_else(|| {
        AwsError::other(
            "ec2:DescribeFlowLogs",
            format!("{id} delivers to Kinesis Data Firehose, which flowkeeper cannot read"),
        )
    })?;
    Ok(FlowLogTarget {
        destination: existing.settings.destination,
        log_format: fl.log_format().unwrap_or_default().to_string(),
        resource_id: fl.resource_id().unwrap_or_default().to_string(),
    })
}

#[cfg(test)]
mod tests {
    //! What moto cannot produce: multi-page answers and throttling, via aws-smithy-mocks.

    use std::time::Duration;

    use aws_sdk_ec2::config::retry::RetryConfig;
    use aws_sdk_ec2::operation::describe_vpcs::DescribeVpcsOutput;
    use aws_sdk_ec2::types::Vpc;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    use super::*;
    use crate::aws::ErrorKind;

    const THROTTLED: &str = "<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>r</RequestID></Response>";

    fn vpc_page(id: &str, next: Option<&str>) -> DescribeVpcsOutput {
        DescribeVpcsOutput::builder()
            .vpcs(Vpc::builder().vpc_id(id).build())
            .set_next_token(next.map(str::to_string))
            .build()
    }

    fn fast_retries(attempts: u32) -> RetryConfig {
        RetryConfig::standard()
            .with_max_attempts(attempts)
            .with_initial_backoff(Duration::from_millis(1))
    }

    #[tokio::test]
    async fn describe_follows_next_token_across_pages() {
        let rule = mock!(aws_sdk_ec2::Client::describe_vpcs)
            .sequence()
            .output(|| vpc_page("vpc-2", Some("page-2")))
            .output(|| vpc_page("vpc-1", None))
            .build();
        let ec2 = crate::aws::ec2::Ec2::from_client(mock_client!(
            aws_sdk_ec2,
            RuleMode::Sequential,
            [&rule]
        ));
        let got = describe_resources(&ec2, ResourceKind::Vpc, None)
            .await
            .unwrap();
        let ids: Vec<&str> = got.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["vpc-1", "vpc-2"], "both pages, sorted");
        assert_eq!(rule.num_calls(), 2);
    }

    #[tokio::test]
    async fn throttling_is_absorbed_by_the_sdk_retry() {
        let rule = mock!(aws_sdk_ec2::Client::describe_vpcs)
            .sequence()
            .http_status(400, Some(THROTTLED.to_string()))
            .times(2)
            .output(|| vpc_page("vpc-1", None))
            .build();
        let ec2 = crate::aws::ec2::Ec2::from_client(mock_client!(
            aws_sdk_ec2,
            RuleMode::Sequential,
            [&rule],
            |c| c.retry_config(fast_retries(4))
        ));
        let got = describe_resources(&ec2, ResourceKind::Vpc, None)
            .await
            .unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(rule.num_calls(), 3);
    }

    #[tokio::test]
    async fn throttling_beyond_the_retry_budget_is_classified() {
        let rule = mock!(aws_sdk_ec2::Client::describe_flow_logs)
            .sequence()
            .http_status(400, Some(THROTTLED.to_string()))
            .repeatedly()
            .build();
        let ec2 = crate::aws::ec2::Ec2::from_client(mock_client!(
            aws_sdk_ec2,
            RuleMode::Sequential,
            [&rule],
            |c| c.retry_config(fast_retries(3))
        ));
        let err = describe_flow_logs(&ec2).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::Throttled);
        assert_eq!(err.code.as_deref(), Some("RequestLimitExceeded"));
        assert_eq!(rule.num_calls(), 3);
    }

    #[tokio::test]
    async fn id_selections_are_batched_to_the_filter_limit() {
        let rule = mock!(aws_sdk_ec2::Client::describe_subnets)
            .match_requests(|r| {
                r.filters()
                    .first()
                    .is_some_and(|f| f.values().len() <= FILTER_VALUE_LIMIT)
            })
            .then_output(|| {
                aws_sdk_ec2::operation::describe_subnets::DescribeSubnetsOutput::builder().build()
            });
        let ec2 = crate::aws::ec2::Ec2::from_client(mock_client!(
            aws_sdk_ec2,
            RuleMode::MatchAny,
            [&rule]
        ));
        let ids: Vec<String> = (0..450).map(|i| format!("subnet-{i:05}")).collect();
        describe_resources(&ec2, ResourceKind::Subnet, Some(&ids))
            .await
            .unwrap();
        assert_eq!(rule.num_calls(), 3, "450 ids → 200 + 200 + 50");
    }
}
