//! AWS errors classified once into a small set of kinds the rest of the program acts on.

use std::fmt;

use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    NotFound,
    AlreadyExists,
    AccessDenied,
    Throttled,
    /// A just-created IAM role is not yet usable everywhere.
    PropagationDelay,
    /// No credentials, or credentials AWS rejects.
    Credentials,
    Other,
}

/// One failed AWS call.
#[derive(Clone, Debug)]
pub struct AwsError {
    pub operation: &'static str,
    pub kind: ErrorKind,
    pub code: Option<String>,
    pub message: String,
}

const NOT_FOUND: &[&str] = &[
    "NotFound",
    "NoSuchBucket",
    "NoSuchEntity",
    "NoSuchBucketPolicy",
    "NoSuchLifecycleConfiguration",
    "NoSuchPublicAccessBlockConfiguration",
    "OwnershipControlsNotFoundError",
    "ServerSideEncryptionConfigurationNotFoundError",
    "ResourceNotFoundException",
    "InvalidFlowLogId.NotFound",
];
const ALREADY_EXISTS: &[&str] = &[
    "BucketAlreadyOwnedByYou",
    "EntityAlreadyExists",
    "ResourceAlreadyExistsException",
    "FlowLogAlreadyExists",
];
const ACCESS_DENIED: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "Forbidden",
    "AuthFailure",
];
const THROTTLED: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "SlowDown",
    "RequestThrottled",
];
const CREDENTIALS: &[&str] = &[
    "InvalidClientTokenId",
    "ExpiredToken",
    "ExpiredTokenException",
    "SignatureDoesNotMatch",
    "InvalidAccessKeyId",
];

/// True for the messages AWS gives while a new IAM role has not propagated yet.
pub fn is_propagation_message(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    (m.contains("role")
        && (m.contains("assume") || m.contains("not authorized") || m.contains("does not exist")))
        || m.contains("deliverlogspermissionarn")
}

pub fn kind_of(code: Option<&str>, message: &str) -> ErrorKind {
    match code {
        Some(c) if NOT_FOUND.contains(&c) || c.ends_with(".NotFound") => ErrorKind::NotFound,
        Some(c) if ALREADY_EXISTS.contains(&c) => ErrorKind::AlreadyExists,
        Some(c) if ACCESS_DENIED.contains(&c) => ErrorKind::AccessDenied,
        Some(c) if THROTTLED.contains(&c) => ErrorKind::Throttled,
        Some(c) if CREDENTIALS.contains(&c) => ErrorKind::Credentials,
        Some(c) if c.starts_with("InvalidParameter") && is_propagation_message(message) => {
            ErrorKind::PropagationDelay
        }
        _ => ErrorKind::Other,
    }
}

/// Classifies an SDK error from `operation` (written `service:Action`).
pub fn classify<E>(
    operation: &'static str,
    err: SdkError<E, aws_smithy_runtime_api::http::Response>,
) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match &err {
        SdkError::ServiceError(se) => {
            let e = se.err();
            let status = se.raw().status().as_u16();
            let code = e.code().map(str::to_string).or_else(|| match status {
                404 => Some("NotFound".to_string()),
                403 => Some("Forbidden".to_string()),
                _ => None,
            });
            let message = e
                .message()
                .map(str::to_string)
                .unwrap_or_else(|| format!("HTTP {status}"));
            AwsError {
                operation,
                kind: kind_of(code.as_deref(), &message),
                code,
                message,
            }
        }
        _ => {
            let message = DisplayErrorContext(&err).to_string();
            let lower = message.to_ascii_lowercase();
            let kind = if lower.contains("credential") {
                ErrorKind::Credentials
            } else {
                ErrorKind::Other
            };
            AwsError {
                operation,
                kind,
                code: None,
                message,
            }
        }
    }
}

impl AwsError {
    pub fn other(operation: &'static str, message: impl Into<String>) -> Self {
        AwsError {
            operation,
            kind: ErrorKind::Other,
            code: None,
            message: message.into(),
        }
    }

    /// What the user can do about it.
    pub fn hint(&self) -> Option<&'static str> {
        match self.kind {
            ErrorKind::AccessDenied => {
                Some("the credentials lack this permission: see policies/flowkeeper-operator.json")
            }
            ErrorKind::Credentials => Some(
                "configure AWS credentials (environment, --profile, `aws sso login`), or pass --endpoint-url for an emulator",
            ),
            ErrorKind::Throttled => Some(
                "AWS kept throttling after retries: run again later or with fewer regions at once",
            ),
            ErrorKind::PropagationDelay => {
                Some("a new IAM role was not usable yet: run apply again in a minute")
            }
            _ => None,
        }
    }
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(c) => write!(f, "{} failed: {c}: {}", self.operation, self.message),
            None => write!(f, "{} failed: {}", self.operation, self.message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_kinds() {
        assert_eq!(
            kind_of(Some("InvalidVpcID.NotFound"), ""),
            ErrorKind::NotFound
        );
        assert_eq!(
            kind_of(Some("EntityAlreadyExists"), ""),
            ErrorKind::AlreadyExists
        );
        assert_eq!(
            kind_of(Some("RequestLimitExceeded"), ""),
            ErrorKind::Throttled
        );
        assert_eq!(
            kind_of(
                Some("InvalidParameter"),
                "Unable to assume given IAM role, or role does not exist"
            ),
            ErrorKind::PropagationDelay
        );
        assert_eq!(
            kind_of(Some("InvalidParameter"), "bad traffic type"),
            ErrorKind::Other
        );
    }
}
