//! The only module that touches `aws-sdk-*` types. It builds one base SDK config (credentials,
//! retry, timeouts, endpoint) and derives per-region clients; each submodule converts SDK
//! types to and from `model` types for one service. Errors are classified once, in `error`.

pub mod connect;
pub mod ec2;
pub mod error;
pub mod iam;
pub mod iam_read;
pub mod kms;
pub mod logs;
pub mod logs_read;
pub mod metrics;
pub mod networks;
pub mod organizations;
pub mod retry;
pub mod s3;
pub mod s3_read;
pub mod timing;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};

pub use error::{AwsError, ErrorKind};

use crate::model::{Access, AccountId};
use metrics::CallCounter;
use retry::NoRetryWhenUnreachable;

/// How to reach AWS: from flags, the environment and the shared config files.
#[derive(Clone, Debug, Default)]
pub struct AwsSettings {
    pub region: Option<String>,
    /// A profile named on the command line: its credentials win over environment keys (as
    /// with the AWS CLI). `AWS_PROFILE` is left to the SDK's chain, after environment keys.
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
    /// Region for account-level calls when neither the flag, the environment nor the profile names one.
    pub fallback_region: Option<String>,
}

/// Base SDK configuration shared by every client.
#[derive(Clone, Debug)]
pub struct Aws {
    base: SdkConfig,
    path_style: bool,
}

/// Per-region service clients.
#[derive(Clone, Debug)]
pub struct Clients {
    pub region: String,
    pub ec2: ec2::Ec2,
    pub s3: s3::S3,
    pub logs: logs::Logs,
    pub kms: kms::Kms,
}

impl Aws {
    /// Loads the standard credential chain, or an explicit profile's credentials. Throttling
    /// and transient errors are retried by the SDK (standard mode, up to 8 attempts with
    /// jittered exponential backoff; timeouts and the first backoff come from [`timing`]); an
    /// endpoint that refuses connections or does not resolve is not. A malformed endpoint URL
    /// or an unknown profile fails here, before any call.
    pub async fn connect(s: &AwsSettings) -> Result<Aws, AwsError> {
        let t = timing::Timing::from_env();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(8)
                    .with_initial_backoff(t.initial_backoff),
            )
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(t.connect)
                    .operation_attempt_timeout(t.attempt)
                    .operation_timeout(t.operation)
                    .build(),
            );
        if let Some(e) = &s.endpoint_url {
            connect::check_endpoint_url(e)?;
            loader = loader.endpoint_url(e);
        }
        if let Some(p) = &s.profile {
            let credentials = connect::profile_credentials(p).await?;
            loader = loader.profile_name(p).credentials_provider(credentials);
        }
        if let Some(r) = &s.region {
            loader = loader.region(Region::new(r.clone()));
        }
        let mut base = loader.load().await;
        if base.region().is_none()
            && let Some(r) = &s.fallback_region
        {
            base = base.into_builder().region(Region::new(r.clone())).build();
        }
        let path_style = base.endpoint_url().is_some();
        Ok(Aws { base, path_style })
    }

    /// How messages name the endpoint calls go to.
    fn endpoint_label(&self, service: &str) -> String {
        match (self.base.endpoint_url(), self.default_region()) {
            (Some(url), _) => url.to_string(),
            (None, Some(region)) => format!("the {service} endpoint of {region}"),
            (None, None) => format!("the {service} endpoint"),
        }
    }

    /// The region of the credentials' configuration, if any.
    pub fn default_region(&self) -> Option<String> {
        self.base.region().map(|r| r.to_string())
    }

    /// The account of the current credentials (sts:GetCallerIdentity).
    pub async fn caller_account(&self) -> Result<AccountId, AwsError> {
        // The first call of every run: an endpoint that accepts connections but never answers
        // is told within half a minute, not after the five-minute budget of later calls.
        let t = timing::Timing::from_env();
        let first_call = TimeoutConfig::builder()
            .connect_timeout(t.connect)
            .operation_attempt_timeout(t.attempt.min(std::time::Duration::from_secs(10)))
            .operation_timeout(t.operation.min(std::time::Duration::from_secs(30)))
            .build();
        let sts = aws_sdk_sts::Client::from_conf(
            aws_sdk_sts::config::Builder::from(&self.base)
                .interceptor(CallCounter)
                .retry_classifier(NoRetryWhenUnreachable)
                .timeout_config(first_call)
                .build(),
        );
        let out = sts.get_caller_identity().send().await.map_err(|e| {
            error::classify_at("sts:GetCallerIdentity", &self.endpoint_label("STS"), e)
        })?;
        let id = out.account().unwrap_or_default();
        AccountId::parse(id).map_err(|m| AwsError::other("sts:GetCallerIdentity", m))
    }

    /// Clients for the configured default region (us-east-1 when none is configured).
    pub fn default_clients(&self) -> Clients {
        self.clients(&self.default_region().unwrap_or_else(|| "us-east-1".into()))
    }

    pub fn iam(&self) -> iam::Iam {
        iam::Iam::from_client(aws_sdk_iam::Client::from_conf(
            aws_sdk_iam::config::Builder::from(&self.base)
                .interceptor(CallCounter)
                .retry_classifier(NoRetryWhenUnreachable)
                .build(),
        ))
    }

    pub fn organizations(&self) -> organizations::Organizations {
        organizations::Organizations::from_client(aws_sdk_organizations::Client::from_conf(
            aws_sdk_organizations::config::Builder::from(&self.base)
                .interceptor(CallCounter)
                .retry_classifier(NoRetryWhenUnreachable)
                .build(),
        ))
    }

    /// A session for another account. The SDK caches the role's credentials and refreshes them
    /// before they expire, so long runs keep working. The session is checked once (STS
    /// GetCallerIdentity) so that a role that cannot be assumed fails here, for this account only.
    pub async fn for_account(&self, account: &AccountId, access: &Access) -> Result<Aws, AwsError> {
        let Access::AssumeRole {
            role_arn,
            external_id,
        } = access
        else {
            return Ok(self.clone());
        };
        let mut builder = aws_config::sts::AssumeRoleProvider::builder(role_arn.clone())
            .session_name(format!("flowkeeper-{account}"))
            .configure(&self.base);
        if let Some(id) = external_id {
            builder = builder.external_id(id.clone());
        }
        // One explicit AssumeRole first: a role that cannot be assumed fails here with AWS's
        // own error code, for this account only.
        let sts = aws_sdk_sts::Client::from_conf(
            aws_sdk_sts::config::Builder::from(&self.base)
                .interceptor(CallCounter)
                .retry_classifier(NoRetryWhenUnreachable)
                .build(),
        );
        let assumed = sts
            .assume_role()
            .role_arn(role_arn)
            .role_session_name(format!("flowkeeper-{account}"))
            .set_external_id(external_id.clone())
            .send()
            .await
            .map_err(|e| error::classify("sts:AssumeRole", e))?;
        let got = assumed
            .assumed_role_user()
            .map(|u| u.arn())
            .unwrap_or_default();
        if !got.contains(&format!(":{account}:")) {
            return Err(AwsError::other(
                "sts:AssumeRole",
                format!("{role_arn} led to {got}, not account {account}"),
            ));
        }
        let provider = builder.build().await;
        let base = self
            .base
            .clone()
            .into_builder()
            .credentials_provider(aws_sdk_sts::config::SharedCredentialsProvider::new(
                provider,
            ))
            .build();
        let session = Aws {
            base,
            path_style: self.path_style,
        };
        Ok(session)
    }

    pub fn clients(&self, region: &str) -> Clients {
        let conf = self
            .base
            .clone()
            .into_builder()
            .region(Region::new(region.to_string()))
            .build();
        let s3_conf = aws_sdk_s3::config::Builder::from(&conf)
            .force_path_style(self.path_style)
            .interceptor(CallCounter)
            .retry_classifier(NoRetryWhenUnreachable)
            .build();
        let ec2_conf = aws_sdk_ec2::config::Builder::from(&conf)
            .interceptor(CallCounter)
            .retry_classifier(NoRetryWhenUnreachable)
            .build();
        let logs_conf = aws_sdk_cloudwatchlogs::config::Builder::from(&conf)
            .interceptor(CallCounter)
            .retry_classifier(NoRetryWhenUnreachable)
            .build();
        let kms_conf = aws_sdk_kms::config::Builder::from(&conf)
            .interceptor(CallCounter)
            .retry_classifier(NoRetryWhenUnreachable)
            .build();
        Clients {
            region: region.to_string(),
            kms: kms::Kms::from_client(aws_sdk_kms::Client::from_conf(kms_conf)),
            ec2: ec2::Ec2::from_client(aws_sdk_ec2::Client::from_conf(ec2_conf)),
            s3: s3::S3::from_client(aws_sdk_s3::Client::from_conf(s3_conf)),
            logs: logs::Logs::from_client(aws_sdk_cloudwatchlogs::Client::from_conf(logs_conf)),
        }
    }
}
